"""The real panel: INEGI and SESNSP homicides, UCDP GED deaths by lineage, groups and members,
checked against the bundled files read on their own."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vdto.sim.calibration.real as real_module
from vdto.data import bundled
from vdto.errors import UnknownNameError, VdtoError
from vdto.events import inegi, ucdp
from vdto.orgs import DTO_KINDS, Registry
from vdto.sim.calibration.real import INEGI_LABEL, SESNSP_LABEL, real_panel
from vdto.sim.world_real import MEMBERS_ANCHORS, as_of, mexico_world

FIRST, LAST = 1990, 2024


@pytest.fixture(scope="module")
def world():
    return mexico_world(2007)


def panel_of(world, first: int = FIRST, last: int = LAST, *, lineages=None, start_year: int = 2007):
    return real_panel(
        first,
        last,
        state_codes=world.state_codes,
        municipal_codes=world.codes,
        lineages=world.org_ids if lineages is None else lineages,
        start_year=start_year,
    )


@pytest.fixture(scope="module")
def panel(world):
    return panel_of(world)


@pytest.fixture(scope="module")
def inegi_counts() -> pd.DataFrame:
    return pd.concat([t.counts.assign(year=t.year) for t in inegi.read(bundled("inegi"))])


@pytest.fixture(scope="module")
def ged() -> tuple[pd.DataFrame, pd.DataFrame]:
    """UCDP GED events (source_id, year, deaths) and perpetrators (source_id, org_id, probability)."""
    batch = ucdp.parse(bundled("ucdp"), Registry.seed())
    batch.drop_bad_rows()
    ev = batch.events
    events = pd.DataFrame(
        {
            "source_id": ev["source_id"].astype(str),
            "year": pd.to_datetime(ev["date_start"]).dt.year,
            "deaths": ev["deaths_best"].astype(float),
        }
    )
    pe = batch.perpetrators
    perps = pd.DataFrame(
        {"source_id": pe["source_id"].astype(str), "org_id": pe["org_id"], "probability": pe["probability"]}
    )
    return events, perps


def at(panel, year: int) -> int:
    return int(np.flatnonzero(panel.years == year)[0])


def test_years_and_shapes(panel, world):
    assert panel.years.tolist() == list(range(FIRST, LAST + 1))
    assert panel.state.shape == (35, 32) and panel.state_codes == world.state_codes
    assert panel.municipal.shape == (35, 2457) and panel.municipal_codes == tuple(world.codes)
    assert panel.lineage_deaths.shape == (35, len(world.org_ids)) and panel.lineages == world.org_ids


def test_national_from_inegi_then_sesnsp(panel):
    assert panel.national[at(panel, 2007)] == 8_867
    assert panel.national[at(panel, 2010)] == 25_757
    assert panel.national[at(panel, 2016)] == 23_188
    assert panel.national[at(panel, 2019)] == 35_693  # 34,723 intentional homicides + 970 femicides
    assert panel.notes["series"][2015] == INEGI_LABEL and panel.notes["series"][2016] == SESNSP_LABEL
    assert "INEGI" in panel.source and "SESNSP" in panel.source and "(2016-2024)" in panel.source


def test_inegi_states_add_up_with_deaths_abroad(panel, inegi_counts):
    abroad = inegi_counts[inegi_counts["state_code"].isin(["33", "34", "35"])].groupby("year")["count"].sum()
    for year in range(FIRST, 2016):
        i = at(panel, year)
        outside = panel.notes["outside_states"][year]
        assert panel.state[i].sum() + outside == panel.national[i]
        assert outside == abroad.get(year, 0)
        assert panel.notes["outside_states_share"][year] == pytest.approx(outside / panel.national[i])
    chihuahua = inegi_counts[(inegi_counts["year"] == 2010) & (inegi_counts["state_code"] == "08")]
    assert panel.state[at(panel, 2010), panel.state_codes.index("08")] == chihuahua["count"].sum() == 6_421


def test_sesnsp_states_cover_the_nation(panel):
    for year in range(2016, LAST + 1):
        i = at(panel, year)
        assert panel.state[i].sum() == panel.national[i] and panel.notes["outside_states"][year] == 0


def test_municipalities_add_up_to_states(panel, inegi_counts):
    codes = np.array(panel.municipal_codes)
    for year in range(FIRST, 2016):
        i = at(panel, year)
        left_out = panel.notes["municipal_left_out"][year]
        assert all(c.endswith("999") for c in left_out)  # not specified, or abroad
        assert panel.notes["municipal_left_out_total"][year] == sum(left_out.values())
        for s, code in enumerate(panel.state_codes):
            inside = panel.municipal[i, np.char.startswith(codes, code)].sum()
            assert inside + sum(n for c, n in left_out.items() if c[:2] == code) == panel.state[i, s]
    juarez = inegi_counts[(inegi_counts["year"] == 2010) & (inegi_counts["region_code"] == "08037")]
    assert panel.municipal[at(panel, 2010), panel.municipal_codes.index("08037")] == juarez["count"].sum()
    assert (panel.municipal[: at(panel, 2015) + 1] >= 0).all()
    assert np.isnan(panel.municipal[at(panel, 2016) :]).all()


def test_no_municipal_series_after_inegi(world):
    p = panel_of(world, 2016, 2023)
    assert p.municipal is None and p.municipal_codes == ()
    assert p.notes["municipal_left_out"] == {}


def test_lineage_and_other_deaths_add_up_to_ucdp(panel, ged):
    events, perps = ged
    with_perps = events[events["source_id"].isin(set(perps["source_id"]))]
    totals = with_perps.groupby("year")["deaths"].sum()
    ld = panel.lineage_deaths
    for year in range(FIRST, 2024):
        i = at(panel, year)
        assert (ld[i] >= 0).all()
        other = panel.notes["lineage_other_deaths"][year]
        assert ld[i].sum() + other == pytest.approx(totals.get(year, 0.0))
        assert panel.notes["ucdp_deaths"][year] == pytest.approx(totals.get(year, 0.0))
    assert panel.notes["ucdp_deaths"][2010] == 6_215
    assert np.isnan(ld[at(panel, 2024)]).all()  # UCDP GED ends in 2023
    assert panel.notes["ucdp_years"] == [1989, 2023]


def test_zetas_count_for_the_gulf_cartel_from_2007(world, ged):
    reg = Registry.seed()
    assert as_of(reg, "zetas", 2007) == "gulf" and as_of(reg, "zetas", 2011) == "zetas"
    from2007 = panel_of(world, 2007, 2023, lineages=("gulf", "zetas"), start_year=2007)
    from2011 = panel_of(world, 2007, 2023, lineages=("gulf", "zetas"), start_year=2011)
    assert (from2007.lineage_deaths[:, 1] == 0).all()
    assert from2007.lineage_deaths[:, 0] == pytest.approx(from2011.lineage_deaths.sum(axis=1))
    assert {"zetas", "cdn", "zetas_vieja_escuela"} <= set(from2007.notes["lineage_orgs"]["gulf"])
    # the Zetas' own events of 2012 (a war year) are in the Gulf Cartel's deaths
    events, perps = ged
    e12 = events[events["year"] == 2012].set_index("source_id")["deaths"]
    zetas = perps[(perps["org_id"] == "zetas") & perps["source_id"].isin(e12.index)]
    zetas_deaths = float((zetas["source_id"].map(e12) * zetas["probability"]).sum())
    assert zetas_deaths > 0
    assert from2007.lineage_deaths[at(from2007, 2012), 0] >= zetas_deaths
    assert from2011.lineage_deaths[at(from2011, 2012), 1] >= zetas_deaths


@pytest.mark.parametrize(
    ("first", "last", "param"),
    [
        (1989, 2000, "from"),
        (1985, 1989, "from"),
        (2020, 2025, "to"),
        (2025, 2025, "from"),
        (2010, 2009, "to"),
    ],
)
def test_years_without_a_national_series_are_refused(world, first, last, param):
    with pytest.raises(VdtoError) as err:
        panel_of(world, first, last)
    assert err.value.param == param
    if 2025 in (first, last):
        assert "6 months" in err.value.what


def test_unknown_lineage_is_refused(world):
    with pytest.raises(UnknownNameError) as err:
        panel_of(world, 2007, 2008, lineages=("sinaloa", "no_such_cartel"))
    assert err.value.param == "lineages"


def test_groups_and_members(panel, ged):
    events, perps = ged
    reg = Registry.seed()
    dto = perps[perps["org_id"].map(lambda o: reg.get(o).kind in DTO_KINDS) & (perps["probability"] > 0)]
    year = dto["source_id"].map(events.set_index("source_id")["year"])
    expected = dto.groupby(year)["org_id"].nunique()
    for y in range(FIRST, 2024):
        assert panel.groups[at(panel, y)] == expected.get(y, 0)
        assert panel.notes["groups_nonstate"][y] >= panel.groups[at(panel, y)]
    assert panel.groups[at(panel, 2007)] == 4 and np.isnan(panel.groups[at(panel, 2024)])
    assert panel.notes["bacrim_groups_2020"] == 150
    anchors = dict(MEMBERS_ANCHORS)
    for y in panel.years.tolist():
        m = panel.members[at(panel, y)]
        assert m == pytest.approx(anchors[y]) if y in anchors else np.isnan(m)


@settings(max_examples=20, deadline=None)
@given(first=st.integers(FIRST, LAST), span=st.integers(0, LAST - FIRST))
def test_any_window_is_a_slice_of_the_whole(panel, world, first, span):
    last = min(first + span, LAST)
    p = panel_of(world, first, last)
    whole = panel.window(first, last)
    assert p.years.tolist() == whole.years.tolist()
    np.testing.assert_array_equal(p.national, whole.national)
    np.testing.assert_array_equal(p.state, whole.state)
    np.testing.assert_array_equal(p.lineage_deaths, whole.lineage_deaths)
    np.testing.assert_array_equal(p.groups, whole.groups)
    if first <= 2015:
        np.testing.assert_array_equal(p.municipal, whole.municipal)
    else:
        assert p.municipal is None


def test_docstring_examples():
    result = doctest.testmod(real_module)
    assert result.attempted > 0 and result.failed == 0
