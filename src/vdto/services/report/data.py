"""What the report shows: :func:`collect` runs the library functions and keeps their results in a
:class:`ReportData`; :func:`headlines` says each finding in one plain sentence."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import vdto
from vdto.errors import InputFileError, VdtoError

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
    ("network", "Enforcement package as a network"),
    ("policies", "Monthly deaths per policy"),
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
    source: str = "run for this report"
    start_month: int | None = None  # month the policies start (the scenario's; else the meta's)
    _table: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_parquet(cls, path: str | os.PathLike[str]) -> SimResults:
        """Read what ``vdto compare ... --out results.parquet`` wrote (one row per policy,
        replicate and month)."""
        import pyarrow.parquet as pq

        path = Path(path)
        if not path.exists():
            raise InputFileError(
                "file not found",
                str(path),
                "write one with {compare_out}, or leave the simulation results out",
                mentions=("compare_out",),
            )
        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
            raise InputFileError(
                f"not a Parquet file ({type(exc).__name__})",
                str(path),
                "give the Parquet file a policy comparison wrote",
            ) from None
        raw = (table.schema.metadata or {}).get(b"vdto")
        frame = table.to_pandas()
        need = {"policy", "replicate", "month", "deaths"}
        if raw is None or not need <= set(frame.columns):
            raise InputFileError(
                "not a vdto simulation file (no provenance or no policy/replicate/month/deaths columns)",
                str(path),
                "give the Parquet file a policy comparison wrote",
            )
        return cls(outputs_from_long(frame), json.loads(raw), f"read from {path.name}")

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

    def chart(self) -> alt.LayerChart:
        from vdto.sim.results import deaths_chart

        return deaths_chart(self.results, self.meta)


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
            "events": m["events"],
            "scoring_seed": m["seed"],
            "scoring_draws": m["draws"],
            "regional_data_sha256": self.states.meta.get("data_sha256"),
            "hotspot_seed": self.states.meta.get("seed"),
            "hotspot_permutations": self.states.meta.get("permutations"),
            "counts_measure": self.states.meta.get("measure"),
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


def _network_origin(meta: dict) -> str:
    def value(key: str) -> Any:
        v = meta.get(key)
        if isinstance(v, str):
            try:
                return json.loads(v)
            except ValueError:
                return v
        return v

    if value("synthetic"):
        params = value("params") or {}
        return (
            f"synthetic (vdto.network.synthetic, seed {params.get('seed', value('seed'))}, "
            f"{params.get('wholesalers', '?'):,} wholesalers, {params.get('distributors', '?'):,} distributors)"
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
        where = (
            f"a synthetic supply network (seed {network_seed}; real supply data are confidential: "
            "an agency imports its own)"
        )
    else:
        where = "the store's supply network"
    try:
        package = enforcement_package(net, registry.top(chosen), budget)
    except VdtoError as exc:
        return None, net, f"No enforcement package: {exc.what} ({where})."
    why = (
        f"against the target, {chosen_name}"
        if decision.target
        else f"against the leading organization, {chosen_name}, to show what naming it would mean "
        "(the rule named no target)"
    )
    return package, net, f"The package is built {why}, on {where}, with a budget of {budget:g} cases."


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
    m = sim.meta
    world = str(m.get("world", "?"))
    kind = (
        "the real default world (organizations from the UCDP events, rivalries from BACRIM 2020, the "
        "2,457 municipalities as plazas)"
        if m.get("scenario") == "default"
        else f"the {m.get('scenario')} scenario ({world})"
    )
    return (
        f"Simulated on {kind}: {m.get('replicates')} paired replicates x {m.get('months')} months, "
        f"seed {m.get('seed')}, {sim.source}."
    )


# ---------------------------------------------------------------------------------------------
# headlines in plain words


def _money(x: float) -> str:
    if x >= 1e9:
        return f"US${x / 1e9:,.1f} billion"
    if x >= 1e6:
        return f"US${x / 1e6:,.1f} million"
    return f"US${x:,.0f}"


def _horizon_column(table: pd.DataFrame) -> str:
    return next(c for c in table.columns if c.startswith("deaths_by_") and not c.endswith(("_lo90", "_hi90")))


def headlines(data: ReportData) -> dict[str, str]:
    """One plain sentence per finding: decision, hot spots, package, policies, Caribbean shift."""
    out: dict[str, str] = {}
    d = data.decision
    if d.target:
        out["decision"] = (
            f"Target for {data.year}: {d.target_name}. P(rank 1) = {d.p_rank1:.3f}, at or above the "
            f"published threshold {d.threshold:g}."
        )
    else:
        lead = data.ranking.table.iloc[0]
        out["decision"] = (
            f"No target for {data.year}: the leader, {lead['name']}, is the most violent with probability "
            f"{d.p_rank1:.2f}, below the published threshold {d.threshold:g}, so the rule names no one and "
            "enforcement goes to the violent hot spots instead."
        )
    mt = data.municipalities.targets.table
    n_hot_m = int((data.municipalities.hot["hotspot"] == "hot spot").sum())
    n_hot_s = int((data.states.hot["hotspot"] == "hot spot").sum())
    places = "; ".join(str(n) for n in mt["name"].head(3))
    out["hotspots"] = (
        f"Hot spots: {n_hot_m} municipalities and {n_hot_s} states are significant Gi* hot spots"
        + (f"; the most violent are {places}." if places else ".")
    )
    if data.package is not None:
        s: dict[str, Any] = data.package.summary()
        out["package"] = (
            f"Enforcement package: {s['cases_selected']} cases against {data.package.target_name} would deny "
            f"{_money(float(s['revenue_denied']))} a year, {float(s['denied_share']):.0%} of its US revenue; "
            f"it supplies {s['buyers_reached']:,} US buyers; selection {data.package.guarantee}."
        )
    else:
        out["package"] = data.package_note
    if data.sim is not None:
        t = data.sim.table()
        h = _horizon_column(t)
        months = h.removeprefix("deaths_by_")
        best = t.sort_values(h).iloc[0]
        text = (
            f"Policy comparison: over {months} months, {best['policy']} has the fewest deaths, "
            f"{best[h]:,.0f} (90% interval {best[f'{h}_lo90']:,.0f}-{best[f'{h}_hi90']:,.0f})"
        )
        vol = t[t["policy"] == "volume"]
        if len(vol) and best["policy"] != "volume":
            text += f", against {vol.iloc[0][h]:,.0f} under volume enforcement"
            p = best.get("p_below_volume")
            if p is not None and not pd.isna(p):
                text += f"; fewer than volume in {float(p):.0%} of paired replicates"
        out["policies"] = text + "."
    if data.shift is not None:
        sh = data.shift
        v = sh.violence_summary()
        out["routes"] = (
            f"Caribbean shift: {'halving' if sh.change == -0.5 else f'changing by {sh.change:+.0%}'} Caribbean "
            f"interdiction moves the share of US-bound cocaine through Mexico from {sh.before.via_mexico:.0%} "
            f"to {sh.after.via_mexico:.0%} ({sh.mexico_flow_change:+.0%}); expected change of Mexican violence "
            f"{v['median']:+.1%} (90% interval {v['lo90']:+.1%} to {v['hi90']:+.1%})."
        )
    return out
