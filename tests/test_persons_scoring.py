"""Scores of cells and persons (event -> organization -> cell -> person) on tiny golden inputs."""

from __future__ import annotations

import doctest
from datetime import date

import numpy as np
import pandas as pd
import pytest

from vdto.orgs import Registry
from vdto.persons import keys, scoring
from vdto.persons.scoring import Target, score_persons
from vdto.scoring.engine import score_frames

REG = Registry.seed()


def _events(n: int, day=date(2021, 3, 1), state="14") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": ["s"] * n,
            "source_id": [str(i) for i in range(n)],
            "date_start": [day] * n,
            "category": ["homicide"] * n,
            "deaths_best": [1 + i for i in range(n)],
            "victims_civilian": [1 + i for i in range(n)],
            "state_code": [state] * n,
        }
    )


def _perps(rows: list[tuple[int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": ["s"] * len(rows),
            "source_id": [str(e) for e, _, _ in rows],
            "raw_name": [o for _, o, _ in rows],
            "org_id": [o for _, o, _ in rows],
            "faction_id": [None] * len(rows),
            "faction": [None] * len(rows),
            "probability": [p for _, _, p in rows],
        }
    )


def _result(events, perps, draws=400, seed=7):
    return score_frames(
        events, perps, REG, start=date(2021, 1, 1), end=date(2021, 12, 31), draws=draws, seed=seed
    )


CELLS = pd.DataFrame(
    {
        "cell": ["c1", "c2", "s1"],
        "org_id": ["cjng", "cjng", "sinaloa"],
        "name": [None] * 3,
        "region": [None] * 3,
    }
)


def _members(rows: list[tuple[str, str]], start=date(2020, 1, 1), end=None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person": [p for p, _ in rows],
            "cell": [c for _, c in rows],
            "role": ["member"] * len(rows),
            "start": [start] * len(rows),
            "end": [end] * len(rows),
        }
    )


def _links(rows: list[tuple[str, int, float]], kind="suspect") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person": [p for p, _, _ in rows],
            "source": ["s"] * len(rows),
            "source_id": [str(e) for _, e, _ in rows],
            "kind": [kind] * len(rows),
            "confidence": [c for _, _, c in rows],
        }
    )


def test_a_person_linked_to_two_events_gets_the_exact_expected_score():
    res = _result(_events(2), _perps([(0, "cjng", 0.8), (1, "cjng", 0.5), (1, "sinaloa", 0.5)]))
    w = res.events["weight"].to_numpy()
    out = score_persons(
        res, CELLS, _members([("p_a", "c1")]), _links([("p_a", 0, 0.6), ("p_a", 1, 0.3)]), REG,
        Target("org", "cjng"), seed=7, draws=400,
    )  # fmt: skip
    row = out.persons.iloc[0]
    assert row["score"] == pytest.approx(w[0] * 0.8 * 0.6 + w[1] * 0.5 * 0.3, rel=1e-12)
    assert row["events"] == pytest.approx(0.8 * 0.6 + 0.5 * 0.3, rel=1e-12)
    assert row["links"] == 2
    # the evidence lists each link with its contribution, and they add up to the score
    assert scoring.evidence(out)["contribution"].sum() == pytest.approx(row["score"], rel=1e-12)


def test_a_cell_counts_an_event_two_members_share_once():
    res = _result(_events(1), _perps([(0, "cjng", 0.7)]))
    w = float(res.events["weight"].iloc[0])
    ca, cb = 0.6, 0.5
    out = score_persons(
        res, CELLS, _members([("p_a", "c1"), ("p_b", "c1")]), _links([("p_a", 0, ca), ("p_b", 0, cb)]), REG,
        Target("org", "cjng"), seed=7, draws=400,
    )  # fmt: skip
    cell = out.cells.set_index("cell").loc["c1"]
    assert cell["score"] == pytest.approx(w * 0.7 * (1 - (1 - ca) * (1 - cb)), rel=1e-12)
    members = out.persons.set_index("person")["score"]
    assert members.sum() == pytest.approx(w * 0.7 * (ca + cb), rel=1e-12)
    assert cell["score"] < members.sum()


def test_several_links_of_one_person_to_one_event_are_one_estimate():
    """Suspected (0.5), then arrested (0.6): the person took part with probability 0.6, not 0.8."""
    res = _result(_events(1), _perps([(0, "cjng", 1.0)]))
    w = float(res.events["weight"].iloc[0])
    links = pd.concat([_links([("p_a", 0, 0.5)], "suspect"), _links([("p_a", 0, 0.6)], "arrested")])
    out = score_persons(
        res, CELLS, _members([("p_a", "c1")]), links, REG, Target("org", "cjng"), seed=7, draws=200
    )
    assert out.persons.iloc[0]["score"] == pytest.approx(w * 0.6, rel=1e-12)
    ev = scoring.evidence(out)
    assert ev["kind"].tolist() == ["arrested;suspect"]
    assert ev["contribution"].sum() == pytest.approx(w * 0.6, rel=1e-12)


def test_tied_persons_share_rank_1_and_neither_is_named():
    """Two co-defendants convicted on the same events have the same draws: rank 1 is shared at
    random, so neither reaches the threshold, whatever their pseudonyms' order."""
    res = _result(_events(3), _perps([(i, "cjng", 1.0) for i in range(3)]), draws=2000)
    links = _links([(p, i, 1.0) for p in ("p_a", "p_b") for i in range(3)], "convicted")
    out = score_persons(res, CELLS, _members([("p_a", "c1"), ("p_b", "c1")]), links, REG,
                        Target("org", "cjng"), seed=7, draws=2000)  # fmt: skip
    p = out.persons.set_index("person")["p_rank1"]
    assert p.sum() == pytest.approx(1.0)
    assert abs(p["p_a"] - 0.5) < 5 * np.sqrt(0.25 / 2000)
    assert not out.persons["named"].any()


def test_certain_links_reproduce_the_organizations_own_draws():
    """Confidence 1 on every event of an organization: the person's draws are the organization's."""
    rows = [(i, "cjng", 0.6) for i in range(6)] + [(i, "sinaloa", 0.3) for i in range(6)]
    res = _result(_events(6), _perps(rows), draws=1000, seed=11)
    out = score_persons(
        res, CELLS, _members([("p_a", "c1")]), _links([("p_a", i, 1.0) for i in range(6)]), REG,
        Target("org", "cjng"), seed=11, draws=1000,
    )  # fmt: skip
    org = res.table.set_index("org").loc["cjng"]
    person = out.persons.iloc[0]
    assert person["score"] == pytest.approx(org["score"], rel=1e-12)
    assert person["lo90"] == pytest.approx(org["lo90"], rel=1e-12)
    assert person["hi90"] == pytest.approx(org["hi90"], rel=1e-12)


def test_links_that_cannot_count_are_reported_by_reason():
    res = _result(_events(2), _perps([(0, "cjng", 1.0), (1, "sinaloa", 1.0)]))
    links = _links([("p_a", 0, 0.5), ("p_a", 1, 0.5), ("p_b", 0, 0.5)])
    links = pd.concat([links, _links([("p_a", 0, 0.5)]).assign(source_id="late")])
    members = pd.concat([_members([("p_a", "c1")]), _members([("p_b", "c2")], start=date(2021, 6, 1))])
    out = score_persons(res, CELLS, members, links, REG, Target("all"), seed=7, draws=100)
    assert out.excluded == {
        "outside the window": 1,
        "no membership on the event's date": 1,  # p_b joined after the event
        "event not attributed to the cell's organization": 1,  # event 1 is Sinaloa's, p_a is CJNG
    }
    assert list(out.persons["person"]) == ["p_a"]


def test_a_clear_leader_is_named_and_a_close_race_is_not():
    res = _result(_events(4), _perps([(i, "cjng", 1.0) for i in range(4)]), draws=1000)
    clear = score_persons(
        res, CELLS, _members([("p_a", "c1"), ("p_b", "c1")]),
        _links([("p_a", i, 0.99) for i in range(4)] + [("p_b", 0, 0.05)]), REG,
        Target("org", "cjng"), seed=7, draws=1000,
    )  # fmt: skip
    assert clear.persons.iloc[0]["person"] == "p_a" and bool(clear.persons.iloc[0]["named"])
    assert clear.decisions["persons"].startswith("confident")
    close = score_persons(
        res, CELLS, _members([("p_a", "c1"), ("p_b", "c1")]),
        _links([("p_a", 0, 0.5), ("p_a", 1, 0.5), ("p_b", 0, 0.5), ("p_b", 1, 0.5)]), REG,
        Target("org", "cjng"), seed=7, draws=1000,
    )  # fmt: skip
    assert not close.persons["named"].any()
    assert close.decisions["persons"].startswith("no confident top")
    # P(rank 1) adds up to at most 1 (draws where nobody scores count for nobody)
    assert close.persons["p_rank1"].sum() <= 1 + 1e-12


def test_p_rank1_matches_a_hand_computation():
    """Two persons, each on their own certain event with confidence a and b: A ranks first when
    A's link is true and A's event weighs more, or when B's link is false. Event 1 weighs more."""
    res = _result(_events(2), _perps([(0, "cjng", 1.0), (1, "cjng", 1.0)]), draws=20000)
    w = res.events["weight"].to_numpy()
    assert w[1] > w[0]
    a, b = 0.6, 0.7  # A on event 0 (lighter), B on event 1 (heavier)
    out = score_persons(
        res, CELLS, _members([("p_a", "c1"), ("p_b", "c2")]), _links([("p_a", 0, a), ("p_b", 1, b)]), REG,
        Target("org", "cjng"), seed=3, draws=20000,
    )  # fmt: skip
    p = out.persons.set_index("person")["p_rank1"]
    want_b, want_a = b, a * (1 - b)
    se = np.sqrt(0.25 / 20000)
    assert abs(p["p_b"] - want_b) < 4 * se and abs(p["p_a"] - want_a) < 4 * se


def test_region_target_counts_only_the_regions_events():
    ev = pd.concat([_events(2, state="14"), _events(1, state="16").assign(source_id="m")], ignore_index=True)
    pp = pd.concat(
        [_perps([(0, "cjng", 1.0), (1, "cjng", 1.0)]), _perps([(0, "cjng", 1.0)]).assign(source_id="m")]
    )
    res = _result(ev, pp)
    links = _links([("p_a", 0, 1.0), ("p_a", 1, 1.0)])
    links = pd.concat([links, _links([("p_a", 0, 1.0)]).assign(source_id="m")])
    w = res.events.set_index("source_id")["weight"]
    out = score_persons(
        res, CELLS, _members([("p_a", "c1")]), links, REG, Target("region", "16"), seed=7, draws=100
    )
    assert out.persons.iloc[0]["score"] == pytest.approx(w["m"], rel=1e-12)


def test_every_organization_is_its_own_group_with_target_all():
    res = _result(_events(2), _perps([(0, "cjng", 1.0), (1, "sinaloa", 1.0)]))
    out = score_persons(
        res, CELLS, _members([("p_a", "c1"), ("p_s", "s1")]), _links([("p_a", 0, 1.0), ("p_s", 1, 1.0)]), REG,
        Target("all"), seed=7, draws=200,
    )  # fmt: skip
    assert set(out.persons["org"]) == {"cjng", "sinaloa"}
    # each leads its own organization with certainty
    assert out.persons["p_rank1"].tolist() == [1.0, 1.0]
    assert out.persons["rank"].tolist() == [1, 1]


def test_same_seed_same_tables_and_another_seed_only_moves_the_draws():
    res = _result(_events(5), _perps([(i, "cjng", 0.7) for i in range(5)]), draws=300)
    links = _links([("p_a", i, 0.4) for i in range(5)] + [("p_b", i, 0.5) for i in range(0, 5, 2)])
    members = _members([("p_a", "c1"), ("p_b", "c2")])

    def run(seed):
        return score_persons(res, CELLS, members, links, REG, Target("org", "cjng"), seed=seed, draws=300)

    one, two, other = run(5), run(5), run(6)
    pd.testing.assert_frame_equal(one.persons, two.persons)
    pd.testing.assert_frame_equal(one.cells, two.cells)
    pd.testing.assert_series_equal(one.persons["score"], other.persons["score"])
    assert not np.allclose(one.persons["lo90"].tolist() + one.persons["hi90"].tolist() + one.persons["p_rank1"].tolist(),
                           other.persons["lo90"].tolist() + other.persons["hi90"].tolist() + other.persons["p_rank1"].tolist())  # fmt: skip


def test_a_faction_cell_counts_for_its_organization():
    factions = [o.id for o in REG.orgs.values() if o.kind == "faction" and o.parent]
    fid = factions[0]
    parent = REG.orgs[fid].parent
    res = _result(_events(1), _perps([(0, parent, 1.0)]))
    cells = pd.DataFrame({"cell": ["f1"], "org_id": [fid], "name": [None], "region": [None]})
    out = score_persons(res, cells, _members([("p_a", "f1")]), _links([("p_a", 0, 0.5)]), REG,
                        Target("org", parent), seed=7, draws=100)  # fmt: skip
    assert out.persons.iloc[0]["org"] == parent
    assert out.persons.iloc[0]["score"] == pytest.approx(0.5 * float(res.events["weight"].iloc[0]), rel=1e-12)


def test_provenance_in_meta():
    res = _result(_events(1), _perps([(0, "cjng", 1.0)]))
    out = score_persons(res, CELLS, _members([("p_a", "c1")]), _links([("p_a", 0, 1.0)]), REG,
                        Target("org", "cjng"), seed=9, draws=50)  # fmt: skip
    for k in ("vdto_version", "rubric_sha256", "data_sha256", "records_sha256", "seed", "draws", "target"):
        assert k in out.meta
    assert out.meta["seed"] == 9 and out.meta["target"] == "org:cjng"


@pytest.mark.parametrize("module", [keys, scoring])
def test_doctests(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_a_target_with_no_links_gives_empty_tables_with_their_columns():
    res = _result(_events(1), _perps([(0, "cjng", 1.0)]))
    out = score_persons(res, CELLS, _members([("p_a", "c1")]), _links([("p_a", 0, 1.0)]), REG,
                        Target("org", "sinaloa"), seed=7, draws=50)  # fmt: skip
    assert out.persons.empty and list(out.persons.columns) == list(scoring.PERSON_TABLE)
    assert out.cells.empty and list(out.cells.columns) == list(scoring.CELL_TABLE)
    assert out.decisions == {}
