"""The world from real data for a start year (municipalities and their people, INEGI's homicides
before the drug war, UCDP GED events, the registry's dated splits, BACRIM 2020)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vdto.geography import geography
from vdto.sim.world_real import (
    BORDER_CROSSINGS,
    PREWAR_OC_SHARE,
    SEAPORTS,
    _registry,
    as_of,
    members_at,
    mexico_world,
)


@pytest.fixture(scope="module")
def world():
    return mexico_world(2016)


def test_plazas_and_value(world):
    assert world.n_plazas == 2457 and world.start_year == 2016
    assert list(world.codes) == sorted(world.codes)
    assert world.value.mean() == pytest.approx(1.0)
    assert (world.value > 0).all()
    pairs = set(zip(world.src.tolist(), world.dst.tolist(), strict=True))
    assert all((b, a) in pairs for a, b in pairs)  # contiguity both ways
    assert world.n_states == 32 and world.state_codes[0] == "01"
    assert all(world.state_codes[s] == c[:2] for s, c in zip(world.state, world.codes, strict=True))


def test_border_and_ports_are_valuable(world):
    assert world.notes["border_plazas"] == len(BORDER_CROSSINGS) and world.notes["ports"] == len(SEAPORTS)
    assert world.notes["border_dropped"] == [] and world.notes["ports_dropped"] == []
    median = np.median(world.value)
    assert (world.value[np.isin(world.codes, world.notes["border_codes"])] > median).all()
    assert (world.value[np.isin(world.codes, world.notes["port_codes"])] > median).all()


def test_people_are_conapos_for_the_start_year(world):
    geo = geography()
    assert world.population.sum() == pytest.approx(geo.municipal_population(2016).sum(), rel=1e-9)
    men = geo.municipal_population(2016, "Males").reindex(world.codes).fillna(0).to_numpy(float)
    np.testing.assert_allclose(world.young, men * 0.264)
    juarez = list(world.codes).index("08037")
    assert 1.3e6 < world.population[juarez] < 1.5e6  # not a state's average


def test_baseline_is_the_prewar_rate_less_organized_crime(world):
    from vdto.data import bundled
    from vdto.events import inegi

    tables = [t for t in inegi.read(bundled("inegi")) if 2000 <= t.year <= 2006]
    geo = geography()
    person_years = sum(geo.municipal_population(y).sum() for y in range(2000, 2007))
    rate = sum(t.deaths for t in tables) / person_years
    want = rate * world.population.sum() * (1 - PREWAR_OC_SHARE) / 12
    # states keep their own rates, so the national sum differs a little from the national rate
    assert world.baseline.sum() == pytest.approx(want, rel=0.05)
    assert (world.baseline >= 0).all() and world.baseline.sum() > 700
    # a municipality's baseline follows its own history (shrunk towards its state's)
    state = pd.Series(world.baseline).groupby(world.state).sum()
    assert (state > 0).all()


def test_organizations_as_of_the_start_year():
    reg = _registry()
    assert as_of(reg, "zetas", 2007) == "gulf" and as_of(reg, "zetas", 2011) == "zetas"
    assert as_of(reg, "cjng", 2007) == "milenio" and as_of(reg, "guerreros_unidos", 2007) == "sinaloa"
    early = mexico_world(2007)
    assert "zetas" not in early.org_ids and "cjng" not in early.org_ids and "gulf" in early.org_ids
    assert 2 <= early.n_orgs <= 8  # the handful of the time
    late = mexico_world(2020)
    assert {"cjng", "sinaloa"} <= set(late.org_ids)


def test_members(world):
    assert world.members.sum() == pytest.approx(members_at(2016))
    assert members_at(2012) == pytest.approx(115_000) and members_at(2022) == pytest.approx(175_000)
    ranks = np.arange(1, world.n_orgs + 1)
    np.testing.assert_allclose(world.members * ranks, world.members[0])  # 1 / rank
    events = world.notes["organization_events"]
    assert events == sorted(events, reverse=True)


def test_claims_and_presence(world):
    counts = np.diff(world.claim_ptr)
    assert world.notes["plazas_claimed"] == int((counts > 0).sum()) > 100
    assert world.notes["claims_tied"] > 0  # ties exist: the starting map must not break them by index
    # every claim is in a state where its organization may be
    plaza = np.repeat(np.arange(world.n_plazas), counts)
    assert world.allowed[world.claim_org, world.state[plaza]].all()
    assert "BACRIM 2020 states" not in world.notes["presence_from"]
    late = mexico_world(2020)
    assert "BACRIM 2020 states" in late.notes["presence_from"]
    cjng = late.org_ids.index("cjng")
    assert late.allowed[cjng].sum() >= 10


def test_hostility(world):
    h = world.hostility
    assert (h == h.T).all() and (np.diag(h) == 0).all()
    assert set(np.unique(h[~np.eye(world.n_orgs, dtype=bool)])) <= {1.0, 0.5, 0.1}
    assert world.notes["rival_pairs"] > 0


def test_buyers(world):
    per = np.bincount(world.supplier, minlength=world.n_orgs)
    assert per.min() >= 1 and 100 <= per.sum() <= 100 + world.n_orgs
    assert per[0] == per.max()


def test_read_only_and_deterministic(world):
    assert not world.value.flags.writeable and not world.claim_weight.flags.writeable
    with pytest.raises(ValueError):
        world.value[0] = 5.0
    mexico_world.cache_clear()
    assert mexico_world(2016).sha256() == world.sha256()


@pytest.mark.parametrize("year", [2016, 2017, 2018, 2019, 2020])
def test_every_recent_start_year_builds(year):
    w = mexico_world(year)
    assert w.n_orgs >= 10 and w.start_year == year
    assert w.label.startswith(f"Mexico from {year}")


def test_fewer_organizations_and_a_year_without_enough_data():
    from vdto.errors import VdtoError

    assert mexico_world(2016, 5).n_orgs == 5
    with pytest.raises(VdtoError, match="start later"):
        mexico_world(1993, lookback_years=1)
    with pytest.raises(VdtoError, match="1991 to 2024"):
        mexico_world(1980)


@pytest.mark.slow
def test_model_figures_script_writes_the_tables(tmp_path):
    """docs/model_figures.py (the tables of docs/model.md) runs end to end on a few replicates."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "docs" / "model_figures.py"
    spec = importlib.util.spec_from_file_location("model_figures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main([str(tmp_path), "--replicates", "3", "--workers", "1", "--parts", "homicides,channels"])
    text = (tmp_path / "model-tables.md").read_text(encoding="utf-8")
    assert "| 2010 |" in text and "25,757" in text  # INEGI's 2010 count next to the simulated one
    assert "| deterrence |" in text and "targeted - none" in text
    assert "world sha256:" in text
