"""Evaluating interventions: the estimator against pyfixest, its coverage over seeds, placebo
dates, synthetic control and the interventions file (the real panels: test_evaluation_real.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vdto.data import bundled
from vdto.errors import VdtoError
from vdto.evaluation.eventstudy import event_study, pooled_estimate
from vdto.evaluation.interventions import InterventionErrors, read_interventions
from vdto.evaluation.placebo import placebo_dates
from vdto.evaluation.synth import synthetic_control

from .conftest import assert_one_line_exit_2, run_here

HEADER = "date,region_codes,organization,kind,source\n"


def staggered(seed: int, *, n: int = 300, T: int = 72, treated: int = 25, effect: float = 2.0):
    """Poisson counts with unit levels and a common trend; ``treated`` units from random months,
    ``effect`` more homicides a month from then on."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(2.0, 2.0, size=(n, 1)) * np.exp(0.01 * np.arange(T))[None, :]
    Y = rng.poisson(lam).astype(float)
    start = np.full(n, -1)
    tr = rng.choice(n, treated, replace=False)
    start[tr] = rng.integers(12, T - 12, size=treated)
    for i in tr:
        Y[i, start[i] :] += rng.poisson(effect, size=T - start[i]) if effect else 0
    return Y, start


# ------------------------------------------------------------------------------ the estimator


def _regression(Y, start, pre, post, ref=-1):
    """The saturated regression on the treated units' windows and the never-treated units,
    with pyfixest: cohort x event-month dummies, month ``ref`` the reference."""
    import pyfixest as pf

    rows = []
    for i in range(Y.shape[0]):
        for t in range(Y.shape[1]):
            g = start[i]
            if g >= 0 and not -pre <= t - g <= post:
                continue
            rows.append((i, t, Y[i, t], g, t - g if g >= 0 else -99))
    df = pd.DataFrame(rows, columns=["unit", "month", "y", "g", "e"])
    cols = []
    for g in sorted(set(start[start >= 0])):
        for e in range(-pre, post + 1):
            if e == ref:
                continue
            name = f"d_{g}_{e + 100}"
            df[name] = ((df.g == g) & (df.e == e)).astype(float)
            cols.append(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols("y ~ " + "+".join(cols) + " | unit + month", data=df, vcov={"CRV1": "unit"})


@pytest.mark.parametrize("base", ["last", "pre"])
def test_the_estimator_is_the_saturated_regression_of_pyfixest(base):
    rng = np.random.default_rng(3)
    Y = rng.poisson(4.0, size=(80, 40)).astype(float) + rng.normal(0, 1, size=(80, 1))
    start = np.full(80, -1)
    start[:6], start[6:9], start[9] = 14, 20, 25
    for i in range(10):
        Y[i, start[i] :] += 2.0
    pre, post = 6, 8
    res = event_study(Y, start, pre=pre, post=post, window=(0, 5), base=base).table.set_index("event_time")
    # base "last": the regression with month -1 as reference; base "pre": the mean of the
    # regressions with each pre-period month as reference
    refs = [-1] if base == "last" else list(range(-pre, 0))
    coefs = [_regression(Y, start, pre, post, ref).coef() for ref in refs]
    sizes = {g: int((start == g).sum()) for g in set(start[start >= 0])}
    for e in range(0, post + 1):
        want = np.mean([sum(n * co[f"d_{g}_{e + 100}"] for g, n in sizes.items()) / sum(sizes.values())
                        for co in coefs])  # fmt: skip
        assert res.loc[e, "estimate"] == pytest.approx(want, abs=1e-8)
    # one cohort alone: the standard error is pyfixest's CRV1 up to the small-sample factors
    one = np.where(start == 14, 14, -1)
    mine = event_study(Y, one, controls=start < 0, pre=pre, post=post, window=(0, 5), base=base)
    keep = (start == 14) | (start < 0)
    if base == "last":
        fit1 = _regression(Y[keep], start[keep], pre, post)
        se = fit1.se()["d_14_102"]
        assert mine.table.set_index("event_time").loc[2, "estimate"] == pytest.approx(
            fit1.coef()["d_14_102"], abs=1e-8
        )
        assert mine.table.set_index("event_time").loc[2, "se"] == pytest.approx(se, rel=0.15)


@pytest.mark.slow
@pytest.mark.parametrize("base", ["pre", "last"])
def test_the_90_percent_intervals_cover_an_injected_effect_in_about_90_percent_of_seeds(base):
    seeds = range(200)
    hits = []
    for seed in seeds:
        Y, start = staggered(seed)
        r = event_study(Y, start, pre=12, post=12, window=(0, 11), base=base).pooled
        hits.append(r["lo"] <= 2.0 <= r["hi"])
    # 200 seeds: a binomial 90% rate lies within 0.85-0.95 with probability above 0.98
    assert 0.85 <= np.mean(hits) <= 0.95, np.mean(hits)


def test_no_effect_gives_estimates_centred_on_zero_and_an_effect_is_found():
    null = [pooled_estimate(*staggered(s, effect=0.0), pre=12, post=12, window=(0, 11)) for s in range(60)]
    assert abs(np.mean(null)) < 3 * np.std(null) / np.sqrt(len(null))
    found = [event_study(*staggered(s, effect=2.0), pre=12, post=12).pooled for s in range(20)]
    assert np.mean([r["lo"] > 0 for r in found]) > 0.9


def test_placebo_dates_centre_on_zero_while_the_real_dates_find_the_effect():
    means = []
    for seed in range(10):
        Y, start = staggered(seed, T=96, effect=3.0)
        start = np.where(start >= 0, start + 24, -1)  # room for placebo windows before each date
        Y = np.hstack([np.random.default_rng(seed + 100).poisson(Y[:, :24].mean(axis=1, keepdims=True),
                                                                   size=(Y.shape[0], 24)), Y])  # fmt: skip
        start = np.where(start < Y.shape[1], start, -1)
        p = placebo_dates(Y, start, pre=12, post=12, window=(0, 11), draws=40, seed=seed)
        means.append(np.nanmean(p))
        assert event_study(Y, start, pre=12, post=12).pooled["estimate"] > 1.5
    assert abs(np.mean(means)) < 0.5


def test_placebo_draws_are_reproducible_from_the_seed():
    Y, start = staggered(4, T=96)
    a = placebo_dates(Y, start, pre=12, post=12, window=(0, 11), draws=5, seed=11)
    b = placebo_dates(Y, start, pre=12, post=12, window=(0, 11), draws=5, seed=11)
    c = placebo_dates(Y, start, pre=12, post=12, window=(0, 11), draws=5, seed=12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_a_window_cut_by_the_panels_end_averages_the_months_it_has():
    Y = np.ones((5, 30))
    Y[0, 24:] = 3.0
    start = np.array([24, -1, -1, -1, -1])
    r = event_study(Y, start, pre=12, post=12, window=(0, 11))
    assert r.pooled["estimate"] == pytest.approx(2.0)
    assert r.table.set_index("event_time").loc[8, "treated"] == 0


def test_synthetic_control_without_an_effect_is_not_significant():
    rng = np.random.default_rng(5)
    base = rng.gamma(4.0, 1.0, size=(25, 1)) * (1 + 0.02 * np.arange(48))[None, :]
    Y = base + rng.normal(0, 0.3, size=(25, 48))
    sc = synthetic_control(Y, 0, 36, pre=24, post=12, donors=15)
    assert sc.p_value > 0.1 and abs(sc.effect) < 1.0
    assert sc.weights.sum() == pytest.approx(1.0, abs=1e-6) and (sc.weights >= -1e-9).all()


# ------------------------------------------------------------------------------ interventions file


def test_the_bundled_captures_list_cites_a_source_for_every_row():
    iv = read_interventions(bundled("captures"))
    f = iv.frame
    assert len(f) == 24 and f["date"].is_monotonic_increasing
    assert f["source"].str.contains("http").all()
    assert set(f["kind"]) <= {"leader capture", "leader killed", "operation", "other"}
    assert (f["kind"].isin(["leader capture", "leader killed"])).sum() == 21
    # Arturo Beltrán Leyva, killed in Cuernavaca; El Chango's place is disputed and marked so
    abl = f[f["person"] == "Arturo Beltrán Leyva"].iloc[0]
    assert (abl["date"], abl["region_codes"], abl["kind"]) == (
        pd.Timestamp("2009-12-16"),
        ("17007",),
        "leader killed",
    )
    assert f[f["person"] == "José de Jesús Méndez Vargas"].iloc[0]["uncertain"] == ("place",)


@pytest.mark.parametrize(
    ("row", "needles"),
    [
        ("2010-01-12,99999,sinaloa,leader capture,x", ["f.csv:2:2", "region_codes", "INEGI"]),
        ("2010-13-12,25006,sinaloa,leader capture,x", ["f.csv:2:1", "date", "YYYY-MM-DD"]),
        ("2010-01-12,25006,nobody,leader capture,x", ["f.csv:2:3", "organization"]),
        ("2010-01-12,25006,sinaloa,arrest,x", ["f.csv:2:4", "kind", "leader capture"]),
        ("2010-01-12,25006,sinaloa,leader capture,", ["f.csv:2:5", "source", "cite"]),
        ("1066-01-12,25006,sinaloa,leader capture,x", ["f.csv:2:1", "outside"]),
        ("2010-01-12,25006,sinaloa,leader capture", ["f.csv:2", "fields"]),
    ],
)
def test_a_bad_row_gets_one_line_with_its_place_and_fix(tmp_path, row, needles):
    f = tmp_path / "f.csv"
    f.write_text(HEADER + row + "\n")
    res = run_here("evaluate", str(f), "--placebos", "0")
    assert_one_line_exit_2(res, *needles)


def test_a_date_outside_the_panel_names_its_row(tmp_path):
    f = tmp_path / "f.csv"
    f.write_text(
        HEADER + "2010-01-12,25006,sinaloa,leader capture,x\n2019-05-01,25006,sinaloa,leader capture,x\n"
    )
    res = run_here("evaluate", str(f), "--placebos", "0")
    assert_one_line_exit_2(res, "f.csv:3:1", "outside the panel", "--panel", "sesnsp")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cell=st.text(min_size=0, max_size=12), column=st.sampled_from(range(5)))
def test_random_cells_read_or_fail_with_a_located_error(tmp_path, cell, column):
    good = ["2010-01-12", "25006", "sinaloa", "leader capture", "x"]
    good[column] = '"' + cell.replace('"', '""').replace("\r", " ").replace("\n", " ") + '"'
    f = tmp_path / "h.csv"
    f.write_text(HEADER + ",".join(good) + "\n", encoding="utf-8")
    try:
        iv = read_interventions(f)
    except InterventionErrors as exc:
        assert exc.where.startswith(f"{f}:2:") and exc.fix
    except VdtoError as exc:  # e.g. a NUL byte: the file is not text
        assert exc.where.startswith(str(f)) and exc.fix
    else:
        assert len(iv.frame) == 1
