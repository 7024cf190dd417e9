"""The space-time cube: binning, populations, rates, saving with provenance, and its errors."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vdto.errors import VdtoError
from vdto.regional.cube import SpaceTimeCube, monthly_population
from vdto.regional.rates import inegi_yearly, municipal_rates
from vdto.services.regions import build_cube

CODES = ("01", "02", "03")


def cube_of(
    months: int, bin: str, start: str = "2010-01-01", seed: int = 0
) -> tuple[SpaceTimeCube, np.ndarray]:
    Y = np.random.default_rng(seed).poisson(5.0, size=(len(CODES), months)).astype(float)
    m = pd.date_range(start, periods=months, freq="MS")
    return SpaceTimeCube.from_monthly(
        Y, CODES, m, level="state", bin=bin, label="test", measure="homicides"
    ), Y


def test_bins_sum_their_months():
    cube, Y = cube_of(24, "quarter")
    assert [str(b) for b in cube.bins[:2]] == ["2010Q1", "2010Q2"] and len(cube.bins) == 8
    np.testing.assert_array_equal(cube.counts[:, 1], Y[:, 3:6].sum(axis=1))
    year, _ = cube_of(24, "year")
    np.testing.assert_array_equal(year.counts[:, 0], Y[:, :12].sum(axis=1))
    month, _ = cube_of(24, "month")
    np.testing.assert_array_equal(month.counts, Y)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.sampled_from(["month", "quarter", "year"]), st.integers(0, 10**6))
def test_binning_keeps_every_count(years, bin, seed):
    cube, Y = cube_of(12 * years, bin, seed=seed)
    assert cube.counts.sum() == Y.sum()
    assert cube.counts.shape == (3, {"month": 12, "quarter": 4, "year": 1}[bin] * years)


def test_population_is_the_mean_of_the_months():
    cube, _ = cube_of(12, "quarter")
    months = pd.date_range("2010-01-01", periods=12, freq="MS")
    pop = monthly_population("state", CODES, months)
    np.testing.assert_allclose(cube.population[:, 2], pop[:, 6:9].mean(axis=1))
    np.testing.assert_allclose(cube.rates(), cube.counts / cube.population * 1e5)


def test_partial_bins_are_refused():
    Y = np.ones((3, 5))
    months = pd.date_range("2010-02-01", periods=5, freq="MS")
    with pytest.raises(VdtoError) as err:
        SpaceTimeCube.from_monthly(Y, CODES, months, level="state", bin="quarter", label="t", measure="h")
    assert "whole quarters" in err.value.what and "2010-01-01" in err.value.fix


@pytest.mark.parametrize(("bin", "param"), [("week", "bin"), ("", "bin")])
def test_unknown_bin(bin, param):
    with pytest.raises(VdtoError) as err:
        cube_of(12, bin)
    assert err.value.param == param


def test_unknown_value():
    cube, _ = cube_of(12, "month")
    with pytest.raises(VdtoError) as err:
        cube.values("deaths")
    assert err.value.param == "value"


def test_values_and_units():
    cube, _ = cube_of(12, "quarter")
    v, unit = cube.values("count")
    assert unit == "homicides per quarter" and v.sum() == cube.counts.sum()
    v, unit = cube.values("rate")
    assert unit == "homicides per 100,000 people per quarter"
    np.testing.assert_allclose(v, cube.rates())
    _, unit = cube.values("eb_rate")
    assert unit.endswith("(empirical Bayes)")


# --------------------------------------------------------------------------------------------
# saved cubes


def test_save_and_load_round_trip(tmp_path):
    cube, _ = cube_of(24, "quarter")
    path = cube.save(tmp_path / "c.parquet")
    again = SpaceTimeCube.load(path)
    np.testing.assert_array_equal(again.counts, cube.counts)
    np.testing.assert_array_equal(again.population, cube.population)
    assert again.codes == cube.codes and list(again.bins) == list(cube.bins)
    assert again.sha256 == cube.sha256 and again.provenance() == cube.provenance()
    assert again.provenance()["vdto_version"]


def test_a_changed_cube_is_refused(tmp_path):
    import pyarrow.parquet as pq

    cube, _ = cube_of(12, "quarter")
    path = cube.save(tmp_path / "c.parquet")
    table = pq.read_table(path)
    frame = table.to_pandas()
    frame.loc[0, "count"] += 1
    import pyarrow as pa

    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(table.schema.metadata), path
    )
    with pytest.raises(VdtoError) as err:
        SpaceTimeCube.load(path)
    assert "SHA-256" in err.value.what and err.value.where == str(path)


def test_files_that_are_no_cube(tmp_path):
    text = tmp_path / "a.parquet"
    text.write_text("region_code,count\n01,3\n")
    with pytest.raises(VdtoError, match="not a Parquet file"):
        SpaceTimeCube.load(text)
    plain = tmp_path / "b.parquet"
    pd.DataFrame({"x": [1]}).to_parquet(plain)
    with pytest.raises(VdtoError, match="without vdto's cube provenance"):
        SpaceTimeCube.load(plain)
    with pytest.raises(VdtoError, match="file not found"):
        SpaceTimeCube.load(tmp_path / "missing.parquet")


# --------------------------------------------------------------------------------------------
# the real panels


@pytest.fixture(scope="module")
def inegi_2010():
    return build_cube(
        "inegi", level="municipality", bin="year", start=date(2010, 1, 1), end=date(2010, 12, 31)
    )


def test_inegi_cube_counts_equal_the_yearly_counts(inegi_2010):
    yearly = inegi_yearly()
    yearly = yearly[yearly["year"] == 2010].groupby("region_code")["count"].sum()
    got = pd.Series(inegi_2010.counts[:, 0], index=list(inegi_2010.codes))
    np.testing.assert_array_equal(got.to_numpy(), yearly.reindex(got.index).fillna(0).to_numpy())


def test_inegi_cube_rates_equal_the_municipal_rates(inegi_2010):
    rates = municipal_rates(inegi_yearly(), years=[2010]).set_index("region_code")
    got = pd.Series(inegi_2010.rates()[:, 0], index=list(inegi_2010.codes))
    np.testing.assert_allclose(
        got.to_numpy(), rates.loc[list(got.index), "per100k"].to_numpy(), equal_nan=True
    )
    assert inegi_2010.provenance()["measure"] == "homicide deaths"


def test_default_span_is_the_whole_bins():
    cube = build_cube("sesnsp", bin="year")
    first, last = cube.span()
    assert first == "2015-01-01" and last.endswith("-12-31")


def test_too_few_bins_fail_before_reading():
    check = {"k": 1, "permutations": 999, "alpha": 0.05, "trend_alpha": 0.05, "window": "cube"}
    with pytest.raises(VdtoError) as err:
        build_cube("inegi", bin="year", start=date(2007, 1, 1), end=date(2012, 12, 31), check=check)
    assert (
        "needs at least 10 time bins after the first 1" in err.value.what
        and "the cube has 6" in err.value.what
    )


def test_span_outside_the_panel():
    with pytest.raises(VdtoError) as err:
        build_cube("inegi", bin="year", start=date(2014, 1, 1), end=date(2016, 12, 31))
    assert "not 2014-01 to 2016-12" in err.value.what and err.value.param == "start"


def test_unknown_source():
    with pytest.raises(VdtoError) as err:
        build_cube("acled", bin="year")
    assert err.value.param == "source"
