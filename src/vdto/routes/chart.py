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
#: The same in Spanish (the analyst's report in Spanish).
LABELS_ES = {
    "eastern_pacific": "Pacífico oriental",
    "central_america": "Centroamérica",
    "caribbean": "Caribe",
    "direct": "Directo",
    "us_southwest": "Frontera suroeste",
    "us_gulf_coast": "Costa del Golfo",
    "us_florida": "Florida",
    "us_puerto_rico": "Puerto Rico",
    "via_mexico": "A través de México",
}
#: The chart's other words, by language.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "now": "now", "after": "Caribbean interdiction {change}",
        "title": "US-bound cocaine by corridor and entry region: Caribbean interdiction {change}",
        "flow": "Flow through Mexico {before} -> {after} ({flow}); expected change of Mexican violence {median} "
                "(90% interval {lo} to {hi})",
        "prov": "vdto {version} · network {network} sha256:{sha} · seed {seed}",
        "corridor": "Corridor", "entry": "US entry region", "share": "share of US-bound flow",
    },
    "es": {
        "now": "hoy", "after": "interdicción en el Caribe {change}",
        "title": "Cocaína con destino a EE.\u00a0UU. por corredor y región de entrada: interdicción en el Caribe "
                 "{change}",
        "flow": "Flujo a través de México {before} -> {after} ({flow}); cambio esperado de la violencia en México "
                "{median} (intervalo de 90\u00a0% de {lo} a {hi})",
        "prov": "vdto {version} · red {network} sha256:{sha} · semilla {seed}",
        "corridor": "Corredor", "entry": "Región de entrada a EE.\u00a0UU.",
        "share": "participación del flujo hacia EE.\u00a0UU.",
    },
}  # fmt: skip


def shift_chart(s: Shift, lang: str = "en") -> alt.VConcatChart:
    """Grouped bars of corridor, entry-region and through-Mexico shares, before and after; words
    in ``lang`` (``"en"`` or ``"es"``)."""
    from vdto.render.fmt import pct

    w = WORDS.get(lang, WORDS["en"])
    t = s.table()
    long = t.melt(
        id_vars=["kind", "name"], value_vars=["before", "after"], var_name="when", value_name="share"
    )
    long["label"] = long["name"].map(LABELS_ES if lang == "es" else LABELS).fillna(long["name"])
    change = pct(s.change, lang, 0, sign=True)
    order = [w["now"], w["after"].format(change=change)]
    long["when"] = long["when"].map(dict(zip(["before", "after"], order, strict=True)))
    v = s.violence_summary()
    title = alt.TitleParams(
        w["title"].format(change=change),
        subtitle=[
            w["flow"].format(
                before=pct(s.before.via_mexico, lang, 0),
                after=pct(s.after.via_mexico, lang, 0),
                flow=pct(s.mexico_flow_change, lang, 0, sign=True),
                median=pct(v["median"], lang, sign=True),
                lo=pct(v["lo90"], lang, sign=True),
                hi=pct(v["hi90"], lang, sign=True),
            ),
            w["prov"].format(
                version=s.meta["vdto_version"],
                network=s.meta["network"],
                sha=s.meta["network_sha256"][:12],
                seed=s.meta["seed"],
            ),
        ],
        anchor="start",
    )
    charts = []
    for kind, heading in (("corridor", w["corridor"]), ("entry", w["entry"]), ("total", "")):
        part = long[long["kind"] == kind]
        charts.append(
            alt.Chart(part, title=heading)
            .mark_bar()
            .encode(
                y=alt.Y("label:N", title=None, sort=list(pd.unique(part["label"]))),
                yOffset=alt.YOffset("when:N", sort=order),
                x=alt.X(
                    "share:Q",
                    title=w["share"],
                    # Spanish puts a no-break space before "%"
                    axis=alt.Axis(format="%")
                    if lang == "en"
                    else alt.Axis(labelExpr="format(datum.value * 100, 'd') + '\u00a0%'"),
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
