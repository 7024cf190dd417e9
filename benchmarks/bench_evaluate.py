"""Evaluation benchmark: the closed-form event study of ``vdto evaluate`` against the saturated
regression it equals, fitted with pyfixest, on synthetic municipal panels.

Run from the repository root::

    uv run python benchmarks/bench_evaluate.py
    uv run python benchmarks/bench_evaluate.py --units 300 1000 --months 120 --cohorts 20

What is measured, in this one process (pyfixest runs in a child process for its peak memory):

1. **Reference**: pyfixest's ``feols`` on the saturated regression (cohort x event-month
   dummies, unit and month fixed effects, errors clustered by unit) over the treated units'
   event windows and the never-treated units, for panels of ``--units`` units.
2. **vdto**: :func:`vdto.evaluation.eventstudy.event_study` on the same panel (all 37 event
   months with their intervals and the pooled effect), and 200 placebo-date draws.
3. **The real case**: ``vdto evaluate`` on INEGI's panel (2,458 municipalities x 312 months,
   21 leader captures and killings), end to end, 200 placebo draws. Target: under 60 s on 2
   cores.
Point estimates of (1) and (2) must agree to 1e-8.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

TARGET_S = 60.0
PRE, POST = 12, 24


def panel(units: int, months: int, cohorts: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    Y = rng.poisson(rng.gamma(2.0, 2.0, size=(units, 1)), size=(units, months)).astype(float)
    start = np.full(units, -1)
    dates = rng.choice(np.arange(PRE, months - POST), size=cohorts, replace=False)
    start[:cohorts] = dates
    for i in range(cohorts):
        Y[i, dates[i] :] += 2.0
    return Y, start


def fixest(Y, start):
    import pandas as pd
    import pyfixest as pf

    rows = []
    for i in range(Y.shape[0]):
        g = start[i]
        ts = range(max(0, g - PRE), min(Y.shape[1], g + POST + 1)) if g >= 0 else range(Y.shape[1])
        rows += [(i, t, Y[i, t], g, t - g if g >= 0 else -99) for t in ts]
    df = pd.DataFrame(rows, columns=["unit", "month", "y", "g", "e"])
    cols = {}
    for g in sorted(set(start[start >= 0])):
        for e in range(-PRE, POST + 1):
            if e != -1:
                cols[f"d_{g}_{e + 100}"] = ((df.g == g) & (df.e == e)).to_numpy(dtype=float)
    df = pd.concat([df, pd.DataFrame(cols)], axis=1)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.feols("y ~ " + "+".join(cols) + " | unit + month", data=df, vcov={"CRV1": "unit"})
    wall = time.perf_counter() - t0
    co = fit.coef()
    est = {
        e: float(np.mean([co[f"d_{g}_{e + 100}"] for g in sorted(set(start[start >= 0]))]))
        for e in (0, 6, 12)
    }
    from _measure import peak_rss_kib

    return {"wall": wall, "rows": len(df), "columns": len(cols), "est": est, "peak_kib": peak_rss_kib()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--units", type=int, nargs="+", default=[300, 1000, 2458])
    p.add_argument("--months", type=int, default=120)
    p.add_argument("--cohorts", type=int, default=20)
    args = p.parse_args(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from rich.console import Console

    from _measure import in_child, machine, print_machine
    from vdto.evaluation.eventstudy import event_study
    from vdto.evaluation.placebo import placebo_dates

    con = Console()
    print_machine(con, machine("pyfixest"))
    for n in args.units:
        Y, start = panel(n, args.months, args.cohorts)
        ref = in_child(fixest, Y, start)
        t0 = time.perf_counter()
        res = event_study(Y, start, pre=PRE, post=POST, window=(0, 11), base="last")
        mine = time.perf_counter() - t0
        t0 = time.perf_counter()
        placebo_dates(Y, start, pre=PRE, post=POST, window=(0, 11), draws=200, seed=0, base="last")
        plac = time.perf_counter() - t0
        tab = res.table.set_index("event_time")
        agree = max(abs(tab.loc[e, "estimate"] - ref["est"][e]) for e in (0, 6, 12))
        con.print(f"{n:,} units x {args.months} months, {args.cohorts} cohorts: pyfixest {ref['wall']:.2f} s, "
                  f"peak {ref['peak_kib'] / 1024:,.0f} MiB ({ref['rows']:,} rows x "
                  f"{ref['columns']} dummies); vdto {mine:.3f} s, 200 placebo draws {plac:.2f} s; "
                  f"largest difference {agree:.1e}")  # fmt: skip
    from vdto.data import bundled
    from vdto.evaluation.evaluate import Settings
    from vdto.evaluation.interventions import LEADER_KINDS
    from vdto.services.evaluation import run_evaluation

    t0 = time.perf_counter()
    run_evaluation(bundled("captures"), kinds=LEADER_KINDS, settings=Settings(placebo_draws=200))
    wall = time.perf_counter() - t0
    con.print(f"vdto evaluate on INEGI's panel, 200 placebo draws: {wall:.1f} s (target {TARGET_S:.0f} s)")
    return 0 if wall < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
