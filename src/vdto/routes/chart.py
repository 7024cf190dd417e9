"""Flows before and after a change of Caribbean interdiction, as a chart (Altair, offline)."""

from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd

from vdto.routes.lever import Shift

LABELS = {
    "eastern_pacific": "Eastern Pacific",
    "central_america": "Central America",
    "caribbean": "Caribbean",
    "direct": "Direct",
    "us_southwest": "Southwest border",
    "us_gulf_coast": "Gulf Coast",
    "us_florida": "Florida",
    "us_puerto_rico": "Puerto Rico",
    "via_mexico": "Through Mexico",
}


def shift_chart(s: Shift) -> alt.VConcatChart:
    """Grouped bars of corridor, entry-region and through-Mexico shares, before and after."""
    t = s.table()
    long = t.melt(
        id_vars=["kind", "name"], value_vars=["before", "after"], var_name="when", value_name="share"
    )
    long["label"] = long["name"].map(LABELS).fillna(long["name"])
    order = ["now", f"Caribbean interdiction {s.change:+.0%}"]
    long["when"] = long["when"].map(dict(zip(["before", "after"], order, strict=True)))
    v = s.violence_summary()
    title = alt.TitleParams(
        f"US-bound cocaine by corridor and entry region: Caribbean interdiction {s.change:+.0%}",
        subtitle=[
            f"Flow through Mexico {s.before.via_mexico:.0%} -> {s.after.via_mexico:.0%} "
            f"({s.mexico_flow_change:+.0%}); expected change of Mexican violence {v['median']:+.1%} "
            f"(90% interval {v['lo90']:+.1%} to {v['hi90']:+.1%})",
            f"vdto {s.meta['vdto_version']} · network {s.meta['network']} sha256:{s.meta['network_sha256'][:12]} "
            f"· seed {s.meta['seed']}",
        ],
        anchor="start",
    )
    charts = []
    for kind, heading in (("corridor", "Corridor"), ("entry", "US entry region"), ("total", "")):
        part = long[long["kind"] == kind]
        charts.append(
            alt.Chart(part, title=heading)
            .mark_bar()
            .encode(
                y=alt.Y("label:N", title=None, sort=list(pd.unique(part["label"]))),
                yOffset=alt.YOffset("when:N", sort=order),
                x=alt.X(
                    "share:Q",
                    title="share of US-bound flow",
                    axis=alt.Axis(format="%"),
                    scale=alt.Scale(domain=[0, 1]),
                ),
                color=alt.Color(
                    "when:N",
                    title=None,
                    sort=order,
                    scale=alt.Scale(domain=order, range=["#54278f", "#9e9ac8"]),
                ),
                tooltip=["label", "when", alt.Tooltip("share:Q", format=".1%")],
            )
            .properties(width=520, height=28 * part["label"].nunique() * 2)
        )
    return alt.vconcat(*charts, title=title).configure_legend(orient="top")


def save_shift_chart(s: Shift, path: str | Path) -> Path:
    """Write the chart as PNG, SVG or self-contained HTML (by suffix; nothing half-written)."""
    from vdto.render.charts import save_chart

    return save_chart(shift_chart(s), path)


__all__ = ["save_shift_chart", "shift_chart"]
