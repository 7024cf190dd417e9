"""Regenerate the figures and tables of docs/regions.md from a store of the bundled real data.

    uv run python docs/regions_figures.py STORE OUT

STORE is a vdto store; if the file does not exist it is built from the bundled UCDP GED events
and SESNSP homicide counts. OUT receives the three maps (regions-*.png, each with its .json
provenance sidecar), the JSON written by the commands (OUT/json/) and every table of the doc
(OUT/regions-tables.md). Copy the maps to docs/ to update the doc. Every number comes from the
`vdto regions` commands, except three checks made with the library and the raw files: the
SESNSP direct sum, esda's own p-values and the yearly deaths of the emerging hot spot table
(read from the saved cube). The emerging hot spots run on INEGI's municipal homicide deaths by
quarter, 2007-2012, under four settings and three seeds; the pattern map and chart go to OUT too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
UCDP = ROOT / "src/vdto/data/real/ucdp_ged/ged_mexico_1989_2023.csv.gz"
SESNSP = ROOT / "src/vdto/data/real/sesnsp/db_victimas_delitos_ent_long.csv.bz2"
VDTO = shutil.which("vdto") or str(Path(sys.executable).with_name("vdto"))
SEED = "1"


def vdto(*args: str) -> None:
    print("$ vdto " + " ".join(args), file=sys.stderr)
    subprocess.run([VDTO, *args], check=True)


def cli_json(store: Path, out: Path, name: str, *args: str) -> dict:
    path = out / "json" / f"{name}.json"
    vdto("regions", *args, "--db", str(store), "--format", "json", "--out", str(path))
    return json.loads(path.read_text(encoding="utf-8"))


def md(frame: pd.DataFrame, header: list[str] | None = None) -> str:
    """A Markdown table (numbers already formatted as text)."""
    cols = header or [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def num(x: float, digits: int = 1) -> str:
    return "" if x is None or pd.isna(x) else f"{x:,.{digits}f}"


def provenance(meta: dict) -> str:
    """The provenance line the commands print (counts named only when they were used)."""
    seed = f" · seed {meta['seed']} · {meta['permutations']} permutations" if "seed" in meta else ""
    counts = f" + counts '{meta['measure']}'" if meta.get("measure") else ""
    return (
        f"vdto {meta['vdto_version']} · rubric {meta['rubric']} sha256:{meta['rubric_sha256'][:16]} · "
        f"data sha256:{meta['data_sha256'][:16]} · window {meta['from']} to {meta['to']} · "
        f"{meta['events']:,} events{counts}{seed}"
    )


def org_label(orgs: list[dict], code: str) -> str:
    top = [o for o in orgs if o["region_code"] == code]
    return f"{top[0]['name']} {top[0]['share']:.0%}" if top else "(none)"


def state_table(d: dict) -> str:
    rows = pd.DataFrame(d["rows"]).head(10)
    return md(
        pd.DataFrame(
            {
                "#": rows["rank"],
                "state": rows["name"],
                "score": rows["score"].map(num),
                "per 100k": rows["per100k"].map(num),
                "SESNSP victims": rows["counted"].map(lambda v: f"{v:,}"),
                "events": rows["events"].map(lambda v: f"{v:,}"),
                "top organization (share)": rows["region_code"].map(lambda c: org_label(d["orgs"], c)),
            }
        )
    )


def municipal_table(d19: dict, d23: dict) -> str:
    """The top 10 municipalities of two years side by side."""
    a, b = pd.DataFrame(d19["rows"]).head(10), pd.DataFrame(d23["rows"]).head(10)
    return md(
        pd.DataFrame(
            {
                "#": a["rank"],
                "2019": a["name"],
                "score": a["score"].map(num),
                "events": a["events"],
                "2023": b["name"],
                "score_b": b["score"].map(num),
                "events_b": b["events"],
            }
        ),
        ["#", "2019", "score", "events", "2023", "score", "events"],
    )


def hot_summary(d: dict) -> dict:
    r = pd.DataFrame(d["rows"])
    hot = r[r["hotspot"] == "hot spot"]
    return {
        "tested": len(r),
        "hot": len(hot),
        "cold": int((r["hotspot"] == "cold spot").sum()),
        "hot_zero_score": int((hot["value"] == 0).sum()),
        "fdr_significant": int(r["fdr_significant"].sum()),
        "min_p": float(r["gi_p"].min()),
        "at_min_p": int((r["gi_p"] == r["gi_p"].min()).sum()),
        "gi_p_differs_from_moran_p": int((~np.isclose(r["gi_p"], r["moran_p"], equal_nan=True)).sum()),
        "moran_significant": int((r["cluster"] != "not significant").sum()),
        "hot_and_moran_significant": int(
            ((r["hotspot"] == "hot spot") & (r["cluster"] != "not significant")).sum()
        ),
        "clusters": r["cluster"].value_counts().to_dict(),
    }


def hot_table(hot: dict, n: int = 3) -> str:
    """The ``n`` hot spots with the largest Gi* z of each year, with their own score."""
    parts = []
    for y, d in hot.items():
        r = pd.DataFrame(d["rows"])
        parts.append(r[r["hotspot"] == "hot spot"].head(n).assign(year=y))
    top = pd.concat(parts)
    return md(
        pd.DataFrame(
            {
                "year": top["year"],
                "municipality": top["name"],
                "Gi* z": top["gi_z"].map(lambda v: f"{v:.2f}"),
                "p": top["gi_p"].map(lambda v: f"{v:.3f}"),
                "own score": top["value"].map(num),
                "score rank": top["rank"],
                "local Moran": top["cluster"],
            }
        )
    )


def top_scored_table(hot: dict, n: int = 3) -> str:
    """Where the ``n`` highest-scoring municipalities of each year stand in the hot-spot test."""
    parts = [pd.DataFrame(d["rows"]).sort_values("rank").head(n).assign(year=y) for y, d in hot.items()]
    r = pd.concat(parts)
    return md(
        pd.DataFrame(
            {
                "year": r["year"],
                "score rank": r["rank"],
                "municipality": r["name"],
                "own score": r["value"].map(num),
                "Gi* z": r["gi_z"].map(lambda v: f"{v:.2f}"),
                "p": r["gi_p"].map(lambda v: f"{v:.3f}"),
                "result": r["hotspot"],
            }
        )
    )


def sesnsp_check(d: dict, year: int) -> str:
    """The counted victims of the state ranking against a direct sum of the SESNSP file."""
    raw = pd.read_csv(SESNSP, dtype=str)
    raw = raw[(raw["subtipo_de_delito"] == "Homicidio doloso") & (raw["n_year"] == str(year))]
    direct = raw["n_victimas"].astype(int).groupby(raw["cve_ent"].str.zfill(2)).sum()
    got = pd.DataFrame(d["rows"]).set_index("region_code")["counted"].reindex(direct.index)
    equal = int((got == direct).sum())
    by_counts = direct.sort_values(ascending=False, kind="stable").index[:5].tolist()
    names = pd.DataFrame(d["rows"]).set_index("region_code")["name"]
    return (
        f"SESNSP {year}: {equal} of {len(direct)} states equal the direct sum; total {direct.sum():,} "
        f"(tool {int(got.sum()):,}); most victims: "
        + ", ".join(f"{names[c]} {direct[c]:,}" for c in by_counts)
    )


def library_checks(store: Path) -> list[str]:
    """esda's own p-values against vdto's."""
    from libpysal.weights import fill_diagonal

    from vdto.regional.analysis import analyse
    from vdto.regional.panel import month_decay
    from vdto.regional.pysal import esda as _esda
    from vdto.scoring import Rubric
    from vdto.store import Store

    esda = _esda()

    months = pd.Series(pd.to_datetime(["2019-01-01", "2019-12-01"]))
    jan, dec = month_decay(months, date(2019, 12, 31), Rubric.default().time.half_life_days)
    lines = [
        f"decay to 2019-12-31 (half-life {Rubric.default().time.half_life_days:g} days): January {jan:.2f}, December {dec:.2f}"
    ]
    with Store(store, read_only=True) as st:
        for year in (2019, 2023):
            a = analyse(st, date(year, 1, 1), date(year, 12, 31), level="municipality", seed=int(SEED))
            codes = list(a.contiguity.codes)
            y = a.scores.values(codes)
            w = a.contiguity.weights()
            w.transform = "B"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                g = esda.G_Local(
                    y,
                    fill_diagonal(w, 1.0),
                    transform="B",
                    permutations=999,
                    star=None,
                    seed=int(SEED),
                    n_jobs=1,
                )
            sig = g.p_sim <= 0.05
            lines.append(
                f"{year} municipalities: {int((y == 0).sum()):,} of {len(y):,} score 0; "
                f"esda p_sim would give {int((sig & (g.Zs > 0)).sum())} hot and {int((sig & (g.Zs < 0)).sum())} cold spots; "
                f"vdto gives {int((a.hot['hotspot'] == 'hot spot').sum())} hot and {int((a.hot['hotspot'] == 'cold spot').sum())} cold"
            )
            unmapped = a.scores.table[~a.scores.table["region_code"].isin(codes)]
            lines.append(
                f"{year}: {len(unmapped)} municipalities have a code but no polygon; "
                f"{int((unmapped['score'] > 0).sum())} of them score above 0"
            )
        state = analyse(
            st, date(2019, 1, 1), date(2019, 12, 31), level="state", seed=int(SEED), value="per100k"
        )
        h = state.hot
        for kind in ("hot spot", "cold spot"):
            names = ", ".join(h.loc[h["hotspot"] == kind, "name"])
            lines.append(f"2019 states tested on score per 100k, {kind}s: {names or '(none)'}")
    return lines


#: The emerging hot spot run of the docs: INEGI, municipalities, quarters of 2007-2012.
CUBE_ARGS = (
    "--source",
    "inegi",
    "--level",
    "municipality",
    "--bin",
    "quarter",
    "--from",
    "2007",
    "--to",
    "2012",
)
#: The four settings compared: the value tested and the global window.
SETTINGS = [("count", "cube"), ("count", "bin"), ("eb_rate", "cube"), ("eb_rate", "bin")]
#: The states whose municipalities the record shows escalating in 2008-2011.
ESCALATING_STATES = {"08": "Chihuahua", "19": "Nuevo León", "28": "Tamaulipas"}


def emerging_runs(out: Path) -> tuple[Path, dict]:
    """The INEGI cube, and `vdto regions emerging` on it under each setting and seeds 1-3."""
    cube = out / "inegi-municipality-2007-2012-quarter.parquet"
    vdto("regions", "cube", *CUBE_ARGS, "--out", str(cube))
    runs = {}
    for value, window in SETTINGS:
        for seed in ("1", "2", "3"):
            path = out / "json" / f"emerging-{value}-{window}-{seed}.json"
            vdto("regions", "emerging", "--cube", str(cube), "--value", value, "--window", window,
                 "--seed", seed, "--format", "json", "--out", str(path))  # fmt: skip
            runs[(value, window, seed)] = json.loads(path.read_text(encoding="utf-8"))
    vdto("regions", "emerging", "--cube", str(cube), "--seed", SEED, "--map", str(out / "regions-emerging-2007-2012.png"),
         "--chart", str(out / "regions-emerging-chart-2007-2012.png"), "--format", "json",
         "--out", str(out / "json" / "emerging-map.json"))  # fmt: skip
    return cube, runs


def emerging_tables(cube_path: Path, runs: dict) -> list[str]:
    """Class counts under each setting, seed stability, the escalating municipalities of
    Chihuahua, Nuevo León and Tamaulipas, and the strongest hot spots of the default run."""
    from vdto.regional.cube import SpaceTimeCube
    from vdto.regional.emerging import CLASSES

    def table(value: str, window: str, seed: str = SEED) -> pd.DataFrame:
        return pd.DataFrame(runs[(value, window, seed)]["rows"]).set_index("region_code")

    parts = ["## Emerging hot and cold spots, municipalities, quarters of 2007-2012", ""]
    first = runs[("count", "cube", SEED)]["meta"]
    parts += [f"cube sha256:{first['cube_sha256'][:12]} · {first['regions']:,} regions x {first['bins']} {first['bin']} bins "
              f"· {first['from']} to {first['to']} · {first['label']} · {first['permutations']} permutations · lag {first['k']} "
              f"· alpha {first['alpha']} · seed {SEED}", ""]  # fmt: skip
    counts = pd.DataFrame({"class": list(CLASSES)})
    for value, window in SETTINGS:
        got = table(value, window)["pattern"].value_counts()
        counts[f"{value}, {window}"] = [f"{int(got.get(c, 0)):,}" for c in CLASSES]
    parts += [md(counts), ""]
    cube = SpaceTimeCube.load(cube_path)
    years = sorted({b.year for b in cube.bins})
    yearly = pd.DataFrame(
        {y: cube.counts[:, [b.year == y for b in cube.bins]].sum(axis=1) for y in years},
        index=list(cube.codes),
    )
    state = yearly.index.str[:2]
    peak = yearly[[2008, 2009, 2010, 2011]].max(axis=1)
    escalating = yearly[state.isin(list(ESCALATING_STATES)) & (yearly[[2008, 2009, 2010, 2011]].sum(axis=1) >= 100)
                        & (peak >= 3 * yearly[2007].clip(lower=1))]  # fmt: skip
    base = table("count", "cube")
    rows = []
    for code in sorted(escalating.index, key=lambda c: (c[:2], -escalating.loc[c, 2010])):
        row = {"municipality": base.loc[code, "name"], **{str(y): f"{yearly.loc[code, y]:,.0f}" for y in years},
               "count trend tau (p)": f"{base.loc[code, 'count_tau']:+.2f} ({base.loc[code, 'count_trend_p']:.3f})"}  # fmt: skip
        for value, window in SETTINGS:
            row[f"{value}, {window}"] = table(value, window).loc[code, "pattern"].replace(" spot", "")
        rows.append(row)

    def group(pattern: pd.Series) -> pd.Series:
        return pattern.map(lambda c: "hot" if "hot spot" in c else "cold" if "cold spot" in c else "none")

    stable = []
    for value, window in SETTINGS:
        a = table(value, window)["pattern"]
        for other in ("2", "3"):
            b = table(value, window, other)["pattern"].reindex(a.index)
            w = list(escalating.index)
            stable.append({"setting": f"{value}, {window}", "seeds": f"{SEED} vs {other}",
                           "class changes": f"{int((a != b).sum()):,} of {len(a):,}",
                           "group changes (hot, cold, none)": f"{int((group(a) != group(b)).sum()):,}",
                           f"of the {len(w)} below: class, group": f"{int((a[w] != b[w]).sum())}, "
                                                                    f"{int((group(a[w]) != group(b[w])).sum())}"})  # fmt: skip
    parts += ["Seed stability (999 permutations each):", "", md(pd.DataFrame(stable)), ""]
    parts += [
        "Municipalities of Chihuahua, Nuevo León and Tamaulipas with at least 100 homicide deaths in 2008-2011 "
        "and a peak year at least three times 2007 (INEGI, deaths by year of registration):",
        "",
        md(pd.DataFrame(rows)),
        "",
    ]
    for cls in (
        "intensifying hot spot",
        "persistent hot spot",
        "consecutive hot spot",
        "oscillating hot spot",
    ):
        part = base[base["pattern"] == cls].sort_values("total", ascending=False).head(5)
        names = ", ".join(f"{n} ({t:,.0f})" for n, t in zip(part["name"], part["total"], strict=True))
        parts += [f"- {cls} (count, cube), largest 2007-2012 totals: {names or '(none)'}"]
    parts += [""]
    return parts


def target_tables(d: dict) -> tuple[str, str]:
    t = pd.DataFrame(d["rows"])
    targets = md(
        pd.DataFrame(
            {
                "#": t["rank"],
                "municipality": t["name"],
                "pattern (months of 2023)": t["pattern"],
                "score": t["score"].map(num),
                "neighbours' mean": t["neighbours_score"].map(num),
                "events": t["events"],
                "Gi* z": t["gi_z"].map(lambda v: f"{v:.2f}"),
                "p": t["gi_p"].map(lambda v: f"{v:.3f}"),
                "organizations (share of attributed points)": t["organizations"],
            }
        )
    )
    ev = pd.DataFrame(d["events"]).groupby("region_code", sort=False).head(1)
    ev = ev.sort_values("region_code", key=lambda c: c.map(t.set_index("region_code")["rank"]), kind="stable")
    names = t.set_index("region_code")["name"]
    events = md(
        pd.DataFrame(
            {
                "municipality": ev["region_code"].map(names),
                "UCDP id": ev["source_id"],
                "date": ev["date_start"],
                "category": ev["category"],
                "deaths": ev["deaths_best"],
                "points": ev["points"].map(num),
            }
        )
    )
    return targets, events


def maps(store: Path, out: Path) -> list[str]:
    specs = [
        ("regions-state-2019.png", "2019", "state", "per100k"),
        ("regions-municipality-2019.png", "2019", "municipality", "score"),
        ("regions-municipality-2023.png", "2023", "municipality", "score"),
    ]
    done = []
    for name, year, level, value in specs:
        path = out / name
        vdto("regions", "map", "--from", year, "--to", year, "--level", level, "--value", value,
             "--seed", SEED, "--db", str(store), "--out", str(path), "--quiet")  # fmt: skip
        done.append(f"{name}: {path.stat().st_size / 1024:.0f} KB; sidecar {name}.json")
    return done


def build_store(store: Path) -> None:
    store.parent.mkdir(parents=True, exist_ok=True)
    vdto("import", "ucdp", str(UCDP), "--db", str(store), "--quiet")
    vdto("import", "counts", str(SESNSP), "--db", str(store), "--quiet")


def main(store: Path, out: Path) -> None:
    if not store.exists():
        build_store(store)
    (out / "json").mkdir(parents=True, exist_ok=True)
    score = {
        (lvl, y): cli_json(store, out, f"score-{lvl}-{y}", "score", "--from", y, "--to", y, "--level", lvl)
        for lvl in ("state", "municipality")
        for y in ("2019", "2023")
    }
    hot = {
        (lvl, y): cli_json(
            store,
            out,
            f"hotspots-{lvl}-{y}",
            "hotspots",
            "--from",
            y,
            "--to",
            y,
            "--level",
            lvl,
            "--seed",
            SEED,
        )
        for lvl in ("state", "municipality")
        for y in ("2019", "2023")
    }
    fdr = cli_json(store, out, "hotspots-municipality-2019-fdr", "hotspots", "--from", "2019", "--to", "2019",
                   "--level", "municipality", "--fdr", "--seed", SEED)  # fmt: skip
    target = cli_json(store, out, "target-municipality-2023", "target", "--from", "2023", "--to", "2023",
                      "--level", "municipality", "--seed", SEED)  # fmt: skip
    checks = library_checks(store)
    map_lines = maps(store, out)
    cube_path, runs = emerging_runs(out)

    parts = ["# Tables for docs/regions.md (generated by docs/regions_figures.py)", ""]
    for (lvl, y), d in score.items():
        m = d["meta"]
        deaths = sum(r["event_deaths"] for r in d["rows"])
        parts += [f"## Score, {lvl}, {y}", "", provenance(m), "",
                  f"events {m['events']:,}, without a {lvl}: {m['events_unlocated']:,}; "
                  f"SESNSP victims in window {m['counted_in_window']:,}; deaths in located events {deaths:,.0f}; "
                  f"regions listed {len(d['rows']):,}", ""]  # fmt: skip
        if lvl == "state":
            parts += [state_table(d), ""]
    parts += [
        "## Municipal ranking",
        "",
        municipal_table(score[("municipality", "2019")], score[("municipality", "2023")]),
        "",
    ]
    parts += ["## SESNSP check", "", sesnsp_check(score[("state", "2019")], 2019), ""]
    rates = pd.DataFrame(score[("state", "2019")]["rows"]).sort_values("per100k", ascending=False)
    parts += [f"Highest rate 2019: {rates.iloc[0]['name']} {rates.iloc[0]['per100k']:.1f} per 100,000", ""]
    for (lvl, y), d in hot.items():
        parts += [f"## Hot spots, {lvl}, {y}", "", provenance(d["meta"]), "", json.dumps(hot_summary(d)), ""]
        r = pd.DataFrame(d["rows"])
        if lvl == "state":
            shown = r[(r["hotspot"] != "not significant") | (r["rank"] == 1)]
        else:  # Juárez and its neighbours
            shown = r[r["region_code"].isin(["08037", "08001", "08005", "08028"])]
        cols = ["name", "value", "gi_z", "gi_p", "hotspot", "cluster", "rank"]
        parts += [md(shown[cols].round(3).astype(str)), ""]
    mun_hot = {y: hot[("municipality", y)] for y in ("2019", "2023")}
    parts += ["## Municipal hot spots by Gi* z", "", hot_table(mun_hot), ""]
    parts += ["## Highest municipal scores in the test", "", top_scored_table(mun_hot), ""]
    fs = hot_summary(fdr)
    parts += ["## FDR, municipality, 2019", "", provenance(fdr["meta"]), "",
              f"--fdr: {fs['hot']} hot, {fs['cold']} cold; fdr_significant {fs['fdr_significant']}; "
              f"smallest p {fs['min_p']}", ""]  # fmt: skip
    parts += emerging_tables(cube_path, runs)
    targets, events = target_tables(target)
    parts += ["## Region targets, municipality, 2023", "", provenance(target["meta"]), "", target["reason"], "",
              targets, "", events, ""]  # fmt: skip
    parts += [
        "## Library checks",
        "",
        *[f"- {c}" for c in checks],
        "",
        "## Maps",
        "",
        *[f"- {m}" for m in map_lines],
        "",
    ]
    (out / "regions-tables.md").write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {out / 'regions-tables.md'} and {len(map_lines)} maps", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python docs/regions_figures.py STORE OUT")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
