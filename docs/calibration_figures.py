"""Regenerate the tables of docs/calibration.md from the bundled real data.

    uv run python docs/calibration_figures.py OUT [--population 100] [--generations 6] [--workers 2]

Runs, in this order and all from the landed code: the Morris screen of the candidate
parameters on Mexico 2007-2012, Sobol indices of the calibration's free parameters, the
ABC-SMC calibration (posterior in OUT/posterior.parquet, pyabc's database beside it, so an
interrupted run resumes), the fit inside 2007-2012 and the validation on 2013-2023 from
posterior predictive histories. Writes OUT/calibration-tables.md, with the provenance of each
run; copy its sections into docs/calibration.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from vdto.services.calibration import Where, real_for, run_calibration, run_validation
from vdto.sim.calibration.estimate import DEFAULT_FREE, Setup, observed
from vdto.sim.calibration.screen import morris, ranking, sobol
from vdto.sim.params import load_scenario
from vdto.sim.runner import mapper, world_for

FIRST, LAST = 2007, 2012
HELD_OUT = (2013, 2023)
SEED = 1


def md(frame: pd.DataFrame) -> str:
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def screen(doc: list[str], workers: int, trajectories: int, sobol_n: int) -> None:
    sc = load_scenario("default")
    setup = Setup(sc, FIRST, LAST, replicates=16, seed=SEED)
    world = world_for(setup.base())
    obs = observed(real_for(world, FIRST, LAST), world, setup)
    with mapper(workers) as m:
        t0 = time.perf_counter()
        mo = morris(world, setup, obs, trajectories=trajectories, map_=m.map)
        t1 = time.perf_counter()
        so = sobol(world, setup, obs, DEFAULT_FREE, n=sobol_n, map_=m.map)
        t2 = time.perf_counter()
    rank = ranking(mo)
    table = mo.pivot(index="parameter", columns="target", values="mu_star").loc[rank.index]
    table.insert(0, "rank score", rank)
    doc.append("## Sensitivity\n")
    doc.append(
        f"Morris screen (SALib; {trajectories} trajectories, 4 levels, {mo.attrs['evaluations']} parameter sets x "
        f"the mean of 16 starting maps, {t1 - t0:.0f} s on {workers} workers), history {FIRST}-{LAST} under the kingpin "
        f"policy from January {FIRST}, seed {SEED}. mu* per target (the mean absolute elementary effect, "
        "in the target's unit, for a move of the parameter over its prior's range on its prior's scale); "
        "rank score: the largest of the parameter's mu* each divided by the target's largest.\n"
    )
    doc.append(md(table.reset_index().round(3)) + "\n")
    st = so.pivot(index="parameter", columns="target", values="ST").round(2)
    s1 = so.pivot(index="parameter", columns="target", values="S1").round(2)
    doc.append(
        f"Sobol indices of the free parameters (SALib, Saltelli's scheme, N = {sobol_n}, "
        f"{so.attrs['evaluations']} parameter sets, {t2 - t1:.0f} s): total-order ST, then first-order S1 "
        "(with their bootstrap confidence in the full frame).\n"
    )
    doc.append("Total order ST:\n\n" + md(st.reset_index()) + "\n")
    doc.append("First order S1:\n\n" + md(s1.reset_index()) + "\n")


def calibration(doc: list[str], out: Path, workers: int, population: int, generations: int) -> None:
    sc = load_scenario("default")
    t0 = time.perf_counter()
    post = run_calibration(sc, FIRST, LAST, db=out / "posterior.parquet.db", where=Where(workers),
                           population=population, generations=generations, replicates=16, seed=SEED,
                           log=print)  # fmt: skip
    wall = time.perf_counter() - t0
    post.write(out / "posterior.parquet")
    m = post.meta
    doc.append("## Posterior\n")
    doc.append(
        f"ABC-SMC (pyabc), {m['generations']} generations of {population} particles, {m['simulations']:,} "
        f"simulated histories of {FIRST}-{LAST} (each on one of a pool of 16 starting maps), final tolerance {m['epsilon']:.3g} "
        f"({wall / 60:.1f} min on {workers} workers); scenario sha256:{m['scenario_sha256'][:12]}, world "
        f"sha256:{m['world_sha256'][:12]}, seed {SEED}.\n"
    )
    summary = post.summary()
    prior = {f.name: (f.low, f.high) for f in DEFAULT_FREE}
    summary.insert(1, "prior", [f"{prior[p][0]:.3g}-{prior[p][1]:.3g}" for p in summary["parameter"]])
    for c in ("mean", "q05", "median", "q95"):
        summary[c] = summary[c].map(lambda x: f"{x:.3g}")
    doc.append(md(summary) + "\n")
    for title, (a, b) in (("Fit inside the calibration window", (FIRST, LAST)), ("Held-out years", HELD_OUT)):
        v = run_validation(post, a, b, draws=40, replicates=4, seed=SEED, where=Where(workers))
        t = v.national
        shown = pd.DataFrame({
            "year": t["year"], "series": t["source"], "real": t["real"].map(lambda x: f"{x:,.0f}"),
            "simulated median": t["median"].map(lambda x: f"{x:,.0f}"),
            "90% interval": [f"{lo:,.0f}-{hi:,.0f}" for lo, hi in zip(t["lo90"], t["hi90"], strict=True)],
            "inside": np.where(t["inside"], "yes", "no"), "error of the median": t["error"].map(lambda x: f"{x:+.0%}"),
            "state rank correlation": t["state_spearman"].map(lambda x: f"{x:.2f}"),
        })  # fmt: skip
        doc.append(f"## {title}: {a}-{b}\n")
        doc.append(
            f"{v.histories} posterior predictive histories (40 parameter sets x 4 starting maps) run from "
            f"January {FIRST} under the kingpin policy, nothing refitted; homicides (people) per year. The "
            f"90% intervals cover {v.coverage:.0%} of the {len(t)} years; the median's error is "
            f"{t['error'].abs().mean():.0%} on average.\n"
        )
        doc.append(md(shown) + "\n")
        pop = pd.Series(real_for_world(a).population).groupby(np.asarray(real_for_world(a).state)).sum()
        real_states = run_real(a, b).state.sum(axis=0)
        rho = float(pd.Series(real_states).corr(pd.Series(pop.to_numpy()), method="spearman"))
        doc.append(f"For scale: the rank correlation of the real state totals of {a}-{b} with the states' "
                   f"population alone is {rho:.2f}.\n")  # fmt: skip
        st = v.statistics
        if a == FIRST:
            stats = pd.DataFrame({
                "statistic": st["statistic"], "real": st["real"].map(lambda x: f"{x:.3g}"),
                "simulated median": st["median"].map(lambda x: f"{x:.3g}"),
                "90% interval": [f"{lo:.3g} to {hi:.3g}" for lo, hi in zip(st["lo90"], st["hi90"], strict=True)],
                "inside": np.where(st["inside"], "yes", "no"),
            })  # fmt: skip
            doc.append(f"Every statistic of the fit ({int(st['inside'].sum())} of {len(st)} real values inside the "
                       "90% interval of the histories; shares are fractions, national and members log10):\n")  # fmt: skip
            doc.append(md(stats) + "\n")
        if len(v.leaders):
            lead = v.leaders.assign(
                share_of_histories=v.leaders["share_of_histories"].map(lambda x: f"{x:.2f}")
            )
            doc.append("Leading lineage in UCDP GED (most attributed deaths) and the share of histories in which "
                       "the same lineage leads:\n\n" + md(lead) + "\n")  # fmt: skip


def event_study(doc: list[str], out: Path, workers: int) -> None:
    from vdto.sim.calibration.estimate import Posterior
    from vdto.sim.calibration.eventstudy import kingpin_event_study
    from vdto.sim.params import with_run

    post = Posterior.read(out / "posterior.parquet")
    sc = with_run(post.setup().base(), replicates=160, months=72)
    world = world_for(sc)
    doc.append("## Kingpin event study on simulated panels\n")
    doc.append(
        f"Every kingpin strike of the histories of {FIRST}-{FIRST + 5} (the calibration's, strikes every 12 "
        "months from January 2007) with 12 months before and 24 after it is an event: its capture municipality "
        "is the struck organization's most populous plaza, its neighbours the organization's plazas bordering "
        "it, the controls the municipalities never struck. Each history's panel goes through the estimator "
        "`vdto evaluate` runs on INEGI's (vdto.evaluation.eventstudy, see evaluation.md): 160 histories, over the posterior (40 parameter sets x 4 starting "
        "maps) and with the default parameters. Published: Lindo & Padilla-Romo (2018).\n"
    )
    for label, draws in (("over the posterior", post.draws(40, SEED)), ("default parameters", None)):
        t = kingpin_event_study(world, sc, draws=draws, workers=workers)
        shown = pd.DataFrame({
            "estimate": t["estimate"], "mean": t["mean"].map(lambda x: f"{x:+.0%}"),
            "median over histories (90% interval)": [f"{m:+.0%} ({lo:+.0%} to {hi:+.0%})" for m, lo, hi in
                                                     zip(t["median"], t["lo90"], t["hi90"], strict=True)],
            "histories in which homicides rose": t["share_rising"].map(lambda x: f"{x:.0%}"),
            "published": t["published"].map(lambda x: f"{x:+.0%}"),
        })  # fmt: skip
        doc.append(f"{label.capitalize()}:\n\n" + md(shown) + "\n")


def real_for_world(year: int):
    return world_for(Setup(load_scenario("default"), year, year).base())


def run_real(first: int, last: int):
    return real_for(real_for_world(FIRST), first, last)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--population", type=int, default=100)
    p.add_argument("--generations", type=int, default=6)
    p.add_argument("--trajectories", type=int, default=10)
    p.add_argument("--sobol-n", type=int, default=64)
    p.add_argument("--skip-screen", action="store_true")
    p.add_argument("--screen-only", action="store_true")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    doc: list[str] = []
    t0 = time.perf_counter()
    if not args.skip_screen:
        screen(doc, args.workers, args.trajectories, args.sobol_n)
    if not args.screen_only:
        calibration(doc, args.out, args.workers, args.population, args.generations)
        event_study(doc, args.out, args.workers)
    (args.out / "calibration-tables.md").write_text("\n".join(doc), encoding="utf-8")
    print(f"done in {time.perf_counter() - t0:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
