"""The Agencies view and its endpoint: two agencies' rankings side by side, Kendall's tau, top-1
agreement and the disagreements, with none of the other agency's events, no count of the events
the two share, small counts withheld and a minimum window; audited; in a real browser too."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.workbench import WINDOW_2021, sign_in
from vdto.publication.agreement import disagreements, ranking_agreement
from vdto.services.agencies import MIN_WINDOW_DAYS, WITHHELD_WHEN_SMALL, compare_agencies
from vdto.services.scoring import score_window
from vdto.store import Store

DRAWS = 300
WINDOW = {"from": WINDOW_2021[0].isoformat(), "to": WINDOW_2021[1].isoformat()}


def compare(wb, agency="mx", other="us", role="analyst", token=None, path="mx", **extra) -> httpx.Response:
    body = {"with": other, **WINDOW, "draws": DRAWS, **extra}
    headers = {"Authorization": f"Bearer {token or wb.token(agency, role)}"}
    return httpx.post(f"{wb.url}/agencies/{path}/comparison", json=body, headers=headers, timeout=120)


def audit_rows(wb, agency="mx") -> list[dict]:
    """The agency's audit trail, oldest first (read by its admin)."""
    res = httpx.get(f"{wb.url}/agencies/{agency}/audit", params={"limit": 1000},
                    headers={"Authorization": f"Bearer {wb.token(agency, 'admin')}"}, timeout=60)  # fmt: skip
    assert res.status_code == 200, res.text
    return list(reversed(res.json()))


def withheld(row: dict) -> dict:
    """A row of the other agency's scorecard ranking as the caller may see it."""
    columns = ("rank", "org", "name", "score", "lo90", "hi90", "p_rank1", "events")
    out = {c: row[c] for c in columns}
    if out["events"] is None:
        out.update(dict.fromkeys(WITHHELD_WHEN_SMALL))
    return out


def scorecard(wb, agency: str) -> dict:
    res = httpx.post(f"{wb.url}/agencies/{agency}/score", json={**WINDOW, "draws": DRAWS},
                     headers={"Authorization": f"Bearer {wb.token(agency, 'analyst')}"}, timeout=120)  # fmt: skip
    assert res.status_code == 200, res.text
    return res.json()


def event_ids(db, agency: str) -> set[str]:
    with Store(db, read_only=True) as store:
        events, _ = store.events.window(*WINDOW_2021, agency=agency)
    return set(events["source_id"].astype(str))


def strings(doc: Any) -> set[str]:
    """Every string and number in a JSON document, as text (keys too)."""
    if isinstance(doc, dict):
        return set().union(*(strings(k) | strings(v) for k, v in doc.items())) if doc else set()
    if isinstance(doc, list):
        return set().union(*(strings(v) for v in doc)) if doc else set()
    return {str(doc)}


# ------------------------------------------------------------------------- the domain, service


def test_disagreements_carry_only_the_callers_events(wb_data):
    with Store(wb_data.db, read_only=True) as store:
        mx = score_window(store, *WINDOW_2021, draws=DRAWS, agency="mx")
        us = score_window(store, *WINDOW_2021, draws=DRAWS, agency="us")
    rows, events = disagreements(mx, us, own_events=5, min_count=3)
    ranks_mx = dict(zip(mx.table["org"], mx.table["rank"], strict=True))
    ranks_us = dict(zip(us.table["org"], us.table["rank"], strict=True))
    differ = {o for o in set(ranks_mx) | set(ranks_us) if ranks_mx.get(o) != ranks_us.get(o)}
    assert set(rows["org"]) == differ and len(differ) > 0
    mine = set(mx.events["source_id"].astype(str))
    assert set(events["source_id"]) <= mine and set(events["org"]) <= differ
    assert events.groupby("org").size().max() <= 5
    # of the other agency only what its ranking shows, nothing computed from both agencies' events
    assert list(rows.columns) == ["org", "name", "rank_own", "rank_other", "score_own", "score_other",
                                  "p_rank1_own", "p_rank1_other", "events_own", "events_other"]  # fmt: skip
    events_us = dict(zip(us.table["org"], us.table["events"], strict=True))
    for row in rows.to_dict("records"):
        small = row["org"] in events_us and events_us[row["org"]] < 3
        figures = (row["score_other"], row["p_rank1_other"], row["events_other"])
        assert (figures == (None, None, None)) if small else all(v is not None for v in figures), row
    assert any(events_us.get(o, 9) < 3 for o in rows["org"])  # the check above means something


def test_an_organization_the_other_holds_few_events_of_shows_no_figure_of_it(wb_data):
    with Store(wb_data.db, read_only=True) as store:
        us = score_window(store, *WINDOW_2021, draws=DRAWS, agency="us")
        found = compare_agencies(store, "mx", "us", *WINDOW_2021, draws=DRAWS, min_count=30).as_dict()
    events_us = dict(zip(us.table["org"], us.table["events"], strict=True))
    small = {o for o, n in events_us.items() if n < 30}
    assert small and small != set(events_us)
    for row in found["other"]["ranking"]:
        hidden = [row[c] is None for c in ("events", "score", "lo90", "hi90", "p_rank1")]
        assert all(hidden) if row["org"] in small else not any(hidden), row
    for row in found["disagreements"]:
        if row["org"] in small:
            assert row["score_other"] is row["p_rank1_other"] is row["events_other"] is None
    # the decision's P(rank 1) is withheld with the organization it belongs to
    with Store(wb_data.db, read_only=True) as store:
        leader_small = compare_agencies(store, "mx", "us", *WINDOW_2021, draws=DRAWS, min_count=10**6)
    assert leader_small.theirs["decision"]["p_rank1"] is None
    assert all(r["score"] is None for r in leader_small.theirs["ranking"])


def test_a_window_shorter_than_the_minimum_is_refused(wb_data):
    from datetime import date, timedelta

    from vdto.errors import VdtoError

    assert MIN_WINDOW_DAYS == 90
    day = date(2021, 6, 1)
    with Store(wb_data.db, read_only=True) as store:
        for start in (day, day - timedelta(days=MIN_WINDOW_DAYS - 2)):
            with pytest.raises(VdtoError) as caught:
                compare_agencies(store, "mx", "us", start, day, draws=10)
            assert caught.value.param == "start" and "90" in caught.value.line()
        found = compare_agencies(store, "mx", "us", day - timedelta(days=MIN_WINDOW_DAYS - 1), day, draws=10)
    assert (found.end - found.start).days + 1 == MIN_WINDOW_DAYS


def test_comparing_an_agency_with_itself_or_a_stranger_is_refused(wb_data):
    from vdto.errors import UnknownNameError, VdtoError

    with Store(wb_data.db, read_only=True) as store:
        with pytest.raises(VdtoError) as caught:
            compare_agencies(store, "mx", "mx", *WINDOW_2021, draws=10)
        assert caught.value.param == "with"
        with pytest.raises(UnknownNameError) as caught:
            compare_agencies(store, "mx", "zz", *WINDOW_2021, draws=10)
    # which agencies hold data is not said
    line = caught.value.line()
    assert caught.value.param == "with" and not {"mx", "us", "zz"} & set(line.replace(",", " ").split())


# ---------------------------------------------------------------------------------- the API


def test_tau_and_top1_are_those_of_the_two_scorecards(wb):
    res = compare(wb)
    assert res.status_code == 200, res.text
    doc = res.json()
    mx, us = scorecard(wb, "mx"), scorecard(wb, "us")
    found = ranking_agreement(mx["ranking"], us["ranking"])
    agreement = doc["agreement"]
    assert agreement["tau"] == found.tau and agreement["p_value"] == found.p_value
    assert agreement["top"] == list(found.top) == ["cjng", "cjng"] and agreement["top1_agree"] is True
    assert agreement["agencies"] == ["mx", "us"]
    assert doc["agency"] == "mx" and doc["with"] == "us" and doc["window"] == [WINDOW["from"], WINDOW["to"]]
    # each side is that agency's own scorecard ranking (nothing added together)
    assert doc["own"]["ranking"] == mx["ranking"]
    # the other's is its scorecard's ranking, with an organization of few events shown without figures
    assert doc["other"]["ranking"] == [withheld(r) for r in us["ranking"]]
    assert any(r["score"] is None for r in doc["other"]["ranking"])  # cdn, ...: fewer than 3 events
    assert doc["other"]["decision"]["target"] == us["decision"]["target"] == "cjng"
    assert doc["own"]["decision"]["target"] == mx["decision"]["target"]


def test_the_answer_holds_no_raw_event_of_the_other_agency(wb):
    doc = compare(wb).json()
    mx_ids, us_ids = event_ids(wb.data.db, "mx"), event_ids(wb.data.db, "us")
    theirs_only = us_ids - mx_ids
    assert len(theirs_only) > 100  # the check below means something
    assert not strings(doc) & theirs_only
    listed = [e for d in doc["disagreements"] for e in d["events"]]
    assert listed and {e["source_id"] for e in listed} <= mx_ids
    assert all(set(e) == {"source", "source_id", "date_start", "state_code", "category", "deaths_best",
                          "probability", "weight", "contribution"} for e in listed)  # fmt: skip
    for d in doc["disagreements"]:
        assert d["rank_own"] != d["rank_other"]
        contributions = [e["contribution"] for e in d["events"]]
        assert contributions == sorted(contributions, reverse=True)
    # the other agency's view of the same comparison holds none of mx's own-only events
    back = compare(wb, agency="us", other="mx", path="us")
    assert back.status_code == 200
    assert not strings(back.json()) & (mx_ids - us_ids)


def test_only_the_agencys_analysts_compare(wb):
    assert compare(wb, agency="us").status_code == 403
    assert compare(wb, role="publisher").status_code == 403
    assert compare(wb, agency="zz").status_code == 403
    itself = compare(wb, other="mx")
    assert itself.status_code == 400 and itself.json()["detail"].startswith("with:")
    bad = compare(wb, other="US!")
    assert bad.status_code == 422 and bad.json()["detail"].startswith("with:")
    assert compare(wb, rubric="x.toml").json()["detail"].startswith("rubric:")
    assert httpx.post(f"{wb.url}/agencies/mx/comparison", json={"with": "us"}).status_code == 401
    assert httpx.get(f"{wb.url}/agencies/mx/comparison", params={"with": "us"}).status_code == 405


def test_an_unknown_agency_to_compare_with_is_a_404_that_lists_no_agency(wb):
    stranger = compare(wb, other="zz")
    assert stranger.status_code == 404
    detail = stranger.json()["detail"]
    assert detail.startswith("with:") and "\n" not in detail
    assert not {"mx", "us", "zz"} & set(detail.replace(",", " ").replace(";", " ").split())


def test_a_one_day_or_too_short_window_is_a_422_naming_from(wb):
    # one day, and 89 days
    for window in ({"from": "2021-06-01", "to": "2021-06-01"}, {"from": "2021-03-05", "to": "2021-06-01"}):
        res = compare(wb, **window)
        assert res.status_code == 422, res.text
        detail = res.json()["detail"]
        assert detail.startswith("from:") and "90 days" in detail and "\n" not in detail
    assert compare(wb, **{"from": "2021-03-04", "to": "2021-06-01"}, draws=10).status_code == 200  # 90 days


def test_the_answer_counts_no_event_the_two_agencies_share(wb):
    doc = compare(wb).json()
    keys = {"org", "name", "rank_own", "rank_other", "score_own", "score_other", "p_rank1_own", "p_rank1_other",
            "events_own", "events_other", "events"}  # fmt: skip
    assert doc["disagreements"] and all(set(d) == keys for d in doc["disagreements"])

    def names(node) -> set[str]:
        if isinstance(node, dict):
            return set(node).union(*(names(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(names(v) for v in node)) if node else set()
        return set()

    assert not [
        k for k in names(doc) if any(w in k for w in ("only", "both", "shared", "overlap", "differently"))
    ]


def test_a_comparison_is_audited_started_then_its_outcome(wb):
    path = "/agencies/mx/comparison"

    def new_rows(before: int) -> list[tuple]:
        return [(r["action"], r["outcome"], r["status"], r["agency"]) for r in audit_rows(wb)[before:]
                if r["path"] == path]  # fmt: skip

    before = len(audit_rows(wb))
    assert compare(wb).status_code == 200
    assert new_rows(before) == [("compare", "started", None, "mx"), ("compare", "ok", 200, "mx")]
    before = len(audit_rows(wb))
    assert compare(wb, **{"from": "2021-06-01", "to": "2021-06-01"}).status_code == 422
    assert compare(wb, other="zz").status_code == 404
    assert new_rows(before) == [
        ("compare", "started", None, "mx"), ("compare", "failed", 422, "mx"),
        ("compare", "started", None, "mx"), ("compare", "failed", 404, "mx"),
    ]  # fmt: skip
    before = len(audit_rows(wb))
    assert compare(wb, role="publisher").status_code == 403
    assert new_rows(before) == [("compare", "refused", 403, "mx")]


def test_bad_comparison_input_never_breaks_the_server(wb):
    headers = {"Authorization": f"Bearer {wb.token('mx', 'analyst')}"}
    text = st.text(max_size=12)
    queries = st.fixed_dictionaries(
        {"with": st.one_of(st.sampled_from(["us", "mx", "zz"]), text)},
        optional={"from": st.one_of(st.dates().map(str), text), "to": st.one_of(st.dates().map(str), text),
                  "draws": st.one_of(st.integers(-3, 30).map(str), text), "seed": text,
                  "rubric": st.one_of(st.just("default-v1"), text)},
    )  # fmt: skip
    with httpx.Client(base_url=wb.url, headers=headers, timeout=120) as client:

        @given(query=queries)
        @settings(max_examples=30, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def check(query):
            res = client.post("/agencies/mx/comparison", json=query)
            assert res.status_code in (200, 400, 404, 422), (query, res.status_code, res.text)
            if res.status_code != 200:
                assert "\n" not in res.json()["detail"]

        check()


# ------------------------------------------------------------------------------ the browser


def test_compare_mx_and_us_for_2021(wb, page):
    sign_in(page, wb, "mx", "analyst", view="agencies", lang="en", draws=DRAWS)
    doc = compare(wb).json()
    assert page.get_by_test_id("data-of").inner_text() == "Data of agency mx"
    assert page.get_by_test_id("tau").inner_text() == f"{doc['agreement']['tau']:.3f}"
    top1 = page.get_by_test_id("top1")
    assert top1.get_attribute("data-agree") == "yes"
    assert top1.inner_text() == "agree: both put Cártel Jalisco Nueva Generación first"
    # the two rankings side by side, the other one labelled as its ranking only
    assert page.locator(".side-by-side").count() == 1
    assert page.get_by_test_id("own-side").locator("h2").inner_text() == "Agency mx (its data)"
    assert page.get_by_test_id("other-side").locator("h2").inner_text() == "Agency us (its ranking only)"
    assert "none of its events" in page.get_by_test_id("other-data-of").inner_text()
    own_rows = page.get_by_test_id("own-ranking-row")
    other_rows = page.get_by_test_id("other-ranking-row")
    assert own_rows.count() == len(doc["own"]["ranking"]) and other_rows.count() == len(
        doc["other"]["ranking"]
    )
    assert own_rows.first.get_attribute("data-org") == other_rows.first.get_attribute("data-org") == "cjng"
    # the disagreements open into mx's own events only
    items = page.get_by_test_id("disagreement")
    assert items.count() == len(doc["disagreements"]) > 0
    first = items.first
    assert not first.get_by_test_id("own-event").first.is_visible()
    first.locator("summary").click()
    shown = first.get_by_test_id("own-event")
    assert shown.first.is_visible() and shown.count() == len(doc["disagreements"][0]["events"])
    ids = {shown.nth(i).locator("td").nth(1).inner_text() for i in range(shown.count())}
    mx_ids, us_ids = event_ids(wb.data.db, "mx"), event_ids(wb.data.db, "us")
    assert ids <= mx_ids
    text = page.locator("#view").inner_text()
    assert not any(i in text for i in us_ids - mx_ids if len(i) >= 5)


def test_the_agencies_view_in_spanish_with_another_window(wb, page):
    sign_in(page, wb, "us", "analyst", view="agencies", lang="es", draws=DRAWS, **{"with": "mx"},
            **{"from": "2022-01-01", "to": "2022-12-31"})  # fmt: skip
    assert page.get_by_test_id("data-of").inner_text() == "Datos de la agencia us"
    res = compare(wb, agency="us", other="mx", path="us", **{"from": "2022-01-01", "to": "2022-12-31"}).json()
    tau = res["agreement"]["tau"]
    assert page.get_by_test_id("tau").inner_text() == f"{tau:.3f}"
    assert (
        page.get_by_test_id("other-side").locator("h2").inner_text() == "Agencia mx (solo su clasificación)"
    )
    # a new comparison from the form: an agency with no data is one line, no crash
    page.get_by_test_id("agencies-with").fill("zz")
    page.get_by_test_id("compare").click()
    page.get_by_test_id("error").wait_for()
    assert page.get_by_test_id("error").inner_text().startswith("with: no agency by that name has data")
    page.watch.expect(404)  # the browser logs the refused request itself, as it should
