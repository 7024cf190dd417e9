"""The Mesa 3 reference (benchmarks/mesa_reference) against the vectorised simulator.

Both draw the same keyed uniforms for the same clash in the same month of the same replicate,
so they must give the same deaths and the same survivors replicate by replicate, not just the
same distributions; the floating-point outputs differ at most by the order of additions.
"""

from __future__ import annotations

import sys
from pathlib import Path

import mesa
import numpy as np
import pytest

from vdto.sim.engine import simulate
from vdto.sim.params import Scenario
from vdto.sim.world import grid_world

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from mesa_reference.model import Buyer, CartelModel, Organization, run_reference

EXACT = ("deaths", "alive", "target", "dismantled", "focal_deaths", "focal")
CLOSE = ("deaths_kind", "deaths_org", "violence", "revenue_mexico", "rival_violence")


def _scenario(months: int, replicates: int, seed: int = 7) -> Scenario:
    return Scenario.model_validate({"run": {"months": months, "replicates": replicates, "seed": seed}})


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


@pytest.fixture(scope="module")
def small():
    return grid_world(6, 6, 3), _scenario(24, 30)


@pytest.mark.parametrize(
    ("policy", "flow_factor"),
    [
        ("none", None),
        ("volume", None),
        ("targeted", None),
        ("kingpin", None),
        ("regional", None),
        ("caribbean", 0.7),
        ("kingpin+targeted", None),
        ("targeted+caribbean", 0.7),
    ],
)
def test_same_replicates_as_simulate(small, policy, flow_factor):
    world, sc = small
    vec = simulate(world, sc, policy, flow_factor=flow_factor)
    ref = run_reference(world, sc, policy, flow_factor=flow_factor)
    # the outcomes asked for: total deaths and organizations alive at the end, replicate by replicate
    assert np.array_equal(vec.deaths.sum(axis=1), ref.deaths.sum(axis=1))
    assert np.array_equal(vec.alive[:, -1], ref.alive[:, -1])
    _same(vec, ref)
    # the comparison is not vacuous: people die, and the policy acts
    assert vec.deaths.sum() > 0
    if policy.startswith("kingpin"):
        assert (vec.dismantled[:, -1] > 0).any() or (vec.alive[:, -1] > 3).any()
    if "targeted" in policy:
        assert (vec.target[:, sc.enforcement.start_month :] >= 0).all()


def test_replicates_do_not_depend_on_the_split(small):
    world, sc = small
    whole = run_reference(world, sc, "targeted", replicates=6)
    tail = run_reference(world, sc, "targeted", replicates=2, first=4)
    assert np.array_equal(whole.deaths[4:], tail.deaths)
    vec = simulate(world, sc, "targeted", replicates=2, first=4)
    assert np.array_equal(vec.deaths, tail.deaths)


def test_it_is_a_mesa_model(small):
    world, sc = small
    model = CartelModel(world, sc, "kingpin", 0)
    assert isinstance(model, mesa.Model)
    orgs = model.agents_by_type[Organization]
    assert len(orgs) == world.n_orgs
    assert len(model.agents_by_type[Buyer]) == len(world.volume)
    for _ in range(sc.run.months):
        model.step()
    assert model.steps == sc.run.months
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == sc.run.months
    # dismantled organizations leave the model; splinters join it
    alive = [o for o in model.slots if o is not None and o.alive]
    assert set(model.agents_by_type[Organization]) == set(alive)


@pytest.mark.slow
def test_same_replicates_on_the_default_world():
    """2,457 municipalities and 20 organizations (sums over more than 8 organizations)."""
    world_real = pytest.importorskip("vdto.sim.world_real")
    world = world_real.default_world()
    sc = _scenario(24, 2, seed=3)
    for policy in ("none", "targeted", "kingpin+targeted"):
        _same(simulate(world, sc, policy), run_reference(world, sc, policy))
