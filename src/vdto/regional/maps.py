"""Choropleth maps of region scores and hot spots: static (PNG, SVG) and interactive (HTML).

Maps are Vega-Lite charts built with Altair over the bundled polygons (the same borders the
contiguity uses), simplified so that an interactive municipal map stays a few megabytes.
Rendering uses vl-convert, which carries its own copy of Vega: nothing is fetched from the
network, and the HTML embeds the Vega JavaScript so it opens offline.

* :func:`choropleth` builds the chart: fill by a value per region, hot spots outlined;
* :func:`vdto.render.charts.save_chart` writes it as ``.png``, ``.svg`` or ``.html``, atomically;
* :func:`map_regions` does both for a :class:`~vdto.regional.panel.RegionScores`;
* :func:`map_patterns` maps the emerging hot spot pattern of every region (ESRI's 17 classes,
  :mod:`vdto.regional.emerging`) with a fixed colour per class, and :func:`chart_patterns`
  draws one small panel per class: the mean Gi* z of its regions, bin by bin, with their
  interquartile band.
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
    from pathlib import Path

    from vdto.regional.emerging import EmergingHotSpots
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


# ---------------------------------------------------------------------------------------------
# emerging hot spot patterns

#: The fill of each emerging hot spot class, fixed so that any two maps compare: hot spots in
#: reds and oranges (the most urgent darkest), cold spots in the same steps of blue, no pattern
#: light grey, regions left out of the test (no neighbours, or not in the table) white.
PATTERN_COLOURS: dict[str, str] = {
    "intensifying hot spot": "#67000d",
    "persistent hot spot": "#a50f15",
    "consecutive hot spot": "#de2d26",
    "new hot spot": "#fb6a4a",
    "sporadic hot spot": "#fd8d3c",
    "oscillating hot spot": "#fdae6b",
    "diminishing hot spot": "#fcbba1",
    "historical hot spot": "#fee6ce",
    "intensifying cold spot": "#08306b",
    "persistent cold spot": "#08519c",
    "consecutive cold spot": "#2171b5",
    "new cold spot": "#4292c6",
    "sporadic cold spot": "#6baed6",
    "oscillating cold spot": "#9ecae1",
    "diminishing cold spot": "#c6dbef",
    "historical cold spot": "#deebf7",
    "no pattern detected": "#e6e6e6",
    "left out (no neighbours)": "#ffffff",
    "left out (no polygon)": "#ffffff",
}
#: A region of the polygons that the table does not hold (drawn white, like one left out).
NOT_ANALYSED = "not analysed"
PATTERN_COLOURS[NOT_ANALYSED] = "#ffffff"
LEFT_OUT_STROKE = "#969696"

#: The classes in the reader's language (a map's legend and tooltips, the analyst's report).
PATTERN_WORDS: dict[str, dict[str, str]] = {
    "en": {c: c for c in PATTERN_COLOURS},
    "es": {
        "new hot spot": "punto caliente nuevo",
        "consecutive hot spot": "punto caliente consecutivo",
        "intensifying hot spot": "punto caliente en intensificación",
        "persistent hot spot": "punto caliente persistente",
        "diminishing hot spot": "punto caliente en disminución",
        "sporadic hot spot": "punto caliente esporádico",
        "oscillating hot spot": "punto caliente oscilante",
        "historical hot spot": "punto caliente histórico",
        "new cold spot": "punto frío nuevo",
        "consecutive cold spot": "punto frío consecutivo",
        "intensifying cold spot": "punto frío en intensificación",
        "persistent cold spot": "punto frío persistente",
        "diminishing cold spot": "punto frío en disminución",
        "sporadic cold spot": "punto frío esporádico",
        "oscillating cold spot": "punto frío oscilante",
        "historical cold spot": "punto frío histórico",
        "no pattern detected": "sin patrón detectado",
        "left out (no neighbours)": "excluido (sin vecinos)",
        "left out (no polygon)": "excluido (sin polígono)",
        NOT_ANALYSED: "no analizado",
    },
}
#: The other words of a pattern map or chart, by language.
PATTERN_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "pattern": "Emerging pattern", "hot_bins": "Hot bins", "cold_bins": "Cold bins", "last_z": "Gi* z, last bin",
        "total": "Total", "cube": "cube", "lag": "lag", "window": "global window", "permutations": "permutations",
        "seed": "seed", "fdr": "FDR", "yes": "yes", "no": "no", "bins": "{n} {bin} bins",
        "to": "to", "mean_z": "mean Gi* z", "band": "Gi* z of {unit}: line, the mean over the class's regions; band, their interquartile range",
        "bin_start": "bin", "regions": "regions", "white": "White: left out of the test (no neighbours) or not analysed",
        "month": "month", "quarter": "quarter", "year": "year", "window_cube": "cube", "window_bin": "bin",
        "none": "No region has a hot or cold pattern",
    },
    "es": {
        "pattern": "Patrón emergente", "hot_bins": "Intervalos calientes", "cold_bins": "Intervalos fríos",
        "last_z": "z de Gi*, último intervalo", "total": "Total", "cube": "cubo", "lag": "rezago",
        "window": "ventana global", "permutations": "permutaciones", "seed": "semilla", "fdr": "FDR", "yes": "sí",
        "no": "no", "bins": "{n} intervalos de un {bin}", "to": "a", "mean_z": "z media de Gi*",
        "band": "z de Gi* de {unit}: línea, la media de las regiones de la clase; banda, su rango intercuartílico",
        "bin_start": "intervalo", "regions": "regiones",
        "white": "Blanco: excluido de la prueba (sin vecinos) o no analizado",
        "month": "mes", "quarter": "trimestre", "year": "año", "window_cube": "cubo",
        "window_bin": "intervalo", "none": "Ninguna región tiene un patrón caliente o frío",
    },
}  # fmt: skip


def pattern_provenance(meta: dict[str, Any], lang: str = "en") -> str:
    """One line saying where an emerging hot spot analysis comes from and how it was run: vdto's
    version, the cube's SHA-256, the source, the span, the bins, the value and its unit, the lag,
    the global window, the permutations, the seed, alpha and FDR (from
    :attr:`~vdto.regional.emerging.EmergingHotSpots.meta`).

    Examples
    --------
    >>> pattern_provenance({"vdto_version": "0.1.0", "cube_sha256": "c2f43870c0e536a5", "source": "INEGI",
    ...     "from": "2010-01-01", "to": "2012-12-31", "bins": 12, "bin": "quarter", "value": "count",
    ...     "unit": "homicide deaths per quarter", "k": 1, "window": "cube", "permutations": 999, "seed": 1,
    ...     "alpha": 0.05, "fdr": False})
    'vdto 0.1.0 · cube sha256:c2f43870c0e5 · INEGI · 2010-01-01 to 2012-12-31 · 12 quarter bins · count (homicide deaths per quarter) · lag 1 · global window cube · 999 permutations · seed 1 · alpha 0.05 · FDR no'
    """
    w = PATTERN_TEXT.get(lang, PATTERN_TEXT["en"])
    parts = []
    if meta.get("vdto_version"):
        parts.append(f"vdto {meta['vdto_version']}")
    if meta.get("cube_sha256"):
        parts.append(f"{w['cube']} sha256:{str(meta['cube_sha256'])[:12]}")
    source = meta.get("source") or meta.get("label")
    if source:
        parts.append(str(source))
    if meta.get("from") and meta.get("to"):
        parts.append(f"{meta['from']} {w['to']} {meta['to']}")
    if meta.get("bins") is not None and meta.get("bin"):
        parts.append(w["bins"].format(n=meta["bins"], bin=w.get(str(meta["bin"]), meta["bin"])))
    if meta.get("value"):
        parts.append(f"{meta['value']} ({meta['unit']})" if meta.get("unit") else str(meta["value"]))
    elif meta.get("unit"):
        parts.append(str(meta["unit"]))
    if meta.get("k") is not None:
        parts.append(f"{w['lag']} {meta['k']}")
    if meta.get("window") is not None:
        parts.append(f"{w['window']} {w.get('window_' + str(meta['window']), meta['window'])}")
    if meta.get("permutations") is not None:
        parts.append(f"{meta['permutations']:,} {w['permutations']}")
    if meta.get("seed") is not None:
        parts.append(f"{w['seed']} {meta['seed']}")
    if meta.get("alpha") is not None:
        parts.append(f"alpha {meta['alpha']:g}")
    if "fdr" in meta:
        parts.append(f"{w['fdr']} {w['yes'] if meta['fdr'] else w['no']}")
    return " · ".join(parts)


def _wrap(line: str, width: int = 110) -> list[str]:
    """A `` · ``-separated line broken into lines of at most ``width`` characters (at the dots)."""
    out: list[str] = []
    for part in line.split(" · ") if line else []:
        if out and len(out[-1]) + 3 + len(part) <= width:
            out[-1] += " · " + part
        else:
            out.append(part)
    return out


def _pattern_features(table: pd.DataFrame, level: str, lang: str) -> tuple[list[dict[str, Any]], list[str]]:
    """One GeoJSON feature per bundled region with its class (in ``lang``) and the classes drawn."""
    codes, geometries, _ = _shapes(level)
    rows = table.assign(region_code=_normal_codes(table["region_code"], level)).drop_duplicates("region_code")
    rows = rows.set_index("region_code").reindex(list(codes))
    pattern = rows["pattern"].fillna(NOT_ANALYSED).astype(str)
    unknown = sorted(set(pattern) - set(PATTERN_COLOURS))
    if unknown:
        raise VdtoError(f"unknown emerging pattern {unknown[0]!r}", "table",
                        "pass the table of vdto.regional.emerging.analyse_cube")  # fmt: skip
    said = PATTERN_WORDS.get(lang, PATTERN_WORDS["en"])
    known = region_names(level)
    names = rows["name"] if "name" in rows else pd.Series(np.nan, index=rows.index, dtype=object)
    props: dict[str, pd.Series] = {
        "name": names.fillna(known.reindex(list(codes))).fillna(""),
        "pattern": pattern.map(said),
    }
    for col in ("hot_bins", "cold_bins", "last_z", "total"):
        if col in rows:
            props[col] = pd.to_numeric(rows[col], errors="coerce")
    columns = {k: [plain(x) for x in s.to_numpy(dtype=object)] for k, s in props.items()}
    features = [
        {
            "type": "Feature",
            "geometry": geometry,
            "properties": {"region_code": code, **{k: col[i] for k, col in columns.items()}},
        }
        for i, (code, geometry) in enumerate(zip(codes, geometries, strict=True))
    ]
    present = set(pattern)
    from vdto.regional.emerging import CLASSES, LEFT_OUT, NO_PATTERN, NO_POLYGON

    drawn = [c for c in (*CLASSES, LEFT_OUT, NO_POLYGON, NOT_ANALYSED) if c in present or c == NO_PATTERN]
    return features, drawn


def pattern_map(table: pd.DataFrame, level: str, *, title: str, meta: dict[str, Any],
                lang: str = "en") -> alt.Chart:  # fmt: skip
    """A categorical map of the emerging hot spot class of every region of ``level``
    (``table``: one row per region with ``region_code``, ``pattern`` and, for the tooltip,
    ``name``, ``hot_bins``, ``cold_bins``, ``last_z``, ``total``). Each class has its fixed
    colour (:data:`PATTERN_COLOURS`); the legend lists the classes drawn and no pattern. The
    subtitle is the provenance line of ``meta`` (:func:`pattern_provenance`).

    Examples
    --------
    >>> t = pd.DataFrame({"region_code": ["08", "31"], "pattern": ["persistent hot spot", "new cold spot"]})
    >>> chart = pattern_map(t, "state", title="Patterns", meta={})
    >>> chart.to_dict()["encoding"]["fill"]["scale"]["domain"]
    ['persistent hot spot', 'new cold spot', 'no pattern detected', 'not analysed']
    """
    check_level(level)
    for col in ("region_code", "pattern"):
        if col not in table:
            raise VdtoError(f"the table has no {col!r} column", "table",
                            "pass the table of vdto.regional.emerging.analyse_cube")  # fmt: skip
    features, drawn = _pattern_features(table, level, lang)
    _, _, bounds = _shapes(level)
    said = PATTERN_WORDS.get(lang, PATTERN_WORDS["en"])
    w, mw = PATTERN_TEXT.get(lang, PATTERN_TEXT["en"]), WORDS.get(lang, WORDS["en"])
    white = {said[c] for c in drawn if PATTERN_COLOURS[c] == "#ffffff"}
    tooltip = [
        alt.Tooltip("properties.name:N", title=mw["region"]),
        alt.Tooltip("properties.region_code:N", title=mw["code"]),
        alt.Tooltip("properties.pattern:N", title=w["pattern"]),
    ]
    for col, fmt in (("hot_bins", "d"), ("cold_bins", "d"), ("last_z", ".2f"), ("total", ",.4~g")):
        if col in table:
            tooltip.append(alt.Tooltip(f"properties.{col}:Q", title=w[col], format=fmt))
    # a white region gets a grey border, or it would vanish into the page
    white_test = " || ".join(f"datum.properties.pattern == {json.dumps(c)}" for c in sorted(white)) or "false"
    chart = (
        alt.Chart({"values": features})
        .mark_geoshape(strokeWidth=0.6 if level == "state" else 0.1)
        .encode(
            fill=alt.Fill(
                "properties.pattern:N",
                title=w["pattern"],
                scale=alt.Scale(domain=[said[c] for c in drawn], range=[PATTERN_COLOURS[c] for c in drawn]),
                legend=alt.Legend(orient="top-right", symbolType="square", symbolStrokeColor=LEFT_OUT_STROKE,
                                  symbolStrokeWidth=0.5, labelLimit=260, titleLimit=260),
            ),
            stroke=alt.condition(white_test, alt.value(LEFT_OUT_STROKE), alt.value(BORDER)),
            tooltip=tooltip,
        )
    )  # fmt: skip
    lines = _wrap(pattern_provenance(meta, lang))
    if white:
        lines.append(w["white"])
    return chart.properties(
        width=WIDTH,
        height=_height(bounds, WIDTH),
        title=alt.TitleParams(text=title, subtitle=lines, anchor="start", subtitleColor="#555555"),
        projection=alt.Projection(type="mercator"),
    ).configure_view(stroke=None)


def map_patterns(table: pd.DataFrame, level: str, path: str | os.PathLike[str], *, title: str,
                 meta: dict[str, Any], lang: str = "en") -> Path:  # fmt: skip
    """Draw :func:`pattern_map` and save it as ``.png``, ``.svg`` or ``.html`` (offline); returns
    the path."""
    return save_chart(pattern_map(table, level, title=title, meta=meta, lang=lang), path)


def pattern_series(result: EmergingHotSpots) -> pd.DataFrame:
    """The Gi* z of each class's regions, bin by bin: ``pattern, bin, start, regions, mean_z,
    q25, q75, min_z, max_z`` (classes with a hot or cold pattern only, in class order)."""
    from vdto.regional.cube import BINS
    from vdto.regional.emerging import CLASSES, NO_PATTERN

    classes = [c for c in CLASSES if c != NO_PATTERN]
    table = result.table[result.table["pattern"].isin(classes)]
    cells = result.cells.merge(table[["region_code", "pattern"]], on="region_code", how="inner")
    columns = ["pattern", "bin", "start", "regions", "mean_z", "q25", "q75", "min_z", "max_z"]
    if cells.empty:
        return pd.DataFrame(columns=columns)
    g = cells.groupby(["pattern", "bin"], sort=False)["gi_z"]
    out = g.agg(mean_z="mean", min_z="min", max_z="max").join(
        g.quantile(0.25).rename("q25")).join(g.quantile(0.75).rename("q75")).reset_index()  # fmt: skip
    out["regions"] = out["pattern"].map(table["pattern"].value_counts()).astype(int)
    freq = BINS.get(str(result.meta.get("bin", "")))
    periods = (
        pd.PeriodIndex(out["bin"].astype(str), freq=freq) if freq else pd.PeriodIndex(out["bin"].astype(str))
    )
    out["start"] = periods.start_time
    out["_order"] = out["pattern"].map({c: i for i, c in enumerate(classes)})
    out = out.sort_values(["_order", "start"], kind="stable").drop(columns="_order").reset_index(drop=True)
    return out[columns]


def _line_colour(fill: str) -> str:
    """A class's fill, darkened where it is too pale to draw a line with."""
    r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    if 0.2126 * r + 0.7152 * g + 0.0722 * b < 170:
        return fill
    return "#{:02x}{:02x}{:02x}".format(*(round(c * 0.65) for c in (r, g, b)))


def chart_patterns(result: EmergingHotSpots, path: str | os.PathLike[str], *, title: str,
                   lang: str = "en", columns: int = 4) -> Path:  # fmt: skip
    """A chart per class: one small panel per hot or cold class present (not no pattern), each
    the mean Gi* z of that class's regions bin by bin with their interquartile band, the count
    of regions in the panel's title; saved as ``.png``, ``.svg`` or ``.html``. Returns the path.
    A result with no hot or cold pattern draws one empty panel that says so."""
    said = PATTERN_WORDS.get(lang, PATTERN_WORDS["en"])
    w = PATTERN_TEXT.get(lang, PATTERN_TEXT["en"])
    series = pattern_series(result)
    series["panel"] = [f"{said[p]} ({n:,} {w['regions']})" for p, n in zip(series["pattern"], series["regions"],
                                                                          strict=True)]  # fmt: skip
    series["class"] = series["pattern"].map(said)
    panels = list(dict.fromkeys(series["panel"]))
    drawn = list(dict.fromkeys(series["pattern"]))
    colour = alt.Scale(
        domain=[said[c] for c in drawn], range=[_line_colour(PATTERN_COLOURS[c]) for c in drawn]
    )
    unit = result.meta.get("unit", "")
    base = alt.Chart().encode(x=alt.X("start:T", title=None, axis=alt.Axis(format="%Y", labelOverlap=True)))
    band = base.mark_area(opacity=0.25).encode(
        y=alt.Y("q25:Q", title=w["mean_z"]), y2="q75:Q", color=alt.Color("class:N", scale=colour, legend=None)
    )
    line = base.mark_line(strokeWidth=2).encode(
        y="mean_z:Q",
        color=alt.Color("class:N", scale=colour, legend=None),
        tooltip=[
            alt.Tooltip("class:N", title=w["pattern"]),
            alt.Tooltip("bin:N", title=w["bin_start"]),
            alt.Tooltip("mean_z:Q", title=w["mean_z"], format=".2f"),
            alt.Tooltip("q25:Q", title="q25", format=".2f"),
            alt.Tooltip("q75:Q", title="q75", format=".2f"),
            alt.Tooltip("regions:Q", title=w["regions"], format=","),
        ],
    )
    zero = alt.Chart().mark_rule(color="#777777", strokeDash=[3, 3]).encode(y=alt.datum(0))
    subtitle = [*_wrap(pattern_provenance(result.meta, lang)), w["band"].format(unit=unit or "—")]
    heading = alt.TitleParams(text=title, subtitle=subtitle, anchor="start", subtitleColor="#555555")
    if series.empty:  # nothing to draw: one panel that says so
        empty = alt.Chart(pd.DataFrame({"text": [w["none"]]})).mark_text(fontSize=13, color="#555555")
        return save_chart(empty.encode(text="text:N").properties(width=400, height=60, title=heading), path)
    chart = (
        alt.layer(band, line, zero, data=series)
        .properties(width=190, height=120)
        .facet(
            facet=alt.Facet(
                "panel:N", sort=panels, title=None, header=alt.Header(labelFontSize=11, labelLimit=260)
            ),
            columns=columns,
        )
        .resolve_scale(y="independent")
        .properties(title=heading)
    )
    return save_chart(chart, path)


__all__ = [
    "PATTERN_COLOURS",
    "PATTERN_WORDS",
    "chart_patterns",
    "choropleth",
    "map_patterns",
    "map_regions",
    "pattern_map",
    "pattern_provenance",
    "pattern_series",
    "provenance",
]
