"""Charts: Altair (Vega-Lite) built here or anywhere in vdto, rendered offline by vl-convert.

vl-convert carries its own copy of Vega, so nothing is fetched from the network:

* :func:`save_chart` writes a chart as ``.png`` (scale 2), ``.svg`` or self-contained ``.html``,
  atomically;
* :func:`to_svg` gives the static SVG of a chart (no JavaScript: the public scorecard inlines it);
* :func:`vega_spec` compiles a chart to a Vega spec and :func:`vega_bundle` is the Vega,
  Vega-Lite and vega-embed JavaScript as one script (the analyst's report inlines both);
* :func:`interval_chart` and :func:`line_chart` are the two charts of the public scorecard:
  a value with its interval per row, and one line per series (Okabe-Ito colours and dashes, so
  that lines stay apart in grey print and for colour-blind readers).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vdto.errors import VdtoError
from vdto.files import atomic_write

if TYPE_CHECKING:
    import altair as alt
    import pandas as pd

#: The formats :func:`save_chart` writes, by suffix.
FORMATS: tuple[str, ...] = (".png", ".svg", ".html")
PNG_SCALE = 2

#: Line colours (Okabe-Ito, readable by most colour-blind readers) and dashes, in series order.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999",
)  # fmt: skip
DASHES: tuple[tuple[int, ...], ...] = ((1, 0), (6, 3), (2, 3), (8, 3, 2, 3)) * 2


def vl_options() -> dict[str, Any]:
    """vl-convert's ``vl_version`` for the Vega-Lite schema Altair writes, when vl-convert has
    it (else vl-convert's default)."""
    import altair as alt
    import vl_convert as vlc

    version = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return {"vl_version": version} if version in vlc.get_vegalite_versions() else {}


def _render(chart: alt.TopLevelMixin, suffix: str) -> bytes:
    """The chart as the bytes of a ``suffix`` file, rendered by vl-convert (offline)."""
    import vl_convert as vlc

    spec = chart.to_dict()
    kwargs: dict[str, Any] = vl_options()
    if suffix == ".png":
        return vlc.vegalite_to_png(spec, scale=PNG_SCALE, **kwargs)
    if suffix == ".svg":
        return vlc.vegalite_to_svg(spec, **kwargs).encode("utf-8")
    return vlc.vegalite_to_html(spec, bundle=True, **kwargs).encode("utf-8")


def save_chart(chart: alt.TopLevelMixin, path: str | os.PathLike[str]) -> Path:
    """Write ``chart`` to ``path`` as PNG (scale 2), SVG or self-contained HTML, by suffix.

    The HTML embeds the Vega JavaScript (no CDN), so it opens without a network. The file is
    rendered first, written to a temporary file in the same folder and then renamed over
    ``path``: a failure leaves no partly written file. Parent folders are created.

    Parameters
    ----------
    chart
        Any Altair chart (a map from :func:`vdto.regional.maps.choropleth`, a simulation or
        routes chart...).
    path
        Where to write; the suffix (``.png``, ``.svg``, ``.html``) picks the format.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    VdtoError
        When the suffix is not one of the known formats.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise VdtoError(
            f"unknown chart format {path.suffix or '(no suffix)'!r}", str(path), "use .png, .svg or .html"
        )
    content = _render(chart, suffix)
    # the temporary file is private; a chart is for sharing
    return atomic_write(path, lambda tmp: tmp.write_bytes(content), mode=0o644)


_XMLNS = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')
_IDS = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


#: The font of static SVG charts when the chart names none: text is measured when the SVG is
#: made, so it must be a font the reader's browser draws at the same width (DejaVu Sans is the
#: default sans-serif of most Linux systems; elsewhere the fallback is narrower, never wider).
SVG_FONT = "DejaVu Sans, sans-serif"


def to_svg(
    chart: alt.TopLevelMixin | dict, *, inline: bool = False, prefix: str = "", font: str = SVG_FONT
) -> str:
    """The chart as static SVG (no script), rendered by vl-convert; the same chart gives the
    same text.

    ``font`` is the chart's font unless its config names one. With ``inline``, the SVG is ready
    to go inside an HTML page: no XML namespace declarations (the HTML parser knows SVG, and a
    page may refuse every URL), and each id (a clip path, a gradient) is prefixed with
    ``prefix`` so that several charts on one page do not clash.
    """
    import vl_convert as vlc

    spec = chart.to_dict() if hasattr(chart, "to_dict") else dict(chart)
    spec["config"] = {"font": font, **(spec.get("config") or {})}
    svg = vlc.vegalite_to_svg(spec, **vl_options())
    if inline:
        head, sep, rest = svg.partition(">")
        svg = _XMLNS.sub("", head) + sep + rest
        svg = _IDS.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)
    return svg


def svg_by_lang(
    build: Callable[[str], Any], prefix: str, langs: tuple[str, ...] = ("es", "en")
) -> dict[str, Any]:
    """One static SVG of a chart per language, ready to inline in a page (as markup):
    ``build(lang)`` gives the chart; ids are prefixed with ``{prefix}-{lang}-``."""
    from markupsafe import Markup

    return {lang: Markup(to_svg(build(lang), inline=True, prefix=f"{prefix}-{lang}-")) for lang in langs}


def vega_spec(chart: alt.TopLevelMixin | dict) -> dict:
    """The chart compiled to a Vega spec by vl-convert (the same compiler as the PNG and SVG
    files), so that a page only runs Vega; the ``$schema`` URL is dropped."""
    import vl_convert as vlc

    spec = chart.to_dict(validate=False) if hasattr(chart, "to_dict") else dict(chart)
    vega = vlc.vegalite_to_vega(spec, **vl_options())
    vega.pop("$schema", None)
    return vega


@cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script (vl-convert's own copy: no network)."""
    import vl_convert as vlc

    return vlc.javascript_bundle(**vl_options())


def interval_chart(
    rows: pd.DataFrame,
    *,
    label: str,
    value: str,
    lo: str,
    hi: str,
    highlight: Any = None,
    key: str | None = None,
    x_title: str = "",
    title: str = "",
    colour: str = "#0b5d7a",
    highlight_colour: str = "#a3261b",
    width: int = 700,
) -> alt.LayerChart:
    """One row per ``label``, in the order given: ``value`` as a dot, ``lo``-``hi`` as a bar.

    The row whose ``key`` column (``label`` when not given) equals ``highlight`` is drawn in
    ``highlight_colour``. The chart comes configured (larger labels): put it on a page as it is.
    """
    import altair as alt

    t = rows[[c for c in dict.fromkeys([label, value, lo, hi, key or label])]].copy()
    t["_role"] = (t[key or label] == highlight).map({True: "highlight", False: "other"})
    colours = alt.Scale(domain=["highlight", "other"], range=[highlight_colour, colour])
    base = alt.Chart(t).encode(
        y=alt.Y(f"{label}:N", sort=list(t[label]), title=None, axis=alt.Axis(labelLimit=260)),
        color=alt.Color("_role:N", scale=colours, legend=None),
    )
    bar = base.mark_rule(strokeWidth=7, opacity=0.35, strokeCap="round").encode(
        x=alt.X(f"{lo}:Q", title=x_title, axis=alt.Axis(format=",.0f")), x2=f"{hi}:Q"
    )
    dot = base.mark_circle(size=80, opacity=1).encode(x=f"{value}:Q")
    chart = (bar + dot).properties(width=width, height=26 * len(t))
    if title:
        chart = chart.properties(title=alt.TitleParams(title, anchor="start", fontSize=14))
    return chart.configure_axis(labelFontSize=12, titleFontSize=13)


def line_chart(
    rows: pd.DataFrame,
    *,
    x: str,
    y: str,
    series: str,
    x_title: str = "",
    y_title: str = "",
    series_title: str = "",
    width: int = 700,
    height: int = 300,
) -> alt.Chart:
    """One line (with its points) per ``series``, in order of first appearance, each with its own
    Okabe-Ito colour and dash, and one legend for both. The chart comes configured (larger
    labels): put it on a page as it is."""
    import altair as alt

    order = list(dict.fromkeys(rows[series]))
    colours = [OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(order))]
    dashes = [list(DASHES[i % len(DASHES)]) for i in range(len(order))]
    legend = alt.Legend(
        orient="right", labelLimit=260, symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=500
    )
    # one legend for colour and dash: both channels sorted and titled alike
    shared = {"sort": order, "title": series_title or None, "legend": legend}
    return (
        alt.Chart(rows[[x, y, series]])
        .mark_line(strokeWidth=2.5, point=alt.OverlayMarkDef(size=40, filled=True))
        .encode(
            x=alt.X(f"{x}:O", title=x_title or None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"{y}:Q", title=y_title or None, axis=alt.Axis(format=",.0f")),
            color=alt.Color(f"{series}:N", scale=alt.Scale(domain=order, range=colours), **shared),
            strokeDash=alt.StrokeDash(f"{series}:N", scale=alt.Scale(domain=order, range=dashes), **shared),
        )
        .properties(width=width, height=height)
        .configure_axis(labelFontSize=12, titleFontSize=13)
        .configure_legend(labelFontSize=12, titleFontSize=13)
    )


__all__ = [
    "DASHES",
    "FORMATS",
    "OKABE_ITO",
    "PNG_SCALE",
    "SVG_FONT",
    "interval_chart",
    "line_chart",
    "save_chart",
    "svg_by_lang",
    "to_svg",
    "vega_bundle",
    "vega_spec",
    "vl_options",
]


def event_study_chart(table: pd.DataFrame, *, y: str = "estimate", lo: str = "lo", hi: str = "hi",
                      y_title: str = "", title: str = "", width: int = 640) -> alt.FacetChart:  # fmt: skip
    """Event-study coefficients by event month, one panel per ``design``: each month's estimate
    as a dot with its interval as a bar, a line at zero and a dashed line where the
    intervention falls (between months -1 and 0)."""
    import altair as alt

    t = table[["design", "event_time", y, lo, hi]].dropna(subset=[y])
    base = alt.Chart()  # the facet gives each panel its design's rows
    bars = base.mark_rule(strokeWidth=3, opacity=0.4, color="#0b5d7a").encode(
        x=alt.X("event_time:Q", title="months since the intervention"), y=alt.Y(f"{lo}:Q", title=y_title or None),
        y2=f"{hi}:Q")  # fmt: skip
    dots = base.mark_circle(size=45, opacity=1, color="#0b5d7a").encode(x="event_time:Q", y=f"{y}:Q")
    zero = base.mark_rule(color="#555", strokeWidth=1).encode(y=alt.datum(0))
    when = base.mark_rule(color="#a3261b", strokeDash=[4, 3]).encode(x=alt.datum(-0.5))
    layered = (bars + dots + zero + when).properties(width=width, height=200)
    chart = layered.facet(row=alt.Row("design:N", title=None, sort=list(dict.fromkeys(t["design"]))),
                          data=t)  # fmt: skip
    if title:
        chart = chart.properties(title=alt.TitleParams(title, anchor="start", fontSize=14))
    return chart.configure_axis(labelFontSize=12, titleFontSize=13).resolve_scale(y="independent")
