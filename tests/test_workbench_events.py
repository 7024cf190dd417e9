"""The events view and its API: filters, totals, pages, the filters' choices and the downloads.

Over the workbench store (UCDP GED 2015-2023 split between mx and us). Every expected figure is
a plain SQL query on the store file itself, never the code under test; the browser test signs
in, filters, downloads and compares the file with the same query.
"""

from __future__ import annotations

import io
import shutil
import warnings
from datetime import date

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.workbench import NARROW, open_page, sign_in
from vdto.api.app import create_app
from vdto.geography import STATES
from vdto.services import events as service
from vdto.store import Store

with warnings.catch_warnings():  # starlette's notice that its test client will move to httpx2
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

#: The table's columns that come straight from the events table.
PLAIN = ["agency", "source", "source_id", "date_start", "date_end", "state_code", "mun_code", "category",
         "deaths_best", "deaths_low", "deaths_high"]  # fmt: skip


@pytest.fixture(scope="module")
def client(wb_data, tmp_path_factory):
    """The API in process over a copy of the workbench store; expectations read the original."""
    db = tmp_path_factory.mktemp("events-api") / "wb.duckdb"
    shutil.copy(wb_data.db, db)
    with TestClient(create_app(db)) as c:
        yield c


def auth(wb_data, agency: str = "mx", role: str = "analyst") -> dict:
    return {"Authorization": "Bearer " + wb_data.tokens[agency, role]}


def expected(db, agency: str, *, start=None, end=None, state=None, mun=None, org=None, category=None,
             source=None) -> pd.DataFrame:  # fmt: skip
    """The events a filter selects, by plain SQL on the store (oldest first, as the API's default)."""
    where, params = ["agency = ?"], [agency]
    for clause, value in (("date_start >= ?", start), ("date_start <= ?", end), ("state_code = ?", state),
                          ("mun_code = ?", mun), ("category = ?", category), ("source = ?", source)):  # fmt: skip
        if value is not None:
            where.append(clause)
            params.append(value)
    if org is not None:
        where.append(
            "(source, source_id) IN (SELECT source, source_id FROM perpetrators WHERE agency = ? AND (org_id = ? OR faction_id = ?))"
        )
        params += [agency, org, org]
    with Store(db, read_only=True) as store:
        return store.query(
            f"SELECT {', '.join(PLAIN)} FROM events WHERE {' AND '.join(where)} ORDER BY date_start, source, source_id",
            params,
        )


CASES = [
    ({"from": "2021-01-01", "to": "2021-12-31", "entity": "Jalisco"},
     {"start": date(2021, 1, 1), "end": date(2021, 12, 31), "state": "14"}),
    ({"organization": "CJNG", "entity": "11"}, {"org": "cjng", "state": "11"}),
    ({"organization": "sinaloa", "from": "2019-06-01", "to": "2020-05-31", "category": "armed_clash"},
     {"org": "sinaloa", "start": date(2019, 6, 1), "end": date(2020, 5, 31), "category": "armed_clash"}),
    ({"municipality": "14039", "entity": "jalisco"}, {"mun": "14039", "state": "14"}),
    ({"category": "attack_civilians", "source": "ucdp-ged"}, {"category": "attack_civilians", "source": "ucdp-ged"}),
    ({}, {}),
]  # fmt: skip


@pytest.mark.parametrize(("query", "sql"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_filters_combine_and_the_totals_equal_the_store(client, wb_data, query, sql):
    want = expected(wb_data.db, "mx", **sql)
    res = client.get("/agencies/mx/events", params={**query, "limit": 1000}, headers=auth(wb_data))
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["agency"] == "mx" and body["offset"] == 0 and body["limit"] == 1000
    assert body["total"] == len(want)
    assert body["deaths"] == int(want["deaths_best"].sum())
    assert [e["source_id"] for e in body["events"]] == want["source_id"].head(1000).tolist()
    assert {e["agency"] for e in body["events"]} <= {"mx"}
    if "entity" in query:
        assert body["filters"]["entity"] == sql["state"]


def test_filters_narrow_each_other(client, wb_data):
    """Adding a filter never selects more; a state and an organization together select what both do."""
    h = auth(wb_data)
    total = lambda **q: client.get("/agencies/mx/events", params={**q, "limit": 1}, headers=h).json()["total"]  # noqa: E731
    year = total(**{"from": "2021-01-01", "to": "2021-12-31"})
    jal = total(**{"from": "2021-01-01", "to": "2021-12-31", "entity": "14"})
    both = total(**{"from": "2021-01-01", "to": "2021-12-31", "entity": "14", "organization": "cjng"})
    other = total(**{"from": "2021-01-01", "to": "2021-12-31", "entity": "14", "organization": "sinaloa"})
    assert year > jal >= both > 0 and jal > other
    want = expected(wb_data.db, "mx", start=date(2021, 1, 1), end=date(2021, 12, 31), state="14", org="cjng")
    assert both == len(want)


def test_pages_cover_the_selection_once_in_order(client, wb_data):
    q = {"from": "2021-01-01", "to": "2021-12-31", "entity": "Guanajuato", "sort": "-deaths", "limit": 37}
    seen, offset = [], 0
    while True:
        body = client.get("/agencies/mx/events", params={**q, "offset": offset}, headers=auth(wb_data)).json()
        seen += [(e["deaths_best"], e["id"]) for e in body["events"]]
        offset += 37
        if offset >= body["total"]:
            break
    want = expected(wb_data.db, "mx", start=date(2021, 1, 1), end=date(2021, 12, 31), state="11")
    assert len(seen) == body["total"] == len(want)
    assert len({i for _, i in seen}) == len(seen)
    assert [d for d, _ in seen] == sorted(want["deaths_best"], reverse=True)


def test_the_old_listing_is_unchanged(client, wb_data):
    """Without filters the endpoint answers as it always did: the stored rows, oldest first."""
    body = client.get("/agencies/mx/events", params={"offset": 5, "limit": 20}, headers=auth(wb_data)).json()
    with Store(wb_data.db, read_only=True) as store:
        old = store.events.page("mx", 5, 20)
        count = store.events.count("mx")
    assert body["total"] == count
    assert {"agency", "total", "offset", "limit", "events"} <= set(body)
    assert [e["source_id"] for e in body["events"]] == old["source_id"].tolist()
    assert set(old.columns) <= set(body["events"][0])


def test_unknown_state_is_one_line_naming_entity(client, wb_data):
    res = client.get("/agencies/mx/events", params={"entity": "Jaliscoo"}, headers=auth(wb_data))
    assert res.status_code == 400
    detail = res.json()["detail"]
    assert detail.startswith("entity: unknown Mexican state 'Jaliscoo'") and "Jalisco" in detail
    assert "\n" not in detail
    for path in ("/agencies/mx/events/facets", "/agencies/mx/events/download"):
        again = client.get(path, params={"entity": "Jaliscoo"}, headers=auth(wb_data))
        assert again.status_code == 400 and again.json()["detail"] == detail


@pytest.mark.parametrize(
    ("query", "param"),
    [({"organization": "Cartel del Nowhere"}, "organization"), ({"municipality": "99999"}, "municipality"),
     ({"municipality": "11020", "entity": "14"}, "municipality"), ({"category": "homicid"}, "category"),
     ({"from": "2022-01-01", "to": "2021-01-01"}, "to"), ({"sort": "size"}, "sort"), ({"from": "2021-02-30"}, "from"),
     ({"limit": "0"}, "limit")],
)  # fmt: skip
def test_bad_filters_are_one_line_naming_the_parameter(client, wb_data, query, param):
    res = client.get("/agencies/mx/events", params=query, headers=auth(wb_data))
    assert res.status_code in (400, 422)
    detail = res.json()["detail"]
    assert "\n" not in detail
    assert detail.split(":")[0].removeprefix("query.") == param, detail


@pytest.mark.parametrize(
    "path", ["/agencies/us/events", "/agencies/us/events/facets", "/agencies/us/events/download"]
)
def test_another_agencys_token_is_refused(client, wb_data, path):
    res = client.get(path, headers=auth(wb_data, "mx", "analyst"))
    assert res.status_code == 403
    assert "agency 'mx' cannot act for agency 'us'" in res.json()["detail"]
    assert client.get(path, headers=auth(wb_data, "us", "admin")).status_code == 200  # any role of the agency


def test_a_page_never_shows_another_agencys_events(client, wb_data):
    mine = client.get(
        "/agencies/mx/events", params={"limit": 1000, "from": "2021-01-01"}, headers=auth(wb_data)
    )
    theirs = expected(wb_data.db, "us", start=date(2021, 1, 1))
    only_theirs = set(theirs["source_id"]) - set(
        expected(wb_data.db, "mx", start=date(2021, 1, 1))["source_id"]
    )
    assert only_theirs  # the split gives each agency incidents the other does not see
    ids = {e["source_id"] for e in mine.json()["events"]}
    assert not ids & only_theirs
    assert {e["agency"] for e in mine.json()["events"]} == {"mx"}


def test_facets_count_each_choice_under_the_other_filters(client, wb_data):
    q = {"from": "2021-01-01", "to": "2021-12-31", "organization": "cjng", "entity": "14"}
    body = client.get("/agencies/mx/events/facets", params=q, headers=auth(wb_data)).json()
    assert body["filters"] == {
        "from": "2021-01-01",
        "to": "2021-12-31",
        "entity": "14",
        "organization": "cjng",
    }
    states = {s["code"]: s["events"] for s in body["entity"]}
    for code in ("14", "11", "16"):  # the states under cjng in 2021, whatever state is chosen
        want = expected(
            wb_data.db, "mx", start=date(2021, 1, 1), end=date(2021, 12, 31), org="cjng", state=code
        )
        assert states.get(code, 0) == len(want)
    assert {s["name"] for s in body["entity"]} <= set(STATES.values())
    orgs = {o["id"]: o["events"] for o in body["organization"]}
    in_jalisco = expected(wb_data.db, "mx", start=date(2021, 1, 1), end=date(2021, 12, 31), state="14")
    assert orgs["cjng"] == len(
        expected(wb_data.db, "mx", start=date(2021, 1, 1), end=date(2021, 12, 31), state="14", org="cjng")
    )
    assert max(orgs.values()) <= len(in_jalisco)
    assert sum(c["events"] for c in body["category"]) == orgs["cjng"]
    assert body["first"] >= "2015-01-01" and body["last"] <= "2023-12-31"


def _text(values: pd.Series) -> list[str]:
    """Values as text, a missing one as the empty text (as CSV writes it)."""
    return ["" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in values]


def _from_sql(want: pd.DataFrame) -> pd.DataFrame:
    """The export's plain columns as CSV text would give them back."""
    out = want.copy()
    for col in ("date_start", "date_end"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    return out


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_downloads_hold_exactly_the_filtered_events(client, wb_data, fmt):
    q = {"from": "2021-01-01", "to": "2021-12-31", "entity": "Jalisco"}
    res = client.get("/agencies/mx/events/download", params={**q, "format": fmt}, headers=auth(wb_data))
    assert res.status_code == 200, res.text
    name = f"events-mx-from-2021-01-01-to-2021-12-31-entity-14.{fmt}"
    assert res.headers["content-disposition"] == f'attachment; filename="{name}"'
    if fmt == "csv":
        got = pd.read_csv(io.BytesIO(res.content), dtype=str, keep_default_na=False)
    else:
        got = pd.read_parquet(io.BytesIO(res.content))
        got = got.assign(**{c: got[c].astype(str) for c in ("date_start", "date_end")})
    assert list(got.columns) == list(service.COLUMNS)
    want = _from_sql(expected(wb_data.db, "mx", start=date(2021, 1, 1), end=date(2021, 12, 31), state="14"))
    assert len(got) == len(want) > 100  # every event, not a page
    assert (got["id"] == want["source"] + ":" + want["source_id"]).all()
    for col in PLAIN:
        assert _text(got[col]) == _text(want[col]), col
    assert set(got["state"]) == {"Jalisco"}
    # the same bytes as the service gives (row for row, organizations included)
    with Store(wb_data.db, read_only=True) as store:
        assert res.content == service.export_events(store, "mx", service.EventFilter(
            start=date(2021, 1, 1), end=date(2021, 12, 31), entity="Jalisco"), fmt)  # fmt: skip


def test_csv_rows_are_the_listed_rows(client, wb_data):
    """Byte for byte: each CSV line is the list's row in the same order, organizations included."""
    q = {"organization": "Cártel del Golfo", "from": "2020-01-01"}
    csv = client.get(
        "/agencies/mx/events/download", params={**q, "format": "csv"}, headers=auth(wb_data)
    ).text
    listed = client.get("/agencies/mx/events", params={**q, "limit": 1000}, headers=auth(wb_data)).json()
    lines = csv.splitlines()
    assert lines[0] == ",".join(service.COLUMNS)
    assert len(lines) - 1 == listed["total"] == len(listed["events"]) > 0
    frame = pd.DataFrame(listed["events"])[list(service.COLUMNS)]
    assert frame.to_csv(index=False, lineterminator="\n") == csv


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
BAD = st.fixed_dictionaries(
    {},
    optional={
        "from": TEXT | st.dates().map(str), "to": TEXT | st.dates().map(str), "entity": TEXT,
        "municipality": TEXT | st.from_regex(r"\A\d{5}\Z"), "organization": TEXT, "category": TEXT,
        "source": TEXT, "sort": TEXT, "limit": TEXT | st.integers(-5, 5000).map(str),
        "offset": TEXT | st.integers(-5, 10**10).map(str),
    },
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=BAD, path=st.sampled_from(["", "/facets", "/download"]))
def test_any_filter_input_gets_an_answer_or_one_line_never_a_500(client, wb_data, query, path):
    res = client.get("/agencies/mx/events" + path, params=query, headers=auth(wb_data))
    assert res.status_code in (200, 400, 422), (query, res.status_code, res.text)
    if res.status_code != 200:
        detail = res.json()["detail"]
        assert detail and "\n" not in detail
        named = detail.split(":")[0].removeprefix("query.")
        assert named in {*query, "to"}, detail  # "to" also names a window that ends before it starts


# ------------------------------------------------------------------------------------ browser


def test_analyst_filters_and_downloads_exactly_the_filtered_events(wb, page, tmp_path):
    sign_in(page, wb, "mx", "analyst", view="events", lang="en")
    assert page.get_by_test_id("data-of").inner_text() == "Data of agency mx"
    results = page.get_by_test_id("events-results")
    page.get_by_test_id("events-from").fill("2021-01-01")
    page.get_by_test_id("events-to").fill("2021-12-31")
    page.get_by_test_id("events-entity").select_option("14")
    page.get_by_test_id("events-apply").click()
    page.wait_for_function(
        "() => { const r = document.querySelector('[data-testid=events-results]');"
        " return r.dataset.ready === 'yes' && r.dataset.query.includes('entity=14'); }"
    )
    assert "from=2021-01-01" in page.url and "entity=14" in page.url
    want = expected(wb.data.db, "mx", start=date(2021, 1, 1), end=date(2021, 12, 31), state="14")
    n, deaths = len(want), int(want["deaths_best"].sum())
    assert (
        page.get_by_test_id("events-totals").inner_text()
        == f"{n:,} events · {deaths:,} deaths (best estimate)"
    )
    assert page.get_by_test_id("event-row").count() == min(n, 50)
    assert results.get_by_test_id("events-range").inner_text() == f"Events 1–{min(n, 50)} of {n:,}"

    with page.expect_download() as info:
        page.get_by_test_id("events-download-csv").click()
    download = info.value
    assert download.suggested_filename == "events-mx-from-2021-01-01-to-2021-12-31-entity-14.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    got = pd.read_csv(saved, dtype=str, keep_default_na=False)
    assert len(got) == n
    newest_first = want.sort_values(["date_start", "source", "source_id"], ascending=[False, True, True])
    assert got["source_id"].tolist() == newest_first["source_id"].tolist()  # in the view's order
    assert got["deaths_best"].astype(int).sum() == deaths
    with Store(wb.data.db, read_only=True) as store:
        flt = service.EventFilter(start=date(2021, 1, 1), end=date(2021, 12, 31), entity="14")
        assert saved.read_bytes() == service.export_events(store, "mx", flt, "csv", sort="-date")

    # the next page, then a reload: the address keeps the filters and the page
    page.get_by_test_id("events-next").click()
    page.wait_for_function(
        "() => { const r = document.querySelector('[data-testid=events-results]');"
        " return r.dataset.ready === 'yes' && r.dataset.query.includes('offset=50'); }"
    )
    first_id = page.get_by_test_id("event-row").first.get_attribute("data-id")
    page.reload()
    page.wait_for_selector("[data-testid=events-results][data-ready=yes]")
    assert page.get_by_test_id("events-entity").input_value() == "14"
    assert page.get_by_test_id("events-from").input_value() == "2021-01-01"
    assert page.get_by_test_id("event-row").first.get_attribute("data-id") == first_id
    assert page.get_by_test_id("events-totals").get_attribute("data-total") == str(n)


def test_a_bad_filter_shows_one_line_and_the_view_at_390_px(wb, browser):
    p = open_page(browser, viewport=NARROW)
    try:
        sign_in(p, wb, "mx", "analyst", view="events", lang="es", organization="cjng")
        assert p.get_by_test_id("data-of").inner_text() == "Datos de la agencia mx"
        assert "eventos" in p.get_by_test_id("events-totals").inner_text()
        assert p.get_by_test_id("events-organization").input_value() == "cjng"
        wrap = p.get_by_test_id("events-table-wrap")
        assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")  # the table scrolls inside its box
        assert p.evaluate("() => document.documentElement.scrollWidth") <= NARROW["width"]
        p.get_by_test_id("events-municipality").fill("99999")
        p.get_by_test_id("events-apply").click()
        p.wait_for_function(
            "() => { const r = document.querySelector('[data-testid=events-results]');"
            " return r.dataset.ready === 'yes' && r.dataset.query.includes('municipality=99999'); }"
        )
        error = p.get_by_test_id("events-results").get_by_test_id("error").inner_text()
        assert error.startswith("municipality: ") and "\n" not in error
        p.watch.expect(400)  # the browser logs each refused request (the page and its facets), as it should
    finally:
        p.context.close()
    p.watch.check()


def test_the_store_is_free_between_requests(wb_data, tmp_path):
    """A request holds the store open across its reads and lets it go before answering: a write
    in this process right after it (as the CLI or a test does) opens the file, and a refused
    token, whose audit row is written inside the request, is answered 401, not 500."""
    db = tmp_path / "wb.duckdb"
    shutil.copy(wb_data.db, db)
    with TestClient(create_app(db)) as c:
        for _ in range(2):
            assert c.get("/agencies/mx/events/facets", headers=auth(wb_data)).status_code == 200
            with Store(db) as store:  # read-write, in the server's process
                store.con.execute("UPDATE events SET deaths_best = deaths_best WHERE FALSE")
        bad = c.get("/agencies/mx/events", headers={"Authorization": "Bearer vdto_0000_nope"})
        assert bad.status_code == 401
        assert c.get("/agencies/mx/events", headers=auth(wb_data)).status_code == 200
        with Store(db, read_only=True) as store:
            assert store.query("SELECT count(*) AS n FROM api_audit WHERE status = 401")["n"][0] == 1
