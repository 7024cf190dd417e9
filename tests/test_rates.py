"""Homicide rates per 100,000 (vdto.regional.rates): municipal and state rates from the bundled
INEGI and CONAPO files, checked against the raw originals in ../shared, and Marshall's global
empirical-Bayes smoothing (esda's implementation) on hand-computed and generated cases.
"""

from __future__ import annotations

import csv
import doctest
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vdto.errors import VdtoError
from vdto.geography import geography
from vdto.regional import rates as rates_module
from vdto.regional.panel import all_regions
from vdto.regional.rates import RATE_COLUMNS, eb_rates, inegi_yearly, municipal_rates, state_rates

RAW = Path(__file__).resolve().parents[2] / "shared" / "data" / "raw"

# 2010: big cities, mid-size cities, tiny municipalities, one without any homicide; 10 states
SAMPLE_2010 = {
    "19039": "Monterrey",
    "09007": "Iztapalapa",
    "08037": "Juárez",
    "02004": "Tijuana",
    "14039": "Guadalajara",
    "12001": "Acapulco de Juárez",
    "25006": "Culiacán",
    "31050": "Mérida",
    "26044": "Onavas",  # 407 people, 2 homicides
    "19023": "General Treviño",  # 1,297 people, 29 homicides: the highest rate of 2010
    "20047": "Santa Magdalena Jicotlán",  # 94 people, the smallest municipality; no homicide
}


def test_doctests():
    result = doctest.testmod(rates_module)
    assert result.attempted >= 4 and result.failed == 0


# ----------------------------------------------------------------- acceptance: raw files


def _raw_inegi_totals(path: Path) -> dict[str, int]:
    """{5-digit code: deaths} of the municipal rows of one INEGI query export, read on its own:
    rows whose first cell is " SS MMM ", the Total column checked against the sum of the months."""
    out = {}
    with path.open(encoding="latin-1", newline="") as f:
        for row in csv.reader(f):
            if not row or not re.fullmatch(r"\d{2} \d{3}", row[0].strip()):
                continue
            cells = [int(c.replace(",", "")) if c.strip() else 0 for c in row[2:15]]
            total, months = cells[0], cells[1:]
            assert total == sum(months), row
            out[row[0].strip().replace(" ", "")] = total
    return out


def test_municipal_rates_2010_equal_the_raw_files():
    if (
        not (RAW / "inegi_homicidios_municipal" / "2010.csv").exists()
        or not (RAW / "conapo_poblacion_municipal" / "municipio-population2010-2030.csv").exists()
    ):
        pytest.skip(f"the raw INEGI and CONAPO files are not in {RAW} (the shared folder is missing)")
    pop = pd.read_csv(RAW / "conapo_poblacion_municipal" / "municipio-population2010-2030.csv")
    pop = pop[(pop["Sex"] == "Total") & (pop["Year"] == 2010)]
    pop = pd.Series(pop["Population"].to_numpy(), index=pop["Code"].astype(int).map("{:05d}".format))
    deaths = _raw_inegi_totals(RAW / "inegi_homicidios_municipal" / "2010.csv")
    assert sum(deaths.values()) == 25_757  # the national row, 999 codes included

    out = municipal_rates(inegi_yearly(), years=[2010]).set_index("region_code")
    for code in SAMPLE_2010:
        expected = deaths.get(code, 0) / pop[code] * 100_000
        row = out.loc[code]
        assert int(row["count"]) == deaths.get(code, 0), code
        assert row["population"] == pop[code], code
        assert not row["filled"]
        assert row["per100k"] == pytest.approx(expected, rel=1e-9, abs=1e-9), code
    assert "20047" not in deaths and out.loc["20047", "per100k"] == 0.0
    assert out.loc["19023", "per100k"] == pytest.approx(29 / 1297 * 1e5, rel=1e-12)
    # every municipality, not only the sample
    both = out.loc[pop.index]
    direct = pd.Series(deaths).reindex(pop.index, fill_value=0) / pop * 100_000
    np.testing.assert_allclose(both["per100k"].to_numpy(), direct.to_numpy(), rtol=1e-9, atol=1e-9)


# ----------------------------------------------------------------- municipal and state rates


def test_municipal_rates_shape_and_totals():
    y = inegi_yearly()
    out = municipal_rates(y, years=[2009, 2010])
    assert list(out.columns) == RATE_COLUMNS
    codes = all_regions("municipality")
    assert len(out) == 2 * len(codes)
    assert out.groupby("year")["region_code"].apply(list).map(lambda c: c == codes).all()
    assert out["count"].dtype == np.int64 and out["filled"].dtype == bool
    # INEGI's national totals: municipalities + the 999 (not specified) and abroad codes
    assert int(out["count"].sum()) + out.attrs["outside_regions"] == 19_803 + 25_757
    assert out.loc[out["year"] == 2010, "count"].sum() == 25_757 - 21  # 21 not specified in 2010
    # a municipality without a CONAPO figure has no rate: Tulum before it existed, the newest ones
    assert np.isnan(out.set_index(["region_code", "year"]).loc[("23009", 2009), "per100k"])
    assert out.loc[out["year"] == 2010, "population"].isna().sum() == 21
    no_pop = out["population"].isna()
    assert out.loc[no_pop, "per100k"].isna().all() and out.loc[~no_pop, "per100k"].notna().all()


def test_filled_years_are_marked_and_between():
    out = municipal_rates(inegi_yearly(), years=[2006, 2008, 2010])
    wide = out.pivot(index="region_code", columns="year", values="population").dropna()
    assert len(wide) == 2_454  # the municipalities of both CONAPO series
    assert (
        (wide[2008] >= np.minimum(wide[2006], wide[2010]))
        & (wide[2008] <= np.maximum(wide[2006], wide[2010]))
    ).all()
    flagged = out.groupby("year")["filled"].sum()
    assert flagged[2008] == 2_454 and flagged[2006] == 0 and flagged[2010] == 0
    assert out.loc[out["filled"], "year"].eq(2008).all()
    assert int(out.loc[out["year"] == 2008, "population"].sum()) == 109_522_901  # SOURCE.md


def test_default_years_and_zero_rows():
    counts = pd.DataFrame({"region_code": ["19039", "19039"], "year": [2011, 2011], "count": [3, 4]})
    out = municipal_rates(counts)
    assert set(out["year"]) == {2011}
    assert out.loc[out["region_code"] == "19039", "count"].item() == 7
    assert out["count"].sum() == 7 and out.attrs["outside_regions"] == 0
    pop = geography().municipal_population(2011)["19039"]
    assert out.loc[out["region_code"] == "19039", "per100k"].item() == pytest.approx(7 / pop * 1e5)


def test_inegi_yearly_totals_and_copy():
    y = inegi_yearly()
    assert list(y.columns) == ["region_code", "year", "count"]
    totals = y.groupby("year")["count"].sum()
    assert (totals[1990], totals[2007], totals[2010], totals[2015]) == (14_493, 8_867, 25_757, 20_762)
    y.loc[:, "count"] = -1
    assert (inegi_yearly()["count"] > 0).all()


def test_state_rates_from_municipal_codes():
    y = inegi_yearly()
    out = state_rates(y, years=[2010]).set_index("region_code")
    assert list(out.reset_index().columns) == RATE_COLUMNS and len(out) == 32
    in_2010 = y[y["year"] == 2010]
    bc = in_2010.loc[in_2010["region_code"].str.startswith("02"), "count"].sum()  # 02999 included
    monthly = geography().population
    pop = monthly.loc[(monthly["state_code"] == "02") & (monthly["date"].dt.year == 2010), "population"]
    assert len(pop) == 12
    assert out.loc["02", "count"] == bc
    assert out.loc["02", "per100k"] == pytest.approx(bc / pop.mean() * 1e5, rel=1e-12)
    assert int(out["count"].sum()) == 25_757 and out.attrs["outside_regions"] == 0  # nobody abroad
    assert not out["filled"].any()


# ----------------------------------------------------------------- empirical Bayes


def _marshall(e: np.ndarray, b: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Prior mean m, prior variance A (untruncated) and raw rates r of the units with b > 0."""
    r = e / b
    m = e.sum() / b.sum()
    return m, (b * (r - m) ** 2).sum() / b.sum() - m / b.mean(), r


def test_eb_by_hand():
    # Marshall (1991), global estimator, per person:
    #   r_i = e_i / n_i,  m = sum(e) / sum(n),  s2 = sum(n_i (r_i - m)^2) / sum(n),
    #   A = s2 - m / mean(n),  w_i = A / (A + m / n_i),  smoothed_i = m + w_i (r_i - m)
    # e = 5, 2, 6, 10 and n = 10, 20, 20, 50 (the fifth unit, population 0, is left out):
    #   r = .5, .1, .3, .2;  m = 23 / 100 = .23
    #   s2 = (10 x .27^2 + 20 x .13^2 + 20 x .07^2 + 50 x .03^2) / 100 = 1.21 / 100 = .0121
    #   A = .0121 - .23 / 25 = .0121 - .0092 = .0029
    #   m / n_i = .023, .0115, .0115, .0046  ->  w = 29/259, 29/144, 29/144, 29/75
    e = np.array([5, 2, 6, 10, 3])
    n = np.array([10, 20, 20, 50, 0])
    expected = np.array(
        [0.23 + 0.27 * 29 / 259, 0.23 - 0.13 * 29 / 144, 0.23 + 0.07 * 29 / 144, 0.23 - 0.03 * 29 / 75]
    )
    got = eb_rates(e, n, per=1.0)
    np.testing.assert_allclose(got[:4], expected, rtol=1e-12)
    assert got[3] == pytest.approx(0.2184, rel=1e-12)
    assert np.isnan(got[4])
    np.testing.assert_allclose(eb_rates(e, n)[:4], expected * 1e5, rtol=1e-12)


def test_eb_equals_esda_on_real_2010():
    import esda.smoothing

    r = municipal_rates(inegi_yearly(), years=[2010])
    e, b = r["count"].to_numpy(float), r["population"].to_numpy(float)
    ok = np.isfinite(b) & (b > 0)
    got = eb_rates(e, b)
    assert np.isnan(got[~ok]).all()
    ref = esda.smoothing.Empirical_Bayes(e[ok], b[ok]).r.ravel() * 1e5
    np.testing.assert_allclose(got[ok], ref, rtol=1e-12)
    # the smoothed national picture: the same overall rate, far less spread among small places
    assert np.average(got[ok], weights=b[ok]) == pytest.approx(e[ok].sum() / b[ok].sum() * 1e5, rel=0.05)
    small = ok & (b < 5_000)
    assert np.std(got[small]) < np.std((e / np.where(ok, b, 1) * 1e5)[small])


def test_eb_village_moves_city_stays():
    rng = np.random.default_rng(3)
    pop = rng.integers(20_000, 300_000, 60).astype(float)
    deaths = rng.poisson(pop * rng.gamma(4.0, 5.0, 60) / 1e5).astype(float)
    e = np.concatenate([deaths, [1.0, 500.0]])
    b = np.concatenate([pop, [500.0, 1_000_000.0]])
    m = e.sum() / b.sum() * 1e5
    raw = e / b * 1e5
    got = eb_rates(e, b)
    village, city = got[-2], got[-1]
    assert raw[-2] == 200.0 and raw[-1] == 50.0
    assert abs(village - m) < 0.1 * abs(raw[-2] - m)  # most of the way to the overall rate
    assert abs(city - raw[-1]) < 0.02 * abs(raw[-1] - m)  # barely moves


def test_eb_no_variance_gives_the_overall_rate():
    # equal rates: A = -m / mean(n) < 0, set to 0 (esda would give weights outside [0, 1])
    got = eb_rates(np.array([1.0, 2.0, 4.0]), np.array([1_000.0, 2_000.0, 4_000.0]))
    np.testing.assert_allclose(got, 100.0)
    assert (eb_rates(np.zeros(3), np.array([10.0, 0.0, 30.0])) == [0.0, 0.0, 0.0])[[0, 2]].all()
    assert np.isnan(eb_rates(np.zeros(3), np.array([10.0, 0.0, 30.0]))[1])
    assert np.isnan(eb_rates(np.array([1.0, 2.0]), np.array([0.0, np.nan]))).all()


def test_eb_two_dimensional_smooths_each_column():
    rng = np.random.default_rng(5)
    b = rng.integers(0, 50_000, (40, 3)).astype(float)
    e = rng.poisson(b * 3e-4).astype(float)
    got = eb_rates(e, b)
    assert got.shape == (40, 3)
    for j in range(3):
        np.testing.assert_array_equal(got[:, j], eb_rates(e[:, j], b[:, j]))


units = st.integers(min_value=1, max_value=25).flatmap(
    lambda k: st.tuples(
        st.lists(st.integers(0, 2_000), min_size=k, max_size=k),
        st.lists(st.one_of(st.just(0), st.integers(1, 2_000_000)), min_size=k, max_size=k),
    )
)


@settings(max_examples=150, deadline=None)
@given(units)
def test_eb_properties(case):
    import esda.smoothing

    e, b = (np.array(v, dtype=float) for v in case)
    got = eb_rates(e, b, per=1.0)
    ok = b > 0
    assert np.isnan(got[~ok]).all()
    if not ok.any():
        return
    s = got[ok]
    assert np.isfinite(s).all() and (s >= 0).all()
    m, a, r = _marshall(e[ok], b[ok])
    tol = 1e-12 * max(1.0, float(np.max(r)))
    # between the raw rate and the prior mean, i.e. the shrinkage weight lies in [0, 1]
    assert (s >= np.minimum(r, m) - tol).all() and (s <= np.maximum(r, m) + tol).all()
    if a > 0:
        np.testing.assert_allclose(s, esda.smoothing.Empirical_Bayes(e[ok], b[ok]).r.ravel(), rtol=1e-9)
        w = a / (a + m / b[ok])
        assert ((w >= 0) & (w <= 1)).all()
        np.testing.assert_allclose(s, w * r + (1 - w) * m, rtol=1e-9, atol=1e-15)
    else:
        np.testing.assert_allclose(s, m, rtol=1e-12)


# ----------------------------------------------------------------- bad input


def _one_line(err: pytest.ExceptionInfo[VdtoError], param: str) -> None:
    assert err.value.param == param
    assert "\n" not in str(err.value) and str(err.value).startswith(f"{param}: ")


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda: eb_rates(np.array([1.0, -1.0]), np.array([10.0, 10.0])), "events"),
        (lambda: eb_rates(np.array([1.0, 1.0]), np.array([10.0, -10.0])), "population"),
        (lambda: eb_rates(np.array([1.0, 1.0]), np.array([10.0, 10.0, 10.0])), "population"),
        (lambda: eb_rates(np.ones((2, 2)), np.ones(4)), "population"),
        (lambda: eb_rates(np.ones((2, 2, 2)), np.ones((2, 2, 2))), "events"),
        (lambda: eb_rates(np.array([np.inf]), np.array([1.0])), "events"),
        (lambda: eb_rates(np.ones(2), np.ones(2), per=0), "per"),
    ],
)
def test_eb_bad_input(call, param):
    with pytest.raises(VdtoError) as err:
        call()
    _one_line(err, param)


def _counts(**change) -> pd.DataFrame:
    base = {"region_code": ["01001"], "year": [2010], "count": [1]}
    return pd.DataFrame({**base, **change})


@pytest.mark.parametrize(
    ("call", "param", "says"),
    [
        (lambda: municipal_rates(_counts(count=[-2])), "counts", "negative"),
        (lambda: municipal_rates(_counts(), years=[1989]), "years", "1990-2030"),
        (lambda: municipal_rates(_counts(), years=[2010, 2031]), "years", "2031"),
        (lambda: municipal_rates(_counts(year=[1985])), "years", "1985"),
        (lambda: municipal_rates(_counts().drop(columns="count")), "counts", "count"),
        (lambda: municipal_rates(_counts(region_code=[1001])), "counts", "5-digit"),
        (lambda: state_rates(_counts(), years=[2051]), "years", "2051"),
        (lambda: state_rates(_counts(count=[-1])), "counts", "negative"),
    ],
)
def test_rates_bad_input(call, param, says):
    with pytest.raises(VdtoError) as err:
        call()
    _one_line(err, param)
    assert says in str(err.value)
