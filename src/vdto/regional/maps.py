"""Choropleth maps of region scores and hot spots: static (PNG, SVG) and interactive (HTML).

Maps are Vega-Lite charts built with Altair over the bundled polygons (the same borders the
contiguity uses), simplified so that an interactive municipal map stays a few megabytes.
Rendering uses vl-convert, which carries its own copy of Vega: nothing is fetched from the
network, and the HTML embeds the Vega JavaScript so it opens offline.

* :func:`choropleth` builds the chart: fill by a value per region, hot spots outlined;
* :func:`vdto.render.charts.save_chart` writes it as ``.png``, ``.svg`` or ``.html``, atomically;
* :func:`map_regions` does both for a :class:`~vdto.regional.panel.RegionScores`.
"""

from __future__ import annotations

import json
import math
import os
from functools import cache
from typing import TYPE_CHECKING, Any

import altair as alt
import numpy as np
import pandas as pd

from vdto.errors import VdtoError
from vdto.regional.panel import check_level, region_names
from vdto.render.charts import save_chart
from vdto.render.fmt import period
from vdto.render.jsonout import plain

if TYPE_CHECKING:
    from vdto.regional.panel import RegionScores

#: Simplification tolerance (degrees) of the drawn polygons, by level.
TOLERANCE: dict[str, float] = {"state": 0.02, "municipality": 0.01}
#: Decimals kept in drawn coordinates (4 decimals ~ 11 m, far below the simplification).
DECIMALS = 4
WIDTH = 760

ZERO_FILL = "#e6e6e6"
BORDER = "#ffffff"
HOT_STROKE = "#8b0000"
COLD_STROKE = "#2166ac"
SCHEME = "purples"
HOT, COLD = "hot spot", "cold spot"
# the palest end of the scheme is left out so that small values stay apart from the grey of zero
_SCHEME = alt.SchemeParams(name=SCHEME, extent=[0.15, 1.0])

VALUE_LABELS: dict[str, str] = {
    "score": "violence score",
    "per100k": "score per 100,000 people",
    "events": "events",
    "event_deaths": "deaths in events",
    "counted": "counted victims",
    "top_org_share": "share of the leading organization",
}
#: The same in Spanish (the analyst's report in Spanish, ``lang="es"``).
VALUE_LABELS_ES: dict[str, str] = {
    "score": "puntuación de violencia",
    "per100k": "puntuación por 100,000 habitantes",
    "events": "eventos",
    "event_deaths": "muertes en eventos",
    "counted": "víctimas contadas",
    "top_org_share": "participación de la organización principal",
}
#: A map's other words, by language: tooltips, legend entries, the title and the subtitle.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "region": "Region", "code": "Code", "moran": "Local Moran", "trend": "Trend", HOT: HOT, COLD: COLD,
        "grey": "Grey: zero or no value", "outlines": " · outlines: Gi* hot (dark red) and cold (blue) spots",
        "title": "{label} by {level}", "state": "state", "municipality": "municipality",
        "rubric": "rubric", "data": "data", "seed": "seed",
    },
    "es": {
        "region": "Región", "code": "Clave", "moran": "Moran local", "trend": "Tendencia",
        HOT: "punto caliente", COLD: "punto frío", "grey": "Gris: cero o sin valor",
        "outlines": " · contornos: puntos calientes (rojo oscuro) y fríos (azul) de Gi*",
        "title": "{label} por {level}", "state": "estado", "municipality": "municipio",
        "rubric": "rúbrica", "data": "datos", "seed": "semilla",
    },
}  # fmt: skip


def _label(value: str, lang: str) -> str:
    labels = VALUE_LABELS_ES if lang == "es" else VALUE_LABELS
    return labels.get(value, VALUE_LABELS.get(value, value))


@cache
def _shapes(
    level: str,
) -> tuple[tuple[str, ...], tuple[dict[str, Any], ...], tuple[float, float, float, float]]:
    """Codes, simplified GeoJSON geometries and the overall bounds of the polygons of ``level``.

    Exterior rings are wound clockwise, as d3-geo (used by Vega) expects; the other winding
    would be drawn as the whole globe minus the region.
    """
    import shapely

    from vdto.regional.contiguity import region_polygons

    codes, polys = region_polygons(level)
    simple = shapely.simplify(np.asarray(polys, dtype=object), TOLERANCE[level], preserve_topology=True)
    simple = shapely.orient_polygons(simple, exterior_cw=True)
    simple = shapely.transform(simple, lambda xy: np.round(xy, DECIMALS))
    geometries = tuple(json.loads(g) for g in shapely.to_geojson(simple))
    bounds = shapely.total_bounds(simple)
    return codes, geometries, (float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3]))


def _height(bounds: tuple[float, float, float, float], width: int) -> int:
    """Height that fits ``bounds`` at ``width`` in a Mercator projection."""
    x0, y0, x1, y1 = bounds

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    return round(width * (merc(y1) - merc(y0)) / math.radians(x1 - x0))


def _normal_codes(codes: pd.Series, level: str) -> pd.Series:
    """Region codes as zero-padded strings ("1" -> "01" for states)."""
    width = 2 if level == "state" else 5
    text = codes.astype(str).str.strip()
    return text.where(~text.str.isdigit(), text.str.zfill(width))


def _scale(values: np.ndarray, scale: str) -> alt.Scale:
    """The colour scale: linear, log, or quantile; ``auto`` takes log for skewed values.

    The domain is set from the positive values only: zeros and blanks are drawn grey outside
    the scale (a log scale cannot hold 0).
    """
    positive = values[np.isfinite(values) & (values > 0)]
    lo, hi = (float(positive.min()), float(positive.max())) if len(positive) else (1.0, 1.0)
    if scale == "auto":
        scale = "log" if len(positive) >= 2 and hi / lo > 100 else "linear"
    if scale == "linear":
        return alt.Scale(type="linear", scheme=_SCHEME, domain=[0.0, max(hi, 1e-9)], nice=True)
    if scale == "log":
        return alt.Scale(type="log", scheme=_SCHEME, domain=[lo, max(hi, lo * 10)], nice=True)
    if scale == "quantile":
        scheme = alt.SchemeParams(name=SCHEME, count=5, extent=[0.15, 1.0])
        return alt.Scale(type="quantile", scheme=scheme, domain=sorted(float(v) for v in positive))
    raise VdtoError(f"unknown colour scale {scale!r}", "scale", "use auto, linear, log or quantile")


def _features(table: pd.DataFrame, level: str, value: str, hot: pd.DataFrame | None) -> list[dict[str, Any]]:
    """One GeoJSON feature per bundled region, with the table's value and the hot-spot class."""
    codes, geometries, _ = _shapes(level)
    rows = table.assign(region_code=_normal_codes(table["region_code"], level)).drop_duplicates("region_code")
    rows = rows.set_index("region_code")
    known = region_names(level)
    names = rows["name"] if "name" in rows else pd.Series(dtype=object)
    vals = pd.to_numeric(rows[value], errors="coerce")
    props: dict[str, pd.Series] = {
        "value": vals.reindex(list(codes)).where(lambda s: s.index.isin(rows.index), 0.0),
        "name": names.reindex(list(codes)).fillna(known.reindex(list(codes))).fillna(""),
    }
    if hot is not None:
        h = hot.assign(region_code=_normal_codes(hot["region_code"], level)).drop_duplicates("region_code")
        h = h.set_index("region_code").reindex(list(codes))
        props["hotspot"] = h["hotspot"].fillna("not tested")
        props["outline"] = h["hotspot"].where(h["hotspot"].isin([HOT, COLD]), None)
        for col in ("gi_z", "cluster", "status"):
            if col in h:
                props[col] = h[col]
    columns = {k: [plain(x) for x in s.to_numpy(dtype=object)] for k, s in props.items()}
    return [
        {
            "type": "Feature",
            "geometry": geometry,
            "properties": {"region_code": code, **{k: col[i] for k, col in columns.items()}},
        }
        for i, (code, geometry) in enumerate(zip(codes, geometries, strict=True))
    ]


def choropleth(
    table: pd.DataFrame,
    level: str,
    *,
    value: str = "score",
    hot: pd.DataFrame | None = None,
    title: str = "",
    subtitle: str | list[str] = "",
    scale: str = "auto",
    lang: str = "en",
) -> alt.Chart | alt.LayerChart:
    """A choropleth of ``table[value]`` by region over the bundled polygons of ``level``.

    Regions are joined to the polygons by ``region_code`` (codes such as ``1`` are read as
    ``"01"``); a region missing from ``table`` is drawn as 0, a region whose value is empty
    (e.g. a rate without population) is drawn blank. Zero and blank are light grey.

    Parameters
    ----------
    table
        One row per region: ``region_code``, ``value`` and, optionally, ``name`` (taken from
        the bundled geography when absent), e.g. ``RegionScores.table``.
    level
        ``"state"`` (32 regions) or ``"municipality"`` (2,457).
    value
        The column to colour by (``score``, ``per100k``, ``events``...).
    hot
        Optional :func:`~vdto.regional.hotspots.hotspots` frame (``region_code, hotspot``
        and, shown in the tooltip when present, ``gi_z``, ``cluster``, ``status``). Hot spots
        get a thick dark-red outline, cold spots a thin blue one.
    title
        The chart title.
    subtitle
        Lines under the title, e.g. provenance (``"vdto 0.1.0 · rubric eef3bf7… · seed 1"``);
        a string is split on newlines.
    scale
        ``"auto"`` (log when the positive values span more than a factor of 100, else
        linear), ``"linear"``, ``"log"`` or ``"quantile"`` (five classes).
    lang
        The language of the legends, tooltips and the last subtitle line: ``"en"`` or ``"es"``.

    Returns
    -------
    alt.Chart or alt.LayerChart
        The chart (a layer chart when ``hot`` is given); save it with
        :func:`vdto.render.charts.save_chart`.

    Raises
    ------
    VdtoError
        On an unknown level or scale, or when a column the map needs is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"region_code": ["14", "16"], "score": [30.0, 12.5]})
    >>> chart = choropleth(t, "state", title="Score by state")
    >>> chart.to_dict()["projection"]["type"]
    'mercator'
    """
    check_level(level)
    for col in ("region_code", value):
        if col not in table:
            raise VdtoError(
                f"the table has no {col!r} column", "table", "pass RegionScores.table or add the column"
            )
    if hot is not None and not {"region_code", "hotspot"} <= set(hot.columns):
        raise VdtoError(
            "the hot-spot frame needs region_code and hotspot columns",
            "hot",
            "pass the frame hotspots() returns",
        )
    values = pd.to_numeric(table[value], errors="coerce").to_numpy(dtype=float)
    color_scale = _scale(values, scale)
    features = _features(table, level, value, hot)
    _, _, bounds = _shapes(level)
    label = _label(value, lang)
    w = WORDS.get(lang, WORDS["en"])

    # a plain dict, not alt.InlineData: Altair would validate every coordinate (seconds)
    base = alt.Chart({"values": features})
    tooltip = [
        alt.Tooltip("properties.name:N", title=w["region"]),
        alt.Tooltip("properties.region_code:N", title=w["code"]),
        alt.Tooltip("properties.value:Q", title=label.capitalize(), format=",.2~f"),
    ]
    if hot is not None:
        tooltip.append(alt.Tooltip("properties.hotspot:N", title="Gi*"))
        for col, name, fmt in (
            ("gi_z", "Gi* z", ".2f"),
            ("cluster", w["moran"], ""),
            ("status", w["trend"], ""),
        ):
            if col in hot:
                kind = "Q" if fmt else "N"
                tooltip.append(
                    alt.Tooltip(f"properties.{col}:{kind}", title=name, **({"format": fmt} if fmt else {}))
                )

    positive = (
        "isValid(datum.properties.value) && isFinite(datum.properties.value) && datum.properties.value > 0"
    )
    fill = base.mark_geoshape(stroke=BORDER, strokeWidth=0.6 if level == "state" else 0.1).encode(
        color=alt.condition(
            positive,
            alt.Color(
                "properties.value:Q",
                title=label.capitalize(),
                scale=color_scale,
                legend=alt.Legend(orient="top-right", gradientLength=160, format=",.3~g", titleLimit=240),
            ),
            alt.value(ZERO_FILL),
        ),
        tooltip=tooltip,
    )
    layers: list[alt.Chart] = [fill]
    if hot is not None:
        hot_w, cold_w = (2.5, 1.0) if level == "state" else (1.4, 0.7)
        outlined = base.transform_filter("isValid(datum.properties.outline)")
        # a white halo under the coloured outline keeps it visible on any fill
        halo = outlined.mark_geoshape(filled=False, stroke="white", strokeJoin="round").encode(
            strokeWidth=alt.condition(
                f"datum.properties.outline == '{HOT}'", alt.value(2 * hot_w), alt.value(2 * cold_w)
            ),
            tooltip=tooltip,
        )
        outline = outlined.mark_geoshape(filled=False, strokeJoin="round").encode(
            stroke=alt.Stroke(
                "properties.outline:N",
                title="Getis-Ord Gi*",
                scale=alt.Scale(domain=[HOT, COLD], range=[HOT_STROKE, COLD_STROKE]),
                legend=alt.Legend(
                    orient="top-right",
                    symbolType="square",
                    symbolFillColor="white",
                    # the entries are the data's words (hot spot, cold spot), said in the map's language
                    **(
                        {
                            "labelExpr": f"datum.label == '{HOT}' ? '{w[HOT]}' : datum.label == '{COLD}' ? '{w[COLD]}' : datum.label"
                        }
                        if lang != "en"
                        else {}
                    ),
                ),
            ),
            strokeWidth=alt.StrokeWidth(
                "properties.outline:N",
                scale=alt.Scale(domain=[HOT, COLD], range=[hot_w, cold_w]),
                legend=None,
            ),
            tooltip=tooltip,
        )
        layers += [halo, outline]

    lines = subtitle.split("\n") if isinstance(subtitle, str) else list(subtitle)
    lines = [line for line in lines if line]
    lines.append(w["grey"] + (w["outlines"] if hot is not None else ""))
    chart = alt.layer(*layers) if len(layers) > 1 else fill
    return chart.properties(
        width=WIDTH,
        height=_height(bounds, WIDTH),
        title=alt.TitleParams(text=title, subtitle=lines, anchor="start", subtitleColor="#555555"),
        projection=alt.Projection(type="mercator"),
    ).configure_view(stroke=None)


def provenance(meta: dict[str, Any], seed: int | None = None, lang: str = "en") -> str:
    """One provenance line from a ``RegionScores.meta``: version, rubric and data hashes, seed.

    Examples
    --------
    >>> provenance({"vdto_version": "0.1.0", "rubric_sha256": "eef3bf7aa", "data_sha256": "bbcf9b12"}, 1)
    'vdto 0.1.0 · rubric eef3bf7… · data bbcf9b… · seed 1'
    """
    w = WORDS.get(lang, WORDS["en"])
    parts = []
    if meta.get("vdto_version"):
        parts.append(f"vdto {meta['vdto_version']}")
    if meta.get("rubric_sha256"):
        parts.append(f"{w['rubric']} {str(meta['rubric_sha256'])[:7]}…")
    if meta.get("data_sha256"):
        parts.append(f"{w['data']} {str(meta['data_sha256'])[:6]}…")
    if seed is not None:
        parts.append(f"{w['seed']} {seed}")
    return " · ".join(parts)


def map_regions(
    scores: RegionScores,
    hot: pd.DataFrame | None = None,
    *,
    value: str = "score",
    path: str | os.PathLike[str] | None = None,
    lang: str = "en",
) -> alt.Chart | alt.LayerChart:
    """Map a :class:`~vdto.regional.panel.RegionScores`, titled from its level and window, with
    its words in ``lang`` (``"en"`` or ``"es"``).

    Parameters
    ----------
    scores
        Region scores (``scores.table``, ``scores.level``, ``scores.meta``).
    hot
        Optional hot-spot frame to outline (see :func:`choropleth`); its seed is read from
        ``hot.attrs["seed"]`` or ``scores.meta["seed"]`` for the provenance line.
    value
        The column of ``scores.table`` to colour by.
    path
        When given, the map is also saved there (``.png``, ``.svg`` or ``.html``).
    lang
        The language of the title, legends and tooltips (``"en"`` or ``"es"``).

    Returns
    -------
    alt.Chart or alt.LayerChart
        The chart.
    """
    meta = scores.meta or {}
    w = WORDS.get(lang, WORDS["en"])
    label = _label(value, lang)
    title = w["title"].format(label=label[0].upper() + label[1:], level=w.get(scores.level, scores.level))
    if meta.get("from") and meta.get("to"):
        # English keeps the ISO dates it always had; Spanish says the dates in words
        title += f", {period(meta, lang)}" if lang == "es" else f", {meta['from']} to {meta['to']}"
    seed = hot.attrs.get("seed") if hot is not None else None
    if seed is None:
        seed = meta.get("seed")
    chart = choropleth(
        scores.table,
        scores.level,
        value=value,
        hot=hot,
        title=title,
        subtitle=provenance(meta, seed, lang),
        lang=lang,
    )
    if path is not None:
        save_chart(chart, path)
    return chart


__all__ = ["choropleth", "map_regions", "provenance"]
