"""Choropleth maps: rendering to PNG/SVG/HTML offline, the join to polygons, atomic writes."""

from __future__ import annotations

import re
import struct
import time
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from vdto.errors import VdtoError
from vdto.regional import maps
from vdto.regional.maps import choropleth, map_regions, provenance
from vdto.regional.panel import RegionScores, region_names
from vdto.render import charts
from vdto.render.charts import save_chart

HOT_STATES = ("14", "16")  # Jalisco, Michoacán
COLD_STATE = "31"  # Yucatán
SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def state_table() -> pd.DataFrame:
    """A RegionScores-like table for the 32 states, with score = int(code)."""
    names = region_names("state")
    table = pd.DataFrame({"region_code": list(names.index), "name": list(names.to_numpy())})
    table["events"] = np.arange(len(table))
    table["event_deaths"] = 0.0
    table["counted"] = 0
    table["score"] = table["region_code"].astype(int).astype(float)
    table["per100k"] = table["score"] / 10
    table["top_org"] = None
    table["top_org_share"] = np.nan
    table = table.sort_values("score", ascending=False).reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


@pytest.fixture(scope="module")
def state_hot(state_table) -> pd.DataFrame:
    hot = pd.DataFrame({"region_code": state_table["region_code"], "value": state_table["score"]})
    hot["gi_z"] = 0.0
    hot["hotspot"] = "not significant"
    hot.loc[hot["region_code"].isin(HOT_STATES), ["hotspot", "gi_z"]] = ["hot spot", 3.1]
    hot.loc[hot["region_code"] == COLD_STATE, ["hotspot", "gi_z"]] = ["cold spot", -2.4]
    hot["cluster"] = np.where(hot["hotspot"] == "hot spot", "high-high", "not significant")
    return hot


@pytest.fixture(scope="module")
def state_chart(state_table, state_hot):
    return choropleth(
        state_table, "state", hot=state_hot, title="Score by state", subtitle="vdto test · seed 1"
    )


def features(chart) -> dict[str, dict]:
    """The feature properties the chart carries, by region code."""
    spec = chart.to_dict()
    (values,) = spec["datasets"].values()
    return {f["properties"]["region_code"]: f["properties"] for f in values}


# -- rendering ---------------------------------------------------------------------------


def test_png_is_a_real_image(state_chart, tmp_path):
    path = save_chart(state_chart, tmp_path / "map.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000  # a filled map, not an empty canvas
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    assert width >= 2 * maps.WIDTH  # scale 2
    assert 0.5 * width < height < width


def test_svg_parses_and_draws_every_state_and_the_outlines(state_chart, tmp_path):
    path = save_chart(state_chart, tmp_path / "map.svg")
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG_NS}svg"
    paths = root.iter(f"{SVG_NS}path")
    strokes = [p.get("stroke") for p in paths]
    assert len(strokes) >= 32
    # two hot-spot outlines (plus the legend symbol), one cold-spot outline (plus its symbol)
    assert strokes.count(maps.HOT_STROKE) == len(HOT_STATES) + 1
    assert strokes.count(maps.COLD_STROKE) == 2
    text = " ".join(t.text or "" for t in root.iter(f"{SVG_NS}text"))
    assert "Score by state" in text and "hot spot" in text


def test_html_is_self_contained(state_chart, tmp_path):
    html = save_chart(state_chart, tmp_path / "map.html").read_text(encoding="utf-8")
    for name in ("Jalisco", "Michoacán", "Yucatán", "Aguascalientes"):
        assert name in html
    assert '"hot spot"' in html and "properties.outline" in html  # the hot-spot layer and its data
    assert "<script" in html
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, flags=re.I)
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
    assert "vega" in html.lower() and len(html) > 300_000  # the library is embedded


def test_unknown_suffix_raises_and_writes_nothing(state_chart, tmp_path):
    target = tmp_path / "out" / "map.pdf"
    with pytest.raises(VdtoError, match="unknown chart format") as err:
        save_chart(state_chart, target)
    assert "use .png, .svg or .html" in str(err.value)
    assert not target.exists() and not target.parent.exists()
    with pytest.raises(VdtoError):
        save_chart(state_chart, tmp_path / "map")
    assert list(tmp_path.iterdir()) == []


def test_save_creates_folders_and_replaces_atomically(state_chart, tmp_path, monkeypatch):
    target = tmp_path / "a" / "b" / "map.svg"
    assert save_chart(state_chart, target) == target and target.stat().st_size > 10_000
    before = target.read_bytes()

    def broken_render(chart, suffix):
        raise RuntimeError("render failed")

    monkeypatch.setattr(charts, "_render", broken_render)
    with pytest.raises(RuntimeError):
        save_chart(state_chart, target)
    assert target.read_bytes() == before
    monkeypatch.undo()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(charts.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_chart(state_chart, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["map.svg"]  # no temp file left


# -- the chart ---------------------------------------------------------------------------


def test_values_and_hot_spots_are_joined_by_code(state_chart):
    props = features(state_chart)
    assert len(props) == 32
    assert props["14"]["value"] == 14 and props["14"]["name"] == "Jalisco"
    assert props["14"]["hotspot"] == "hot spot" and props["14"]["outline"] == "hot spot"
    assert props["31"]["outline"] == "cold spot" and props["01"]["outline"] is None
    assert props["16"]["cluster"] == "high-high" and props["16"]["gi_z"] == pytest.approx(3.1)
    spec = state_chart.to_dict()
    assert spec["projection"]["type"] == "mercator" and spec["width"] == maps.WIDTH
    assert spec["title"]["subtitle"][0] == "vdto test · seed 1"
    fields = {t["field"] for t in spec["layer"][0]["encoding"]["tooltip"]}
    assert {"properties.name", "properties.region_code", "properties.value", "properties.hotspot"} <= fields


def test_codes_are_normalised_and_missing_regions_are_zero():
    table = pd.DataFrame({"region_code": [9, 14], "score": [5.0, 2.0]})  # ints, no names
    props = features(choropleth(table, "state"))
    assert props["09"]["value"] == 5.0 and props["09"]["name"] == "Ciudad de México"
    assert props["14"]["value"] == 2.0
    assert props["01"]["value"] == 0.0 and props["01"]["name"] == "Aguascalientes"
    blank = pd.DataFrame({"region_code": ["14"], "per100k": [np.nan]})
    assert features(choropleth(blank, "state", value="per100k"))["14"]["value"] is None


def test_no_hot_frame_gives_a_single_layer(state_table):
    spec = choropleth(state_table, "state").to_dict()
    assert "layer" not in spec and spec["mark"]["type"] == "geoshape"
    assert "properties.hotspot" not in {t["field"] for t in spec["encoding"]["tooltip"]}


def test_colour_scale_is_log_for_skewed_values_and_leaves_zero_out():
    table = pd.DataFrame({"region_code": ["01", "02", "03"], "score": [0.0, 1.0, 5000.0]})
    color = choropleth(table, "state").to_dict()["encoding"]["color"]
    scale = color["condition"]["scale"]
    assert scale["type"] == "log" and scale["domain"] == [1.0, 5000.0]
    assert color["value"] == maps.ZERO_FILL and "> 0" in color["condition"]["test"]
    even = pd.DataFrame({"region_code": ["01", "02"], "score": [1.0, 32.0]})
    assert choropleth(even, "state").to_dict()["encoding"]["color"]["condition"]["scale"]["type"] == "linear"


def test_polygons_are_wound_clockwise_for_d3():
    # d3-geo draws a counter-clockwise exterior ring as the globe minus the region
    codes, geometries, bounds = maps._shapes("state")
    assert len(codes) == 32
    assert -119 < bounds[0] < bounds[2] < -86 and 14 < bounds[1] < bounds[3] < 33
    for geometry in geometries:
        polygons = (
            geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        )
        for polygon in polygons:
            ring = np.asarray(polygon[0])
            x, y = ring[:, 0], ring[:, 1]
            signed_area = 0.5 * np.sum(x[:-1] * y[1:] - x[1:] * y[:-1])
            assert signed_area < 0


def test_bad_inputs_are_user_errors(state_table, state_hot):
    with pytest.raises(VdtoError, match="unknown level"):
        choropleth(state_table, "county")
    with pytest.raises(VdtoError, match="no 'rate' column"):
        choropleth(state_table, "state", value="rate")
    with pytest.raises(VdtoError, match="hotspot"):
        choropleth(state_table, "state", hot=state_hot.drop(columns="hotspot"))
    with pytest.raises(VdtoError, match="colour scale"):
        choropleth(state_table, "state", scale="sqrt")


def test_map_regions_titles_from_scores_and_saves(state_table, state_hot, tmp_path):
    meta = {
        "vdto_version": "0.1.0",
        "rubric_sha256": "eef3bf7" + "0" * 57,
        "data_sha256": "bbcf9b" + "1" * 58,
        "from": "2019-01-01",
        "to": "2019-12-31",
    }
    scores = RegionScores("state", state_table, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), meta)
    hot = state_hot.copy()
    hot.attrs["seed"] = 1
    path = tmp_path / "maps" / "states.png"
    chart = map_regions(scores, hot, path=path)
    title = chart.to_dict()["title"]
    assert title["text"] == "Violence score by state, 2019-01-01 to 2019-12-31"
    assert title["subtitle"][0] == "vdto 0.1.0 · rubric eef3bf7… · data bbcf9b… · seed 1"
    assert path.read_bytes()[:4] == b"\x89PNG"
    rate = map_regions(scores, value="per100k")
    assert rate.to_dict()["title"]["text"].startswith("Score per 100,000 people by state")
    assert provenance({}) == ""


@pytest.mark.slow
def test_municipality_map_renders_and_stays_small(tmp_path):
    names = region_names("municipality")
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"region_code": list(names.index), "score": rng.lognormal(2, 2, len(names))})
    table.loc[::3, "score"] = 0.0
    hot = pd.DataFrame({"region_code": table["region_code"], "hotspot": "not significant"})
    hot.loc[hot["region_code"].str.startswith("14"), "hotspot"] = "hot spot"
    start = time.perf_counter()
    chart = choropleth(table, "municipality", hot=hot)
    props = features(chart)
    assert len(props) == 2457 and props["14039"]["outline"] == "hot spot"
    assert props["14039"]["name"].endswith(", Jalisco")
    html = save_chart(chart, tmp_path / "mun.html")
    png = save_chart(chart, tmp_path / "mun.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 100_000
    assert 1_000_000 < html.stat().st_size < 6_000_000  # simplified: a few MB with Vega embedded
    assert time.perf_counter() - start < 60


# -- emerging hot spot patterns --------------------------------------------------------------


@pytest.fixture(scope="module")
def patterns():
    """Emerging hot spots of a small state cube: Chihuahua and its neighbours violent throughout,
    Yucatán's peninsula quiet, the rest of the country middling."""
    from vdto.regional.cube import SpaceTimeCube
    from vdto.regional.emerging import analyse_cube

    months = pd.date_range("2010-01-01", periods=12, freq="MS")
    codes = tuple(region_names("state").index)
    rng = np.random.default_rng(3)
    y = rng.poisson(10.0, (32, 12)).astype(float)
    y[[4, 7, 9, 24, 25], :] += 40.0  # Coahuila, Chihuahua, Durango, Sinaloa, Sonora
    y[[3, 22, 30], :] = 0.0  # Campeche, Quintana Roo, Yucatán
    cube = SpaceTimeCube.from_monthly(y, codes, months, level="state", bin="month", label="test",
                                      measure="homicides", meta={"source": "a test cube"})  # fmt: skip
    return analyse_cube(cube, permutations=199, seed=1)


def test_pattern_map_colours_each_class_the_same_way_and_lists_only_those_present(patterns, tmp_path):
    from vdto.regional.emerging import NO_PATTERN

    t = patterns.table
    present = [c for c, n in patterns.counts().items() if n]
    chart = maps.pattern_map(t, "state", title="Patterns", meta=patterns.meta)
    spec = chart.to_dict()
    scale = spec["encoding"]["fill"]["scale"]
    assert scale["domain"] == present + ([NO_PATTERN] if NO_PATTERN not in present else [])
    assert scale["range"] == [maps.PATTERN_COLOURS[c] for c in scale["domain"]]
    assert "persistent hot spot" in present and "persistent cold spot" in present
    props = features(chart)
    assert props["08"]["pattern"] == t.set_index("region_code").loc["08", "pattern"]
    assert spec["title"]["subtitle"][0].startswith("vdto ") and "a test cube" in " ".join(
        spec["title"]["subtitle"]
    )
    # hot classes in reds and oranges, cold ones in blues, no pattern grey: the fixed palette
    for c in maps.PATTERN_COLOURS:
        r, g, b = (int(maps.PATTERN_COLOURS[c][i : i + 2], 16) for i in (1, 3, 5))
        assert (r > b) if "hot" in c else (b > r) if "cold" in c else (r == g == b), c
    png = maps.map_patterns(t, "state", tmp_path / "p.png", title="Patterns", meta=patterns.meta)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 30_000
    html = maps.map_patterns(t, "state", tmp_path / "p.html", title="Patterns", meta=patterns.meta)
    page = html.read_text(encoding="utf-8")
    assert all(f'"{c}"' in page for c in present) and "Chihuahua" in page
    es = maps.pattern_map(t, "state", title="Patrones", meta=patterns.meta, lang="es").to_dict()
    assert "punto caliente persistente" in es["encoding"]["fill"]["scale"]["domain"]


def test_pattern_map_draws_regions_it_was_not_given_white_and_refuses_unknown_classes():
    t = pd.DataFrame({"region_code": ["8"], "pattern": ["new hot spot"]})
    props = features(maps.pattern_map(t, "state", title="", meta={}))
    assert props["08"]["pattern"] == "new hot spot" and props["31"]["pattern"] == maps.NOT_ANALYSED
    with pytest.raises(VdtoError, match="unknown emerging pattern"):
        maps.pattern_map(t.assign(pattern="warm"), "state", title="", meta={})
    with pytest.raises(VdtoError, match="no 'pattern' column"):
        maps.pattern_map(t.drop(columns="pattern"), "state", title="", meta={})


def test_chart_per_class_has_a_panel_for_each_class_present(patterns, tmp_path):
    from vdto.regional.emerging import NO_PATTERN

    series = maps.pattern_series(patterns)
    present = [c for c, n in patterns.counts().items() if n and c != NO_PATTERN]
    assert list(dict.fromkeys(series["pattern"])) == present
    assert (series.groupby("pattern").size() == 12).all()
    # the mean over the class's regions, bin by bin, inside its band
    cells = patterns.cells.merge(patterns.table[["region_code", "pattern"]], on="region_code")
    hot = cells[cells["pattern"] == "persistent hot spot"].groupby("bin")["gi_z"].mean()
    got = series[series["pattern"] == "persistent hot spot"].set_index("bin")["mean_z"]
    assert np.allclose(got, hot.loc[got.index])
    assert (series["q25"] <= series["q75"]).all() and (series["min_z"] <= series["mean_z"]).all()
    svg = maps.chart_patterns(patterns, tmp_path / "c.svg", title="Per class")
    text = " ".join(t.text or "" for t in ET.parse(svg).getroot().iter(f"{SVG_NS}text"))
    for c in present:
        assert f"{c} ({patterns.counts()[c]} region" in text, c
    assert maps.chart_patterns(patterns, tmp_path / "c.png", title="Per class").stat().st_size > 20_000
