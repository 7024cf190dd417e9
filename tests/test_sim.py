"""The simulator: each mechanism on a tiny world with a known result, reproducibility, common
random numbers, the runners, results and provenance, and the stylized facts of docs/model.md."""

from __future__ import annotations

import dataclasses
import json
import warnings
from importlib import resources

import numpy as np
import pyarrow.parquet as pq
import pytest

from vdto.errors import ConfigError, InputFileError, VdtoError
from vdto.sim.engine import KIND_POINTS, KINDS, Outputs, simulate
from vdto.sim.params import POLICIES, Scenario, check_policy, load_scenario
from vdto.sim.results import compare_table, long_frame, provenance, write_parquet
from vdto.sim.runner import run, world_for
from vdto.sim.world import World, grid_world

FIELDS = [f.name for f in dataclasses.fields(Outputs)]
#: Violence held at (nearly) zero: the only levels are 0 and 1e-4, starting at 0.
QUIET = {"levels": [0.0, 0.0001], "start": 0.0}
#: ... and no clash at all, so ownership cannot change (exact bookkeeping tests).
FROZEN = {**QUIET, "attack_rate": 0.0}


def scenario(months: int = 12, replicates: int = 4, seed: int = 3, **sections) -> Scenario:
    return Scenario.model_validate(
        {"run": {"months": months, "replicates": replicates, "seed": seed}, **sections}
    )


#: Outputs that are counts or labels: equal to the last bit however the replicates are split.
DISCRETE = ["deaths", "alive", "target", "dismantled", "focal"]


def assert_same(a: Outputs, b: Outputs, names=FIELDS) -> None:
    """Bitwise equal (nan equal to nan)."""
    for name in names:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def assert_same_split(a: Outputs, b: Outputs) -> None:
    """Equal counts and labels, and floats within 1e-12."""
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        if name in DISCRETE:
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12, err_msg=name)


def points(out: Outputs) -> np.ndarray:
    """Score points per (replicate, month, organization), recomputed from the outputs with the
    rubric default-v1's points and the model's victim split (independent of the model's code)."""
    v = np.nan_to_num(out.violence)
    rival = np.clip(0.7 - 0.4 * v, 0.0, 1.0)
    other = 0.80 * 2.0 + 0.12 * 3.0 + 0.05 * 4.0 + 0.03 * 4.0  # civilians, police, officials, journalists
    return out.deaths_org * (rival * 1.0 + (1.0 - rival) * other)


def uneven_world() -> World:
    """4 x 4 grid, two rivals: org 0 holds columns 0-2 (value 12), org 1 column 3 (value 4)."""
    w = grid_world(4, 4, 2)
    owner = np.where(np.arange(16) % 4 == 3, 1, 0).astype(np.int32)
    return dataclasses.replace(w, owner=owner).check()


# ------------------------------------------------------------------------------- mechanisms


def test_no_violence_nothing_changes_hands_and_nobody_dies():
    w = grid_world(4, 4, 2)
    out = simulate(w, scenario(24, 8, violence=QUIET), "none")
    assert out.deaths.sum() == 0 and out.deaths_kind.sum() == 0 and out.deaths_org.sum() == 0
    assert np.nanmax(out.violence) <= 1e-4
    # nothing changes hands: revenue (16 of plaza value + 16 of buyer volume) never moves
    np.testing.assert_allclose(out.revenue_mexico, 32.0)
    assert (out.alive == 2).all()


def test_attack_rate_zero_means_no_clashes():
    out = simulate(grid_world(4, 4, 2), scenario(24, 8, violence={"attack_rate": 0.0}), "none")
    assert np.nanmax(out.violence[:, 0]) > 0.1  # organizations still carry violence ...
    assert out.deaths.sum() == 0  # ... but never attack
    np.testing.assert_allclose(out.revenue_mexico, 32.0)


@pytest.mark.parametrize(
    "policy",
    [
        "none",
        "volume",
        "regional",
        "targeted",
    ],
)
def test_single_organization_has_no_hostile_edges(policy):
    out = simulate(grid_world(4, 4, 1), scenario(24, 4, enforcement={"start_month": 0}), policy)
    assert out.deaths.sum() == 0


def test_allied_pair_never_fights():
    w = grid_world(4, 4, 2)
    allied = dataclasses.replace(w, hostility=np.zeros((2, 2))).check()
    sc = scenario(24, 8)
    fight = simulate(w, sc, "none")
    peace = simulate(allied, sc, "none")
    assert fight.deaths.sum() > 0
    assert peace.deaths.sum() == 0
    np.testing.assert_allclose(peace.revenue_mexico, 32.0)  # no plaza changed hands
    assert np.nanmax(peace.violence[:, 0]) > 0.1


def test_deaths_split_into_victim_kinds_that_sum_to_the_total():
    out = simulate(grid_world(6, 6, 3), scenario(24, 10), "none")
    assert out.deaths.sum() > 100
    assert np.array_equal(out.deaths, np.round(out.deaths))  # Poisson counts
    np.testing.assert_allclose(out.deaths_kind.sum(axis=2), out.deaths, atol=1e-9)
    np.testing.assert_allclose(out.deaths_org.sum(axis=2), out.deaths, atol=1e-9)
    total = out.deaths_kind.sum(axis=(0, 1))
    assert KINDS[0] == "dto_member"
    assert 0.3 <= total[0] / total.sum() <= 0.7  # rival share 0.7 - 0.4 x violence
    np.testing.assert_allclose(total[1:] / total[1:].sum(), [0.80, 0.12, 0.05, 0.03])


def test_victim_points_are_the_rubric_defaults():
    from vdto.scoring.rubric import load_rubric

    v = load_rubric().victims
    assert list(KIND_POINTS) == [getattr(v, k) for k in KINDS]


def test_dismantled_organization_leaves_its_plazas_unowned():
    # all capacity on the target (org 0: every score is 0, the tie goes to the first), far above
    # its strength: dismantled in month 1; its plazas (value 8) earn nothing, its buyers move
    sc = scenario(3, 4, violence=FROZEN,
                  enforcement={"start_month": 0, "capacity": 5.0, "score_noise": 0.0})  # fmt: skip
    out = simulate(grid_world(4, 4, 2), sc, "targeted")
    assert (out.target[:, 0] == 0).all()
    assert (out.alive[:, 0] == 1).all() and (out.dismantled[:, 0] == 1).all()
    assert np.isnan(out.violence[:, 0, 0]).all()
    np.testing.assert_allclose(out.revenue_mexico[:, 0], 32.0)
    np.testing.assert_allclose(out.revenue_mexico[:, 1], 8.0 + 16.0)  # org 1's plazas + every buyer


@pytest.mark.parametrize(
    ("capacity", "alive"), [(1.25, [True, True]), (1.35, [False, True]), (2.2, [False, False])]
)
def test_volume_enforcement_hits_in_proportion_to_revenue(capacity, alive):
    # revenues 20 and 12 (shares 0.625 and 0.375 of the capacity); strength after the first
    # policy month is 1 + 0.02 x revenue / 16 - 0.02 - hit: org 0 falls below 0.2 from a
    # capacity of 1.288, org 1 from 2.12
    sc = scenario(1, 3, violence=FROZEN, enforcement={"start_month": 0, "capacity": capacity})
    out = simulate(uneven_world(), sc, "volume")
    assert (~np.isnan(out.violence[:, 0, :]) == alive).all()
    none = simulate(uneven_world(), sc, "none")
    assert (none.alive == 2).all()


def test_targeted_names_the_highest_published_score():
    sc = scenario(20, 12, enforcement={"start_month": 6, "score_noise": 0.0, "dismantle_below": 0.0})
    out = simulate(grid_world(6, 6, 3), sc, "targeted")
    p = points(out)
    assert (out.target[:, :6] == -1).all()
    for t in range(6, 20):
        score = p[:, max(0, t - 11) : t + 1].sum(axis=1)
        top = score.max(axis=1)
        np.testing.assert_allclose(score[np.arange(12), out.target[:, t]], top, rtol=1e-9)
    # with attribution noise the published top is not always the true top
    noisy = simulate(grid_world(6, 6, 3), sc.model_copy(
        update={"enforcement": sc.enforcement.model_copy(update={"score_noise": 1.0})}), "targeted")  # fmt: skip
    pn = points(noisy)
    wrong = 0
    for t in range(6, 20):
        score = pn[:, max(0, t - 11) : t + 1].sum(axis=1)
        wrong += int((score.argmax(axis=1) != noisy.target[:, t]).sum())
    assert wrong > 0


@pytest.mark.parametrize(("switch", "alive_after"), [(1.0, 1), (0.0, 2)])
def test_buyers_of_the_target_switch_away(switch, alive_after):
    # growth 1 and upkeep 1 make strength = revenue / 16 each month, and no capacity is spent:
    # only the buyers' switch can bring the target (org 0) below 0.75. With every buyer gone it
    # earns its plazas' 8 (strength 0.5) from the month after the announcement
    sc = scenario(
        4, 3, violence=FROZEN, economy={"growth": 1.0, "upkeep": 1.0},
        enforcement={"start_month": 0, "capacity": 0.0, "score_noise": 0.0, "buyer_switch": switch,
                     "dismantle_below": 0.75},
    )  # fmt: skip
    out = simulate(grid_world(4, 4, 2), sc, "targeted")
    assert (out.target[:, 0] == 0).all()
    assert (out.alive[:, 0] == 2).all()
    assert (out.alive[:, 1] == alive_after).all()
    np.testing.assert_allclose(out.revenue_mexico[:, 1], 32.0)  # buyers moved, none lost
    if alive_after == 1:
        assert np.isnan(out.violence[:, 1, 0]).all() and not np.isnan(out.violence[:, 1, 1]).any()


@pytest.mark.parametrize(("probability", "slots", "after"), [(1.0, 8, 3), (0.0, 8, 2), (1.0, 0, 2)])
def test_kingpin_strike_splinters(probability, slots, after):
    sc = scenario(
        6, 4, violence=FROZEN, world={"splinter_slots": slots},
        enforcement={"start_month": 2, "splinter_probability": probability, "dismantle_below": 0.0},
    )  # fmt: skip
    out = simulate(grid_world(4, 4, 2), sc, "kingpin")
    assert out.deaths_org.shape[2] == 2 + slots
    assert (out.alive[:, :2] == 2).all()
    assert (out.alive[:, 2:] == after).all()  # one strike in 6 months (interval 12)
    np.testing.assert_allclose(out.revenue_mexico, 32.0)  # plazas and buyers split, not lost


def test_caribbean_flow_factor_scales_revenue_from_start_month():
    sc = scenario(8, 4, violence=FROZEN, enforcement={"start_month": 3})
    w = grid_world(4, 4, 2)
    none = simulate(w, sc, "none")
    car = simulate(w, sc, "caribbean", flow_factor=0.5)
    np.testing.assert_allclose(car.revenue_mexico[:, :3], none.revenue_mexico[:, :3])
    np.testing.assert_allclose(car.revenue_mexico[:, 3:], 0.5 * none.revenue_mexico[:, 3:])
    # flow_factor only acts under the Caribbean policy
    assert_same(simulate(w, sc, "none", flow_factor=0.5), none)


def test_caribbean_lowers_deaths_with_less_at_stake():
    sc = scenario(24, 20, enforcement={"start_month": 3})
    w = grid_world(6, 6, 3)
    none, car = simulate(w, sc, "none"), simulate(w, sc, "caribbean", flow_factor=0.5)
    assert car.deaths[:, 3:].sum() < none.deaths[:, 3:].sum()


def test_caribbean_from_month_zero_changes_behaviour():
    sc = scenario(24, 20, enforcement={"start_month": 0})
    w = grid_world(6, 6, 3)
    assert simulate(w, sc, "caribbean", flow_factor=0.5).deaths.sum() < simulate(w, sc, "none").deaths.sum()


def test_caribbean_default_flow_factor_comes_from_the_routes_module():
    from vdto.routes.lever import mexico_flow_factor

    sc = scenario(4, 2, violence=FROZEN, enforcement={"start_month": 0, "caribbean_change": -0.5})
    w = grid_world(4, 4, 2)
    factor = mexico_flow_factor(-0.5)
    assert 0 < factor < 1
    out = simulate(w, sc, "caribbean")
    assert_same(out, simulate(w, sc, "caribbean", flow_factor=factor))
    np.testing.assert_allclose(out.revenue_mexico, 32.0 * factor)
    other = sc.model_copy(
        update={"enforcement": sc.enforcement.model_copy(update={"caribbean_change": -0.25})}
    )
    assert not np.allclose(simulate(w, other, "caribbean").revenue_mexico, out.revenue_mexico)


def test_focal_is_the_largest_organization_when_the_policy_starts():
    w = dataclasses.replace(
        grid_world(4, 4, 2), owner=np.where(np.arange(16) % 4 == 0, 0, 1).astype(np.int32)
    )
    out = simulate(w, scenario(4, 3, violence=FROZEN, enforcement={"start_month": 1}), "none")
    assert (out.focal == 1).all()


# ------------------------------------------------------------------- randomness, reproducibility

POLICY_MIX = ["none", "kingpin+targeted+regional", "volume+caribbean"]


@pytest.mark.parametrize("policy", POLICY_MIX)
def test_same_seed_same_arrays_different_seed_different(policy):
    w = grid_world(6, 6, 3)
    sc = scenario(18, 5, enforcement={"start_month": 4})
    a = simulate(w, sc, policy, flow_factor=0.7)
    b = simulate(w, sc, policy, flow_factor=0.7)
    for name in FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name
    c = simulate(w, scenario(18, 5, seed=4, enforcement={"start_month": 4}), policy, flow_factor=0.7)
    assert not np.array_equal(a.deaths, c.deaths)


@pytest.mark.parametrize("policy", POLICY_MIX)
def test_splitting_replicates_gives_the_same_replicates(policy):
    w = grid_world(6, 6, 3)
    sc = scenario(18, 6, enforcement={"start_month": 4})
    whole = simulate(w, sc, policy, flow_factor=0.7)
    assert whole.deaths.sum() > 0
    for r in range(6):
        one = simulate(w, sc, policy, replicates=1, first=r, flow_factor=0.7)
        assert_same_split(one, Outputs(**{n: getattr(whole, n)[r : r + 1] for n in FIELDS}))
    parts = [simulate(w, sc, policy, replicates=n, first=f, flow_factor=0.7) for f, n in ((0, 2), (2, 4))]
    assert_same_split(Outputs(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in FIELDS}), whole)


def test_splitting_replicates_is_bitwise_identical():
    w = grid_world(6, 6, 3)
    sc = scenario(6, 6)
    whole = simulate(w, sc, "none")
    one = simulate(w, sc, "none", replicates=1, first=2)
    assert_same(one, Outputs(**{n: getattr(whole, n)[2:3] for n in FIELDS}))


def test_common_random_numbers_before_the_policy_starts():
    w = grid_world(6, 6, 3)
    s = 8
    sc = scenario(14, 6, enforcement={"start_month": s})
    none = simulate(w, sc, "none")
    assert none.deaths[:, :s].sum() > 0
    for policy in [*POLICIES[1:], "targeted+caribbean", "kingpin+volume"]:
        out = simulate(w, sc, policy, flow_factor=0.5)
        # (rival_violence leaves out the first organization the policy names, which differs by policy)
        for name in ("deaths", "deaths_kind", "alive", "revenue_mexico", "target", "dismantled",
                     "focal_deaths"):  # fmt: skip
            np.testing.assert_array_equal(getattr(out, name)[:, :s], getattr(none, name)[:, :s], err_msg=name)
        for name in ("deaths_org", "violence"):
            np.testing.assert_array_equal(
                getattr(out, name)[:, :s, :3], getattr(none, name)[:, :s], err_msg=name
            )
        np.testing.assert_array_equal(out.focal, none.focal)
        # and the policy does change something once it is on
        assert not np.array_equal(out.deaths[:, s:], none.deaths[:, s:]), policy


# ------------------------------------------------------------------------------------- runners


@pytest.fixture(scope="module")
def runner_case():
    w = grid_world(6, 6, 3)
    sc = scenario(12, 6, enforcement={"start_month": 3})
    policies = ["none", "kingpin", "targeted+caribbean"]
    return w, sc, policies, run(w, sc, policies, workers=1, chunk_size=2)


def test_runner_matches_simulate(runner_case):
    from vdto.routes.lever import mexico_flow_factor

    w, sc, policies, ref = runner_case
    flow = mexico_flow_factor(sc.enforcement.caribbean_change)
    for p in policies:
        assert_same_split(ref[p], simulate(w, sc, p, flow_factor=flow))
        two = simulate(w, sc, p, replicates=2, first=2, flow_factor=flow)  # the same chunk: bitwise
        assert_same(Outputs(**{n: getattr(ref[p], n)[2:4] for n in FIELDS}), two)


def test_runner_local_processes_give_identical_outputs(runner_case):
    w, sc, policies, ref = runner_case
    seen = []
    got = run(w, sc, policies, workers=2, chunk_size=2, progress=seen.append)
    assert sum(seen) == 6 * len(policies)
    for p in policies:
        assert_same(got[p], ref[p])


@pytest.mark.slow
def test_runner_dask_local_cluster_gives_identical_outputs(runner_case):
    w, sc, policies, ref = runner_case
    seen = []
    got = run(w, sc, policies, dask=True, workers=2, chunk_size=2, progress=seen.append)
    assert sum(seen) == 6 * len(policies)
    for p in policies:
        assert_same(got[p], ref[p])


# ------------------------------------------------------------------------------------ results


def test_parquet_carries_the_provenance(tmp_path, runner_case):
    w, sc, _, ref = runner_case
    meta = provenance(sc, w)
    frame = long_frame(ref)
    assert len(frame) == 3 * 6 * 12
    path = write_parquet(frame, meta, tmp_path / "sub" / "run.parquet")
    table = pq.read_table(path)
    stored = json.loads(table.schema.metadata[b"vdto"])
    assert stored["scenario_sha256"] == sc.sha256() and stored["world_sha256"] == w.sha256()
    assert stored["seed"] == 3 and stored["vdto_version"]
    back = table.to_pandas()
    assert (back["scenario_sha256"] == sc.sha256()).all()
    np.testing.assert_array_equal(back["deaths"].to_numpy(), frame["deaths"].to_numpy())
    assert not list(path.parent.glob(".*.tmp"))


def test_compare_table_rows_and_pairs():
    w = grid_world(6, 6, 3)
    sc = scenario(30, 10)  # the policy starts in month 12, the table's focal window
    res = {p: simulate(w, sc, p) for p in ("none", "volume", "targeted")}
    table = compare_table(res, horizon=24).set_index("policy")
    assert list(table.index) == ["none", "volume", "targeted"]
    assert table.loc["volume", "p_below_volume"] == 0.0
    assert table.loc["none", "focal_deaths_vs_none"] == 1.0
    d = {p: o.deaths[:, :24].sum(axis=1) for p, o in res.items()}
    assert table.loc["targeted", "p_below_volume"] == np.mean(d["targeted"] < d["volume"])
    assert table.loc["none", "deaths_by_24"] == np.median(d["none"])
    assert (table["deaths_by_24_lo90"] <= table["deaths_by_24"]).all()
    assert (table["deaths_by_24"] <= table["deaths_by_24_hi90"]).all()
    assert (table["alive_end"] == [o.alive[:, -1].mean() for o in res.values()]).all()


def _perturb(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 0.5 if value else 0.5
    if isinstance(value, list):
        return value[:-1] if len(value) > 2 else [*value, 1.0]
    if isinstance(value, str):
        return value + "x"
    raise AssertionError(value)


def test_scenario_hash_changes_with_every_parameter():
    base = Scenario()
    data = base.model_dump()
    seen = {base.sha256()}
    n = 0
    for section, body in data.items():
        items = body.items() if isinstance(body, dict) else [(None, body)]
        for key, value in items:
            changed = json.loads(json.dumps(data))
            if key is None:
                new = ["none"] if section == "policies" else _perturb(value)
                changed[section] = new
            else:
                new = "grid" if section == "world" and key == "kind" else _perturb(value)
                changed[section][key] = new
            h = Scenario.model_validate(changed).sha256()
            assert h not in seen, (section, key)
            seen.add(h)
            n += 1
    assert n >= 40
    assert Scenario().sha256() == base.sha256()  # and it is stable


# ------------------------------------------------------------------------------ stylized facts


def _bundled(name: str, replicates: int, months: int) -> Scenario:
    sc = load_scenario(str(resources.files("vdto.data").joinpath("scenarios", f"{name}.toml")))
    return sc.model_copy(
        update={"run": sc.run.model_copy(update={"replicates": replicates, "months": months})}
    )


def _nanmean(x: np.ndarray, axis) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # dismantled organizations are nan
        return np.nanmean(x, axis=axis)


def _facts(world: World, sc: Scenario) -> dict:
    """The three stylized facts on paired replicates (docs/model.md, "Stylized facts")."""
    res = run(world, sc, ["none", "volume", "kingpin", "targeted"], workers=1)
    s, n0 = sc.enforcement.start_month, world.n_orgs
    t, none = res["targeted"], res["none"]
    r = np.arange(sc.run.replicates)
    first = t.target[:, s]
    others = np.ones((len(r), n0), bool)
    others[r, first] = False  # rivals: every organization but the first target, fixed

    def rivals(out: Outputs, window: slice) -> np.ndarray:
        return _nanmean(np.where(others[:, None, :], out.violence[:, window, :n0], np.nan), (1, 2))

    before, after = slice(s - 12, s), slice(s, s + 12)
    score = points(t)[:, max(0, s - 11) : s + 1, :n0].sum(axis=1)
    score[r, first] = -np.inf
    second = score.argmax(axis=1)  # the runner-up of the score when the policy is announced
    d36 = {p: o.deaths[:, :36].sum(axis=1) for p, o in res.items()}
    return {
        "kingpin_focal_vs_none": float(
            compare_table(res).set_index("policy").loc["kingpin", "focal_deaths_vs_none"]
        ),
        "rivals_lower_after": float(np.mean(rivals(t, after) < rivals(t, before))),
        "rivals_below_none": float(np.mean(rivals(t, after) < rivals(none, after))),
        "runner_up_lower_after": float(
            np.mean(_nanmean(t.violence[r, after, second], 1) < _nanmean(t.violence[r, before, second], 1))
        ),
        "targeted_below_volume": float(np.mean(d36["targeted"] < d36["volume"])),
    }


@pytest.fixture(scope="module")
def small_facts() -> dict:
    sc = _bundled("small", 200, 48)
    return _facts(world_for(sc), sc)


@pytest.fixture(scope="module")
def default_facts() -> dict:
    pytest.importorskip("vdto.sim.world_real")
    sc = _bundled("default", 50, 36)
    return _facts(world_for(sc), sc)


@pytest.mark.slow
def test_fact_kingpin_raises_deaths_in_the_struck_plazas(small_facts):
    assert small_facts["kingpin_focal_vs_none"] > 1.0  # measured 1.51


@pytest.mark.slow
def test_fact_targeted_rivals_lower_violence(small_facts):
    # the organizations that are not the target: after the announcement below their own
    # level before in most replicates (measured 0.585: a narrow majority, the means hardly move),
    # below the same organizations under no policy (0.99); the runner-up of the score, the one
    # that could be named next, falls in 0.975
    assert small_facts["rivals_lower_after"] > 0.5
    assert small_facts["rivals_below_none"] >= 0.9
    assert small_facts["runner_up_lower_after"] >= 0.9


@pytest.mark.slow
def test_fact_targeted_below_volume(small_facts):
    assert small_facts["targeted_below_volume"] >= 0.9  # measured 1.00


@pytest.mark.slow
def test_fact_default_world_kingpin_and_targeted_below_volume(default_facts):
    assert default_facts["kingpin_focal_vs_none"] > 1.0
    assert default_facts["targeted_below_volume"] >= 0.9


@pytest.mark.slow
@pytest.mark.xfail(
    strict=False,
    reason="does not hold on the default world: one organization leads the score far ahead of the "
    "rest, so no rival's P(first) moves with its violence; rivals' violence rises after the "
    "announcement as under no policy (measured: lower in 0 of 50 replicates)",
)
def test_fact_default_world_rivals_lower_violence(default_facts):
    assert default_facts["rivals_lower_after"] > 0.5


# ---------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("policy", ["bogus", "targeted+bogus", "none+volume", "", "+"])
def test_unknown_policy_is_refused(policy):
    with pytest.raises(ValueError, match=r"bogus|none|unknown"):
        check_policy(policy)
    with pytest.raises(ValueError):
        simulate(grid_world(4, 4, 2), scenario(2, 1), policy)


def test_runner_refuses_an_unknown_policy_naming_it():
    with pytest.raises(VdtoError, match="bogus") as info:
        run(grid_world(4, 4, 2), scenario(2, 1), ["none", "bogus"], workers=1)
    assert "\n" not in str(info.value)


def test_scenario_refuses_an_unknown_policy():
    with pytest.raises(ValueError, match="bogus"):
        Scenario.model_validate({"policies": ["none", "bogus"]})


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[violence]\nbogus = 1\n", "violence.bogus"),
        ("[run]\nmonths = -3\n", "run.months"),
        ("[run]\nreplicates = 0\n", "run.replicates"),
        ("[violence]\nlevels = [1.0, 0.5]\n", "violence.levels"),
        ("[enforcement]\ncaribbean_change = -1.0\n", "enforcement.caribbean_change"),
        ('[economy]\ngrowth = "fast"\n', "economy.growth"),
        ("bogus = 1\n", "bogus"),
        ('policies = ["none", "bogus"]\n', "policies"),
    ],
)
def test_bad_scenario_file_names_file_and_key(tmp_path, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    assert info.value.where.startswith(f"{path}:{key}")
    assert "\n" not in str(info.value)


def test_unreadable_scenario_files(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        load_scenario(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\nmonths = 1\n")
    with pytest.raises(InputFileError, match="TOML"):
        load_scenario(bad)
    assert load_scenario(None) == Scenario()


def test_bundled_scenarios_load():
    small = _bundled("small", 2, 3)
    assert small.world.kind == "grid" and world_for(small).n_plazas == 100
    assert _bundled("default", 2, 3).world.kind == "default"


def test_bad_worlds_are_refused():
    with pytest.raises(VdtoError):
        grid_world(2, 2, 3)
    w = grid_world(4, 4, 2)
    with pytest.raises(VdtoError, match="unknown organization"):
        dataclasses.replace(w, owner=np.full(16, 5, np.int32)).check()
    with pytest.raises(VdtoError, match="differ"):
        dataclasses.replace(w, value=np.ones(3)).check()
