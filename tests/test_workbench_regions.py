"""The workbench's Regions view: the bundled borders (public GeoJSON), an agency's region figures
and a region's organizations and events (its own only), and the map in a real browser."""

from __future__ import annotations

from urllib.parse import quote

import duckdb
import httpx
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import shape

from tests.workbench import NARROW, WINDOW_2021, open_page, sign_in
from vdto.services.regions import region_scores
from vdto.store import Store

FROM, TO = (d.isoformat() for d in WINDOW_2021)
MEXICO = (-118.5, 14.0, -86.0, 33.0)  # lon/lat bounds the borders must lie in


def _get(wb, path: str, agency: str | None = "mx", **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {wb.token(agency, 'analyst')}"} if agency else {}
    return httpx.get(wb.url + path, params=params, headers=headers, timeout=120)


def _store_rows(wb, agency: str, column: str) -> dict[str, tuple[int, int]]:
    """Events and deaths (best) of ``agency`` in 2021 by ``column``, straight from the store."""
    with duckdb.connect(str(wb.data.db), read_only=True) as con:
        rows = con.execute(
            f"SELECT {column}, count(*), sum(deaths_best) FROM events WHERE agency = ? AND {column} IS NOT NULL "
            "AND date_start BETWEEN ? AND ? GROUP BY 1",
            [agency, WINDOW_2021[0], WINDOW_2021[1]],
        ).fetchall()
    return {code: (int(n), int(d)) for code, n, d in rows}


def _one_line_4xx(res: httpx.Response) -> None:
    assert 400 <= res.status_code < 500, (res.status_code, res.text)
    detail = res.json()["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail


# --------------------------------------------------------------------------------- geography


@pytest.mark.parametrize(("level", "least", "most"), [("state", 32, 32), ("municipality", 2400, 2499)])
def test_the_borders_are_valid_geojson_of_every_region_with_a_stable_etag(wb, level, least, most):
    plain = {"Accept-Encoding": "identity"}
    res = httpx.get(f"{wb.url}/public/geography/{level}", headers=plain)  # no token: public geography
    assert res.status_code == 200
    assert res.headers["content-type"] == "application/geo+json"
    assert "max-age" in res.headers["cache-control"]
    assert len(res.content) < 4_000_000  # a browser's payload, uncompressed
    doc = res.json()
    assert doc["type"] == "FeatureCollection" and doc["level"] == level
    codes = [f["properties"]["code"] for f in doc["features"]]
    assert least <= len(codes) <= most and len(set(codes)) == len(codes)
    assert all(len(c) == (2 if level == "state" else 5) and c.isdigit() for c in codes)
    if level == "state":
        assert codes == [f"{i:02d}" for i in range(1, 33)]
    for f in doc["features"]:
        assert f["type"] == "Feature" and f["id"] == f["properties"]["code"] and f["properties"]["name"]
        geom = shape(f["geometry"])
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon") and not geom.is_empty and geom.area > 0
        x0, y0, x1, y1 = geom.bounds
        assert MEXICO[0] <= x0 and x1 <= MEXICO[2] and MEXICO[1] <= y0 and y1 <= MEXICO[3]
    assert shapely.box(*doc["bbox"]).contains(shapely.box(-117, 15, -87, 32))

    again = httpx.get(f"{wb.url}/public/geography/{level}", headers=plain)
    assert again.headers["etag"] == res.headers["etag"] and again.content == res.content
    assert res.headers["etag"].startswith('"')  # a strong ETag
    cached = httpx.get(
        f"{wb.url}/public/geography/{level}", headers={**plain, "If-None-Match": res.headers["etag"]}
    )
    assert cached.status_code == 304 and not cached.content
    zipped = httpx.get(f"{wb.url}/public/geography/{level}", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.content == res.content
    assert zipped.headers["etag"] != res.headers["etag"]  # another representation, another ETag


# ------------------------------------------------------------------------------- agency data


@pytest.mark.parametrize(("level", "column"), [("state", "state_code"), ("municipality", "mun_code")])
def test_the_agencys_region_figures_equal_the_store_and_the_cli(wb, level, column):
    res = _get(wb, "/agencies/mx/regions", level=level, **{"from": FROM, "to": TO})
    assert res.status_code == 200, res.text
    body = res.json()
    assert (body["agency"], body["level"], body["from"], body["to"]) == ("mx", level, FROM, TO)
    regions = {r["code"]: r for r in body["regions"]}
    direct = _store_rows(wb, "mx", column)
    placed = {c: (r["events"], round(r["deaths"])) for c, r in regions.items() if r["events"]}
    assert placed == {c: v for c, v in direct.items() if c in regions}
    with duckdb.connect(str(wb.data.db), read_only=True) as con:
        (total,) = con.execute(
            "SELECT count(*) FROM events WHERE agency = 'mx' AND date_start BETWEEN ? AND ?",
            list(WINDOW_2021),
        ).fetchone()
    assert body["meta"]["events"] == total
    assert sum(r["events"] for r in regions.values()) + body["meta"]["events_unlocated"] == total
    classes = {r["hotspot"] for r in regions.values()}
    assert classes <= {"hot spot", "cold spot", "not significant", "not tested"} and "hot spot" in classes
    assert all(r["gi_p"] is None or 0 < r["gi_p"] <= 1 for r in regions.values())
    # the same service function as `vdto regions score`
    with Store(wb.data.db) as store:
        cli = region_scores(store, *WINDOW_2021, level=level, agency="mx").table.set_index("region_code")
    for code, r in regions.items():
        assert r["score"] == pytest.approx(cli.at[code, "score"], rel=1e-6, abs=1e-6)
        assert r["events"] == cli.at[code, "events"]


def test_another_agencys_token_is_refused(wb):
    for path in ("/agencies/mx/regions", "/agencies/mx/regions/32010"):
        res = _get(wb, path, agency="us", level="state", **{"from": FROM, "to": TO})
        assert res.status_code == 403
        assert "agency 'us' cannot act for agency 'mx'" in res.json()["detail"]
        assert httpx.get(wb.url + path).status_code == 401


def test_a_regions_detail_holds_only_the_callers_events(wb):
    code = max(_store_rows(wb, "mx", "mun_code").items(), key=lambda kv: kv[1][0])[0]
    seen: list[dict] = []
    while True:
        res = _get(
            wb, f"/agencies/mx/regions/{code}", offset=len(seen), limit=500, **{"from": FROM, "to": TO}
        )
        assert res.status_code == 200, res.text
        body = res.json()
        seen += body["events"]
        if not body["events"] or len(seen) >= body["total"]:
            break
    assert body["level"] == "municipality" and body["region"]["code"] == code
    with duckdb.connect(str(wb.data.db), read_only=True) as con:
        ids = {
            agency: {
                r[0]
                for r in con.execute(
                    "SELECT source || ':' || source_id FROM events WHERE agency = ? AND mun_code = ? "
                    "AND date_start BETWEEN ? AND ?",
                    [agency, code, *WINDOW_2021],
                ).fetchall()
            }
            for agency in ("mx", "us")
        }
    got = {f"{e['source']}:{e['source_id']}" for e in seen}
    assert len(got) == len(seen) == body["total"] == body["region"]["events"]
    assert got == ids["mx"]
    assert ids["us"] - ids["mx"]  # us holds events of this municipality that mx does not ...
    assert not got & (ids["us"] - ids["mx"])  # ... and none of them is shown to mx
    assert all(e["mun_code"] == code and FROM <= e["date_start"][:10] <= TO for e in seen)
    assert body["orgs"] and sum(o["share"] for o in body["orgs"]) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          derandomize=True, database=None)  # fmt: skip
@given(
    level=st.text(max_size=20).filter(lambda s: s not in ("state", "municipality")),
    code=st.one_of(st.text(min_size=1, max_size=12), st.from_regex(r"\A[0-9]{1,7}\Z")).filter(
        lambda s: (
            s.strip(".") and not (s.isascii() and s.isdigit() and len(s) in (2, 5) and "00" < s[:2] <= "32")
        )
    ),
    day=st.one_of(st.none(), st.text(max_size=12), st.dates().map(str)),
)
def test_bad_levels_codes_and_days_get_one_line_4xx_never_500(wb, level, code, day):
    _one_line_4xx(httpx.get(f"{wb.url}/public/geography/{quote(level, safe='')}"))
    _one_line_4xx(_get(wb, "/agencies/mx/regions", level=level))
    _one_line_4xx(_get(wb, f"/agencies/mx/regions/{quote(code, safe='')}", **({"from": day} if day else {})))
    if day is not None:
        res = _get(wb, "/agencies/mx/regions", level="state", **{"from": day, "to": "1900-01-01"})
        _one_line_4xx(res)


# ----------------------------------------------------------------------------------- browser


def _clickable_municipality(wb) -> dict:
    """A municipality of Zacatecas or Michoacán with mx events in 2021, large enough to click at
    national zoom, whose bounding box's centre (where a click lands) lies inside it."""
    regions = _get(wb, "/agencies/mx/regions", level="municipality", **{"from": FROM, "to": TO}).json()[
        "regions"
    ]
    with_events = {r["code"]: r for r in regions if r["events"] > 0 and r["code"][:2] in ("32", "16")}
    doc = httpx.get(f"{wb.url}/public/geography/municipality").json()
    shapes = {f["id"]: shape(f["geometry"]) for f in doc["features"] if f["id"] in with_events}
    fits = [c for c, g in shapes.items() if g.contains(shapely.box(*g.bounds).centroid)]
    return with_events[max(fits, key=lambda c: shapes[c].area)]


def test_the_map_opens_and_a_municipality_shows_its_organizations_and_events(wb, page):
    region = _clickable_municipality(wb)
    sign_in(page, wb, "mx", "analyst", view="regions", lang="en", level="municipality", year=2021)
    assert page.locator("#view h1").inner_text() == "Regions"
    assert page.get_by_test_id("data-of").inner_text() == "Data of agency mx"
    assert page.get_by_test_id("region-level").input_value() == "municipality"
    assert page.get_by_test_id("region-year").input_value() == "2021"
    assert page.locator("[data-testid=region-map] path.region").count() > 2400
    assert page.locator(".leaflet-tile, .leaflet-tile-pane img").count() == 0  # no tile layer at all
    assert "score points" in page.get_by_test_id("region-legend").inner_text()

    page.locator(f"path.region-{region['code']}").click()
    panel = page.get_by_test_id("region-panel")
    panel.get_by_test_id("region-event").first.wait_for()
    assert panel.get_by_test_id("region-name").inner_text() == region["name"]
    orgs = panel.get_by_test_id("region-org").all_inner_texts()
    assert orgs and any(region["top_org_name"] in o for o in orgs)
    assert panel.get_by_test_id("region-event").count() == min(20, region["events"])
    assert f"region={region['code']}" in page.url  # the address keeps the open region

    page.get_by_test_id("region-layer").select_option("rate")
    assert "per 100,000" in page.get_by_test_id("region-legend").inner_text()
    page.get_by_test_id("region-layer").select_option("hotspot")
    assert "Hot spot (p ≤ 0.05)" in page.get_by_test_id("region-legend").inner_text()
    assert "layer=hotspot" in page.url

    page.get_by_test_id("region-level").select_option("state")  # the view is drawn again, states now
    page.wait_for_function("() => document.querySelectorAll('#view[data-ready] path.region').length === 32")
    assert "level=state" in page.url and "layer=hotspot" in page.url and "region=" not in page.url


def test_the_map_works_on_a_narrow_screen(wb, browser):
    narrow = open_page(browser, viewport=NARROW)
    try:
        sign_in(narrow, wb, "mx", "analyst", view="regions", lang="es", level="state", year=2021)
        assert narrow.get_by_test_id("region-map").bounding_box()["width"] <= 390
        assert narrow.evaluate("document.documentElement.scrollWidth") <= 390
        assert "puntos de puntuación" in narrow.get_by_test_id("region-legend").inner_text()
        narrow.locator("[data-testid=region-row]").first.click()
        narrow.get_by_test_id("region-panel").get_by_test_id("region-name").wait_for()
        narrow.watch.check()
    finally:
        narrow.context.close()
