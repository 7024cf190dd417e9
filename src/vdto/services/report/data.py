"""What the report shows: :func:`collect` runs the library functions and keeps their results in a
:class:`ReportData`; :func:`headlines` says each finding in one plain sentence."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import vdto
from vdto.errors import InputFileError, VdtoError
from vdto.render import fmt
from vdto.services.report.words import Sentence, in_lang, money, pct, say, translate, word

if TYPE_CHECKING:
    import altair as alt

    from vdto.network.graph import SupplyNetwork
    from vdto.network.package import Package
    from vdto.regional.analysis import RegionalAnalysis
    from vdto.routes.lever import Shift
    from vdto.scoring import ScoreResult, TargetDecision

#: The policy comparison the report runs itself when given no simulation results. On the real
#: default world (20 organizations, 2,457 plazas) 4 policies x 40 replicates x 36 months take
#: about 10 s on 2 cores (world included), well under the 20 s that would call for the
#: synthetic ``small`` grid instead.
SIM_SCENARIO = "default"
SIM_POLICIES: tuple[str, ...] = ("none", "volume", "targeted", "caribbean")
SIM_REPLICATES = 40
SIM_MONTHS = 36
#: The synthetic supply network generated when the store holds none (docs/network.md).
NETWORK_SIZE = {"organizations": 50, "wholesalers": 5_000, "distributors": 20_000}
PACKAGE_BUDGET = 25.0
CARIBBEAN_CHANGE = -0.5
#: Steps :func:`collect` reports to its ``progress`` callback (always this many).
STEPS = 9

FIGURES: tuple[tuple[str, str], ...] = (
    ("ranking", "Ranking with 90% intervals and P(rank 1)"),
    ("map-state", "State violence scores and hot spots"),
    ("map-municipality", "Municipal violence scores and hot spots"),
    ("patterns-state", "Emerging hot spot patterns by state"),
    ("patterns-municipality", "Emerging hot spot patterns by municipality"),
    ("network", "Enforcement package as a network"),
    ("policies", "Policies month by month: medians and 90% bands"),
    ("routes", "Route shares before and after the Caribbean shift"),
)

TYPE_COLOURS = {
    "organization": "#b2182b",
    "cell": "#ef8a62",
    "city": "#999999",
    "wholesaler": "#54278f",
    "distributor": "#1b9e77",
}


# ---------------------------------------------------------------------------------------------
# simulation results


@dataclass
class SimResults:
    """Policy outputs (``policy -> outputs`` with ``deaths``, ``alive``, ``dismantled`` and
    ``focal_deaths`` arrays, replicates x months) and their provenance."""

    results: dict[str, Any]
    meta: dict
    source: str = Sentence("source_run")  # "run for this report"
    start_month: int | None = None  # month the policies start (the scenario's; else the meta's)
    _table: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_parquet(cls, path: str | os.PathLike[str]) -> SimResults:
        """Read what ``vdto compare ... --out results.parquet`` wrote (one row per policy,
        replicate and month)."""
        from vdto.files import read_parquet

        path = Path(path)
        table, meta = read_parquet(path, fix="give the Parquet file a policy comparison wrote",
                                   missing_fix="write one with {compare_out}, or leave the simulation results out",
                                   mentions=("compare_out",))  # fmt: skip
        frame = table.to_pandas()
        need = {"policy", "replicate", "month", "deaths"}
        if meta is None or not need <= set(frame.columns):
            raise InputFileError(
                "not a vdto simulation file (no provenance or no policy/replicate/month/deaths columns)",
                str(path),
                "give the Parquet file a policy comparison wrote",
            )
        return cls(outputs_from_long(frame), meta, Sentence("source_file", name=path.name))

    def table(self) -> pd.DataFrame:
        """The policy table (:func:`vdto.sim.results.compare_table`), computed once; a copy."""
        if self._table is None:
            from vdto.sim.results import compare_table

            start = self.start_month if self.start_month is not None else self.meta.get("start_month")
            self._table = (
                compare_table(self.results, start_month=int(start))
                if start is not None
                else compare_table(self.results)
            )
        return self._table.copy()

    def chart(self) -> alt.VConcatChart:
        """Lines per policy and one panel per policy with its band (:func:`vdto.sim.results.deaths_chart`)."""
        from vdto.sim.results import deaths_chart

        meta = self.meta if self.start_month is None else {**self.meta, "start_month": self.start_month}
        return deaths_chart(self.results, meta)


def outputs_from_long(frame: pd.DataFrame) -> dict[str, SimpleNamespace]:
    """Per policy, the replicate x month arrays of a long frame (``vdto.sim.results.long_frame``)."""
    columns = {
        "deaths": "deaths",
        "alive": "organizations_alive",
        "dismantled": "dismantled",
        "focal_deaths": "focal_deaths",
        "members": "members",
        "splits": "splits",
    }
    out: dict[str, SimpleNamespace] = {}
    for policy in pd.unique(frame["policy"]):
        part = frame[frame["policy"] == policy]
        arrays = {}
        for name, col in columns.items():
            source = part[col] if col in part else pd.Series(np.nan, index=part.index)
            wide = pd.DataFrame(
                {"r": part["replicate"], "m": part["month"], "v": pd.to_numeric(source, errors="coerce")}
            ).pivot(index="r", columns="m", values="v")
            arrays[name] = wide.sort_index().sort_index(axis=1).to_numpy(dtype=float)
        out[str(policy)] = SimpleNamespace(**arrays)
    return out


def run_comparison(
    scenario: str = SIM_SCENARIO,
    policies: tuple[str, ...] | list[str] = SIM_POLICIES,
    *,
    replicates: int = SIM_REPLICATES,
    months: int = SIM_MONTHS,
    seed: int = 1,
    workers: int | None = None,
) -> SimResults:
    """A small policy comparison on a bundled scenario (``default``: the real world; ``small``:
    the synthetic grid) or a scenario file."""

    from vdto.sim.params import load_scenario, with_run
    from vdto.sim.results import provenance
    from vdto.sim.runner import run, world_for

    sc = with_run(load_scenario(scenario), replicates=replicates, months=months, seed=seed)
    world = world_for(sc)
    results = run(world, sc, list(policies), workers=workers)
    return SimResults(results, provenance(sc, world), start_month=sc.enforcement.start_month)


# ---------------------------------------------------------------------------------------------
# collecting the results


@dataclass
class ReportData:
    """Everything the report shows, computed by the library functions."""

    db: Path
    year: int
    ranking: ScoreResult
    decision: TargetDecision
    table: pd.DataFrame  # the ranking with margins
    margins: pd.DataFrame
    robustness: tuple[int, float, pd.DataFrame]
    trend: pd.DataFrame
    states: RegionalAnalysis
    municipalities: RegionalAnalysis
    package: Package | None
    network: SupplyNetwork | None
    package_note: str
    shift: Shift | None
    sim: SimResults | None
    sim_note: str
    seeds: dict = field(default_factory=dict)
    calibration: Any = None  # vdto.services.calibration.CalibrationView, with a posterior

    def provenance(self) -> dict:
        """Version, rubric and data hashes, seeds, scenario and world hashes."""
        m = self.ranking.meta
        prov: dict[str, Any] = {
            "vdto_version": vdto.__version__,
            "store": str(self.db),
            "agency": m.get("agency"),
            "year": self.year,
            "window": f"{m['from']} to {m['to']}",
            "rubric": m["rubric"],
            "rubric_sha256": m["rubric_sha256"],
            "data_sha256": m["data_sha256"],
            "store_state": m.get("store_state"),
            "events": m["events"],
            "scoring_seed": m["seed"],
            "scoring_draws": m["draws"],
            "regional_data_sha256": self.states.meta.get("data_sha256"),
            "hotspot_seed": self.states.meta.get("seed"),
            "hotspot_permutations": self.states.meta.get("permutations"),
            "counts_measure": self.states.meta.get("measure"),
            "patterns": _patterns_note(self.municipalities),
        }
        if self.network is not None:
            meta = self.network.meta
            prov["network"] = _network_origin(meta)
            if self.seeds.get("network") is not None:
                prov["network_seed"] = self.seeds["network"]
        if self.shift is not None:
            prov |= {
                "routes_network": self.shift.meta["network"],
                "routes_network_sha256": self.shift.meta["network_sha256"],
                "routes_seed": self.shift.meta["seed"],
            }
        if self.sim is not None:
            sm = self.sim.meta
            prov |= {
                "scenario": sm.get("scenario"),
                "scenario_sha256": sm.get("scenario_sha256"),
                "world": sm.get("world"),
                "world_sha256": sm.get("world_sha256"),
                "sim_seed": sm.get("seed"),
                "sim_replicates": sm.get("replicates"),
                "sim_months": sm.get("months"),
                "sim_source": self.sim.source,
            }
        return prov


def _patterns_note(ana: RegionalAnalysis) -> str:
    """How the emerging patterns were tested (a words.Sentence), or why they were not."""
    if ana.emerging is None:
        return str(ana.meta.get("patterns", ""))
    m = ana.emerging.meta
    return Sentence("prov_patterns_value", bins=m["bins"], classified=m["classified_bins"], window=m["window"],
                    trend_alpha=m["trend_alpha"])  # fmt: skip


def _network_origin(meta: dict) -> str:
    from vdto.network.graph import is_synthetic, meta_value, synthetic_seed

    if is_synthetic(meta):
        params = meta_value(meta, "params")
        params = params if isinstance(params, dict) else {}

        def count(key: str) -> str:
            v = params.get(key)
            return f"{v:,}" if isinstance(v, int) else "?"

        return (
            f"synthetic (vdto.network.synthetic, seed {synthetic_seed(meta)}, "
            f"{count('wholesalers')} wholesalers, {count('distributors')} distributors)"
        )
    origin = meta.get("origin.file") or meta.get("origin.generator") or "the store's network"
    return str(origin)


def latest_full_year(store, agency: str | None = None) -> int:
    """The last calendar year the store's events cover to its final month."""
    last = store.events.last_date(agency, until=date.today())
    if last is None:
        raise VdtoError(
            "the store has no events",
            str(store.path),
            "import some events first (the demo makes a store with the bundled data)",
        )
    return int(last.year if last.month == 12 else last.year - 1)


def collect(
    db: str | os.PathLike[str],
    *,
    year: int | None = None,
    seed: int = 7,
    draws: int = 2000,
    hot_seed: int = 1,
    network_seed: int = 1,
    budget: float = PACKAGE_BUDGET,
    sim_results: SimResults | str | os.PathLike[str] | bool | None = None,
    scenario: str = SIM_SCENARIO,
    policies: tuple[str, ...] | list[str] = SIM_POLICIES,
    replicates: int = SIM_REPLICATES,
    months: int = SIM_MONTHS,
    sim_seed: int = 1,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
    posterior: str | os.PathLike[str] | None = None,
    agency: str | None = None,
) -> ReportData:
    """Compute what the report shows from the store at ``db``.

    ``year``: the calendar year to rank (default: the latest full year of events).
    ``sim_results``: simulation results to show (a :class:`SimResults` or the Parquet file of
    ``vdto compare --out``); ``None`` or ``True`` runs :func:`run_comparison` with ``scenario``,
    ``policies``, ``replicates``, ``months`` and ``sim_seed``; ``False`` leaves the section out.
    The enforcement package uses the store's supply network, or a synthetic one (seed
    ``network_seed``) when the store has none, against the target, or the leading organization
    when the rule names none. ``posterior``: a calibration's posterior (``vdto calibrate``),
    whose fit and claims get a section (one step more). ``agency``: whose events (the only
    agency in the store when not given; a store with several needs it, see
    :meth:`vdto.store.Store.resolve_agency`). ``progress`` is called with a label before each of
    :data:`STEPS` steps.
    """
    from vdto.network.graph import SupplyNetwork
    from vdto.publication.scorecard import yearly_trend
    from vdto.regional.analysis import analyse
    from vdto.scoring import decide, margins, robustness
    from vdto.scoring.decision import ranking_with_margins
    from vdto.services.scoring import score_window
    from vdto.store import Store

    def step(label: str) -> None:
        if progress is not None:
            progress(label)

    db = Path(db)
    if sim_results is not None and not isinstance(sim_results, bool | SimResults):
        sim_results = SimResults.from_parquet(sim_results)  # a bad file fails before any work
    post = None
    if posterior is not None:
        from vdto.sim.calibration.estimate import Posterior

        post = Posterior.read(Path(posterior))  # likewise
    with Store(db, read_only=True) as store:
        agency = store.resolve_agency(agency)
        if year is None:
            year = latest_full_year(store, agency)
        start, end = date(year, 1, 1), date(year, 12, 31)
        step(f"Scoring {year} ({draws:,} Monte Carlo draws)")
        ranking = score_window(store, start, end, draws=draws, seed=seed, agency=agency)
        if ranking.table.empty:
            raise VdtoError(
                f"no organization has attributed events in {year}",
                fix="pick a year with events (the events summary by year lists them)",
                param="year",
            )
        decision = decide(ranking)
        table = ranking_with_margins(ranking)
        marg = margins(ranking)
        robust = robustness(ranking)
        step("Yearly trends of the leading organizations")
        trend = yearly_trend(store, list(ranking.table["org"][:6]), year, 8, agency=agency)
        step(f"State hot spots {year} (999 permutations)")
        states = analyse(store, start, end, level="state", seed=hot_seed, agency=agency)
        step(f"Municipal hot spots {year} (999 permutations)")
        munis = analyse(store, start, end, level="municipality", seed=hot_seed, agency=agency)
        step("Enforcement package on the supply network")
        registry = store.registry()
        stored = store.network.exists()
        net = SupplyNetwork.load(store) if stored else None
    package, net, note = _package(net, registry, decision, ranking, budget, network_seed)
    step(f"Caribbean shift: interdiction {CARIBBEAN_CHANGE:+.0%}")
    from vdto.routes.lever import shift as routes_shift

    shift = routes_shift(CARIBBEAN_CHANGE, seed=0)
    sim = _comparison(sim_results, step, scenario, policies, replicates, months, sim_seed, workers)
    calibration = None
    if post is not None:
        from vdto.services.calibration import calibration_view

        step(
            f"Calibration {post.meta['first']}-{post.meta['last']}: the fit and the claims over the posterior"
        )
        calibration = calibration_view(post, workers=workers)
    return ReportData(
        db=db,
        year=year,
        ranking=ranking,
        decision=decision,
        table=table,
        margins=marg,
        robustness=robust,
        trend=trend,
        states=states,
        municipalities=munis,
        package=package,
        network=net,
        package_note=note,
        shift=shift,
        sim=sim,
        sim_note=_sim_note(sim)
        if sim is not None
        else "No policy comparison in this report: it was left out.",
        seeds={
            "scoring": seed,
            "hotspots": hot_seed,
            "network": None if stored else network_seed,
            "routes": 0,
            "sim": sim_seed,
        },
        calibration=calibration,
    )


def _package(net, registry, decision, ranking, budget: float, network_seed: int):
    """The enforcement package against the target (or the leader when the rule names none), on
    the store's supply network or a synthetic one; and a note saying which."""
    from vdto.network.package import enforcement_package

    chosen = decision.target or str(ranking.table.iloc[0]["org"])
    chosen_name = decision.target_name or str(ranking.table.iloc[0]["name"])
    if net is None:
        from vdto.network.synthetic import generate

        net = generate(
            seed=network_seed,
            organizations=NETWORK_SIZE["organizations"],
            wholesalers=NETWORK_SIZE["wholesalers"],
            distributors=NETWORK_SIZE["distributors"],
        )
        where = Sentence("where_synthetic", seed=network_seed)
    elif label := net.synthetic_label():
        where = Sentence("where_store_synthetic", label=partial(translate, label))
    else:
        where = Sentence("where_store")
    # the notes are English text that the Spanish page says again in Spanish (words.Sentence)
    try:
        package = enforcement_package(net, registry.top(chosen), budget)
    except VdtoError as exc:
        return None, net, Sentence("package_failed", what=exc.what, where=where)
    why = Sentence("why_target" if decision.target else "why_leader", name=chosen_name)
    return package, net, Sentence("package_note", why=why, where=where, budget=fmt.compact(budget))


def _comparison(
    sim_results, step, scenario, policies, replicates, months, seed, workers
) -> SimResults | None:
    """The policy comparison to show: none, the results given, or a small run made here."""
    if sim_results is False:
        step("Policy comparison: left out")
        return None
    if isinstance(sim_results, SimResults):
        step(f"Policy comparison: {sim_results.source}")
        return sim_results
    step(
        f"Policy comparison: {len(policies)} policies x {replicates} replicates x {months} months "
        f"({scenario} world)",
    )
    return run_comparison(
        scenario, policies, replicates=replicates, months=months, seed=seed, workers=workers
    )


def _sim_note(sim: SimResults) -> str:
    """Where the policy comparison comes from and what its numbers count (English text that the
    Spanish page says again in Spanish: a words.Sentence)."""
    m = sim.meta
    world = str(m.get("world", "?"))
    kind = (
        Sentence("world_default")
        if m.get("scenario") == "default"
        else Sentence("world_scenario", scenario=m.get("scenario"), world=world)
    )
    from vdto.sim.results import counts_people

    if not counts_people(m):
        unit = "unit_units"
    elif world.startswith("grid"):
        unit = "unit_synthetic"
    else:
        unit = "unit_people"
    return Sentence(
        "sim_note", kind=kind, replicates=m.get("replicates"), months=m.get("months"), seed=m.get("seed"),
        source=sim.source, unit=word(unit),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# headlines in plain words


def _horizon_column(table: pd.DataFrame) -> str:
    return next(c for c in table.columns if c.startswith("deaths_by_") and not c.endswith(("_lo90", "_hi90")))


def _policy_line(sim: SimResults, lang: str = "en") -> str:
    """The policy comparison in one sentence: the policy with the fewest deaths *among those run*
    (named: one not run may do better), with the deaths' unit; in ``lang``."""
    from vdto.render.fmt import interval, num
    from vdto.sim.results import counts_people

    t = sim.table()
    h = _horizon_column(t)
    months = h.removeprefix("deaths_by_")
    unit = "people" if counts_people(sim.meta) else "units"  # the words' keys
    best = t.sort_values(h).iloc[0]
    amount = word("policies_amount", deaths=num(best[h], 0), unit=word(f"amount_{unit}"),
                  interval=interval(best[f"{h}_lo90"], best[f"{h}_hi90"], 0))  # fmt: skip
    names = [str(p) for p in t["policy"]]
    if len(names) == 1:
        return say(lang, "policies_one", policy=names[0], amount=amount, months=months)
    text = say(lang, "policies", months=months, n=num(len(names), 0), names=", ".join(names),
               best=best["policy"], fewest=word(f"fewest_{unit}"), amount=amount)  # fmt: skip
    vol = t[t["policy"] == "volume"]
    if len(vol) and best["policy"] != "volume":
        text += say(lang, "policies_volume", deaths=num(vol.iloc[0][h], 0))
        p = best.get("p_below_volume")
        if p is not None and not pd.isna(p):
            text += say(lang, "policies_below", share=pct(p))
    return text + say(lang, "policies_end")


def headlines(data: ReportData, lang: str = "en") -> dict[str, str]:
    """One plain sentence per finding: decision, hot spots, package, policies, Caribbean shift; in
    ``lang`` (``"en"`` or ``"es"``: the words of :mod:`vdto.services.report.words`, each rule once)."""
    out: dict[str, str] = {}
    d = data.decision
    if d.target:
        out["decision"] = say(lang, "decision_target", year=data.year, name=d.target_name, p=fmt.prob(d.p_rank1),
                              threshold=fmt.compact(d.threshold))  # fmt: skip
    else:
        lead = data.ranking.table.iloc[0]
        out["decision"] = say(lang, "decision_none", year=data.year, name=lead["name"], p=fmt.prob(d.p_rank1, 2),
                              threshold=fmt.compact(d.threshold))  # fmt: skip
    mt = data.municipalities.targets.table
    n_hot_m = int((data.municipalities.hot["hotspot"] == "hot spot").sum())
    n_hot_s = int((data.states.hot["hotspot"] == "hot spot").sum())
    places = "; ".join(str(n) for n in mt["name"].head(3))
    em = data.municipalities.emerging
    if places and em is not None:
        counts = em.counts()
        out["hotspots"] = say(lang, "hotspots_patterns", municipalities=n_hot_m, states=n_hot_s, places=places,
                              intensifying=fmt.num(counts["intensifying hot spot"], 0),
                              persistent=fmt.num(counts["persistent hot spot"], 0))  # fmt: skip
    else:
        out["hotspots"] = say(lang, "hotspots_places" if places else "hotspots", municipalities=n_hot_m,
                              states=n_hot_s, places=places)  # fmt: skip
    if data.package is not None:
        s: dict[str, Any] = data.package.summary()
        synthetic = data.network.synthetic_label() if data.network is not None else None
        on = word("package_on", label=partial(translate, synthetic)) if synthetic else ""
        out["package"] = say(
            lang, "package", cases=s["cases_selected"], name=data.package.target_name, on=on,
            money=money(float(s["revenue_denied"])), share=pct(float(s["denied_share"])),
            buyers=fmt.num(s["buyers_reached"], 0), guarantee=partial(translate, data.package.guarantee),
        )  # fmt: skip
    else:
        out["package"] = in_lang(data.package_note, lang)
    if data.sim is not None:
        out["policies"] = _policy_line(data.sim, lang)
    if data.shift is not None:
        sh = data.shift
        v = sh.violence_summary()
        out["routes"] = say(
            lang, "routes",
            what=word("routes_halving") if sh.change == -0.5 else word("routes_changing", change=pct(sh.change, sign=True)),
            before=pct(sh.before.via_mexico), after=pct(sh.after.via_mexico), change=pct(sh.mexico_flow_change, sign=True),
            median=pct(v["median"], 1, sign=True), lo=pct(v["lo90"], 1, sign=True), hi=pct(v["hi90"], 1, sign=True),
        )  # fmt: skip
    return out
