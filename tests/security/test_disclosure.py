"""Small-count suppression that holds (issue: hardening, item 4): public region figures are
given for whole calendar years only, with complementary suppression and no totals, so that
subtracting one answer from another recovers nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from vdto.api.app import create_app
from vdto.api.deps import MissLimiter
from vdto.publication.disclosure import _withheld

from ..test_api import agency_csv, load


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("disclosure")
    rows, k = [], 0
    # busy states, and states with one or two events (on known days)
    for state, n in (("14", 40), ("16", 25), ("25", 12), ("08", 1), ("12", 2)):
        for i in range(n):
            k += 1
            rows.append((f"e{k}", str(date(2020, 1, 1) + timedelta(days=(7 * i + int(state)) % 360)), 1 + i % 3, state,
                         "CJNG" if state in ("14", "16") else "Cártel de Sinaloa", ""))  # fmt: skip
    load(folder / "s.duckdb", *agency_csv(folder, "mx", rows), "mx")
    app = create_app(folder / "s.duckdb")
    # these tests are about what is disclosed, not about the rate of new computations (test_rate.py)
    app.state.vdto.misses = MissLimiter(rate=1e9, burst=1e9)
    return TestClient(app)


def _figures(client, query: str) -> dict:
    res = client.get("/public/regions" + query)
    assert res.status_code == 200, res.text
    return {r["region_code"]: (r["events"], r["event_deaths"], r["score"]) for r in res.json()["regions"]}


def test_the_differencing_attack_recovers_nothing(server):
    recovered = 0
    day = date(2020, 1, 1)
    for _ in range(40):  # the attack of the report: from=D and from=D+1, subtracted
        a = _figures(server, f"?from={day}")
        b = _figures(server, f"?from={day + timedelta(days=1)}")
        for code in a:
            ea, eb = a[code][0], b[code][0]
            if ea is not None and eb is not None and ea != eb:
                recovered += 1
        day += timedelta(days=9)
    assert recovered == 0
    # only whole years, which are disjoint: no answer is the difference of two others
    assert _figures(server, "?year=2020") == a
    refused = server.get("/public/regions?year=2019")
    assert refused.status_code == 400 and refused.json()["detail"].startswith("year:")


def test_small_counts_and_a_complement_are_withheld_and_no_total_is_given(server):
    res = server.get("/public/regions?year=2020").json()
    rows = {r["region_code"]: r for r in res["regions"]}
    for code in ("08", "12"):  # one and two events: withheld
        assert rows[code]["events"] is None and rows[code]["score"] is None and rows[code]["top_org"] is None
    assert "events" not in res["meta"]
    assert all(r["events"] is None or r["events"] >= res["min_count"] for r in res["regions"])


@pytest.mark.parametrize(
    ("events", "hidden"),
    [([40, 25, 12, 1, 0], {3, 2}), ([40, 25, 12, 1, 2], {3, 4}), ([40, 25, 12, 0, 0], set()), ([1], {0})],
)
def test_complementary_suppression(events, hidden):
    assert _withheld(events, 3) == hidden


def test_years_outside_the_data_are_refused(server):
    assert server.get("/public/regions?year=1066").status_code == 422
    assert server.get(f"/public/regions?year={date.today().year + 1}").status_code == 400


def test_a_published_sites_aggregates_hold_no_single_event(ucdp_store, tmp_path):
    """The report's case: a published year of real data, whose aggregates.csv held single events
    with their exact day. Now no row is a class of fewer than min_count events, no exact day is
    published, and the site still recomputes."""
    from vdto.publication.scorecard import SMALL_CLASSES, build_scorecard, public_aggregates
    from vdto.publication.site import recompute_site, write_site
    from vdto.scoring.engine import score
    from vdto.store import Store

    with Store(ucdp_store[0], read_only=True) as store:
        res = score(store, date(2022, 1, 1), date(2022, 12, 31), draws=200, seed=1)
    card = build_scorecard(res, min_count=3)
    agg = public_aggregates(res, min_count=3)
    write_site(tmp_path / "site", card, agg)
    published = pd.read_csv(tmp_path / "site" / "aggregates.csv", keep_default_na=False)
    assert "date_start" not in published and "date_end" not in published
    detailed = published[published["category"] != SMALL_CLASSES]
    assert len(detailed) and (detailed["events"] >= 3).all()
    assert (published.groupby("org")["category"].apply(lambda c: (c == SMALL_CLASSES).sum()) <= 1).all()
    assert res.attribution["event"].nunique() > 1000  # a real year: many events, now in few rows
    assert recompute_site(tmp_path / "site").ok
