"""The report page: HTML with every chart's spec and the Vega bundle inlined, report.json and the
PNG figures (:func:`write_report`).

The page is the template ``report.html`` of :mod:`vdto.render.pages`, written once per language
(``report.html`` in English, ``report.es.html`` in Spanish, each linking to the other); this module
only lays the results out as rows, columns and sentences for it, with the words of
:mod:`vdto.services.report.words`. Numbers are formatted by :mod:`vdto.render.fmt` for the
language (a missing value prints "—"), tables are serialised by :mod:`vdto.render.jsonout`,
charts are compiled and saved by :mod:`vdto.render.charts`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import vdto
from vdto.files import atomic_write
from vdto.render import fmt, jsonout
from vdto.render.charts import save_chart, vega_bundle, vega_spec
from vdto.render.pages import asset, render
from vdto.services.report.charts import _figures
from vdto.services.report.data import FIGURES, ReportData, SimResults, _horizon_column, collect, headlines
from vdto.services.report.words import (
    LANG_NAMES,
    PAGES,
    Sentence,
    figure_file,
    in_lang,
    languages,
    say,
    translate,
    translate_inline,
    words,
)

#: Decimals of the floats in report.json (what pandas' ``to_json`` has always written there).
JSON_DIGITS = 10

# ---------------------------------------------------------------------------------------------
# HTML

Column = tuple[str, str, Callable[[Any], str] | None]  # (key, heading, formatter; None for text)

_int = partial(fmt.num, digits=0)
_pct = partial(fmt.pct, digits=0)


def _pct_in(lang: str) -> Callable[[Any], str]:
    """Whole percentages in ``lang`` (``42%`` / ``42 %``)."""
    return partial(fmt.pct, lang=lang, digits=0)


#: The page's sections: id and the key of its title in :data:`~vdto.services.report.words.TEXT`.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "sec_summary"),
    ("ranking", "sec_ranking"),
    ("margins", "sec_margins"),
    ("trends", "sec_trends"),
    ("maps", "sec_maps"),
    ("package", "sec_package"),
    ("policies", "sec_policies"),
    ("routes", "sec_routes"),
    ("calibration", "sec_calibration"),
    ("provenance", "sec_provenance"),
)


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records")


def _ranking(data: ReportData, lang: str = "en") -> dict[str, Any]:
    t = data.table
    w = words(lang)
    columns: list[Column] = [
        ("rank", w["col_rank"], _int),
        ("name", w["col_org"], None),
        ("events", w["col_events_expected"], fmt.num),
        ("score", w["col_score"], fmt.num),
        ("interval", w["col_interval"], str),
        ("p_rank1", w["col_p_rank1"], fmt.prob),
        ("rank_interval", w["col_rank_interval"], str),
    ]
    rows = [
        {**r, "interval": fmt.interval(r["lo90"], r["hi90"]), "rank_interval": fmt.interval(r["rank_lo90"], r["rank_hi90"], 0)}
        for r in _rows(t.head(15))
    ]  # fmt: skip
    return {"rows": rows, "columns": columns, "more": len(t) - 15 if len(t) > 15 else 0}


def _margins(data: ReportData, lang: str = "en") -> dict[str, Any]:
    n, moved, _ = data.robustness
    lead = data.table.iloc[0]
    w, pct = words(lang), _pct_in(lang)
    columns: list[Column] = [
        ("name", w["col_org"], None),
        ("score", w["col_score"], fmt.num),
        ("gap", w["col_gap"], fmt.num),
        ("cut_to_lose_first", w["col_cut"], pct),
        ("rise_to_first", w["col_rise"], pct),
        ("leader_cut_to_pass", w["col_leader_cut"], pct),
    ]
    some = n > 0 and len(data.table) > 1
    second = data.table.iloc[1]["name"] if len(data.table) > 1 else None
    risk = "risk_some" if some else "risk_none" if n < 0 else None
    return {
        "intro": say(lang, "margins_intro", leader=lead["name"], cut=pct(lead["cut_to_lose_first"])),
        "risk": say(lang, risk, n=n, weight=fmt.num(moved), second=second) if risk else None,
        "rows": _rows(data.margins.head(10)),
        "columns": columns,
    }


def _class_name(pattern: Any, lang: str) -> str:
    """An emerging hot spot class in ``lang`` (the map's words, :data:`vdto.regional.maps.PATTERN_WORDS`)."""
    from vdto.regional.maps import PATTERN_WORDS

    return PATTERN_WORDS.get(lang, PATTERN_WORDS["en"]).get(str(pattern), str(pattern))


def _patterns_text(ana: Any, level: str, year: int, lang: str, top: int = 5) -> str:
    """The emerging patterns of one level in words: the regions in each class found, and the
    intensifying and persistent hot spots with the highest totals, by name."""
    w = words(lang)
    em = ana.emerging
    if em is None:
        return say(lang, "patterns_none", why=ana.meta.get("patterns", ""))
    from vdto.regional.emerging import NO_PATTERN

    counts = em.counts()
    found = ", ".join(
        f"{_class_name(c, lang)} ({fmt.num(n, 0)})" for c, n in counts.items() if n and c != NO_PATTERN
    )
    m = em.meta
    line = say(lang, "patterns_line", months=m["bins"], year=year, permutations=fmt.num(m["permutations"], 0),
               alpha=m["alpha"], level=w[f"level_{level}"], counts=found or w["patterns_no_class"],
               none=fmt.num(counts[NO_PATTERN], 0), plural=w[f"plural_{level}"])  # fmt: skip
    t = em.table

    def names(pattern: str) -> str:
        chosen = t[t["pattern"] == pattern].sort_values(["total", "region_code"], ascending=[False, True])
        if chosen.empty:
            return w["patterns_top_none"]
        text = "; ".join(str(n) for n in chosen["name"].head(top))
        return text + (" " + say(lang, "patterns_more", n=len(chosen) - top) if len(chosen) > top else "")

    return line + " " + say(lang, "patterns_top", intensifying=names("intensifying hot spot"),
                            persistent=names("persistent hot spot"))  # fmt: skip


def _regions(data: ReportData, lang: str = "en") -> list[dict[str, Any]]:
    w = words(lang)
    columns: list[Column] = [
        ("rank", w["col_rank"], _int),
        ("name", w["col_region"], None),
        ("score", w["col_score"], fmt.num),
        ("events", w["col_events"], _int),
        ("gi_z", "Gi* z", partial(fmt.num, digits=2)),
        ("gi_p", "p", partial(fmt.num, digits=3)),
        ("organizations", w["col_orgs_there"], None),
    ]
    out: list[dict[str, Any]] = []
    for level, ana in (("state", data.states), ("municipality", data.municipalities)):
        chosen = ana.targets.table
        patterns = "pattern" in chosen
        # the region targets in words: vdto.regional.target's reason, said in the page's language
        reason = (
            say(lang, "region_targets_patterns" if patterns else "region_targets", n=len(chosen),
                level=w[f"level_{level}"], names=", ".join(str(n) for n in chosen["name"].head(3)))
            if len(chosen)
            else say(lang, "region_targets_none", level=w[f"level_{level}"])
        )  # fmt: skip
        hot_line = say(
            lang, "hot_line", hot=int((ana.hot["hotspot"] == "hot spot").sum()),
            cold=int((ana.hot["hotspot"] == "cold spot").sum()), total=fmt.num(len(ana.hot), 0),
            plural=w[f"plural_{level}"], permutations=ana.meta.get("permutations"), alpha=ana.meta.get("alpha"),
        )  # fmt: skip
        # the organizations there with their shares (vdto.regional.target's text: names and percentages)
        rows: list[dict[str, Any]] = [
            {
                **r,
                "organizations": translate_inline(str(r["organizations"]), lang),
                **({"pattern": _class_name(r["pattern"], lang)} if patterns else {}),
            }
            for r in _rows(chosen)
        ]
        cols = [*columns[:2], ("pattern", w["col_pattern"], None), *columns[2:]] if patterns else columns
        out.append(
            {
                "level": level,
                "heading": w[f"plural_{level}"],
                "text": f"{hot_line} {reason}",
                "caption": say(lang, "cap_map", level=w[f"level_{level}"], year=data.year),
                "patterns": _patterns_text(ana, level, data.year, lang),
                "patterns_map": ana.emerging is not None,
                "patterns_caption": say(lang, "cap_patterns", level=w[f"level_{level}"], year=data.year),
                "rows": rows,
                "columns": cols,
            }
        )
    return out


def _pattern_counts(data: ReportData, lang: str = "en") -> dict[str, Any] | None:
    """How many states and municipalities fall in each of the 17 classes (zeros included)."""
    if data.states.emerging is None and data.municipalities.emerging is None:
        return None
    from vdto.regional.emerging import CLASSES

    w = words(lang)
    counts = {
        level: ana.emerging.counts() if ana.emerging is not None else {}
        for level, ana in (("state", data.states), ("municipality", data.municipalities))
    }
    rows = [
        {"pattern": _class_name(c, lang), "state": counts["state"].get(c), "municipality": counts["municipality"].get(c)}
        for c in CLASSES
    ]  # fmt: skip
    columns: list[Column] = [
        ("pattern", w["col_pattern"], None),
        ("state", w["plural_state"][:1].upper() + w["plural_state"][1:], _int),
        ("municipality", w["plural_municipality"][:1].upper() + w["plural_municipality"][1:], _int),
    ]
    return {"intro": say(lang, "patterns_counts_intro", year=data.year), "rows": rows, "columns": columns}


def _package(data: ReportData, lang: str = "en") -> dict[str, Any] | None:
    pkg = data.package
    if pkg is None:
        return None
    s = pkg.summary()
    w = words(lang)
    kind = w.get(f"budget_{pkg.budget_kind}", pkg.budget_kind)
    facts = [
        (w["fact_target"], pkg.target_name),
        (w["fact_buyers"], fmt.num(s["buyers_reached"], 0)),
        (w["fact_cases"], say(lang, "fact_cases_value", n=s["cases_selected"], budget=fmt.compact(pkg.budget), kind=kind)),
        (w["fact_denied"], say(lang, "fact_denied_value", money=fmt.money(s["revenue_denied"], lang),
                               share=fmt.pct(s["denied_share"], lang, 0))),
        (w["fact_revenue"], say(lang, "fact_revenue_value", money=fmt.money(s["revenue_total"], lang))),
        (w["fact_method"], f"{pkg.method}: {pkg.status}"),
        (w["fact_guarantee"], translate(pkg.guarantee, lang)),
    ]  # fmt: skip
    rows = [
        {
            **r,
            "path": " › ".join(r["path"]) if isinstance(r["path"], list | tuple | np.ndarray) else r["path"],
            "type": w.get(f"node_{r['type']}", r["type"]),
        }
        for r in _rows(pkg.selected.head(12))
    ]
    columns: list[Column] = [
        ("order", "#", _int),
        ("name", w["col_buyer"], None),
        ("type", w["col_type"], None),
        ("region", w["col_region"], None),
        ("denied", w["col_denied"], _int),
        ("cumulative", w["col_cumulative"], _int),
        ("path", w["col_path"], None),
    ]
    return {
        "note": in_lang(data.package_note, lang),
        "facts": [{"what": k, "value": v} for k, v in facts],
        "rows": rows,
        "columns": columns,
    }


def _policies(data: ReportData, lang: str = "en") -> dict[str, Any] | None:
    if data.sim is None:
        return None
    t = data.sim.table()
    h = _horizon_column(t)
    below = t.get("p_below_volume", pd.Series(np.nan, t.index))
    rows = [
        {
            "policy": r["policy"],
            "deaths_h": f"{_int(r[h])} ({fmt.interval(r[f'{h}_lo90'], r[f'{h}_hi90'], 0)})",
            "per_month": fmt.num(r["deaths_per_month_last_year"]),
            "alive": fmt.num(r["alive_end"]),
            "p_below": fmt.MISSING if r["policy"] == "volume" else fmt.prob(p, 2),
        }
        for r, p in zip(_rows(t), below, strict=True)
    ]
    from vdto.sim.results import counts_people

    w = words(lang)
    unit = "people" if counts_people(data.sim.meta) else "units"  # what the deaths count (the words')
    what = w[f"what_{unit}"][:1].upper() + w[f"what_{unit}"][1:]
    columns: list[Column] = [
        ("policy", w["col_policy"], None),
        ("deaths_h", say(lang, "col_deaths_h", what=what, month=h.removeprefix("deaths_by_")), str),
        ("per_month", say(lang, "col_per_month", what=what), str),
        ("alive", w["col_alive"], str),
        ("p_below", say(lang, "col_p_below", fewer=w[f"fewer_{unit}"]), str),
    ]
    return {"note": in_lang(data.sim_note, lang), "rows": rows, "columns": columns}


def _routes(data: ReportData, lang: str = "en") -> dict[str, Any] | None:
    if data.shift is None:
        return None
    from vdto.routes.chart import LABELS, LABELS_ES

    w, pct = words(lang), _pct_in(lang)
    t = data.shift.table()
    t = t.assign(
        label=t["name"].map(LABELS_ES if lang == "es" else LABELS).fillna(t["name"]),
        kind=t["kind"].map(lambda k: w.get(f"kind_{k}", k)),
    )
    change = fmt.pct(data.shift.change, lang, digits=0, sign=True)
    columns: list[Column] = [
        ("kind", w["col_kind"], None),
        ("label", w["col_corridor"], None),
        ("before", w["col_share_now"], pct),
        ("after", say(lang, "col_share_after", change=change), pct),
        ("change_pp", w["col_change_pp"], partial(fmt.num, sign=True)),
    ]
    return {"rows": _rows(t), "columns": columns}


def _sig(x: Any) -> str:
    """Three significant digits, or a whole number with separators from 100 on."""
    if not fmt.finite(x):
        return fmt.MISSING
    return fmt.num(x, digits=0) if abs(float(x)) >= 100 else f"{float(x):.3g}"


def _calibration(data: ReportData, lang: str = "en") -> dict[str, Any] | None:
    c = data.calibration
    if c is None:
        return None
    m = c.meta
    w = words(lang)
    sig = _sig
    fit = c.fit.assign(interval=[f"{fmt.num(lo, digits=0)}-{fmt.num(hi, digits=0)}"
                                 for lo, hi in zip(c.fit["lo90"], c.fit["hi90"], strict=True)],
                       inside=c.fit["inside"].map({True: w["yes"], False: w["no"]}))  # fmt: skip
    claims = c.claims.assign(effect=[say(lang, "effect_value", median=_sig(a), lo=_sig(b), hi=_sig(d))
                                     for a, b, d in zip(c.claims["effect_median"], c.claims["effect_lo90"],
                                                        c.claims["effect_hi90"], strict=True)])  # fmt: skip
    return {
        "note": say(lang, "cal_note", fit=m["fit"], generations=m["generations"],
                    simulations=fmt.num(m["simulations"], 0), fit_histories=m["fit_histories"],
                    claims_runs=m["claims_runs"], months=m["months"], world=m["claims_world"]),
        # the claims' sentences are vdto.sim.claims' own words, in English (marked so in the page)
        "sentences": list(c.claims["sentence"]),
        "summary": {"rows": _rows(c.summary), "columns": [("parameter", w["col_parameter"], None),
                    ("prior", w["col_prior"], None), ("median", w["col_median"], sig), ("q05", w["col_q05"], sig),
                    ("q95", w["col_q95"], sig)]},
        "fit": {"rows": _rows(fit), "columns": [("year", w["col_year"], str), ("source", w["col_series"], None),
                ("real", w["col_registered"], _int), ("median", w["col_sim_median"], _int),
                ("interval", w["col_interval"], None), ("inside", w["col_inside"], None)]},
        "claims": {"rows": _rows(claims), "columns": [("claim", w["col_claim"], None),
                   ("holds", w["col_holds"], _pct_in(lang)), ("effect", w["col_effect"], None),
                   ("unit", w["col_unit"], None)]},
    }  # fmt: skip


def _charts_shown(data: ReportData) -> set[str]:
    """The charts the page has a place for (the sections with their data)."""
    shown = {"ranking", "trends", "map-state", "map-municipality"}
    for level, ana in (("state", data.states), ("municipality", data.municipalities)):
        if ana.emerging is not None:
            shown.add(f"patterns-{level}")
    for name, present in (("network", data.package), ("policies", data.sim), ("routes", data.shift)):
        if present is not None:
            shown.add(name)
    return shown


def _provenance_rows(data: ReportData, prov: dict, lang: str) -> list[dict[str, Any]]:
    """The provenance table: each entry of report.json's ``provenance`` under its label in ``lang``
    (the values as recorded, the window in words and a words.Sentence said in ``lang``)."""
    w = words(lang)
    rows = []
    for key, value in prov.items():
        if key == "window" and lang != "en":
            value = fmt.period(data.ranking.meta, lang)
        rows.append(
            {
                "key": w.get(f"prov_{key}", key),
                "value": value.to(lang) if isinstance(value, Sentence) else value,
            }
        )
    return rows


def render_html(
    data: ReportData,
    charts: dict[str, Any],
    heads: dict[str, str],
    prov: dict,
    lang: str = "en",
    langs: tuple[str, ...] | None = None,
) -> str:
    """The report page in ``lang`` (``charts`` and ``heads`` in that language): sections, tables
    and every chart's spec, with the Vega bundle inlined once. ``langs``: the languages written
    beside it, which the page's language switch links to (none when it is alone)."""
    shown = _charts_shown(data)
    w = words(lang)
    meta = data.ranking.meta
    others = [x for x in (langs or ()) if x != lang]
    return render(
        "report.html",
        css=asset("report.css"),
        bundle=vega_bundle(),
        lang=lang,
        w=w,
        switch=[{"lang": x, "name": LANG_NAMES[x], "href": PAGES[x], "current": x == lang}
                for x in sorted({lang, *others}, key=list(PAGES).index)] if others else [],
        figure=partial(figure_file, lang=lang),
        title=say(lang, "page_title", year=data.year),
        heading=say(lang, "heading", year=data.year),
        header_line=say(lang, "header_line", store=data.db.name, period=fmt.period(meta, lang),
                        events=fmt.num(meta.get("events"), 0), version=vdto.__version__, rubric=meta["rubric"],
                        sha=meta["rubric_sha256"][:16]),
        year=data.year,
        sections=[(sid, say(lang, key, year=data.year)) for sid, key in SECTIONS],
        heads=heads,
        target=data.decision.target,
        reason=data.decision.reason,
        ranking=_ranking(data, lang),
        margins=_margins(data, lang),
        regions=_regions(data, lang),
        pattern_counts=_pattern_counts(data, lang),
        package=_package(data, lang),
        package_note=in_lang(data.package_note, lang),
        policies=_policies(data, lang),
        sim_note=w["no_sim"] if data.sim is None else in_lang(data.sim_note, lang),
        routes=_routes(data, lang),
        calibration=_calibration(data, lang),
        provenance=_provenance_rows(data, prov, lang),
        specs={name: vega_spec(chart) for name, chart in charts.items() if name in shown},
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# writing the folder


def _write_atomic(path: Path, content: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(content), mode=0o644)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return jsonout.records(frame, digits=JSON_DIGITS)


def report_json(
    data: ReportData,
    heads: dict[str, str],
    prov: dict,
    figures: list[str],
    heads_by_lang: dict[str, dict[str, str]] | None = None,
) -> dict:
    """Provenance, headlines, the decision and every table of the report. Keys are for machines
    and never translated; ``headlines`` and the notes are in English, ``heads_by_lang`` (the
    headlines of each page written, by language) gives ``languages``, ``pages`` and
    ``headlines_by_lang``."""
    tables: dict[str, Any] = {
        "ranking": _records(data.table),
        "rank_probabilities": _records(data.ranking.rank_probs),
        "margins": _records(data.margins),
        "trend": _records(data.trend),
    }
    from vdto.regional.emerging import COLD_CLASSES, HOT_CLASSES

    for level, ana in (("state", data.states), ("municipality", data.municipalities)):
        hot = ana.hot[ana.hot["hotspot"] != "not significant"]
        tables[f"hotspots_{level}"] = _records(hot)
        tables[f"targets_{level}"] = _records(ana.targets.table)
        if ana.emerging is not None:
            em = ana.emerging.table
            tables[f"patterns_{level}"] = _records(em[em["pattern"].isin(HOT_CLASSES + COLD_CLASSES)])
    n, moved, events = data.robustness
    langs = list(heads_by_lang or {"en": heads})
    out: dict[str, Any] = {
        "provenance": prov,
        "languages": langs,
        "pages": {lang: PAGES[lang] for lang in langs},
        "headlines": heads,
        "headlines_by_lang": heads_by_lang or {"en": heads},
        "decision": data.decision.as_dict(),
        "manipulation": {"events_to_change_top": n, "weight_moved": moved, "events": _records(events)},
    }
    out["patterns"] = {
        level: {"counts": ana.emerging.counts(), "meta": ana.emerging.meta}
        if ana.emerging is not None
        else {"note": ana.meta.get("patterns")}
        for level, ana in (("state", data.states), ("municipality", data.municipalities))
    }
    if data.package is not None:
        tables["package_selected"] = _records(data.package.selected)
        out["package"] = {"note": data.package_note, **data.package.summary()}
    if data.sim is not None:
        tables["policies"] = _records(data.sim.table())
        from vdto.sim.results import monthly_bands

        tables["monthly_deaths"] = _records(monthly_bands(data.sim.results))
        out["sim"] = {"note": data.sim_note, **data.sim.meta}
    if data.shift is not None:
        tables["routes"] = _records(data.shift.table())
        out["routes"] = {**data.shift.meta, "violence": data.shift.violence_summary()}
    if data.calibration is not None:
        c = data.calibration
        tables["calibration_posterior"] = _records(c.summary)
        tables["calibration_fit"] = _records(c.fit)
        tables["claims"] = _records(c.claims)
        out["calibration"] = c.meta
    out["tables"] = tables
    out["figures"] = figures
    return out


def write_report(
    data: ReportData,
    out_dir: str | os.PathLike[str],
    *,
    langs: str | tuple[str, ...] = "both",
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write the report's pages, ``report.json`` and ``figures/*.png`` into ``out_dir``; returns
    the path of the first page written (``report.html`` unless English is left out).

    ``langs``: ``"both"`` (the default), ``"en"``, ``"es"`` or a tuple of those. Each language
    has its page (``report.html`` in English, ``report.es.html`` in Spanish, each linking to the
    other) and its figures (``figures/NAME.png``, ``figures/NAME.es.png``). ``progress`` is called
    with a label before the figures and before the pages."""
    chosen = languages(langs)
    out_dir = Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    if progress:
        progress("Drawing the figures (PNG)")
    charts = {lang: _figures(data, lang) for lang in chosen}
    written = []
    for lang in chosen:
        for name, _ in FIGURES:
            if name in charts[lang]:
                save_chart(charts[lang][name], out_dir / figure_file(name, lang))
                written.append(figure_file(name, lang))
    if progress:
        progress(f"Writing {' and '.join(PAGES[lang] for lang in chosen)}")
    heads = {lang: headlines(data, lang) for lang in dict.fromkeys(("en", *chosen))}
    prov = data.provenance()
    prov["generated_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for lang in chosen:
        page = render_html(data, charts[lang], heads[lang], prov, lang, chosen)
        _write_atomic(out_dir / PAGES[lang], page.encode("utf-8"))
    doc = report_json(data, heads["en"], prov, written, {lang: heads[lang] for lang in chosen})
    _write_atomic(
        out_dir / "report.json",
        (json.dumps(doc, ensure_ascii=False, indent=1, default=jsonout.default) + "\n").encode("utf-8"),
    )
    return out_dir / PAGES[chosen[0]]


def build_report(
    db: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    year: int | None = None,
    sim_results: SimResults | str | os.PathLike[str] | bool | None = None,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
    langs: str | tuple[str, ...] = "both",
    **options: Any,
) -> Path:
    """Collect everything from the store at ``db`` and write the report folder in ``langs`` (see
    :func:`collect` for the options and :func:`write_report` for the languages); returns the path
    of the first page (``report.html`` unless English is left out)."""
    data = collect(db, year=year, sim_results=sim_results, seed=seed, progress=progress, **options)
    return write_report(data, out_dir, langs=langs, progress=progress)
