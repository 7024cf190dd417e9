"""Estimating the simulator's free parameters from a real panel: ABC-SMC with pyabc.

The model of one parameter set is the statistics of one history, as the real panel is one
history: its starting map and draws are one of a pool of ``replicates`` replicate keys, the
same pool for every parameter set (common random numbers), picked by the particle's own seeded
draw. (Averaging the pool instead would treat the simulator as deterministic and make the
posterior overconfident: tests/test_calibration.py recovers known parameters only with one
history per particle.) pyabc's ABC-SMC (Del Moral et al. 2012;
Klinger, Rickert & Hasenauer 2018) draws parameter sets from the priors, keeps those whose
statistics come within a tolerance of the real ones (a Euclidean distance, each statistic
scaled by its spread under the priors), and moves the population closer over generations.

Parallel evaluation goes through :func:`vdto.sim.runner.mapper` (local processes or Dask), in
the order of the tasks, and every task's seed is derived from (seed, generation, task), so the
same seed gives the same posterior on one process, on local workers or on a Dask cluster, and
a calibration interrupted between generations resumes from pyabc's database (SQLite, written
after every generation) to the same posterior as an uninterrupted one.
"""

from __future__ import annotations

import functools
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vdto.errors import VdtoError
from vdto.sim.calibration.abclib import MappingSampler, pyabc
from vdto.sim.calibration.panel import Panel
from vdto.sim.calibration.simulated import simulated_panels
from vdto.sim.calibration.summaries import common, mean_summaries, summarize
from vdto.sim.engine import simulate
from vdto.sim.params import Scenario, check_policy, with_run
from vdto.sim.world import World


@dataclass(frozen=True)
class Free:
    """A free parameter: its dotted name in the scenario, the prior's range and whether the
    prior is uniform on the log scale."""

    name: str
    low: float
    high: float
    log: bool = True
    note: str = ""

    @property
    def key(self) -> str:
        """The name pyabc knows it by (no dots)."""
        return ("log10_" if self.log else "") + self.name.replace(".", "__")

    def to_value(self, x: float) -> float:
        return float(10.0**x) if self.log else float(x)

    def bounds(self) -> tuple[float, float]:
        return (np.log10(self.low), np.log10(self.high)) if self.log else (self.low, self.high)


#: The parameters the calibration frees by default, with priors four times either side of the
#: default (the defaults are assumptions, docs/model.md; the rival share on its own range):
#: the six with the largest Morris rank score on Mexico 2007-2012 in either of two screens (the
#: mean of 8 and of 16 starting maps), and the one-sided killings, second only to the attack
#: rate for the level of national homicides (docs/calibration.md, Sensitivity).
DEFAULT_FREE: tuple[Free, ...] = (
    Free("violence.attack_rate", 0.015, 0.24, note="attack probability per hostile edge at violence 1"),
    Free(
        "people.enforcement_split",
        0.25,
        4.0,
        note="rise of the split hazard per share of members lost to enforcement",
    ),
    Free("violence.response", 1.5, 24.0, note="sharpness of the logit choice of violence"),
    Free(
        "violence.deaths_per_clash", 3.0, 48.0, note="homicides of a clash per unit of both sides' violence"
    ),
    Free("violence.cost", 0.15, 2.4, note="cost of violence per unit level and strength"),
    Free("enforcement.crackdown", 1.25, 20.0, note="rise of attacks on an organization enforcement weakens"),
    Free("violence.one_sided", 0.5, 8.0, note="homicides per 100,000 people a month at violence 1"),
    Free("violence.rival_share", 0.3, 0.95, log=False, note="share of clash victims who are rival members"),
)


@dataclass(frozen=True)
class Setup:
    """What a calibration is: the scenario (its world starts in ``first``), the window, the
    policy of the history (Mexico from December 2006 was under the kingpin strategy, so by
    default ``kingpin`` from the first month), the free parameters and the run sizes."""

    scenario: Scenario
    first: int
    last: int
    free: tuple[Free, ...] = DEFAULT_FREE
    policy: str = "kingpin"
    replicates: int = 16
    seed: int = 1

    @property
    def months(self) -> int:
        return 12 * (self.last - self.first + 1)

    def base(self) -> Scenario:
        """The scenario every parameter set starts from: world from ``first``, the window's
        months, ``replicates`` replicates, the policy from the first month."""
        world = self.scenario.world
        if world.kind == "default":  # Mexico from the window's first year (a grid has no year)
            world = world.model_copy(update={"start_year": self.first})
        sc = self.scenario.model_copy(
            update={
                "world": world,
                "enforcement": self.scenario.enforcement.model_copy(update={"start_month": 0}),
            }
        )
        return with_run(sc, replicates=self.replicates, months=self.months, seed=self.seed)

    def scenario_for(self, values: dict[str, float]) -> Scenario:
        return self.base().with_values(values)

    def describe(self) -> dict:
        return {
            "first": self.first,
            "last": self.last,
            "policy": self.policy,
            "replicates": self.replicates,
            "seed": self.seed,
            "free": [f.__dict__ for f in self.free],
            "scenario_sha256": self.scenario.sha256(),
        }


def model_summaries(world: World, setup: Setup, values: dict[str, float], replicate: int | None = None
                    ) -> dict[str, float]:  # fmt: skip
    """The statistics of the history with ``values`` (natural scale): of replicate
    ``replicate`` of the pool (its starting map and draws; the pool's keys are the same for
    every parameter set), or, with None, their mean over the pool's ``replicates``."""
    sc = setup.scenario_for(values)
    if replicate is None:
        out = simulate(world, sc, setup.policy, panel=True)
    else:
        out = simulate(world, sc, setup.policy, panel=True, replicates=1, first=replicate % setup.replicates)
    panels = [p.window(setup.first, setup.last) for p in simulated_panels(out, world)]
    return mean_summaries(panels)


def observed(real: Panel, world: World, setup: Setup) -> dict[str, float]:
    """The real statistics the simulated ones can be compared with (same names, finite)."""
    real_s = summarize(real.window(setup.first, setup.last))
    sim_s = model_summaries(world, setup, {})
    keys = common(real_s, sim_s)
    if not keys:
        raise VdtoError("no statistic to compare", fix="check the window's years", param="from")
    return {k: real_s[k] for k in keys}


class _Model:
    """What pyabc calls: a parameter set (pyabc's names) -> the statistics (picklable)."""

    def __init__(self, world: World, setup: Setup, keys: list[str]) -> None:
        self.world, self.setup, self.keys = world, setup, keys

    def __call__(self, par: dict, replicate: int | None = None) -> dict[str, float]:
        values = {f.name: f.to_value(par[f.key]) for f in self.setup.free}
        # one history, like the real one: its starting map drawn from the common pool (the
        # task's generator is seeded, so the draw is reproducible)
        if replicate is None:
            replicate = int(np.random.randint(self.setup.replicates))
        s = model_summaries(self.world, self.setup, values, replicate)
        return {k: float(s.get(k, np.nan)) if np.isfinite(s.get(k, np.nan)) else 0.0 for k in self.keys}


class _ScaleModel(_Model):
    """The model on (parameter set, replicate) pairs (picklable)."""

    def __call__(self, job) -> dict[str, float]:  # type: ignore[override]
        par, i = job
        return super().__call__(par, i)


class SeededSampler(MappingSampler):
    """A pyabc sampler that maps one task per particle through an order-preserving map, each
    task seeded from (seed, generation, task). pyabc's own parallel samplers reseed every task
    from the operating system, so their posteriors cannot be reproduced."""

    def __init__(self, map_: Callable, seed: int) -> None:
        super().__init__(map_=map_)
        self.seed = seed

    def map_function(self, simulate_one, task_seed):
        simulate_one = self.unpickle(simulate_one)
        np.random.seed(int(task_seed))
        random.seed(int(task_seed))
        n = 0
        sample = self._create_empty_sample()
        while True:
            new = simulate_one()
            n += 1
            sample.append(new)
            if new.accepted:
                return sample, n

    def sample_until_n_accepted(
        self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None
    ):
        payload = self.pickle(simulate_one)
        seeds = np.random.SeedSequence([self.seed, t + 2]).generate_state(n, dtype=np.uint32)
        fn = functools.partial(self.map_function, payload)
        results = list(self.map_(fn, [int(x) for x in seeds]))
        samples, evals = zip(*results, strict=True)
        self.nr_evaluations_ = int(sum(evals))
        sample = self._create_empty_sample()
        for one in samples:
            sample += one
        # whatever ran in this process, pyabc's own draws here go on from a state set by
        # (seed, generation), so resuming after any generation draws the same
        np.random.seed(
            int(np.random.SeedSequence([self.seed, t + 2, 1]).generate_state(1, dtype=np.uint32)[0])
        )
        return sample


def group_of(statistic: str) -> str:
    """The group a statistic belongs to: its name without the year, state or organization."""
    for prefix in ("national_log_", "state_share_", "lineage_share_", "members_log_", "munis_over_"):
        if statistic.startswith(prefix):
            return prefix.rstrip("_")
    return statistic


def statistic_weights(scales: dict[str, float]) -> dict[str, float]:
    """Each statistic's weight in the distance: 1 / (its spread x sqrt(the statistics in its
    group)), so that each group (national homicides by year, the 32 state shares, each
    municipal statistic, the lineages' shares, the groups, the members) counts alike however
    many statistics it has."""
    size: dict[str, int] = {}
    for k in scales:
        size[group_of(k)] = size.get(group_of(k), 0) + 1
    return {k: 1.0 / (v * np.sqrt(size[group_of(k)])) for k, v in scales.items()}


def _scales(world: World, setup: Setup, keys: list[str], n: int, map_: Callable) -> dict[str, float]:
    """Each statistic's spread over ``n`` draws from the priors (median absolute deviation x
    1.4826; the standard deviation where that is 0; 1 where both are): the distance divides
    by it, so statistics in different units weigh alike. Fixed for the whole calibration, so
    that a resumed calibration measures distance as an uninterrupted one."""
    rng = np.random.default_rng(np.random.SeedSequence([setup.seed, 0]))
    lows, highs = zip(*(f.bounds() for f in setup.free), strict=True)
    draws = rng.uniform(lows, highs, size=(n, len(setup.free)))
    model = _ScaleModel(world, setup, keys)
    pars = [
        ({f.key: float(x) for f, x in zip(setup.free, row, strict=True)}, i) for i, row in enumerate(draws)
    ]
    stats = np.array([[r[k] for k in keys] for r in map_(model, pars)])
    mad = 1.4826 * np.median(np.abs(stats - np.median(stats, axis=0)), axis=0)
    sd = stats.std(axis=0)
    scale = np.where(mad > 0, mad, np.where(sd > 0, sd, 1.0))
    return {k: float(v) for k, v in zip(keys, scale, strict=True)}


@dataclass
class Posterior:
    """A weighted sample of parameter sets (natural scale) and how it was made."""

    frame: pd.DataFrame  # one column per free parameter (dotted names), and "weight"
    meta: dict = field(default_factory=dict)

    def draws(self, n: int, seed: int) -> list[dict[str, float]]:
        """``n`` parameter sets drawn with replacement by weight (keyed by ``seed``)."""
        rng = np.random.default_rng(np.random.SeedSequence([seed, 77]))
        w = self.frame["weight"].to_numpy(float)
        idx = rng.choice(len(w), size=n, p=w / w.sum())
        cols = [c for c in self.frame.columns if c != "weight"]
        return [{c: float(self.frame[c].iloc[i]) for c in cols} for i in idx]

    def summary(self) -> pd.DataFrame:
        """Per parameter: weighted mean, median and 90% interval."""
        w = self.frame["weight"].to_numpy(float)
        w = w / w.sum()
        rows = []
        for c in (c for c in self.frame.columns if c != "weight"):
            x = self.frame[c].to_numpy(float)
            order = np.argsort(x)
            cw = np.cumsum(w[order])
            q = [float(x[order][min(np.searchsorted(cw, p), len(x) - 1)]) for p in (0.05, 0.5, 0.95)]
            rows.append({"parameter": c, "mean": float(w @ x), "q05": q[0], "median": q[1], "q95": q[2]})
        return pd.DataFrame(rows)

    def write(self, path: str | Path) -> Path:
        from vdto.files import write_parquet

        return write_parquet(self.frame, self.meta, path)

    def setup(self) -> Setup:
        """The calibration's setup, as the file records it."""
        m = self.meta
        free = tuple(Free(**f) for f in m["free"])
        return Setup(Scenario.model_validate(m["scenario"]), int(m["first"]), int(m["last"]), free=free,
                     policy=m["policy"], replicates=int(m["replicates"]), seed=int(m["seed"]))  # fmt: skip

    def check_scenario(self, scenario: Scenario, where: str = "posterior") -> None:
        """Refuse a scenario other than the one the posterior was calibrated on."""
        if scenario.sha256() != self.meta.get("scenario_sha256"):
            raise VdtoError(
                f"the posterior was calibrated on another scenario (sha256 {str(self.meta.get('scenario_sha256'))[:12]}, "
                f"this one {scenario.sha256()[:12]})",
                fix="use the scenario of the calibration, or calibrate this one", param=where,
            )  # fmt: skip

    @classmethod
    def read(cls, path: str | Path) -> Posterior:
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except (OSError, ValueError) as exc:
            raise VdtoError(f"cannot read the posterior ({exc})", fix="give a file vdto calibrate wrote",
                            param=str(path)) from None  # fmt: skip
        raw = (table.schema.metadata or {}).get(b"vdto")
        if raw is None:
            raise VdtoError("not a vdto posterior (no provenance)", fix="give a file vdto calibrate wrote",
                            param=str(path))  # fmt: skip
        meta = json.loads(raw)
        if "free" not in meta or "scenario" not in meta:
            raise VdtoError("not a vdto posterior (no calibration setup)", fix="give a file vdto calibrate wrote",
                            param=str(path))  # fmt: skip
        frame = table.to_pandas()
        keep = [c for c in frame.columns if c not in meta]
        return cls(frame[keep].reset_index(drop=True), meta)


def calibrate(
    world: World,
    setup: Setup,
    real: Panel,
    *,
    population: int = 100,
    generations: int = 6,
    db: str | Path,
    mapper_map: Callable | None = None,
    log: Callable[[str], None] | None = None,
) -> Posterior:
    """ABC-SMC of ``setup.free`` against ``real`` over ``setup.first .. setup.last``.

    ``db`` is pyabc's SQLite database: if it holds a run of the same setup, the calibration
    resumes from its last generation. ``mapper_map`` is an order-preserving map (e.g.
    ``Mapper.map`` of :func:`vdto.sim.runner.mapper`; default: this process).

    Examples
    --------
    See tests/test_calibration.py (a small grid world with two free parameters).
    """
    check_policy(setup.policy)
    for lg in ("ABC", "pyabc", "Epsilon", "Distance", "Acceptor", "History", "Sampler"):
        logging.getLogger(lg).setLevel(logging.WARNING)
    obs = observed(real, world, setup)
    keys = list(obs)
    prior = pyabc.Distribution(
        **{f.key: pyabc.RV("uniform", f.bounds()[0], f.bounds()[1] - f.bounds()[0]) for f in setup.free}
    )
    map_ = mapper_map or (lambda fn, xs: list(map(fn, xs)))
    db = Path(db)
    description = json.dumps(setup.describe(), sort_keys=True)
    run_id, scales = _existing_run(db, description)
    if scales is None:
        scales = _scales(world, setup, keys, max(2 * population, 50), map_)
    weights = statistic_weights(scales)

    def smc() -> pyabc.ABCSMC:
        abc = pyabc.ABCSMC(
            _Model(world, setup, keys), prior, pyabc.PNormDistance(p=2, fixed_weights=weights),
            population_size=population, sampler=SeededSampler(map_, setup.seed), eps=pyabc.QuantileEpsilon(alpha=0.5),
        )  # fmt: skip
        abc.sampler.show_progress = False
        return abc

    url = f"sqlite:///{db}"
    done = 0
    if run_id is not None:
        done = pyabc.History(url, _id=run_id).max_t + 1
    if log and done < generations:
        log(
            f"resuming after generation {done}"
            if done
            else f"starting: {len(keys)} statistics, {population} particles"
        )
    abc = None
    for t in range(done, generations):
        # one generation at a time, each one started from the database (so an interrupted
        # calibration, resumed, runs exactly what an uninterrupted one runs)
        abc = smc()
        if run_id is None:
            db.parent.mkdir(parents=True, exist_ok=True)
            np.random.seed(np.random.SeedSequence([setup.seed, 1]).generate_state(1, dtype=np.uint32)[0])
            abc.new(url, obs)
            run_id = abc.history.id
            _setup_file(db).write_text(json.dumps({"setup": description, "scales": scales}), encoding="utf-8")
        else:
            abc.load(url, run_id)
        abc.run(max_nr_populations=1)
        if log:
            pops = abc.history.get_all_populations()
            log(f"generation {t + 1}/{generations}: tolerance {float(pops['epsilon'].iloc[-1]):.3g}, "
                f"{int(pops['samples'].iloc[-1]):,} histories simulated")  # fmt: skip
    if abc is None:  # nothing left to run: read what the database holds
        abc = smc()
        abc.load(url, run_id)
    h = abc.history
    frame, w = h.get_distribution(m=0, t=h.max_t)
    post = pd.DataFrame({f.name: [f.to_value(x) for x in frame[f.key]] for f in setup.free})
    post["weight"] = np.asarray(w, float)
    pops = h.get_all_populations()
    meta = {
        **setup.describe(),
        "method": "ABC-SMC (pyabc), Euclidean distance, each statistic scaled by its spread under the priors "
        "and each group of statistics weighing alike, quantile epsilon 0.5",
        "scenario": setup.scenario.model_dump(mode="json"),
        "scales": scales,
        "generations": int(h.max_t + 1),
        "population": population,
        "epsilon": float(pops["epsilon"].iloc[-1]),
        "simulations": int(h.total_nr_simulations),
        "observed": obs,
        "real_source": real.source,
    }
    return Posterior(post.sort_values(list(post.columns)).reset_index(drop=True), meta)


def _setup_file(db: Path) -> Path:
    return db.with_name(db.name + ".setup.json")


def _existing_run(db: Path, description: str) -> tuple[int | None, dict[str, float] | None]:
    """The run in ``db`` to resume and its distance scales: (None, None) for a new database;
    an error when the database holds another calibration."""
    if not db.exists():
        return None, None
    side = _setup_file(db)
    saved = json.loads(side.read_text(encoding="utf-8")) if side.exists() else {}
    if saved.get("setup") != description:
        raise VdtoError(
            "the calibration database holds another calibration (or none vdto wrote)",
            fix="give another --db, or remove it to start again", param=str(db),
        )  # fmt: skip
    runs = pyabc.History(f"sqlite:///{db}").all_runs()
    return (int(runs[-1].id) if runs else None), saved["scales"]


__all__ = ["DEFAULT_FREE", "Free", "Posterior", "Setup", "calibrate", "model_summaries", "observed"]
