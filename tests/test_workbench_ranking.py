"""The Ranking view and its endpoint: the ranking of a window, the decision in words, and the
what-if (an organization cuts its violence by x%) on the same draws; in a real browser too."""

from __future__ import annotations

import re

import httpx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.workbench import WINDOW_2021, sign_in
from vdto.errors import UnknownNameError, VdtoError
from vdto.services.scoring import WhatIf, rank_window
from vdto.store import Store

DRAWS = 300
WINDOW = {"from": WINDOW_2021[0].isoformat(), "to": WINDOW_2021[1].isoformat()}


def rank(wb, what_if=None, agency="mx", role="analyst", token=None, **extra) -> httpx.Response:
    body = {**WINDOW, "draws": DRAWS, **extra}
    if what_if is not None:
        body["what_if"] = what_if
    headers = {} if token == "" else {"Authorization": f"Bearer {token or wb.token(agency, role)}"}
    return httpx.post(f"{wb.url}/agencies/mx/ranking", json=body, headers=headers, timeout=120)


def row(rows: list[dict], org: str) -> dict:
    return next(r for r in rows if r["org"] == org)


# ------------------------------------------------------------------------------ the service


def test_the_what_if_rule_scales_one_column_of_the_same_draws(wb_data):
    with Store(wb_data.db, read_only=True) as store:
        plain = rank_window(store, *WINDOW_2021, draws=DRAWS, seed=7, agency="mx")
        none = rank_window(store, *WINDOW_2021, draws=DRAWS, seed=7, agency="mx", what_if=WhatIf("cjng", 0))
        cut = rank_window(store, *WINDOW_2021, draws=DRAWS, seed=7, agency="mx", what_if=WhatIf("CJNG", 30))
    # 0% is the ranking itself, value for value
    pd.testing.assert_frame_equal(none.what_if_result.table, plain.result.table)
    assert np.array_equal(none.what_if_result.samples, plain.result.samples)
    assert none.what_if_decision == plain.decision
    # 30%: CJNG's column of the very same draws times 0.7, every other column untouched
    before = list(plain.result.table["org"])
    after = list(cut.what_if_result.table["org"])
    assert cut.what_if_org == "cjng" and cut.what_if_cut == pytest.approx(0.3)
    for org in before:
        old = plain.result.samples[:, before.index(org)]
        new = cut.what_if_result.samples[:, after.index(org)]
        assert np.array_equal(new, old * 0.7 if org == "cjng" else old), org
    scores = dict(zip(cut.what_if_result.table["org"], cut.what_if_result.table["score"], strict=True))
    assert scores["cjng"] == pytest.approx(0.7 * plain.result.table.set_index("org").loc["cjng", "score"])


def test_a_bad_what_if_names_its_field(wb_data):
    with Store(wb_data.db, read_only=True) as store:
        for bad, param in ((WhatIf("cjng", 101), "what_if.cut"), (WhatIf("cjng", -0.5), "what_if.cut"),
                           (WhatIf("cjng", float("nan")), "what_if.cut"),
                           (WhatIf("Cartel de Jalisco Nuevo", 10), "what_if.organization")):  # fmt: skip
            with pytest.raises(VdtoError) as caught:
                rank_window(store, *WINDOW_2021, draws=10, seed=7, agency="mx", what_if=bad)
            assert caught.value.param == param
            assert "\n" not in caught.value.line()
        with pytest.raises(UnknownNameError, match="nearest are: cjng"):
            rank_window(store, *WINDOW_2021, draws=10, seed=7, agency="mx", what_if=WhatIf("cjgn", 10))


# ---------------------------------------------------------------------------------- the API


def test_ranking_answers_the_scorecard_the_decision_and_margins(wb):
    res = rank(wb)
    assert res.status_code == 200, res.text
    doc = res.json()
    assert doc["agency"] == "mx" and doc["what_if"] is None
    card = doc["scorecard"]
    assert card["meta"]["agency"] == "mx" and card["meta"]["draws"] == DRAWS
    top = card["ranking"][0]
    assert top["org"] == "cjng" and top["lo90"] <= top["score"] <= top["hi90"]
    facts = doc["decision"]
    assert facts["named"] and facts["target"] == "cjng" and facts["p_rank1"] >= facts["threshold"]
    assert facts["leader"]["org"] == "cjng" and facts["runner_up"]["org"] == card["ranking"][1]["org"]
    assert facts["gap"] == pytest.approx(top["score"] - card["ranking"][1]["score"], abs=1e-5)
    assert facts["cut_to_lose_first"] == pytest.approx(top["cut_to_lose_first"], abs=1e-6)
    assert doc["manipulation"]["events_to_change_top"] > 0
    # the same scorecard as POST /agencies/mx/score (the same service)
    score = httpx.post(f"{wb.url}/agencies/mx/score", json={**WINDOW, "draws": DRAWS},
                       headers={"Authorization": f"Bearer {wb.token('mx', 'analyst')}"}, timeout=120)  # fmt: skip
    assert score.json()["ranking"] == card["ranking"]


def test_a_what_if_of_zero_is_the_ranking_itself(wb):
    plain = rank(wb).json()
    zero = rank(wb, {"organization": "cjng", "cut": 0}).json()
    assert zero["scorecard"] == plain["scorecard"]
    rows = [{k: v for k, v in r.items() if k != "rank_before"} for r in zero["what_if"]["ranking"]]
    assert rows == plain["scorecard"]["ranking"]
    assert all(r["rank_before"] == r["rank"] for r in zero["what_if"]["ranking"])
    assert zero["what_if"]["decision"] == plain["decision"]
    assert zero["what_if"]["decision_changed"] is False


def test_cutting_the_leaders_violence_lowers_its_score_and_p_rank1_monotonically(wb):
    base = row(rank(wb).json()["scorecard"]["ranking"], "cjng")
    scores, chances, others = [], [], []
    for cut in (0, 10, 20, 30, 50, 80, 100):
        doc = rank(wb, {"organization": "Cártel Jalisco Nueva Generación", "cut": cut}).json()
        w = doc["what_if"]
        assert w["organization"] == "cjng" and w["cut"] == cut
        cjng = row(w["ranking"], "cjng")
        assert cjng["score"] == pytest.approx(base["score"] * (1 - cut / 100), abs=1e-5)
        scores.append(cjng["score"])
        chances.append(cjng["p_rank1"])
        others.append(
            {r["org"]: (r["score"], r["lo90"], r["hi90"]) for r in w["ranking"] if r["org"] != "cjng"}
        )
    assert scores == sorted(scores, reverse=True) and scores[-1] == 0
    assert chances == sorted(chances, reverse=True) and chances[0] > chances[-1] == 0
    assert all(o == others[0] for o in others)  # the cut, nothing else, changes the ranking
    last = rank(wb, {"organization": "cjng", "cut": 80}).json()["what_if"]
    assert last["decision_changed"] and last["target_before"] == "cjng" and last["target_after"] != "cjng"


@pytest.mark.parametrize(
    ("what_if", "field"),
    [
        ({"organization": "Cartel del Golfo de Nada", "cut": 10}, "what_if.organization"),
        ({"organization": "", "cut": 10}, "what_if.organization"),
        ({"organization": "cjng", "cut": 150}, "what_if.cut"),
        ({"organization": "cjng", "cut": -1}, "what_if.cut"),
        ({"organization": "cjng", "cut": "a lot"}, "what_if.cut"),
        ({"organization": "cjng"}, "what_if.cut"),
        ({"organization": "cjng", "cut": 10, "extra": 1}, "what_if.extra"),
    ],
)
def test_a_bad_what_if_is_one_line_naming_the_field(wb, what_if, field):
    res = rank(wb, what_if, draws=20)
    assert res.status_code == 422, res.text
    detail = res.json()["detail"]
    assert detail.startswith(field + ":") and "\n" not in detail


def test_an_unknown_organization_gets_the_nearest_names(wb):
    detail = rank(wb, {"organization": "sinalo", "cut": 10}, draws=20).json()["detail"]
    assert detail.startswith("what_if.organization:") and "nearest are: sinaloa" in detail


def test_only_the_agencys_analysts_rank_its_data(wb):
    assert rank(wb, agency="us").status_code == 403
    assert rank(wb, role="publisher").status_code == 403
    assert rank(wb, role="admin").status_code == 403
    assert rank(wb, token="").status_code == 401
    bad = rank(wb, rubric="../../etc/passwd")
    assert bad.status_code == 422 and bad.json()["detail"].startswith("rubric:")


finite = st.floats(allow_nan=False, allow_infinity=False, width=32)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "from": st.one_of(st.dates().map(str), st.text(max_size=12), st.integers()),
        "to": st.one_of(st.dates().map(str), st.text(max_size=12), st.none()),
        "draws": st.one_of(st.integers(-5, 40), st.text(max_size=4)),
        "seed": st.one_of(st.integers(-3, 2**33), finite),
        "rubric": st.one_of(st.just("default-v1"), st.text(max_size=20)),
        "what_if": st.one_of(
            st.none(),
            st.text(max_size=10),
            st.fixed_dictionaries(
                {},
                optional={
                    "organization": st.one_of(
                        st.sampled_from(["cjng", "CJNG", "sinaloa", "zz"]), st.text(max_size=30)
                    ),
                    "cut": st.one_of(finite, st.integers(-1000, 1000), st.text(max_size=5), st.none()),
                },
            ),
        ),
    },
)


def test_bad_input_never_breaks_the_server(wb):
    headers = {"Authorization": f"Bearer {wb.token('mx', 'analyst')}"}
    with httpx.Client(base_url=wb.url, headers=headers, timeout=120) as client:

        @given(body=bodies)
        @settings(max_examples=40, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def check(body):
            res = client.post("/agencies/mx/ranking", json=body)
            assert res.status_code in (200, 400, 404, 422), (body, res.status_code, res.text)
            if res.status_code != 200:
                detail = res.json()["detail"]
                assert detail and "\n" not in detail

        check()


# ------------------------------------------------------------------------------ the browser


def test_rank_2021_names_cjng_first_and_the_what_if_recomputes(wb, page):
    sign_in(page, wb, "mx", "analyst", view="ranking", lang="en", draws=DRAWS)
    assert page.get_by_test_id("data-of").inner_text() == "Data of agency mx"
    first = page.get_by_test_id("ranking-table-row").first
    assert first.get_attribute("data-org") == "cjng"
    assert "Cártel Jalisco Nueva Generación" in first.get_by_test_id("org-name").inner_text()
    api = rank(wb).json()
    p_before = row(api["scorecard"]["ranking"], "cjng")["p_rank1"]
    shown = first.get_by_test_id("p-rank1").inner_text()
    assert re.fullmatch(r"\d+%", shown) and shown == f"{round(p_before * 100)}%"
    assert first.get_by_test_id("score").inner_text().endswith(" pts")
    decision = page.get_by_test_id("decision").inner_text()
    assert "Cártel Jalisco Nueva Generación is the most violent organization" in decision
    assert "It is named the target" in decision and "Margin:" in decision

    # the what-if: CJNG cuts its violence by 80%
    assert page.get_by_test_id("what-if-org").input_value() == "cjng"
    page.get_by_test_id("what-if-cut").fill("80")
    assert page.get_by_test_id("what-if-cut-value").inner_text() == "80%"
    page.wait_for_selector('[data-testid="what-if-result"][data-for="cjng:80"]')
    after = page.locator('[data-testid="what-if-table-row"][data-org="cjng"]')
    p_after = after.get_by_test_id("p-rank1").inner_text()
    assert int(p_after.rstrip("%")) < int(shown.rstrip("%"))
    assert page.get_by_test_id("what-if-table-row").first.get_attribute("data-org") != "cjng"
    assert after.get_by_test_id("rank-before").inner_text().startswith("1")
    words = page.get_by_test_id("what-if-decision").inner_text()
    assert words.startswith(
        "If Cártel Jalisco Nueva Generación cut its violence by 80%, the decision would change"
    )
    # the ranking above it is unchanged, and the address remembers the what-if
    assert page.get_by_test_id("ranking-table-row").first.get_by_test_id("p-rank1").inner_text() == shown
    assert "org=cjng" in page.url and "cut=80" in page.url

    # the recompute button and another organization
    page.get_by_test_id("what-if-org").select_option("sinaloa")
    page.wait_for_selector('[data-testid="what-if-result"][data-for="sinaloa:80"]')
    assert page.get_by_test_id("what-if-table-row").first.get_attribute("data-org") == "cjng"
    assert "would not change" in page.get_by_test_id("what-if-decision").inner_text()


def test_the_ranking_view_speaks_spanish_and_reloads_its_what_if(wb, page):
    sign_in(page, wb, "mx", "analyst", view="ranking", lang="es", draws=DRAWS, org="cjng", cut=100)
    assert page.get_by_test_id("data-of").inner_text() == "Datos de la agencia mx"
    page.wait_for_selector('[data-testid="what-if-result"][data-for="cjng:100"]')
    cjng = page.locator('[data-testid="what-if-table-row"][data-org="cjng"]')
    assert cjng.get_by_test_id("p-rank1").inner_text() == "0%"
    assert "la decisión cambiaría" in page.get_by_test_id("what-if-decision").inner_text()
    assert page.get_by_test_id("what-if-cut").input_value() == "100"
