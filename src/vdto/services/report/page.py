"""The report page: HTML with every chart's spec and the Vega bundle inlined, report.json and the
PNG figures (:func:`write_report`)."""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import vdto
from vdto.files import atomic_write

if TYPE_CHECKING:
    pass

#: The policy comparison the report runs itself when given no simulation results. On the real
#: default world (20 organizations, 2,457 plazas) 4 policies x 40 replicates x 36 months take
#: about 10 s on 2 cores (world included), well under the 20 s that would call for the
from vdto.services.report.charts import _figures
from vdto.services.report.data import (
    FIGURES,
    ReportData,
    SimResults,
    _horizon_column,
    _money,
    collect,
    headlines,
)

# ---------------------------------------------------------------------------------------------
# HTML


@cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script (from vl-convert: no network)."""
    import vl_convert as vlc

    from vdto.regional.maps import vl_options

    return vlc.javascript_bundle(**vl_options())


def _script_safe(text: str) -> str:
    """JavaScript that cannot end the <script> element it is put in (``<\\/script`` means the
    same in a string or a regular expression)."""
    import re

    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


def vega_spec(chart: Any) -> dict:
    """The chart compiled to a Vega spec by vl-convert (the same compiler as the PNG figures), so
    the page only runs Vega; the ``$schema`` URL is dropped."""
    import vl_convert as vlc

    from vdto.regional.maps import vl_options

    spec = chart.to_dict(validate=False) if hasattr(chart, "to_dict") else dict(chart)
    vega = vlc.vegalite_to_vega(spec, **vl_options())
    vega.pop("$schema", None)
    return vega


def _spec(chart: Any) -> str:
    spec = vega_spec(chart)
    text = json.dumps(spec, separators=(",", ":"), allow_nan=False, default=_json_default)
    return text.replace("</", "<\\/").replace("<!--", "<\\u0021--")  # the same JSON, safe in <script>


def _json_default(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, pd.Timestamp | date | datetime):
        return x.isoformat()
    return str(x)


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _num(x: Any, digits: int = 1) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return _e(x)
    if not math.isfinite(v):
        return "–"
    return f"{v:,.{digits}f}"


def _pct(x: Any) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return ""
    return "" if not math.isfinite(v) else f"{v:.0%}"


def _table(
    rows: pd.DataFrame,
    columns: list[tuple[str, str, Callable[[Any], str] | None]],
    *,
    tid: str = "",
    row_attr: str | None = None,
) -> str:
    """An HTML table: ``columns`` are (column, heading, formatter or None for escaped text)."""
    head = "".join(
        f"<th{' class=num' if fmt is not None else ''}>{_e(title)}</th>" for _, title, fmt in columns
    )
    thead = f"<thead><tr>{head}</tr></thead>" if any(title for _, title, _ in columns) else ""
    body = []
    for _, row in rows.iterrows():
        attr = f' data-{row_attr}="{_e(row[row_attr])}"' if row_attr else ""
        cells = "".join(
            f"<td class=num>{fmt(row[col])}</td>" if fmt is not None else f"<td>{_e(row[col])}</td>"
            for col, _, fmt in columns
        )
        body.append(f"<tr{attr}>{cells}</tr>")
    ident = f' id="{tid}"' if tid else ""
    return f"<table{ident}>{thead}<tbody>{''.join(body)}</tbody></table>"


def _chart_div(name: str, caption: str) -> str:
    return (
        f'<figure class="chart"><div id="chart-{name}" class="vega" data-figure="{name}"></div>'
        f'<figcaption>{_e(caption)} <a href="figures/{name}.png">PNG</a></figcaption></figure>'
    )


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{_e(title)}</h2>\n{body}\n</section>\n'


CSS = """
:root { --ink: #1a1a1a; --muted: #555; --line: #ddd; --accent: #54278f; --warn: #8a5a00; --ok: #1b7837; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 "DejaVu Sans", system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #fff; }
header { padding: 1.4rem 2rem 1rem; border-bottom: 3px solid var(--accent); background: #f7f5fb; }
header h1 { margin: 0 0 .3rem; font-size: 1.6rem; }
header p { margin: .1rem 0; color: var(--muted); }
nav { padding: .5rem 2rem; border-bottom: 1px solid var(--line); font-size: .9rem; }
nav a { margin-right: 1rem; color: var(--accent); text-decoration: none; }
main { padding: 0 2rem 3rem; max-width: 1180px; }
section { padding-top: 1rem; border-bottom: 1px solid var(--line); padding-bottom: 1.2rem; }
h2 { font-size: 1.25rem; margin: .8rem 0 .6rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 .4rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .88rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.decision { font-size: 1.05rem; padding: .7rem 1rem; border-left: 5px solid var(--warn); background: #fff8e6; }
.decision.target { border-color: var(--ok); background: #eef7ee; }
ul.headlines li { margin: .35rem 0; }
figure.chart { margin: .8rem 0 1.2rem; }
figcaption { color: var(--muted); font-size: .85rem; }
.note { color: var(--muted); font-size: .9rem; }
.prov td:first-child { color: var(--muted); }
.prov td { font-family: "DejaVu Sans Mono", monospace; font-size: .82rem; word-break: break-all; }
#report-errors { color: #b2182b; white-space: pre-wrap; }
body.focus section:not(.focused) { display: none; }
body.focus nav { display: none; }
"""

JS = """
(function () {
  var box = document.getElementById("report-errors");
  var errors = 0;
  function fail(msg) { errors += 1; box.hidden = false; box.textContent += msg + "\\n"; }
  var original = console.error;
  console.error = function () { fail(Array.prototype.join.call(arguments, " ")); original.apply(console, arguments); };
  window.addEventListener("error", function (e) { fail("error: " + e.message); });
  var m = /^#only=([\\w,-]+)$/.exec(location.hash);
  if (m) {
    m[1].split(",").forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { document.body.classList.add("focus"); el.classList.add("focused"); }
    });
  }
  var warnings = [];
  function logger(name) {
    var level = 2;
    var self = {
      level: function (l) { if (l === undefined) return level; level = l; return self; },
      error: function () { fail(name + ": " + Array.prototype.join.call(arguments, " ")); return self; },
      warn: function () { warnings.push(name + ": " + Array.prototype.join.call(arguments, " ")); return self; },
      info: function () { return self; },
      debug: function () { return self; }
    };
    return self;
  }
  var specs = document.querySelectorAll("script[type='application/json'][data-chart]");
  var jobs = [];
  specs.forEach(function (s) {
    var name = s.dataset.chart;
    var el = document.getElementById("chart-" + name);
    var options = {renderer: "svg", actions: false, mode: "vega", logger: logger(name)};
    jobs.push(vegaEmbed(el, JSON.parse(s.textContent), options)
      .catch(function (err) { fail(name + ": " + err); }));
  });
  Promise.all(jobs).then(function () {
    document.documentElement.setAttribute("data-rendered", String(specs.length));
    document.documentElement.setAttribute("data-errors", String(errors));
    document.documentElement.setAttribute("data-warnings", warnings.join(" | "));
  });
})();
"""


def _ranking_section(data: ReportData) -> str:
    t = data.table.copy()
    t["interval"] = [f"{_num(a)} – {_num(b)}" for a, b in zip(t["lo90"], t["hi90"], strict=True)]
    t["rank_interval"] = [f"{int(a)} – {int(b)}" for a, b in zip(t["rank_lo90"], t["rank_hi90"], strict=True)]
    table = _table(
        t.head(15),
        [
            ("rank", "Rank", lambda x: f"{int(x)}"),
            ("name", "Organization", None),
            ("events", "Events (expected)", lambda x: _num(x)),
            ("score", "Score", _num),
            ("interval", "90% interval", lambda x: _e(x)),
            ("p_rank1", "P(rank 1)", lambda x: f"{float(x):.3f}"),
            ("rank_interval", "Rank (90%)", lambda x: _e(x)),
        ],
        tid="ranking-table",
        row_attr="org",
    )
    more = f'<p class="note">{len(t) - 15} more organizations in report.json.</p>' if len(t) > 15 else ""
    return (
        f"<p>Every organization with attributed events in {data.year}, scored under the published rubric, "
        "with 90% intervals and the probability of ranking first over Monte Carlo draws of who did each "
        f"event.</p>{table}{more}"
        + _chart_div("ranking", "Expected score (dot), 90% interval (bar) and P(rank 1).")
    )


def _margins_section(data: ReportData) -> str:
    m = data.margins.head(10)
    table = _table(
        m,
        [
            ("name", "Organization", None),
            ("score", "Score", _num),
            ("gap", "Gap to first", _num),
            ("cut_to_lose_first", "Leader's cut to lose first place", _pct),
            ("rise_to_first", "Rise needed to be first", _pct),
            ("leader_cut_to_pass", "Leader's cut for it to pass", _pct),
        ],
        tid="margins-table",
    )
    n, moved, _ = data.robustness
    lead = data.table.iloc[0]
    text = (
        f"<p>{_e(lead['name'])} would have to cut its score by {_pct(lead['cut_to_lose_first'])} to lose first "
        "place: the deterrence message is how far each organization is from the top.</p>"
    )
    if n > 0 and len(data.table) > 1:
        text += (
            f"<p>Manipulation risk: re-attributing {n} of the leader's events (weight {moved:,.1f}) to "
            f"{_e(data.table.iloc[1]['name'])} would change the top organization.</p>"
        )
    elif n < 0:
        text += (
            "<p>Manipulation risk: re-attributing all of the leader's events would not change the top.</p>"
        )
    return text + table


def _regions_section(data: ReportData) -> str:
    parts = []
    for level, ana in (("state", data.states), ("municipality", data.municipalities)):
        n_hot = int((ana.hot["hotspot"] == "hot spot").sum())
        n_cold = int((ana.hot["hotspot"] == "cold spot").sum())
        t = ana.targets.table
        table = _table(
            t,
            [
                ("rank", "Rank", lambda x: f"{int(x)}"),
                ("name", "Region", None),
                ("score", "Score", _num),
                ("events", "Events", lambda x: _num(x, 0)),
                ("gi_z", "Gi* z", lambda x: _num(x, 2)),
                ("gi_p", "p", lambda x: _num(x, 3)),
                ("organizations", "Organizations there", None),
            ],
            tid=f"targets-{level}",
        )
        plural = "states" if level == "state" else "municipalities"
        parts.append(
            f"<h3>{plural.capitalize()}</h3>"
            f"<p>{n_hot} hot spots and {n_cold} cold spots among the {len(ana.hot):,} {plural} "
            f"(Getis-Ord Gi*, {ana.meta.get('permutations')} permutations, p ≤ {ana.meta.get('alpha')}). "
            f"{_e(ana.targets.reason)}</p>"
            + _chart_div(
                f"map-{level}",
                f"Violence score by {level} {data.year}, hot spots outlined in dark red, cold spots in blue.",
            )
            + table
        )
    return (
        "<p>Every state and municipality scored from all events and the SESNSP homicide counts; hot spots "
        "are where high scores cluster beyond chance. They are the regional fallback of the target rule.</p>"
        + "".join(parts)
    )


def _package_section(data: ReportData) -> str:
    if data.package is None:
        return f"<p>{_e(data.package_note)}</p>"
    pkg = data.package
    s = pkg.summary()
    facts = pd.DataFrame(
        [
            ("Target", pkg.target_name),
            ("US buyers supplied", f"{s['buyers_reached']:,}"),
            ("Cases selected", f"{s['cases_selected']} of a budget of {pkg.budget:g} {pkg.budget_kind}"),
            (
                "Revenue denied",
                f"{_money(float(s['revenue_denied']))} a year ({float(s['denied_share']):.0%})",
            ),
            ("Target's US revenue", f"{_money(float(s['revenue_total']))} a year"),
            ("Method", f"{pkg.method}: {pkg.status}"),
            ("Guarantee", pkg.guarantee),
        ],
        columns=["what", "value"],
    )
    sel = pkg.selected.head(12).assign(
        path=lambda f: f["path"].map(
            lambda p: " › ".join(p) if isinstance(p, list | tuple | np.ndarray) else p
        )
    )
    cases = _table(
        sel,
        [
            ("order", "#", lambda x: f"{int(x)}"),
            ("name", "Buyer", None),
            ("type", "Type", None),
            ("region", "Region", None),
            ("denied", "Denied (US$/year)", lambda x: _num(x, 0)),
            ("cumulative", "Cumulative", lambda x: _num(x, 0)),
            ("path", "Supply path", None),
        ],
        tid="package-cases",
    )
    return (
        f"<p>{_e(data.package_note)}</p>"
        + _table(facts, [("what", "", None), ("value", "", None)], tid="package-summary")
        + _chart_div("network", "The target (red), its cells, US wholesalers and distributors; cases ringed.")
        + "<h3>Cases, in the order each adds the most</h3>"
        + cases
    )


def _policies_section(data: ReportData) -> str:
    if data.sim is None:
        return f"<p>{_e(data.sim_note)}</p>"
    t = data.sim.table()
    h = _horizon_column(t)
    months = h.removeprefix("deaths_by_")

    def iv(col: str) -> list[str]:
        return [
            f"{a:,.0f} ({b:,.0f} – {c:,.0f})"
            for a, b, c in zip(t[col], t[f"{col}_lo90"], t[f"{col}_hi90"], strict=True)
        ]

    shown = pd.DataFrame(
        {
            "policy": t["policy"],
            "deaths_h": iv(h),
            "per_month": [f"{x:,.1f}" for x in t["deaths_per_month_last_year"]],
            "alive": [f"{x:.1f}" for x in t["alive_end"]],
            "p_below": [
                "" if pd.isna(x) or p == "volume" else f"{x:.2f}"
                for p, x in zip(t["policy"], t.get("p_below_volume", pd.Series(np.nan, t.index)), strict=True)
            ],
        }
    )
    table = _table(
        shown,
        [
            ("policy", "Policy", None),
            ("deaths_h", f"Deaths by month {months}: median (90% interval)", lambda x: _e(x)),
            ("per_month", "Deaths per month, last year", lambda x: _e(x)),
            ("alive", "Organizations alive at the end", lambda x: _e(x)),
            ("p_below", "P(fewer deaths than volume)", lambda x: _e(x)),
        ],
        tid="policies-table",
    )
    return (
        f"<p>{_e(data.sim_note)}</p>"
        + _chart_div(
            "policies", "Monthly deaths per policy: median line and 90% band over paired replicates."
        )
        + table
    )


def _routes_section(data: ReportData) -> str:
    if data.shift is None:
        return "<p>No routes analysis.</p>"
    from vdto.routes.chart import LABELS

    t = data.shift.table()
    t = t.assign(label=t["name"].map(LABELS).fillna(t["name"]))
    table = _table(
        t,
        [
            ("kind", "Kind", None),
            ("label", "Corridor or region", None),
            ("before", "Share now", _pct),
            ("after", f"Share, Caribbean interdiction {data.shift.change:+.0%}", _pct),
            ("change_pp", "Change (points)", lambda x: f"{float(x):+.1f}"),
        ],
        tid="routes-table",
    )
    return (
        "<p>US-bound cocaine routed over the calibrated corridor network, now and with Caribbean "
        "interdiction changed; the change of Mexican violence follows the value of the trade at stake "
        "(docs/routes.md).</p>"
        + _chart_div(
            "routes", "Shares of US-bound cocaine by corridor and US entry region, before and after."
        )
        + table
    )


def _provenance_section(prov: dict) -> str:
    rows = pd.DataFrame([(k, "" if v is None else v) for k, v in prov.items()], columns=["key", "value"])
    return (
        "<p>What makes these numbers reproducible: run the same vdto version on a store with the same "
        "data hash, with the same rubric and seeds.</p>"
        + _table(rows, [("key", "", None), ("value", "", None)], tid="provenance-table").replace(
            "<table", '<table class="prov"', 1
        )
    )


def render_html(data: ReportData, charts: dict[str, Any], heads: dict[str, str], prov: dict) -> str:
    """The report page: sections, tables and every chart's spec, with the Vega bundle inlined once."""
    d = data.decision
    decision_cls = "decision target" if d.target else "decision"
    summary = (
        f'<p class="{decision_cls}" id="decision">{_e(heads["decision"])}</p>'
        f'<p class="note">The rule: {_e(d.reason)}</p>'
        '<ul class="headlines">'
        + "".join(
            f"<li>{_e(heads[k])}</li>" for k in ("hotspots", "package", "policies", "routes") if k in heads
        )
        + "</ul>"
    )
    sections = [
        ("summary", "Summary", summary),
        ("ranking", f"Ranking {data.year}", _ranking_section(data)),
        ("margins", "Margins", _margins_section(data)),
        (
            "trends",
            "Trends by organization",
            "<p>The leading organizations' expected scores, year by year (same rubric).</p>"
            + _chart_div("trends", "Expected violence score per calendar year."),
        ),
        ("maps", "Maps and hot spots", _regions_section(data)),
        ("package", "Enforcement package", _package_section(data)),
        ("policies", "Policy comparison", _policies_section(data)),
        ("routes", "Routes: the Caribbean shift", _routes_section(data)),
        ("provenance", "Provenance", _provenance_section(prov)),
    ]
    nav = "".join(f'<a href="#{sid}">{_e(title)}</a>' for sid, title, _ in sections)
    body = "".join(_section(sid, title, content) for sid, title, content in sections)
    specs = "".join(
        f'<script type="application/json" data-chart="{name}">{_spec(chart)}</script>\n'
        for name, chart in charts.items()
        if f'id="chart-{name}"' in body
    )
    m = data.ranking.meta
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>vdto report {data.year}</title>\n<style>{CSS}</style>\n"
        f"<script>{_script_safe(vega_bundle())}</script>\n</head>\n<body>\n"
        f"<header><h1>vdto report: violence ranking and enforcement options, {data.year}</h1>"
        f"<p>Store {_e(data.db.name)} · window {_e(m['from'])} to {_e(m['to'])} · {m['events']:,} events · "
        f"vdto {_e(vdto.__version__)} · rubric {_e(m['rubric'])} sha256:{_e(m['rubric_sha256'][:16])}</p></header>\n"
        f"<nav>{nav}</nav>\n<main>\n"
        '<pre id="report-errors" hidden></pre>\n'
        f"{body}</main>\n{specs}<script>{JS}</script>\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------------------------------------
# writing the folder


def _write_atomic(path: Path, content: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(content), mode=0o644)


def _records(frame: pd.DataFrame) -> list:
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].map(lambda v: isinstance(v, list | tuple | np.ndarray)).any():
            frame[col] = frame[col].map(lambda v: list(v) if isinstance(v, list | tuple | np.ndarray) else v)
    return json.loads(frame.to_json(orient="records", date_format="iso"))


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
    out["tables"] = tables
    out["figures"] = figures
    return out


def write_report(
    data: ReportData, out_dir: str | os.PathLike[str], *, progress: Callable[[str], None] | None = None
) -> Path:
    """Write ``report.html``, ``report.json`` and ``figures/*.png`` into ``out_dir``; returns the
    HTML path. ``progress`` is called with a label before the figures and before the page."""
    from vdto.regional.maps import save_map

    out_dir = Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    if progress:
        progress("Drawing the figures (PNG)")
    charts = _figures(data)
    written = []
    for name, _ in FIGURES:
        if name in charts:
            save_map(charts[name], out_dir / "figures" / f"{name}.png")
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
        (json.dumps(doc, ensure_ascii=False, indent=1, default=_json_default) + "\n").encode("utf-8"),
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
