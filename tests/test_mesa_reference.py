"""The Mesa 3 reference (benchmarks/mesa_reference) against the simulator.

Both draw the same keyed uniforms for the same item in the same month of the same replicate,
so they must give the same homicides, splits and survivors replicate by replicate, not just the
same distributions; the floating-point outputs differ at most in the last bits (sums over
organizations in another order).
"""

from __future__ import annotations

import sys
from pathlib import Path

import mesa
import numpy as np
import pytest

from vdto.rng import mix64
from vdto.sim.engine import simulate
from vdto.sim.params import Scenario
from vdto.sim.world import grid_world

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from mesa_reference.model import Buyer, CartelModel, Organization, _item_key, _mix64, run_reference

#: Counts and labels: equal replicate by replicate, month by month.
EXACT = ("homicides", "homicides_state", "homicides_source", "alive", "splits", "splits_blocked", "dismantled",
         "target", "focal", "start_held")  # fmt: skip
#: Floats: equal up to the order of additions.
CLOSE = ("members", "recruits", "arrests", "members_killed", "revenue", "deaths_kind", "focal_deaths",
         "rival_violence", "violence_mean")  # fmt: skip
POLICIES = [
    ("none", None),
    ("volume", None),
    ("targeted", None),
    ("kingpin", None),
    ("regional", None),
    ("caribbean", 0.7),
    ("kingpin+targeted", None),
    ("targeted+caribbean", 0.7),
]
#: The policies' capacity raised and the dismantling threshold above a splinter of a small
#: organization, so that organizations are dismantled within 24 months under every policy.
HARSH = {"enforcement": {"capacity": 2000.0}, "people": {"dismantle_below": 6000.0}}


def _scenario(months: int, replicates: int, seed: int = 7, **sections) -> Scenario:
    return Scenario.model_validate(
        {"run": {"months": months, "replicates": replicates, "seed": seed}, **sections}
    )


def _same(vec, ref) -> None:
    for name in EXACT:
        a, b = getattr(vec, name), getattr(ref, name)
        assert a.shape == b.shape, name
        assert np.array_equal(a, b), (
            f"{name} differs in replicates {np.flatnonzero((a != b).reshape(len(a), -1).any(axis=1))}"
        )
    for name in CLOSE:
        np.testing.assert_allclose(
            getattr(ref, name), getattr(vec, name), rtol=1e-9, atol=1e-12, err_msg=name
        )
    for name in ("org_violence", "org_points", "org_members"):
        assert getattr(ref, name).shape == getattr(vec, name).shape, name


@pytest.fixture(scope="module")
def world():
    return grid_world(6, 6, 3)


@pytest.mark.parametrize("harsh", [False, True], ids=["default", "harsh"])
@pytest.mark.parametrize(("policy", "flow_factor"), POLICIES)
def test_same_replicates_as_simulate(world, policy, flow_factor, harsh):
    sc = _scenario(24, 30, **(HARSH if harsh else {}))
    vec = simulate(world, sc, policy, flow_factor=flow_factor)
    ref = run_reference(world, sc, policy, flow_factor=flow_factor)
    _same(vec, ref)
    # the comparison is not vacuous: people die in clashes and one-sided killings, members are
    # killed, organizations split, the policy acts
    clash, one_sided, _ = vec.homicides_source.sum(axis=(0, 1))
    assert clash > 0 and one_sided > 0
    assert vec.members_killed.sum() > 0
    assert vec.splits[:, -1].sum() > 0
    start = sc.enforcement.start_month
    if "targeted" in policy:
        assert (vec.target[:, start:] >= 0).all()
        assert len(np.unique(vec.target[:, start:])) > 1
    if harsh and policy not in ("none", "caribbean"):
        assert vec.dismantled[:, -1].sum() > 0
    if policy not in ("none", "caribbean"):  # the added capacity arrests members from the start month
        assert (vec.arrests[:, start] > vec.arrests[:, start - 1]).all()
    if "caribbean" in policy:
        assert (vec.revenue[:, start] < vec.revenue[:, start - 1]).all()


def test_same_per_organization_detail(world):
    sc = _scenario(24, 10, **HARSH)
    vec = simulate(world, sc, "kingpin+targeted", detail=True)
    ref = run_reference(world, sc, "kingpin+targeted", detail=True)
    _same(vec, ref)
    for name in ("org_violence", "org_points", "org_members"):
        np.testing.assert_allclose(getattr(ref, name), getattr(vec, name), rtol=1e-9, atol=1e-9, err_msg=name)
    assert np.isfinite(vec.org_violence[:, :, world.n_orgs :]).any()  # splinters had slots of their own


def test_blocked_splits(world):
    """With 2 slots for splinters, further splits are blocked, in both the same way."""
    sc = _scenario(24, 10, world={"splinter_slots": 2}, **HARSH)
    vec, ref = simulate(world, sc, "kingpin"), run_reference(world, sc, "kingpin")
    _same(vec, ref)
    assert vec.splits_blocked[:, -1].sum() > 0


def test_replicates_do_not_depend_on_the_split(world):
    sc = _scenario(24, 6, **HARSH)
    whole = run_reference(world, sc, "kingpin+targeted")
    tail = run_reference(world, sc, "kingpin+targeted", replicates=2, first=4)
    for name in EXACT[:-2]:
        assert np.array_equal(getattr(whole, name)[4:], getattr(tail, name)), name
    assert np.array_equal(whole.focal[4:], tail.focal)
    np.testing.assert_array_equal(whole.members[4:], tail.members)
    _same(simulate(world, sc, "kingpin+targeted", replicates=2, first=4), tail)


def test_keys_are_those_of_the_engine():
    x = np.array([0, 1, 2**63 + 5, 2**64 - 1], dtype=np.uint64)
    assert [_mix64(int(v)) for v in x] == mix64(x).tolist()
    from vdto.rng import item_keys

    assert [_item_key(int(v)) for v in x] == item_keys(x).tolist()


def test_it_is_a_mesa_model(world):
    sc = _scenario(24, 1, seed=7, **HARSH)
    model = CartelModel(world, sc, "kingpin", 0)
    assert isinstance(model, mesa.Model)
    assert all(isinstance(o, mesa.Agent) for o in model.agents)
    assert len(model.agents_by_type[Organization]) == world.n_orgs
    assert len(model.agents_by_type[Buyer]) == len(world.volume)
    founders = set(model.agents_by_type[Organization])
    joined, left = set(), set()
    for _ in range(sc.run.months):
        before = set(model.agents_by_type[Organization])
        model.step()
        after = set(model.agents_by_type[Organization])
        joined |= after - before
        left |= before - after
    assert model.steps == sc.run.months
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == sc.run.months
    assert frame["homicides"].sum() > 0
    # splinters join the model as new agents; dismantled organizations leave it (agent.remove());
    # a splinter may join and leave within one month
    born, gone = model.slots[world.n_orgs :], [o for o in model.slots if not o.alive]
    assert joined and joined <= set(born)
    assert left and left <= set(gone)
    assert not set(gone) & set(model.agents)
    assert set(model.agents_by_type[Organization]) == {o for o in model.slots if o.alive}
    assert frame["alive"].iloc[-1] == len(model.agents_by_type[Organization])
    assert frame["splits"].iloc[-1] == len(born)
    assert frame["dismantled"].iloc[-1] == len(gone)
    assert founders | set(born) == set(model.slots)


@pytest.mark.slow
def test_same_replicates_on_mexico():
    """2,457 municipalities, 32 states, 15 organizations, baseline homicides, the starting map drawn."""
    world_real = pytest.importorskip("vdto.sim.world_real")
    world = world_real.mexico_world(2016)
    sc = _scenario(24, 2, seed=3)
    for policy in ("none", "targeted", "kingpin+targeted"):
        vec, ref = simulate(world, sc, policy), run_reference(world, sc, policy)
        _same(vec, ref)
        assert vec.homicides_source[..., 2].sum() > 0  # baseline homicides
        assert vec.splits[:, -1].sum() > 0
        if "targeted" in policy:
            assert (vec.target[:, sc.enforcement.start_month :] >= 0).all()
        assert (vec.homicides_state.sum(axis=1) > 0).sum() > 10  # in many states
