"""Hot spots (Gi*, local Moran) and queen contiguity with islands.

Synthetic grids of unit squares with known patterns, an island far away, bad input, and the
real municipal polygons (2,457 municipalities).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from vdto.errors import VdtoError
from vdto.regional.contiguity import bundled, queen
from vdto.regional.hotspots import COLD, HOT, NONE, hotspots

N = 8  # the grid is N x N unit squares
ISLAND = "isle"
LEFT_OUT = "island (left out)"


def cell(i: int, j: int) -> str:
    return f"g{i}{j}"


CELLS = [(i, j) for i in range(N) for j in range(N)]
GRID_CODES = [cell(i, j) for i, j in CELLS]
GRID_POLYS = [box(i, j, i + 1, j + 1) for i, j in CELLS]
ISLAND_POLY = box(40, 40, 41, 41)  # far from the grid, nearest to the corner cell (7, 7)

HOT_BLOCK = {(i, j) for i in range(3) for j in range(3)}  # corner (0, 0), value 20
COLD_BLOCK = {(i, j) for i in range(5, 8) for j in range(5, 8)}  # corner (7, 7), value 0


def chebyshev(p: tuple[int, int], block: set[tuple[int, int]]) -> int:
    return min(max(abs(p[0] - q[0]), abs(p[1] - q[1])) for q in block)


def core(block: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Cells of ``block`` whose whole queen neighbourhood lies inside the block."""
    inside = set(block)
    return {
        (i, j)
        for i, j in block
        if all(
            (i + a, j + b) in inside
            for a in (-1, 0, 1)
            for b in (-1, 0, 1)
            if 0 <= i + a < N and 0 <= j + b < N
        )
    }


def pattern_values() -> np.ndarray:
    """Grid values in GRID_CODES order: a hot block, a cold block, a varied background (no ties)."""
    v = np.random.default_rng(11).uniform(4.0, 6.0, len(CELLS))
    for k, p in enumerate(CELLS):
        if p in HOT_BLOCK:
            v[k] = 20.0
        elif p in COLD_BLOCK:
            v[k] = 0.0
    return v


@pytest.fixture(scope="module")
def grid():
    return queen(GRID_CODES, GRID_POLYS)


@pytest.fixture(scope="module")
def grid_island():
    return queen([*GRID_CODES, ISLAND], [*GRID_POLYS, ISLAND_POLY], islands="nearest")


@pytest.fixture(scope="module")
def grid_dropped():
    return queen([*GRID_CODES, ISLAND], [*GRID_POLYS, ISLAND_POLY], islands="drop")


@pytest.fixture(scope="module")
def pattern(grid) -> pd.DataFrame:
    return hotspots(pattern_values(), grid, seed=1).set_index("region_code")


# --------------------------------------------------------------------------------------------
# known patterns


def test_grid_contiguity_is_queen(grid):
    assert grid.codes == tuple(GRID_CODES)
    assert grid.islands == () and grid.island_links == () and grid.dropped == ()
    assert sorted(grid.neighbors[cell(0, 0)]) == [cell(0, 1), cell(1, 0), cell(1, 1)]
    assert len(grid.neighbors[cell(3, 4)]) == 8  # interior: edges and corners
    assert len(grid.neighbors[cell(0, 4)]) == 5


def test_hot_block_is_hot_and_nothing_far_away_is(pattern):
    hot = {p for p in CELLS if pattern.loc[cell(*p), "hotspot"] == HOT}
    assert core(HOT_BLOCK) <= hot
    assert len(hot & HOT_BLOCK) >= 7  # the block, perhaps less its outer corner
    assert all(chebyshev(p, HOT_BLOCK) <= 1 for p in hot), "hot spots only in the block and its ring"
    for p in core(HOT_BLOCK):
        row = pattern.loc[cell(*p)]
        assert row["gi_z"] > 2 and row["gi_p"] <= 0.01
        assert row["cluster"] == "high-high"


def test_cold_block_is_cold_and_nothing_far_away_is(pattern):
    cold = {p for p in CELLS if pattern.loc[cell(*p), "hotspot"] == COLD}
    assert core(COLD_BLOCK) <= cold
    assert all(chebyshev(p, COLD_BLOCK) <= 1 for p in cold), "cold spots only in the block and its ring"
    for p in core(COLD_BLOCK):
        row = pattern.loc[cell(*p)]
        assert row["gi_z"] < -1 and row["gi_p"] <= 0.01
        assert row["cluster"] == "low-low"


def test_background_far_from_both_blocks_is_not_significant(pattern):
    far = [p for p in CELLS if chebyshev(p, HOT_BLOCK) >= 2 and chebyshev(p, COLD_BLOCK) >= 2]
    assert len(far) >= 20
    rows = pattern.loc[[cell(*p) for p in far]]
    assert (rows["hotspot"] == NONE).all()
    assert (rows["cluster"] == NONE).all()


def test_frame_columns_and_value_column(pattern, grid):
    assert list(pattern.reset_index().columns) == [
        "region_code",
        "value",
        "gi_z",
        "gi_p",
        "hotspot",
        "fdr_significant",
        "moran_i",
        "moran_p",
        "cluster",
    ]
    assert list(pattern.index) == list(grid.codes)
    np.testing.assert_array_equal(pattern["value"].to_numpy(), pattern_values())
    p = pattern[["gi_p", "moran_p"]].to_numpy()
    assert ((p >= 1 / 1000) & (p <= 1)).all()  # pseudo p-values of 999 permutations


def test_fdr_never_finds_more_than_unadjusted(grid):
    v = pattern_values()
    adjusted = hotspots(v, grid, seed=4, fdr=True)
    raw = hotspots(v, grid, seed=4, fdr=False)
    sig_adj = adjusted["hotspot"] != NONE
    sig_raw = raw["hotspot"] != NONE
    assert (sig_adj <= sig_raw).all()
    assert (raw.loc[sig_raw, "gi_p"] <= 0.05).all()


def test_no_variation_means_nothing_significant(grid):
    out = hotspots(np.full(len(grid.codes), 3.0), grid)
    assert (out["hotspot"] == NONE).all() and (out["cluster"] == NONE).all()
    assert out["gi_z"].isna().all() and out["moran_p"].isna().all()


def test_flat_zero_background_is_not_a_cold_spot(grid):
    # half the regions are 0: a neighbourhood of zeros is what a random draw gives about half
    # the time for a corner cell (3 neighbours: 0.5 ** 3), so it is no evidence of a cold spot
    v = np.array([10.0 * ((i + j) % 2) * (i < 4) for i, j in CELLS])  # checkerboard top, zeros below
    out = hotspots(v, grid, seed=0, fdr=False).set_index("region_code")
    corner = out.loc[cell(7, 7)]
    assert corner["gi_p"] > 0.05
    assert corner["hotspot"] == NONE


# --------------------------------------------------------------------------------------------
# islands


def test_island_nearest_is_linked_and_reported(grid_island):
    c = grid_island
    assert c.islands == (ISLAND,)
    assert c.island_links == ((ISLAND, cell(7, 7)),)
    assert c.dropped == ()
    assert ISLAND in c.codes
    assert c.neighbors[ISLAND] == [cell(7, 7)]
    assert ISLAND in c.neighbors[cell(7, 7)]
    w = c.weights()
    assert w.islands == []
    m = c.matrix()
    assert (m != m.T).nnz == 0


def test_island_nearest_gets_statistics(grid_island):
    v = np.append(pattern_values(), 5.0)
    out = hotspots(v, grid_island, seed=1).set_index("region_code")
    assert len(out) == len(GRID_CODES) + 1
    row = out.loc[ISLAND]
    assert np.isfinite(row[["gi_z", "gi_p", "moran_i", "moran_p"]].astype(float)).all()
    assert row["hotspot"] in (HOT, COLD, NONE)
    # its neighbourhood is itself and the cold corner: its Gi* lies below the mean
    assert row["gi_z"] < 0


def test_island_drop_is_left_out_of_the_statistics(grid_dropped, grid):
    c = grid_dropped
    assert c.islands == (ISLAND,) and c.dropped == (ISLAND,) and c.island_links == ()
    assert ISLAND not in c.codes and ISLAND not in c.neighbors
    assert all(ISLAND not in nb for nb in c.neighbors.values())

    v = pattern_values()
    out = hotspots(v, c, seed=1)
    assert len(out) == len(GRID_CODES) + 1
    last = out.iloc[-1]
    assert last["region_code"] == ISLAND
    assert last["hotspot"] == LEFT_OUT and last["cluster"] == LEFT_OUT
    assert pd.isna(last[["value", "gi_z", "gi_p", "moran_i", "moran_p"]]).all()
    # the other regions come out exactly as if the island had never been there
    alone = hotspots(v, grid, seed=1)
    pd.testing.assert_frame_equal(out.iloc[:-1].reset_index(drop=True), alone)


def test_island_drop_ignores_the_islands_value_in_a_series(grid_dropped):
    v = pd.Series(np.append(pattern_values(), 1e6), index=[*GRID_CODES, ISLAND])
    out = hotspots(v, grid_dropped, seed=1)
    expected = hotspots(pattern_values(), grid_dropped, seed=1)
    pd.testing.assert_frame_equal(out, expected)


def test_island_drop_wants_values_for_the_kept_regions_only(grid_dropped):
    with pytest.raises(VdtoError) as err:
        hotspots(np.append(pattern_values(), 5.0), grid_dropped)
    assert err.value.where == "values"


def test_unknown_island_rule():
    with pytest.raises(VdtoError) as err:
        queen(GRID_CODES, GRID_POLYS, islands="keep")
    assert err.value.param == "islands"


# --------------------------------------------------------------------------------------------
# seeds and input forms


def test_same_seed_same_frame(grid):
    v = pattern_values()
    pd.testing.assert_frame_equal(hotspots(v, grid, seed=7), hotspots(v, grid, seed=7))


def test_other_seed_changes_p_values_not_z(grid):
    v = pattern_values()
    a, b = hotspots(v, grid, seed=7), hotspots(v, grid, seed=8)
    pd.testing.assert_series_equal(a["gi_z"], b["gi_z"])
    pd.testing.assert_series_equal(a["moran_i"], b["moran_i"])
    assert (a["gi_p"] != b["gi_p"]).any()
    assert (a["moran_p"] != b["moran_p"]).any()


def _shuffled_series(v: np.ndarray) -> pd.Series:
    s = pd.Series(v, index=GRID_CODES)
    return s.iloc[np.random.default_rng(3).permutation(len(s))]


@pytest.fixture(
    params=[np.asarray, lambda v: [float(x) for x in v], _shuffled_series],
    ids=["array", "list", "series-shuffled"],
)
def as_input(request):
    return request.param


def test_input_forms_give_identical_results(as_input, grid):
    v = pattern_values()
    given_values = as_input(v)
    if isinstance(given_values, pd.Series):
        assert list(given_values.index) != GRID_CODES  # really out of order
    expected = hotspots(v, grid, seed=5)
    pd.testing.assert_frame_equal(hotspots(given_values, grid, seed=5), expected)


# --------------------------------------------------------------------------------------------
# bad input

BAD_INPUT = settings(max_examples=40, deadline=None)  # the grid fixtures are module-scoped


@BAD_INPUT
@given(permutations=st.integers(min_value=-(10**6), max_value=98))
def test_too_few_permutations(grid, permutations):
    with pytest.raises(VdtoError) as err:
        hotspots(pattern_values(), grid, permutations=permutations)
    assert err.value.param == "permutations"
    assert str(permutations) in err.value.what and "99" in err.value.fix


@BAD_INPUT
@given(
    alpha=st.one_of(
        st.floats(max_value=0.0),
        st.floats(min_value=1.0),
        st.just(float("nan")),
    )
)
def test_alpha_outside_zero_one(grid, alpha):
    with pytest.raises(VdtoError) as err:
        hotspots(pattern_values(), grid, alpha=alpha)
    assert err.value.param == "alpha"
    assert "\n" not in str(err.value)


@BAD_INPUT
@given(
    position=st.integers(min_value=0, max_value=N * N - 1),
    bad=st.sampled_from([float("nan"), float("inf"), float("-inf")]),
    as_list=st.booleans(),
)
def test_values_not_finite(grid, position, bad, as_list):
    v = pattern_values()
    v[position] = bad
    with pytest.raises(VdtoError) as err:
        hotspots(v.tolist() if as_list else v, grid)
    assert err.value.where == "values"
    assert "finite" in err.value.what


@BAD_INPUT
@given(bad=st.sampled_from([float("inf"), float("-inf")]), position=st.integers(0, N * N - 1))
def test_series_with_infinite_value(grid, bad, position):
    s = pd.Series(pattern_values(), index=GRID_CODES)
    s.iloc[position] = bad
    with pytest.raises(VdtoError) as err:
        hotspots(s, grid)
    assert err.value.where == "values"


@BAD_INPUT
@given(length=st.integers(min_value=0, max_value=3 * N * N).filter(lambda n: n != N * N))
def test_wrong_number_of_values(grid, length):
    with pytest.raises(VdtoError) as err:
        hotspots(np.ones(length), grid)
    assert err.value.where == "values"
    assert f"{length} values for {N * N} regions" in err.value.what


# --------------------------------------------------------------------------------------------
# the real municipalities


@pytest.fixture(scope="module")
def municipalities():
    return bundled("municipality")


def test_municipal_contiguity(municipalities):
    c = municipalities
    assert len(c.codes) == 2457
    assert len(set(c.codes)) == 2457
    assert set(c.neighbors) == set(c.codes)
    assert all(len(c.neighbors[code]) >= 1 for code in c.codes), "every municipality has a neighbour"
    assert all(code not in c.neighbors[code] for code in c.codes)
    for code in c.codes:
        for other in c.neighbors[code]:
            assert code in c.neighbors[other], f"{code} -> {other} is not symmetric"
    for island, nearest in c.island_links:
        assert nearest in c.neighbors[island] and island in c.neighbors[nearest]
    assert c.dropped == ()


def test_municipal_matrix_agrees_with_neighbours(municipalities):
    c = municipalities
    m = c.matrix()
    assert m.shape == (2457, 2457)
    assert (m != m.T).nnz == 0
    assert m.nnz == sum(len(c.neighbors[code]) for code in c.codes)
    degree = np.asarray(m.sum(axis=1)).ravel()
    assert degree.min() >= 1
    w = c.weights()
    assert w.n == 2457 and w.islands == []
    # neighbours within a state: Guadalajara (14039) touches Zapopan (14120)
    assert "14120" in c.neighbors["14039"]


ESDA_IMPORT = """
import sys
import libpysal.common
import numba
from vdto.regional.pysal import esda
esda()
import esda.crand, esda.moran, esda.significance
modules = (esda.crand, esda.moran, esda.significance)
print([n for m in modules for n, f in vars(m).items() if type(f).__module__.startswith("numba")])
print(sys.modules["numba"] is numba, libpysal.common.jit is numba.jit)
"""


def test_esda_runs_its_plain_permutation_engine_with_numba_installed():
    """Numba is installed for the simulator; esda would compile its permutations with it, about
    18 s in every process. vdto.regional.pysal imports esda with Numba hidden, and gives Numba and
    libpysal's jit back afterwards."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", ESDA_IMPORT], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["[]", "True True"]


def test_hot_spots_do_not_import_numba():
    """The regional commands never need Numba (about 0.8 s to import)."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from vdto.regional.contiguity import bundled\n"
        "from vdto.regional.hotspots import hotspots\n"
        "c = bundled('state')\n"
        "out = hotspots(np.arange(len(c.codes), dtype=float), c, permutations=99, seed=1, fdr=True)\n"
        "print(len(out), 'numba' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["32", "False"]
