"""The report page: HTML with every chart's spec and the Vega bundle inlined, report.json and the
PNG figures (:func:`write_report`).

The page is the template ``report.html`` of :mod:`vdto.render.pages`; this module only lays the
results out as rows, columns and sentences for it. Numbers are formatted by
:mod:`vdto.render.fmt` (a missing value prints "—"), tables are serialised by
:mod:`vdto.render.jsonout`, charts are compiled and saved by :mod:`vdto.render.charts`.
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

#: Decimals of the floats in report.json (what pandas' ``to_json`` has always written there).
JSON_DIGITS = 10

# ---------------------------------------------------------------------------------------------
# HTML

Column = tuple[str, str, Callable[[Any], str] | None]  # (key, heading, formatter; None for text)

_int = partial(fmt.num, digits=0)
_pct = partial(fmt.pct, digits=0)

SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("ranking", "Ranking {year}"),
    ("margins", "Margins"),
    ("trends", "Trends by organization"),
    ("maps", "Maps and hot spots"),
    ("package", "Enforcement package"),
    ("policies", "Policy comparison"),
    ("routes", "Routes: the Caribbean shift"),
    ("calibration", "Calibration and claims"),
    ("provenance", "Provenance"),
)


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records")


def _ranking(data: ReportData) -> dict[str, Any]:
    t = data.table
    columns: list[Column] = [
        ("rank", "Rank", _int),
        ("name", "Organization", None),
        ("events", "Events (expected)", fmt.num),
        ("score", "Score", fmt.num),
        ("interval", "90% interval", str),
        ("p_rank1", "P(rank 1)", fmt.prob),
        ("rank_interval", "Rank (90%)", str),
    ]
    rows = [
        {**r, "interval": fmt.interval(r["lo90"], r["hi90"]), "rank_interval": fmt.interval(r["rank_lo90"], r["rank_hi90"], 0)}
        for r in _rows(t.head(15))
    ]  # fmt: skip
    return {"rows": rows, "columns": columns, "more": len(t) - 15 if len(t) > 15 else 0}


def _margins(data: ReportData) -> dict[str, Any]:
    n, moved, _ = data.robustness
    lead = data.table.iloc[0]
    columns: list[Column] = [
        ("name", "Organization", None),
        ("score", "Score", fmt.num),
        ("gap", "Gap to first", fmt.num),
        ("cut_to_lose_first", "Leader's cut to lose first place", _pct),
        ("rise_to_first", "Rise needed to be first", _pct),
        ("leader_cut_to_pass", "Leader's cut for it to pass", _pct),
    ]
    some = n > 0 and len(data.table) > 1
    return {
        "leader": lead["name"],
        "cut": lead["cut_to_lose_first"],
        "risk": "some" if some else "none" if n < 0 else None,
        "n": n,
        "moved": moved,
        "second": data.table.iloc[1]["name"] if len(data.table) > 1 else None,
        "rows": _rows(data.margins.head(10)),
        "columns": columns,
    }


def _regions(data: ReportData) -> list[dict[str, Any]]:
    columns: list[Column] = [
        ("rank", "Rank", _int),
        ("name", "Region", None),
        ("score", "Score", fmt.num),
        ("events", "Events", _int),
        ("gi_z", "Gi* z", partial(fmt.num, digits=2)),
        ("gi_p", "p", partial(fmt.num, digits=3)),
        ("organizations", "Organizations there", None),
    ]
    return [
        {
            "level": level,
            "plural": "states" if level == "state" else "municipalities",
            "hot": int((ana.hot["hotspot"] == "hot spot").sum()),
            "cold": int((ana.hot["hotspot"] == "cold spot").sum()),
            "total": len(ana.hot),
            "permutations": ana.meta.get("permutations"),
            "alpha": ana.meta.get("alpha"),
            "reason": ana.targets.reason,
            "rows": _rows(ana.targets.table),
            "columns": columns,
        }
        for level, ana in (("state", data.states), ("municipality", data.municipalities))
    ]


def _package(data: ReportData) -> dict[str, Any] | None:
    pkg = data.package
    if pkg is None:
        return None
    s = pkg.summary()
    facts = [
        ("Target", pkg.target_name),
        ("US buyers supplied", fmt.num(s["buyers_reached"], 0)),
        ("Cases selected", f"{s['cases_selected']} of a budget of {fmt.compact(pkg.budget)} {pkg.budget_kind}"),
        ("Revenue denied", f"{fmt.money(s['revenue_denied'])} a year ({_pct(s['denied_share'])})"),
        ("Target's US revenue", f"{fmt.money(s['revenue_total'])} a year"),
        ("Method", f"{pkg.method}: {pkg.status}"),
        ("Guarantee", pkg.guarantee),
    ]  # fmt: skip
    rows = [
        {
            **r,
            "path": " › ".join(r["path"]) if isinstance(r["path"], list | tuple | np.ndarray) else r["path"],
        }
        for r in _rows(pkg.selected.head(12))
    ]
    columns: list[Column] = [
        ("order", "#", _int),
        ("name", "Buyer", None),
        ("type", "Type", None),
        ("region", "Region", None),
        ("denied", "Denied (US$/year)", _int),
        ("cumulative", "Cumulative", _int),
        ("path", "Supply path", None),
    ]
    return {
        "note": data.package_note,
        "facts": [{"what": k, "value": v} for k, v in facts],
        "rows": rows,
        "columns": columns,
    }


def _policies(data: ReportData) -> dict[str, Any] | None:
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
    columns: list[Column] = [
        ("policy", "Policy", None),
        (
            "deaths_h",
            f"Homicides (people) by month {h.removeprefix('deaths_by_')}: median (90% interval)",
            str,
        ),
        ("per_month", "Homicides per month, last year", str),
        ("alive", "Organizations alive at the end", str),
        ("p_below", "P(fewer homicides than volume)", str),
    ]
    return {"note": data.sim_note, "rows": rows, "columns": columns}


def _routes(data: ReportData) -> dict[str, Any] | None:
    if data.shift is None:
        return None
    from vdto.routes.chart import LABELS

    t = data.shift.table()
    t = t.assign(label=t["name"].map(LABELS).fillna(t["name"]))
    columns: list[Column] = [
        ("kind", "Kind", None),
        ("label", "Corridor or region", None),
        ("before", "Share now", _pct),
        ("after", f"Share, Caribbean interdiction {fmt.pct(data.shift.change, digits=0, sign=True)}", _pct),
        ("change_pp", "Change (points)", partial(fmt.num, sign=True)),
    ]
    return {"rows": _rows(t), "columns": columns}


def _sig(x: Any) -> str:
    """Three significant digits, or a whole number with separators from 100 on."""
    if not fmt.finite(x):
        return fmt.MISSING
    return fmt.num(x, digits=0) if abs(float(x)) >= 100 else f"{float(x):.3g}"


def _calibration(data: ReportData) -> dict[str, Any] | None:
    c = data.calibration
    if c is None:
        return None
    m = c.meta
    sig = _sig
    fit = c.fit.assign(interval=[f"{fmt.num(lo, digits=0)}-{fmt.num(hi, digits=0)}"
                                 for lo, hi in zip(c.fit["lo90"], c.fit["hi90"], strict=True)],
                       inside=c.fit["inside"].map({True: "yes", False: "no"}))  # fmt: skip
    claims = c.claims.assign(effect=[f"{_sig(a)} ({_sig(b)} to {_sig(d)})"
                                     for a, b, d in zip(c.claims["effect_median"], c.claims["effect_lo90"],
                                                        c.claims["effect_hi90"], strict=True)])  # fmt: skip
    return {
        "note": (
            f"Fitted to homicides of {m['fit']} ({m['generations']} generations of ABC-SMC, {m['simulations']:,} "
            f"simulated histories). The fit below is {m['fit_histories']} posterior predictive histories; the "
            f"claims are {m['claims_runs']} runs of {m['months']} months on {m['claims_world']}, parameter sets "
            "drawn from the posterior. docs/calibration.md has the full fit, the years held out and what the "
            "calibrated model does not reproduce; docs/claims.md the claims over more runs."
        ),
        "sentences": list(c.claims["sentence"]),
        "summary": {"rows": _rows(c.summary), "columns": [("parameter", "Parameter", None), ("prior", "Prior", None),
                    ("median", "Median", sig), ("q05", "5%", sig), ("q95", "95%", sig)]},
        "fit": {"rows": _rows(fit), "columns": [("year", "Year", str), ("source", "Series", None),
                ("real", "Registered", _int), ("median", "Simulated median", _int), ("interval", "90% interval", None),
                ("inside", "Inside", None)]},
        "claims": {"rows": _rows(claims), "columns": [("claim", "Claim", None), ("holds", "Holds in", _pct),
                   ("effect", "Effect: median (90% interval)", None), ("unit", "Unit", None)]},
    }  # fmt: skip


def _charts_shown(data: ReportData) -> set[str]:
    """The charts the page has a place for (the sections with their data)."""
    shown = {"ranking", "trends", "map-state", "map-municipality"}
    for name, present in (("network", data.package), ("policies", data.sim), ("routes", data.shift)):
        if present is not None:
            shown.add(name)
    return shown


def render_html(data: ReportData, charts: dict[str, Any], heads: dict[str, str], prov: dict) -> str:
    """The report page: sections, tables and every chart's spec, with the Vega bundle inlined once."""
    shown = _charts_shown(data)
    return render(
        "report.html",
        css=asset("report.css"),
        bundle=vega_bundle(),
        year=data.year,
        store=data.db.name,
        meta=data.ranking.meta,
        version=vdto.__version__,
        sections=[(sid, title.format(year=data.year)) for sid, title in SECTIONS],
        heads=heads,
        target=data.decision.target,
        reason=data.decision.reason,
        ranking=_ranking(data),
        margins=_margins(data),
        regions=_regions(data),
        package=_package(data),
        package_note=data.package_note,
        policies=_policies(data),
        sim_note=data.sim_note,
        routes=_routes(data),
        calibration=_calibration(data),
        provenance=[{"key": k, "value": v} for k, v in prov.items()],
        specs={name: vega_spec(chart) for name, chart in charts.items() if name in shown},
    )


# ---------------------------------------------------------------------------------------------
# writing the folder


def _write_atomic(path: Path, content: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(content), mode=0o644)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return jsonout.records(frame, digits=JSON_DIGITS)


def report_json(data: ReportData, heads: dict[str, str], prov: dict, figures: list[str]) -> dict:
    """Provenance, headlines, the decision and every table of the report."""
    tables: dict[str, Any] = {
        "ranking": _records(data.table),
        "rank_probabilities": _records(data.ranking.rank_probs),
        "margins": _records(data.margins),
        "trend": _records(data.trend),
    }
    for level, ana in (("state", data.states), ("municipality", data.municipalities)):
        hot = ana.hot[ana.hot["hotspot"] != "not significant"]
        tables[f"hotspots_{level}"] = _records(hot)
        tables[f"targets_{level}"] = _records(ana.targets.table)
    n, moved, events = data.robustness
    out: dict[str, Any] = {
        "provenance": prov,
        "headlines": heads,
        "decision": data.decision.as_dict(),
        "manipulation": {"events_to_change_top": n, "weight_moved": moved, "events": _records(events)},
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
    data: ReportData, out_dir: str | os.PathLike[str], *, progress: Callable[[str], None] | None = None
) -> Path:
    """Write ``report.html``, ``report.json`` and ``figures/*.png`` into ``out_dir``; returns the
    HTML path. ``progress`` is called with a label before the figures and before the page."""
    out_dir = Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    if progress:
        progress("Drawing the figures (PNG)")
    charts = _figures(data)
    written = []
    for name, _ in FIGURES:
        if name in charts:
            save_chart(charts[name], out_dir / "figures" / f"{name}.png")
            written.append(f"figures/{name}.png")
    if progress:
        progress("Writing report.html")
    heads = headlines(data)
    prov = data.provenance()
    prov["generated_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    page = render_html(data, charts, heads, prov)
    _write_atomic(out_dir / "report.html", page.encode("utf-8"))
    doc = report_json(data, heads, prov, written)
    _write_atomic(
        out_dir / "report.json",
        (json.dumps(doc, ensure_ascii=False, indent=1, default=jsonout.default) + "\n").encode("utf-8"),
    )
    return out_dir / "report.html"


def build_report(
    db: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    year: int | None = None,
    sim_results: SimResults | str | os.PathLike[str] | bool | None = None,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> Path:
    """Collect everything from the store at ``db`` and write the report folder (see
    :func:`collect` for the options); returns the path of ``report.html``."""
    data = collect(db, year=year, sim_results=sim_results, seed=seed, progress=progress, **options)
    return write_report(data, out_dir, progress=progress)
