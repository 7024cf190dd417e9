"""Regenerate the tables and maps of docs/model.md from the bundled real data.

    uv run python docs/model_figures.py OUT [--replicates 200] [--workers 2]

OUT receives the starting-map maps (model-startmap-*.png), the policy chart (model-compare.png)
and every table of the doc (OUT/model-tables.md, with the provenance of each run). Copy the
PNGs to docs/ to update the doc. Every figure comes from the library: the starting-map
distribution (:func:`vdto.sim.startmap.distribution`), policy runs (:func:`vdto.sim.runner.run`),
the stylised facts and the channel decomposition (:mod:`vdto.sim.facts`); the real series from
the bundled INEGI files and SESNSP counts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from vdto.rng import replicate_keys
from vdto.sim import facts, startmap
from vdto.sim.params import load_scenario
from vdto.sim.results import compare_table, deaths_chart, provenance
from vdto.sim.runner import run, world_for
from vdto.sim.world_real import mexico_world

START_YEARS = (2007, 2016, 2017, 2018, 2019, 2020)
MAP_YEARS = (2007, 2016)
MAP_KEYS = 1000
SEED = 1
#: INEGI's national homicide counts after the bundled files end (../shared/REFERENCES.md; 2016,
#: 2017, 2020, 2021 and 2023 preliminary there).
INEGI_PUBLISHED = {2016: 23_953, 2017: 31_174, 2018: 36_685, 2019: 36_661, 2020: 36_579, 2021: 35_625,
                   2022: 33_287, 2023: 31_062}  # fmt: skip


def md(frame: pd.DataFrame) -> str:
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def scenario(year: int, replicates: int, months: int):
    sc = load_scenario("default")
    return sc.model_copy(
        update={
            "run": sc.run.model_copy(update={"replicates": replicates, "months": months, "seed": SEED}),
            "world": sc.world.model_copy(update={"start_year": year}),
        }
    )


def line(sc, world) -> str:
    m = provenance(sc, world)
    return (
        f"vdto {m['vdto_version']} · scenario sha256:{m['scenario_sha256'][:12]} · world sha256:"
        f"{m['world_sha256'][:12]} · seed {m['seed']} · {m['replicates']} replicates x {m['months']} months"
    )


def startmaps(out: Path, doc: list[str]) -> None:
    from vdto.regional.maps import choropleth

    doc.append("## Starting maps\n")
    for year in START_YEARS:
        w = mexico_world(year)
        table, prob = startmap.distribution(w, replicate_keys(SEED, MAP_KEYS))
        shown = table.assign(
            members=table["members"].map(lambda v: f"{v:,.0f}"),
            q05=table["q05"].map(lambda v: f"{v:,.0f}"),
            median=table["median"].map(lambda v: f"{v:,.0f}"),
            q95=table["q95"].map(lambda v: f"{v:,.0f}"),
            mean=table["mean"].map(lambda v: f"{v:,.1f}"),
        )[["name", "members", "q05", "median", "q95", "mean"]]
        n = w.notes
        doc.append(
            f"### {year}\n\nEvents {n['event_years'][0]}-{n['event_years'][1]}: {n['events_used']:,} "
            f"({n['events_located']:,} located in a catalog municipality); {n['plazas_claimed']} municipalities "
            f"claimed, {n['claims_tied']} of them with a tie for the largest claim; {w.n_orgs} organizations, "
            f"{n['members']:,} members; presence from {', '.join(n['presence_from'])}; world sha256:"
            f"{w.sha256()[:12]}; {MAP_KEYS} draws (seed {SEED}). Municipalities held at the start:\n"
        )
        doc.append(md(shown) + "\n")
        held = (prob.sum(axis=0) > 0).sum()
        doc.append(f"Municipalities with a positive probability of being held: {held:,} of {w.n_plazas:,}.\n")
        if year in MAP_YEARS:
            import altair as alt

            top = table["org_id"].head(4)
            charts = []
            config = None
            for org in top:
                i = w.org_ids.index(org)
                frame = pd.DataFrame({"region_code": w.codes, "probability": prob[i]})
                one = choropleth(frame, "municipality", value="probability", scale="linear",
                                 title=f"{w.names[i]}", subtitle=f"P(holds the municipality on 1 January {year})")  # fmt: skip
                config, one.config = one.config, alt.Undefined  # a concatenation carries one config
                charts.append(one)
            rows = [alt.hconcat(*charts[k : k + 2]) for k in range(0, len(charts), 2)]
            chart = alt.vconcat(*rows, config=config).properties(
                title=alt.TitleParams(
                    f"Starting map {year}: probability each organization holds each municipality",
                    subtitle=f"{MAP_KEYS} draws, seed {SEED}, world sha256:{w.sha256()[:12]}",
                    anchor="start",
                )
            )
            _small_png(chart, out / f"model-startmap-{year}.png")


def _small_png(chart, path: Path) -> None:
    """A map sheet at scale 1 (the docs' other charts are at scale 2, but six municipal maps at
    scale 2 weigh several megabytes)."""
    import vl_convert

    path.write_bytes(vl_convert.vegalite_to_png(chart.to_json(), scale=1))


def real_series() -> pd.DataFrame:
    """INEGI homicides by year of registration (1990-2015) and SESNSP victims of intentional
    homicide and femicide (2015-2025) by year."""
    from vdto.data import bundled
    from vdto.events import counts, inegi

    ine = pd.Series({t.year: t.deaths for t in inegi.read(bundled("inegi"))}, name="INEGI")
    c = counts.parse(bundled("sesnsp")).counts
    c = c[c["measure"].isin(["homicidio_doloso", "feminicidio"])]
    period = pd.to_datetime(c["period"])
    ses = c.groupby(period.dt.year)["count"].sum().rename("SESNSP")
    months = period.groupby(period.dt.year).agg(lambda p: p.dt.month.nunique()).rename("SESNSP_months")
    published = pd.Series(INEGI_PUBLISHED, name="INEGI_published")
    return pd.concat([ine, published, ses, months], axis=1)


def homicides(doc: list[str], replicates: int, workers: int) -> None:
    real = real_series()
    doc.append("## Simulated homicides next to the registered ones\n")
    for year in (2007, 2016):
        sc = scenario(year, replicates, 120)
        w = world_for(sc)
        res = run(w, sc, ["none"], workers=workers)["none"]
        by_year = res.homicides.reshape(replicates, 10, 12).sum(axis=2)
        lo, hi = np.quantile(by_year, [0.05, 0.95], axis=0)
        rows = []
        for k in range(10):
            y = year + k
            ine = real["INEGI"].get(y, np.nan)
            if pd.isna(ine) and not pd.isna(real["INEGI_published"].get(y, np.nan)):
                ine = real["INEGI_published"][y]
            ses = real["SESNSP"].get(y, np.nan)
            n_months = real["SESNSP_months"].get(y, 12)
            partial = f" ({int(n_months)} months)" if n_months < 12 else ""
            rows.append({
                "year": y,
                "simulated, mean (90% interval)": f"{by_year[:, k].mean():,.0f} ({lo[k]:,.0f}-{hi[k]:,.0f})",
                "of them not organized crime": f"{res.homicides_source[:, k * 12:(k + 1) * 12, 2].sum(axis=1).mean():,.0f}",
                "INEGI": "" if pd.isna(ine) else f"{ine:,.0f}",
                "SESNSP": "" if pd.isna(ses) else f"{ses:,.0f}{partial}",
            })  # fmt: skip
        doc.append(f"### From {year}, no added policy\n\n{line(sc, w)}\n")
        doc.append(md(pd.DataFrame(rows)) + "\n")
        m = res.members
        doc.append(
            f"Members: {m[:, 0].mean():,.0f} after the first month, {m[:, -1].mean():,.0f} after 120 months "
            f"(90%: {np.quantile(m[:, -1], 0.05):,.0f}-{np.quantile(m[:, -1], 0.95):,.0f}); recruits "
            f"{res.recruits.mean():,.0f}, arrests {res.arrests.mean():,.0f} and members killed "
            f"{res.members_killed.mean():,.0f} a month on average; organizations alive "
            f"{res.alive[:, 0].mean():.1f} after the first month and {res.alive[:, -1].mean():.1f} after 120 "
            f"({res.splits[:, -1].mean():.1f} born of splits, {res.splits_blocked[:, -1].mean():.1f} splits "
            f"without a free slot).\n"
        )


def stylised(doc: list[str], replicates: int, workers: int) -> None:
    doc.append("## Stylised facts across start years\n")
    rows = []
    for year in START_YEARS:
        sc = scenario(year, replicates, 60)
        w = world_for(sc)
        f = facts.stylised_facts(w, sc, workers=workers)
        rows.append({
            "start": year,
            "kingpin raises focal homicides": f"{f['kingpin_raises_focal']:.2f}",
            "median ratio (L&P-R: ~1.8)": f"{f['kingpin_focal_ratio_median']:.2f}",
            "targeted below volume by month 36": f"{f['targeted_below_volume']:.2f}",
            "rivals less violent than under none": f"{f['rivals_lower_than_none']:.2f}",
            "runner-up less violent than under none": f"{f['runner_up_lower_than_none']:.2f}",
        })  # fmt: skip
        print(year, f, file=sys.stderr)
    doc.append(
        f"Shares of {replicates} replicates (each with its own starting map), 60 months, policies from month 12, "
        f"seed {SEED}, default parameters.\n"
    )
    doc.append(md(pd.DataFrame(rows)) + "\n")


def decomposition(doc: list[str], replicates: int, workers: int) -> None:
    sc = scenario(2016, replicates, 120)
    w = world_for(sc)
    t = facts.channels(w, sc, workers=workers)
    shown = t.assign(**{c: t[c].map(lambda v: f"{v:+,.1f}") for c in ("mean", "median", "lo90", "hi90")})
    shown["share_lower"] = t["share_lower"].map(lambda v: f"{v:.2f}")
    doc.append("## The targeted policy's four channels (from 2016)\n")
    doc.append(f"{line(sc, w)}; homicides per month (people) from month 12 to 120.\n")
    doc.append(md(shown) + "\n")


def policies(out: Path, doc: list[str], replicates: int, workers: int) -> None:
    from vdto.render.charts import save_chart

    sc = scenario(2016, replicates, 120)
    w = world_for(sc)
    res = run(w, sc, list(sc.policies), workers=workers)
    table = compare_table(res, start_month=sc.enforcement.start_month)
    shown = pd.DataFrame({
        "policy": table["policy"],
        "homicides by month 36": [f"{m:,.0f} ({lo:,.0f}-{hi:,.0f})" for m, lo, hi in
                                  zip(table["deaths_by_36"], table["deaths_by_36_lo90"], table["deaths_by_36_hi90"], strict=True)],
        "per month (mean)": table["deaths_per_month"].map(lambda v: f"{v:,.0f}"),
        "members at end": table["members_end"].map(lambda v: f"{v:,.0f}"),
        "organizations at end": table["alive_end"].map(lambda v: f"{v:.1f}"),
        "P(below volume)": table["p_below_volume"].map(lambda v: f"{v:.2f}"),
        "focal plazas vs none": table["focal_deaths_vs_none"].map(lambda v: f"{v:.2f}"),
    })  # fmt: skip
    doc.append("## Policies on the default world (from 2016)\n")
    doc.append(f"{line(sc, w)}\n")
    doc.append(md(shown) + "\n")
    save_chart(deaths_chart(res, provenance(sc, w)), out / "model-compare.png")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--parts", default="startmaps,homicides,facts,channels,policies")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    doc: list[str] = []
    t0 = time.perf_counter()
    parts = args.parts.split(",")
    if "startmaps" in parts:
        startmaps(args.out, doc)
    if "homicides" in parts:
        homicides(doc, args.replicates, args.workers)
    if "facts" in parts:
        stylised(doc, args.replicates, args.workers)
    if "channels" in parts:
        decomposition(doc, args.replicates, args.workers)
    if "policies" in parts:
        policies(args.out, doc, args.replicates, args.workers)
    (args.out / "model-tables.md").write_text("\n".join(doc), encoding="utf-8")
    print(f"done in {time.perf_counter() - t0:.0f} s -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
