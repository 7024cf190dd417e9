"""The default world built from real data (municipalities, UCDP GED, BACRIM 2020)."""

from __future__ import annotations

import numpy as np
import pytest

from vdto.geography import geography
from vdto.sim.world_real import BORDER_CROSSINGS, SEAPORTS, _spread, default_world


@pytest.fixture(scope="module")
def world():
    return default_world()


def test_plazas_and_value(world):
    assert world.n_plazas == 2457
    assert list(world.codes) == sorted(world.codes)
    assert world.value.mean() == pytest.approx(1.0)
    assert (world.value > 0).all()
    assert world.src.dtype == np.int32 and world.dst.dtype == np.int32
    # contiguity both ways
    pairs = set(zip(world.src.tolist(), world.dst.tolist(), strict=True))
    assert all((b, a) in pairs for a, b in pairs)


def test_border_and_ports_are_valuable(world):
    assert world.notes["border_plazas"] == len(BORDER_CROSSINGS)
    assert world.notes["ports"] == len(SEAPORTS)
    assert world.notes["border_dropped"] == [] and world.notes["ports_dropped"] == []
    border = np.isin(world.codes, world.notes["border_codes"])
    median = np.median(world.value)
    assert (world.value[border] > median).all()
    port = np.isin(world.codes, world.notes["port_codes"])
    assert (world.value[port] > median).all()


def test_crossing_codes_name_the_right_municipalities():
    names = dict(zip(geography().municipalities["mun_code"], geography().municipalities["name"], strict=True))
    assert names["08037"] == "Juárez" and names["28027"] == "Nuevo Laredo" and names["02004"] == "Tijuana"
    assert names["06007"] == "Manzanillo" and names["23005"] == "Benito Juárez"


def test_population_is_the_state_split(world):
    chihuahua = np.array([c.startswith("08") for c in world.codes])
    assert np.allclose(world.population[chihuahua], world.population[chihuahua][0])
    assert 3e6 < world.population[chihuahua].sum() < 4.5e6


def test_organizations(world):
    assert world.n_orgs == 20
    ids = world.notes["organization_ids"]
    assert "cjng" in ids and "sinaloa" in ids
    assert "Cártel Jalisco Nueva Generación" in world.names and "Cártel de Sinaloa" in world.names
    events = world.notes["organization_events"]
    assert events == sorted(events, reverse=True)
    assert world.strength.mean() == pytest.approx(1.0)
    assert (np.diff(world.strength) <= 1e-12).all()  # strength follows the event ranking


def test_hostility(world):
    h = world.hostility
    assert np.array_equal(h, h.T)
    assert (np.diag(h) == 0).all()
    assert set(np.unique(h[~np.eye(world.n_orgs, dtype=bool)])) <= {0.1, 0.5, 1.0}
    ids = world.notes["organization_ids"]
    # BACRIM 2020 has three CJNG-Sinaloa rivalry ties (and one alliance between cells): rivals
    assert h[ids.index("cjng"), ids.index("sinaloa")] == 1.0


def test_owner(world):
    owned = world.owner >= 0
    assert world.owner.dtype == np.int32
    assert (world.owner[owned] < world.n_orgs).all() and (world.owner >= -1).all()
    assert owned.mean() > 0.8
    assert world.notes["plazas_owned"] + world.notes["plazas_unowned"] == world.n_plazas
    assert world.notes["plazas_owned"] == int(owned.sum())


def test_buyers(world):
    counts = np.bincount(world.supplier, minlength=world.n_orgs)
    assert world.supplier.dtype == np.int32
    assert (counts >= 1).all() and 100 <= counts.sum() <= 100 + world.n_orgs
    assert counts[0] >= counts[-1]
    assert (world.volume == 1).all()


def test_label_and_read_only(world):
    assert world.label == (
        "Mexico 2016-2020: 20 organizations (UCDP), rivalries (BACRIM 2020), 2,457 municipalities"
    )
    with pytest.raises(ValueError):
        world.owner[0] = 0


def test_deterministic(world):
    again = default_world.__wrapped__()  # rebuilt, not the cached object
    assert again is not world
    for name in ("value", "population", "src", "dst", "strength", "hostility", "owner", "supplier", "volume"):
        assert np.array_equal(getattr(again, name), getattr(world, name)), name
    assert again.names == world.names
    assert again.sha256() == world.sha256()
    assert default_world() is world


def test_fewer_organizations(world):
    small = default_world(5)
    assert small.n_orgs == 5
    assert small.names == world.names[:5]
    assert small.hostility.shape == (5, 5) and (small.owner < 5).all()


def test_spread_reaches_three_hops_ties_to_lower_index():
    # a path 0-1-2-3-4-5-6-7-8 with owners at both ends
    src = np.array([i for i in range(8)] + [i + 1 for i in range(8)])
    dst = np.array([i + 1 for i in range(8)] + [i for i in range(8)])
    owner = np.full(9, -1)
    owner[0], owner[8] = 1, 0
    out = _spread(owner, src, dst, 3)
    assert out.tolist() == [1, 1, 1, 1, -1, 0, 0, 0, 0]
    out = _spread(owner, src, dst, 4)
    assert out[4] == 0  # equidistant: the lower index wins
