"""The analyst's report: one self-contained HTML page (charts included, opens offline), the key
figures as PNG files for slides, and the tables with their provenance as JSON.

:func:`collect` runs the library functions (scoring, target rule, margins, trends, regional
hot spots, the enforcement package, the Caribbean shift and a policy comparison) and keeps their
results in a :class:`ReportData`; :func:`write_report` assembles them into a folder; and
:func:`build_report` does both. Nothing here computes a score or a statistic of its own: every
number comes from :mod:`vdto.scoring`, :mod:`vdto.regional`, :mod:`vdto.network`,
:mod:`vdto.routes` or :mod:`vdto.sim`.

The page (the template ``report.html`` of :mod:`vdto.render.pages`) embeds the Vega, Vega-Lite
and vega-embed JavaScript once (from vl-convert, which carries its own copy) and every chart as a
Vega spec compiled by vl-convert, so it refers to nothing outside itself and renders without a
network::

    out_dir/report.html      the report (English)
    out_dir/report.es.html   the report in Spanish (the words: vdto.services.report.words)
    out_dir/report.json      provenance, headlines and every table
    out_dir/figures/*.png    ranking, maps, network, policy comparison, routes (for slides;
                             figures/*.es.png in Spanish)
"""

from vdto.services.report.charts import network_chart, ranking_chart, trend_chart
from vdto.services.report.data import (
    FIGURES,
    STEPS,
    ReportData,
    SimResults,
    collect,
    headlines,
    latest_full_year,
    outputs_from_long,
    run_comparison,
)
from vdto.services.report.page import build_report, render_html, report_json, write_report

__all__ = [
    "FIGURES",
    "STEPS",
    "ReportData",
    "SimResults",
    "build_report",
    "collect",
    "headlines",
    "latest_full_year",
    "network_chart",
    "outputs_from_long",
    "ranking_chart",
    "render_html",
    "report_json",
    "run_comparison",
    "trend_chart",
    "write_report",
]
