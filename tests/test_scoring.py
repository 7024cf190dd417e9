"""Scoring: hand-computed points, attribution, decay, roll-up, Monte Carlo, CRN, the target rule."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from vdto.orgs import Registry
from vdto.scoring import Rubric, decide, margins, robustness, score_frames, what_if
from vdto.scoring.points import decay, event_points

END = date(2020, 12, 31)
REG = Registry.seed()


def rubric(**changes) -> Rubric:
    """The default rubric with sections replaced, e.g. rubric(time={"half_life_days": 0})."""
    base = Rubric.default()
    update = {k: getattr(base, k).model_copy(update=v) for k, v in changes.items()}
    return base.model_copy(update=update)


FLAT = rubric(time={"half_life_days": 0})


def events(*rows: dict) -> pd.DataFrame:
    """Canonical events with defaults: one day, homicide, no victims."""
    out = []
    for i, r in enumerate(rows):
        d = r.pop("date", END)
        out.append(
            {
                "source": "t", "source_id": str(i + 1), "date_start": d, "date_end": r.pop("date_end", d),
                "country": "MEX", "state_code": r.pop("state", "11"), "mun_code": None, "latitude": np.nan,
                "longitude": np.nan, "location_precision": None, "category": "homicide", "deaths_best": 0,
                "deaths_low": 0, "deaths_high": 0, "torture_display": False, "reliability": 1.0, "notes": None,
                **{f"victims_{k}": 0 for k in ("civilian", "police", "military", "official", "journalist", "dto_member", "unknown")},
                **r,
            }
        )  # fmt: skip
    frame = pd.DataFrame(out)
    frame["deaths_low"] = frame["deaths_best"]
    frame["deaths_high"] = frame["deaths_best"]
    return frame


def perps(*rows: tuple) -> pd.DataFrame:
    """(event number, org id, probability[, faction id])."""
    out = []
    for r in rows:
        ev, org, p = r[:3]
        fac = r[3] if len(r) > 3 else None
        out.append(
            {
                "source": "t",
                "source_id": str(ev),
                "raw_name": fac or org,
                "org_id": org,
                "faction_id": fac,
                "faction": fac,
                "probability": p,
            }
        )
    return pd.DataFrame(out)


def run(ev, pp, rub=FLAT, **kw):
    return score_frames(ev, pp, REG, start=date(2020, 1, 1), end=END, rubric=rub, **kw)


@pytest.mark.parametrize(
    ("event", "points"),
    [
        ({"deaths_best": 1, "victims_civilian": 1}, 2.0),
        ({"category": "armed_clash", "deaths_best": 2, "victims_dto_member": 2}, 2.0),
        ({"deaths_best": 1, "victims_police": 1}, 3.0),
        ({"deaths_best": 1, "victims_journalist": 1, "category": "attack_journalist"}, 4.0),
        ({"deaths_best": 3}, 3.0),  # no victim kinds: unknown, 1.0 each
        ({"deaths_best": 6, "victims_unknown": 6}, 9.0),  # massacre: 6 x 1.0 x 1.5
        ({"deaths_best": 5, "victims_civilian": 5}, 15.0),  # 5 x 2.0 x 1.5
        ({"deaths_best": 2, "victims_civilian": 2, "torture_display": True}, 6.0),  # 2 x 2.0 + 2 x 1.0
        ({"category": "kidnapping", "victims_civilian": 3}, 3.0),  # 3 kidnapped, none killed
        ({"category": "kidnapping"}, 1.0),  # a kidnapping with no count has one victim
        ({"category": "kidnapping", "deaths_best": 1, "victims_civilian": 3}, 2.0 * 1 + 1.0 * 2),
        ({"category": "attack_security_forces"}, 0.5),  # attack without deaths
        ({"deaths_best": 2, "victims_civilian": 1, "victims_dto_member": 1}, 3.0),
    ],
)
def test_event_points_by_hand(event, points):
    assert event_points(events(event), Rubric.default())[0] == pytest.approx(points)


def test_decay_halves_every_half_life():
    ev = events({"date": END}, {"date": END - timedelta(days=180)}, {"date": END - timedelta(days=360)})
    assert decay(ev, END, 180) == pytest.approx([1.0, 0.5, 0.25])
    # an event known only to a month counts from the middle of the month
    ev = events({"date": date(2020, 12, 1), "date_end": date(2020, 12, 31)})
    assert decay(ev, END, 180)[0] == pytest.approx(0.5 ** (15 / 180))
    assert decay(ev, END, 0)[0] == 1.0


def test_exact_scores_with_known_weights():
    ev = events(
        {"deaths_best": 1, "victims_civilian": 1},
        {"deaths_best": 1, "victims_police": 1},
        {"deaths_best": 2, "victims_dto_member": 2},
    )
    pp = perps((1, "cjng", 1.0), (2, "cjng", 1.0), (3, "sinaloa", 1.0))
    res = run(ev, pp, draws=50)
    assert dict(zip(res.table["org"], res.table["score"], strict=True)) == {"cjng": 5.0, "sinaloa": 2.0}
    # certain attribution: every draw equals the expected score, so the interval is a point
    assert (res.table["lo90"] == res.table["score"]).all() and (res.table["hi90"] == res.table["score"]).all()
    assert res.table["p_rank1"].tolist() == [1.0, 0.0]


def test_event_split_fifty_fifty():
    ev = events({"deaths_best": 4, "victims_dto_member": 4})
    pp = perps((1, "cjng", 0.5), (1, "sinaloa", 0.5))
    res = run(ev, pp, draws=4000)
    assert res.table["score"].tolist() == [2.0, 2.0]
    # each draw gives the whole event to one of the two
    assert set(np.unique(res.samples)) == {0.0, 4.0}
    assert (res.samples.sum(axis=1) == 4.0).all()
    assert res.table["p_rank1"].sum() == pytest.approx(1.0)
    assert res.table["p_rank1"].min() == pytest.approx(0.5, abs=0.03)


def test_unknown_share_scores_for_nobody_and_state_actors_are_not_ranked():
    ev = events({"deaths_best": 2, "victims_civilian": 2})
    pp = perps((1, "cjng", 0.25), (1, "government_of_mexico", 0.5))
    res = run(ev, pp, draws=2000)
    assert res.table["org"].tolist() == ["cjng"]
    assert res.table["score"].iloc[0] == pytest.approx(1.0)
    assert np.mean(res.samples[:, 0] > 0) == pytest.approx(0.25, abs=0.03)


def test_faction_roll_up_is_configurable():
    fac = REG.resolve("Sinaloa Cartel - Los Chapitos").faction_id
    ev = events({"deaths_best": 1, "victims_civilian": 1}, {"deaths_best": 1, "victims_civilian": 1})
    pp = perps((1, "sinaloa", 1.0, fac), (2, "sinaloa", 1.0))
    rolled = run(ev, pp, draws=10)
    assert dict(zip(rolled.table["org"], rolled.table["score"], strict=True)) == {"sinaloa": 4.0}
    apart = run(
        ev, pp, rub=rubric(time={"half_life_days": 0}, attribution={"roll_up_factions": False}), draws=10
    )
    assert dict(zip(apart.table["org"], apart.table["score"], strict=True)) == {fac: 2.0, "sinaloa": 2.0}


def test_raising_journalist_weight_changes_the_ranking_as_computed_by_hand():
    # cjng kills one journalist (4.0); sinaloa kills five rival members (5 x 1.0 x 1.5 massacre = 7.5)
    ev = events({"deaths_best": 1, "victims_journalist": 1}, {"deaths_best": 5, "victims_dto_member": 5})
    pp = perps((1, "cjng", 1.0), (2, "sinaloa", 1.0))
    before = run(ev, pp, draws=10)
    assert before.table["org"].tolist() == ["sinaloa", "cjng"]
    assert before.table["score"].tolist() == [7.5, 4.0]
    # journalist weight 8.0: cjng 8.0 > sinaloa 7.5
    after = run(ev, pp, rub=rubric(time={"half_life_days": 0}, victims={"journalist": 8.0}), draws=10)
    assert after.table["org"].tolist() == ["cjng", "sinaloa"]
    assert after.table["score"].tolist() == [8.0, 7.5]
    assert before.meta["rubric_sha256"] != after.meta["rubric_sha256"]
    assert before.meta["data_sha256"] == after.meta["data_sha256"]


def test_dismantled_organizations_are_listed_apart():
    ev = events({"deaths_best": 1, "victims_civilian": 1}, {"deaths_best": 1, "victims_civilian": 1})
    pp = perps((1, "la_familia", 1.0), (2, "cjng", 1.0))
    assert REG.get("la_familia").status == "dismantled"
    res = run(ev, pp, draws=10)
    assert res.table["org"].tolist() == ["cjng"]
    assert res.dismantled["org"].tolist() == ["la_familia"] and res.dismantled["score"].iloc[0] == 2.0
    early = score_frames(
        ev.assign(date_start=date(2009, 6, 1), date_end=date(2009, 6, 1)),
        pp,
        REG,
        start=date(2009, 1, 1),
        end=date(2009, 12, 31),
        rubric=FLAT,
        draws=10,
    )
    assert "la_familia" in set(early.table["org"])  # not yet dismantled in 2009


def _random_problem(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    orgs = ["cjng", "sinaloa", "gulf", "zetas", "juarez", "csrl"]
    rows, pl = [], []
    for i in range(n):
        rows.append(
            {
                "deaths_best": int(rng.integers(0, 4)),
                "victims_civilian": 0,
                "date": END - timedelta(days=int(rng.integers(0, 300))),
            }
        )
        rows[-1]["victims_dto_member"] = rows[-1]["deaths_best"]
        k = int(rng.integers(1, 3))
        pick = rng.choice(len(orgs), size=k, replace=False, p=[0.3, 0.3, 0.1, 0.1, 0.1, 0.1])
        probs = [1.0] if k == 1 else [0.6, 0.4]
        pl += [(i + 1, orgs[j], p) for j, p in zip(pick, probs, strict=True)]
    return events(*rows), perps(*pl)


def test_monte_carlo_mean_and_variance_match_the_analytic_values():
    ev, pp = _random_problem(400)
    res = run(ev, pp, rub=Rubric.default(), draws=4000)
    mean = res.samples.mean(axis=0)
    sd = res.samples.std(axis=0)
    w = res.events["weight"].to_numpy()
    for j, org in enumerate(res.table["org"]):
        att = res.attribution[res.attribution["org"] == org]
        p, we = att["prob"].to_numpy(), w[att["event"].to_numpy()]
        var = np.sum(we**2 * p * (1 - p))
        assert mean[j] == pytest.approx(res.table["score"].iloc[j], abs=4 * np.sqrt(var / 4000) + 1e-9)
        assert sd[j] == pytest.approx(np.sqrt(var), rel=0.08)


def test_same_seed_same_bytes_and_other_seed_within_intervals():
    ev, pp = _random_problem(300)
    a = run(ev, pp, rub=Rubric.default(), seed=11)
    b = run(ev, pp, rub=Rubric.default(), seed=11)
    assert a.samples.tobytes() == b.samples.tobytes()
    assert a.table.to_csv().encode() == b.table.to_csv().encode()
    c = run(ev, pp, rub=Rubric.default(), seed=12)
    assert not np.array_equal(a.samples, c.samples)
    assert (a.table["score"] == c.table["score"]).all()  # the expected score does not depend on the seed
    # the other seed's interval ends stay inside this seed's interval widened by a tenth of its width
    width = a.table["hi90"] - a.table["lo90"]
    assert ((c.table["lo90"] - a.table["lo90"]).abs() <= 0.1 * width + 1e-9).all()
    assert ((c.table["hi90"] - a.table["hi90"]).abs() <= 0.1 * width + 1e-9).all()
    assert (c.table["p_rank1"] - a.table["p_rank1"]).abs().max() < 0.05


def test_common_random_numbers_across_rubrics_and_data():
    ev, pp = _random_problem(300)
    a = run(ev, pp, seed=5)
    doubled = rubric(
        time={"half_life_days": 0},
        categories={k: 2 * v for k, v in Rubric.default().category_weights().items()},
    )
    b = run(ev, pp, rub=doubled, seed=5)
    # the same events go to the same organizations in every draw: every draw doubles exactly
    assert np.array_equal(b.samples, 2 * a.samples)
    # adding events of a new organization leaves the other organizations' draws untouched
    extra_ev = pd.concat([ev, events({"deaths_best": 3}).assign(source_id="new")], ignore_index=True)
    extra_pp = pd.concat([pp, perps((0, "lnfm", 1.0)).assign(source_id="new")], ignore_index=True)
    c = run(extra_ev, extra_pp, seed=5)
    for org in a.table["org"]:
        ja, jc = list(a.table["org"]).index(org), list(c.table["org"]).index(org)
        assert np.array_equal(a.samples[:, ja], c.samples[:, jc])


def test_hybrid_draws_match_exact_draws():
    ev, pp = _random_problem(3000, seed=3)
    exact = run(ev, pp, rub=Rubric.default(), draws=3000, seed=2)
    hybrid = run(ev, pp, rub=Rubric.default(), draws=3000, seed=2, exact_limit=300)
    for col in ("lo90", "hi90"):
        rel = (hybrid.table[col] - exact.table[col]).abs() / exact.table["score"]
        assert rel.max() < 0.03, (col, rel.max())
    assert (hybrid.table["score"] == exact.table["score"]).all()
    assert (hybrid.table["p_rank1"] - exact.table["p_rank1"]).abs().max() < 0.05


def test_target_rule_names_or_declines():
    ev = events(*[{"deaths_best": 1, "victims_civilian": 1} for _ in range(30)])
    clear = run(
        ev, perps(*[(i + 1, "cjng", 1.0) for i in range(20)], *[(i + 21, "sinaloa", 1.0) for i in range(10)])
    )
    d = decide(clear)
    assert d.target == "cjng" and d.p_rank1 == 1.0 and d.fallback is None
    # every event split evenly: a coin toss, no confident target
    tied = run(ev, perps(*[(i + 1, o, 0.5) for i in range(30) for o in ("cjng", "sinaloa")]), draws=2000)
    d = decide(tied)
    assert d.target is None and "no confident target" in d.reason and "regional fallback" in d.fallback
    assert "overlaps" in d.reason


def test_margins_what_if_and_robustness_by_hand():
    # cjng: events of weight 5, 3 and 1 (civilian deaths x 2.0 points); sinaloa: one of weight 6
    ev = events(
        {"deaths_best": 2, "victims_civilian": 1, "victims_dto_member": 1},  # 3.0
        {"deaths_best": 1, "victims_police": 1},  # 3.0
        {"deaths_best": 1, "victims_civilian": 1},  # 2.0
        {"deaths_best": 3, "victims_civilian": 3},  # 6.0
    )
    pp = perps((1, "cjng", 1.0), (2, "cjng", 1.0), (3, "cjng", 1.0), (4, "sinaloa", 1.0))
    res = run(ev, pp, draws=10)
    m = margins(res)
    assert m["score"].tolist() == [8.0, 6.0]
    assert m.loc[0, "cut_to_lose_first"] == pytest.approx(0.25)
    assert m.loc[1, "rise_to_first"] == pytest.approx(8 / 6 - 1)
    wi = what_if(res, "cjng", 0.5)
    assert wi["org"].tolist() == ["sinaloa", "cjng"] and wi["score"].tolist() == [6.0, 4.0]
    assert wi["rank_before"].tolist() == [2, 1]
    # gap 2: moving one event of weight 3 to sinaloa swings the gap by 6
    k, moved, chosen = robustness(res)
    assert (k, moved) == (1, 3.0) and len(chosen) == 1


def test_rubric_errors_name_the_key(tmp_path):
    from vdto.errors import ConfigError
    from vdto.scoring import load_rubric

    cases = {
        "unknown key": (
            'name = "x"\nversion = 1\n[victims]\nbystander = 2.0\n',
            "victims.bystander",
            "unknown key",
        ),
        "unknown category": (
            'name = "x"\nversion = 1\n[categories]\nriot = 1.0\n',
            "categories.riot",
            "unknown key",
        ),
        "negative weight": (
            'name = "x"\nversion = 1\n[victims]\ncivilian = -1\n',
            "victims.civilian",
            "greater than or equal to 0",
        ),
        "bad threshold": (
            'name = "x"\nversion = 1\n[target]\nthreshold = 1.5\n',
            "target.threshold",
            "less than or equal to 1",
        ),
        "bad toml": ('name = "x\n', "", "invalid TOML"),
    }
    for name, (body, key, message) in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.toml"
        path.write_text(body)
        with pytest.raises(ConfigError) as info:
            load_rubric(path)
        assert key in str(info.value) and message in str(info.value), (name, str(info.value))
        assert "\n" not in str(info.value)


def test_rubric_hash_is_canonical(tmp_path):
    from vdto.scoring import load_rubric, rubric_diff

    shipped = load_rubric(None)
    # the same content written differently (order, comments, defaults spelled out) hashes the same
    path = tmp_path / "same.toml"
    path.write_text(
        '# mine\nversion = 1\nname = "default-v1"\ndescription = "'
        + shipped.description
        + '"\n[target]\nthreshold = 0.90\n'
    )
    assert load_rubric(path).sha256() == shipped.sha256()
    path.write_text(path.read_text().replace("0.90", "0.95"))
    changed = load_rubric(path)
    assert changed.sha256() != shipped.sha256()
    assert rubric_diff(shipped, changed) == [("target.threshold", 0.9, 0.95)]
