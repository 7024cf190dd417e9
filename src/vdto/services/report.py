"""The analyst's report: one self-contained HTML page (charts included, opens offline), the key
figures as PNG files for slides, and the tables with their provenance as JSON.

:func:`collect` runs the library functions (scoring, target rule, margins, trends, regional
hot spots, the enforcement package, the Caribbean shift and a policy comparison) and keeps their
results in a :class:`ReportData`; :func:`write_report` assembles them into a folder; and
:func:`build_report` does both. Nothing here computes a score or a statistic of its own: every
number comes from :mod:`vdto.scoring`, :mod:`vdto.regional`, :mod:`vdto.network`,
:mod:`vdto.routes` or :mod:`vdto.sim`.

The page embeds the Vega, Vega-Lite and vega-embed JavaScript once (from vl-convert, which
carries its own copy) and every chart as a Vega-Lite spec, so it refers to nothing outside
itself and renders without a network::

    out_dir/report.html      the report
    out_dir/report.json      provenance, headlines and every table
    out_dir/figures/*.png    ranking, maps, network, policy comparison, routes (for slides)
"""

from __future__ import annotations

import html
import itertools
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import vdto
from vdto.errors import InputFileError, VdtoError
from vdto.files import atomic_write

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
                "write one with `vdto compare default --out results.parquet`, or leave --sim out",
            )
        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
            raise InputFileError(
                f"not a Parquet file ({type(exc).__name__})",
                str(path),
                "give the file `vdto compare ... --out` wrote",
            ) from None
        raw = (table.schema.metadata or {}).get(b"vdto")
        frame = table.to_pandas()
        need = {"policy", "replicate", "month", "deaths"}
        if raw is None or not need <= set(frame.columns):
            raise InputFileError(
                "not a vdto simulation file (no provenance or no policy/replicate/month/deaths columns)",
                str(path),
                "give the file `vdto compare ... --out` wrote",
            )
        return cls(outputs_from_long(frame), json.loads(raw), f"read from {path.name}")

    def table(self) -> pd.DataFrame:
        """The policy table (:func:`vdto.sim.results.compare_table`), computed once; a copy."""
        if self._table is None:
            from vdto.sim.results import compare_table

            start = self.start_month if self.start_month is not None else self.meta.get("start_month")
            self._table = compare_table(
                self.results, **({"start_month": int(start)} if start is not None else {})
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
    from importlib import resources

    from vdto.sim.params import Run, load_scenario
    from vdto.sim.results import provenance
    from vdto.sim.runner import run, world_for

    path = (
        Path(str(resources.files("vdto.data").joinpath("scenarios", f"{scenario}.toml")))
        if scenario in ("default", "small")
        else Path(scenario)
    )
    sc = load_scenario(path)
    sc = sc.model_copy(
        update={"run": Run.model_validate({"replicates": replicates, "months": months, "seed": seed})}
    )
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

    def provenance(self) -> dict:
        """Version, rubric and data hashes, seeds, scenario and world hashes."""
        m = self.ranking.meta
        prov: dict[str, Any] = {
            "vdto_version": vdto.__version__,
            "store": str(self.db),
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


def latest_full_year(store) -> int:
    """The last calendar year the store's events cover to its final month."""
    last = store.query("SELECT max(date_start) AS d FROM events")["d"].iloc[0]
    if last is None or pd.isna(last):
        raise VdtoError(
            "the store has no events",
            str(store.path),
            "import some with `vdto import ucdp FILE`, or run `vdto demo` for a store with the bundled data",
        )
    last = pd.Timestamp(last)
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
) -> ReportData:
    """Compute what the report shows from the store at ``db``.

    ``year``: the calendar year to rank (default: the latest full year of events).
    ``sim_results``: simulation results to show (a :class:`SimResults` or the Parquet file of
    ``vdto compare --out``); ``None`` or ``True`` runs :func:`run_comparison` with ``scenario``,
    ``policies``, ``replicates``, ``months`` and ``sim_seed``; ``False`` leaves the section out.
    The enforcement package uses the store's supply network, or a synthetic one (seed
    ``network_seed``) when the store has none, against the target, or the leading organization
    when the rule names none. ``progress`` is called with a label before each of :data:`STEPS`
    steps.
    """
    from vdto.publication.scorecard import yearly_trend
    from vdto.regional.analysis import analyse
    from vdto.scoring import decide, margins, robustness, score
    from vdto.scoring.decision import ranking_with_margins
    from vdto.store import Store

    def step(label: str) -> None:
        if progress is not None:
            progress(label)

    db = Path(db)
    if sim_results not in (None, True, False) and not isinstance(sim_results, SimResults):
        sim_results = SimResults.from_parquet(sim_results)  # a bad file fails before any work
    with Store(db, read_only=True) as store:
        if year is None:
            year = latest_full_year(store)
        start, end = date(year, 1, 1), date(year, 12, 31)
        step(f"Scoring {year} ({draws:,} Monte Carlo draws)")
        ranking = score(store, start, end, draws=draws, seed=seed)
        if ranking.table.empty:
            raise VdtoError(
                f"no organization has attributed events in {year}",
                "--year",
                "pick a year with events (see `vdto events --by year`)",
            )
        decision = decide(ranking)
        table = ranking_with_margins(ranking)
        marg = margins(ranking)
        robust = robustness(ranking)
        step("Yearly trends of the leading organizations")
        trend = yearly_trend(store, list(ranking.table["org"][:6]), year, 8)
        step(f"State hot spots {year} (999 permutations)")
        states = analyse(store, start, end, level="state", seed=hot_seed)
        step(f"Municipal hot spots {year} (999 permutations)")
        munis = analyse(store, start, end, level="municipality", seed=hot_seed)
        step("Enforcement package on the supply network")
        registry = store.registry()
        stored = store.count("network_nodes") > 0
        net = None
        if stored:
            from vdto.store.network import load_network

            net = load_network(store)
    package, note = None, ""
    chosen = decision.target or str(ranking.table.iloc[0]["org"])
    chosen_name = decision.target_name or str(ranking.table.iloc[0]["name"])
    generated = net is None
    if net is None:
        from vdto.network.synthetic import generate

        net = generate(seed=network_seed, **NETWORK_SIZE)
        where = (
            f"a synthetic supply network (seed {network_seed}; real supply data are confidential: "
            "`vdto network import` loads an agency's own)"
        )
    else:
        where = "the store's supply network"
    try:
        from vdto.network.package import enforcement_package

        package = enforcement_package(net, registry.top(chosen), budget)
        why = (
            f"against the target, {chosen_name}"
            if decision.target
            else f"against the leading organization, {chosen_name}, to show what naming it would mean "
            "(the rule named no target)"
        )
        note = f"The package is built {why}, on {where}, with a budget of {budget:g} cases."
    except VdtoError as exc:
        note = f"No enforcement package: {exc.what} ({where})."
    step(f"Caribbean shift: interdiction {CARIBBEAN_CHANGE:+.0%}")
    from vdto.routes.lever import shift as routes_shift

    shift = routes_shift(CARIBBEAN_CHANGE, seed=0)
    sim, sim_note = None, "No policy comparison in this report (run without --no-sim to include one)."
    if sim_results is False:
        step("Policy comparison: left out")
    elif isinstance(sim_results, SimResults):
        step(f"Policy comparison: {sim_results.source}")
        sim = sim_results
    else:
        step(
            f"Policy comparison: {len(policies)} policies x {replicates} replicates x {months} months "
            f"({scenario} world)",
        )
        sim = run_comparison(
            scenario, policies, replicates=replicates, months=months, seed=sim_seed, workers=workers
        )
    if sim is not None:
        sim_note = _sim_note(sim)
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
        sim_note=sim_note,
        seeds={
            "scoring": seed,
            "hotspots": hot_seed,
            "network": network_seed if generated else None,
            "routes": 0,
            "sim": sim_seed,
        },
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
        s = data.package.summary()
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
        s = data.shift
        v = s.violence_summary()
        out["routes"] = (
            f"Caribbean shift: {'halving' if s.change == -0.5 else f'changing by {s.change:+.0%}'} Caribbean "
            f"interdiction moves the share of US-bound cocaine through Mexico from {s.before.via_mexico:.0%} "
            f"to {s.after.via_mexico:.0%} ({s.mexico_flow_change:+.0%}); expected change of Mexican violence "
            f"{v['median']:+.1%} (90% interval {v['lo90']:+.1%} to {v['hi90']:+.1%})."
        )
    return out


# ---------------------------------------------------------------------------------------------
# charts


def ranking_chart(data: ReportData, top: int = 12) -> alt.LayerChart:
    """Expected score with its 90% interval per organization, labelled with P(rank 1)."""
    import altair as alt

    t = data.ranking.table.head(top).copy()
    t["label"] = t["p_rank1"].map(lambda p: f"P(rank 1) = {p:.3f}")
    lead = data.decision.target or str(t.iloc[0]["org"])
    t["role"] = np.where(t["org"] == lead, "target" if data.decision.target else "leader", "other")
    order = list(t["name"])
    m = data.ranking.meta
    base = alt.Chart(t).encode(y=alt.Y("name:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)))
    colour = alt.Color(
        "role:N",
        title=None,
        scale=alt.Scale(domain=["target", "leader", "other"], range=["#b2182b", "#54278f", "#9e9ac8"]),
        legend=None,
    )
    rule = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("lo90:Q", title="violence score: expected value and 90% interval"),
        x2="hi90:Q",
        color=colour,
    )
    point = base.mark_point(filled=True, size=90).encode(
        x="score:Q",
        color=colour,
        tooltip=[
            alt.Tooltip("name:N", title="Organization"),
            alt.Tooltip("score:Q", format=",.1f"),
            alt.Tooltip("lo90:Q", format=",.1f"),
            alt.Tooltip("hi90:Q", format=",.1f"),
            alt.Tooltip("p_rank1:Q", title="P(rank 1)", format=".3f"),
        ],
    )
    text = base.mark_text(align="left", dx=8, fontSize=11, color="#333333").encode(x="hi90:Q", text="label:N")
    return (rule + point + text).properties(
        width=560,
        height=26 * len(t),
        title=alt.TitleParams(
            f"Violence ranking {data.year}: expected score, 90% interval and P(rank 1)",
            subtitle=f"vdto {m['vdto_version']} · rubric {m['rubric']} sha256:{m['rubric_sha256'][:12]} · "
            f"data sha256:{m['data_sha256'][:12]} · seed {m['seed']} · {m['draws']:,} draws",
            anchor="start",
        ),
    )


def trend_chart(data: ReportData) -> alt.Chart:
    """Yearly expected score of the leading organizations."""
    import altair as alt

    names = dict(zip(data.ranking.table["org"], data.ranking.table["name"], strict=True))
    t = data.trend.assign(name=data.trend["org"].map(names).fillna(data.trend["org"]))
    return (
        alt.Chart(t)
        .mark_line(point=True)
        .encode(
            x=alt.X("year:O", title=None),
            y=alt.Y("score:Q", title="violence score (expected)"),
            color=alt.Color("name:N", title="Organization", sort=list(pd.unique(t["name"]))),
            tooltip=["name:N", "year:O", alt.Tooltip("score:Q", format=",.1f")],
        )
        .properties(
            width=620,
            height=300,
            title=alt.TitleParams("Trends by organization: score per calendar year", anchor="start"),
        )
    )


def network_chart(
    package: Package, net: SupplyNetwork, *, top: int = 24, per_case: int = 4, seed: int = 1
) -> alt.LayerChart:
    """The enforcement package as a network: the target, its cells and the US buyers it supplies
    (the selected cases, the ``top`` buyers and ``top / 2`` distributors with the most revenue at
    stake, and up to ``per_case`` distributors supplied through each of the first cases), placed
    by a seeded spring layout; selected cases ringed in black."""
    import altair as alt
    import networkx as nx

    buyers = package.buyers.set_index("id", drop=False)
    # the selected cases, the buyers with most at stake, and for the first cases the distributors
    # they supply (pressuring a wholesaler denies the target what flows on to those too)
    distributors = package.buyers[package.buyers["type"] == "distributor"]
    downstream = [
        d
        for case in package.selected["id"].head(8)
        for d in distributors[distributors["path"].map(lambda p, c=case: c in list(p)[:-1])]["id"].head(
            per_case
        )
    ]
    shown = list(
        dict.fromkeys(
            [
                *package.selected["id"],
                *package.buyers["id"].head(top),
                *distributors["id"].head(top // 2),
                *downstream,
            ]
        )
    )
    graph = nx.Graph()
    for p in buyers.loc[shown, "path"]:
        path = list(p) if isinstance(p, list | tuple | np.ndarray) else [p]
        graph.add_nodes_from(path)
        graph.add_edges_from(itertools.pairwise(path))
    pos = nx.spring_layout(
        graph, seed=seed, iterations=200, k=1.2 / math.sqrt(max(graph.number_of_nodes(), 1))
    )
    info = net.nodes.set_index("id").reindex(list(graph.nodes))
    order = package.selected.set_index("id")["order"]
    nodes = pd.DataFrame(
        {
            "id": list(graph.nodes),
            "x": [float(pos[n][0]) for n in graph.nodes],
            "y": [float(pos[n][1]) for n in graph.nodes],
            "type": info["type"].astype(str).to_numpy(),
            "name": info["name"].astype(str).to_numpy(),
            "region": info["region"].fillna("").astype(str).to_numpy(),
        }
    )
    nodes["revenue_at_stake"] = nodes["id"].map(buyers["revenue_at_stake"]).fillna(0.0)
    nodes["case"] = nodes["id"].map(order).map(lambda x: "" if pd.isna(x) else f"case {int(x)}")
    nodes["selected"] = nodes["case"] != ""
    nodes["size"] = np.where(
        nodes["type"] == "organization",
        900.0,
        np.where(
            nodes["type"] == "cell",
            260.0,
            40.0
            + 360.0 * np.sqrt(nodes["revenue_at_stake"] / max(float(nodes["revenue_at_stake"].max()), 1.0)),
        ),
    )
    xy = dict(zip(nodes["id"], zip(nodes["x"], nodes["y"], strict=True), strict=True))
    edges = pd.DataFrame(
        [{"x": xy[a][0], "y": xy[a][1], "x2": xy[b][0], "y2": xy[b][1]} for a, b in graph.edges]
    )
    types = [t for t in TYPE_COLOURS if t in set(nodes["type"])]
    axis = alt.Axis(title=None, labels=False, ticks=False, domain=False, grid=False)
    line = (
        alt.Chart(edges)
        .mark_rule(color="#bbbbbb", strokeWidth=0.8)
        .encode(x=alt.X("x:Q", axis=axis), y=alt.Y("y:Q", axis=axis), x2="x2:Q", y2="y2:Q")
    )
    dots = (
        alt.Chart(nodes)
        .mark_circle(opacity=0.95)
        .encode(
            x=alt.X("x:Q", axis=axis),
            y=alt.Y("y:Q", axis=axis),
            size=alt.Size("size:Q", scale=None, legend=None),
            color=alt.Color(
                "type:N",
                title="Node",
                scale=alt.Scale(domain=types, range=[TYPE_COLOURS[t] for t in types]),
            ),
            tooltip=[
                alt.Tooltip("name:N", title="Node"),
                alt.Tooltip("type:N", title="Type"),
                alt.Tooltip("region:N", title="Region"),
                alt.Tooltip("revenue_at_stake:Q", title="Revenue at stake (US$/year)", format=",.0f"),
                alt.Tooltip("case:N", title="Selected"),
            ],
        )
    )
    ring = (
        alt.Chart(nodes[nodes["selected"]])
        .mark_point(shape="circle", filled=False, color="black", strokeWidth=1.6)
        .encode(x="x:Q", y="y:Q", size=alt.Size("size:Q", scale=None, legend=None))
    )
    label = (
        alt.Chart(nodes[nodes["type"] == "organization"])
        .mark_text(dy=-22, fontWeight="bold", fontSize=12)
        .encode(x="x:Q", y="y:Q", text="name:N")
    )
    s = package.summary()
    return (line + dots + ring + label).properties(
        width=720,
        height=520,
        title=alt.TitleParams(
            f"Enforcement package against {package.target_name}: {s['cases_selected']} cases (ringed) "
            f"deny {_money(float(s['revenue_denied']))} a year ({float(s['denied_share']):.0%})",
            subtitle=f"The target, its cells and {len(shown)} of the {len(package.buyers):,} US buyers it "
            f"supplies: the cases, those with most at stake, distributors behind the cases; node size: "
            f"revenue at stake. {package.guarantee}.",
            anchor="start",
        ),
    )


def _figures(data: ReportData) -> dict[str, Any]:
    """The charts, by figure name (those whose data the report has)."""
    from vdto.regional.maps import map_regions
    from vdto.routes.chart import shift_chart

    charts: dict[str, Any] = {"ranking": ranking_chart(data), "trends": trend_chart(data)}
    charts["map-state"] = map_regions(data.states.scores, data.states.hot)
    charts["map-municipality"] = map_regions(data.municipalities.scores, data.municipalities.hot)
    if data.package is not None and data.network is not None:
        charts["network"] = network_chart(data.package, data.network, seed=data.seeds.get("network") or 1)
    if data.sim is not None:
        charts["policies"] = data.sim.chart()
    if data.shift is not None:
        charts["routes"] = shift_chart(data.shift)
    return charts


# ---------------------------------------------------------------------------------------------
# HTML


@cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script (from vl-convert: no network)."""
    import vl_convert as vlc

    from vdto.regional.maps import vl_options

    return vlc.javascript_bundle(**vl_options())


def _script_safe(text: str) -> str:
    """JavaScript that cannot end the <script> element it is put in (``<\\/script`` means the
    same in a string or a regular expression)."""
    import re

    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


def vega_spec(chart: Any) -> dict:
    """The chart compiled to a Vega spec by vl-convert (the same compiler as the PNG figures), so
    the page only runs Vega; the ``$schema`` URL is dropped."""
    import vl_convert as vlc

    from vdto.regional.maps import vl_options

    spec = chart.to_dict(validate=False) if hasattr(chart, "to_dict") else dict(chart)
    vega = vlc.vegalite_to_vega(spec, **vl_options())
    vega.pop("$schema", None)
    return vega


def _spec(chart: Any) -> str:
    spec = vega_spec(chart)
    text = json.dumps(spec, separators=(",", ":"), allow_nan=False, default=_json_default)
    return text.replace("</", "<\\/").replace("<!--", "<\\u0021--")  # the same JSON, safe in <script>


def _json_default(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, pd.Timestamp | date | datetime):
        return x.isoformat()
    return str(x)


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _num(x: Any, digits: int = 1) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return _e(x)
    if not math.isfinite(v):
        return "–"
    return f"{v:,.{digits}f}"


def _pct(x: Any) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return ""
    return "" if not math.isfinite(v) else f"{v:.0%}"


def _table(
    rows: pd.DataFrame,
    columns: list[tuple[str, str, Callable[[Any], str] | None]],
    *,
    tid: str = "",
    row_attr: str | None = None,
) -> str:
    """An HTML table: ``columns`` are (column, heading, formatter or None for escaped text)."""
    head = "".join(
        f"<th{' class=num' if fmt is not None else ''}>{_e(title)}</th>" for _, title, fmt in columns
    )
    thead = f"<thead><tr>{head}</tr></thead>" if any(title for _, title, _ in columns) else ""
    body = []
    for _, row in rows.iterrows():
        attr = f' data-{row_attr}="{_e(row[row_attr])}"' if row_attr else ""
        cells = "".join(
            f"<td class=num>{fmt(row[col])}</td>" if fmt is not None else f"<td>{_e(row[col])}</td>"
            for col, _, fmt in columns
        )
        body.append(f"<tr{attr}>{cells}</tr>")
    ident = f' id="{tid}"' if tid else ""
    return f"<table{ident}>{thead}<tbody>{''.join(body)}</tbody></table>"


def _chart_div(name: str, caption: str) -> str:
    return (
        f'<figure class="chart"><div id="chart-{name}" class="vega" data-figure="{name}"></div>'
        f'<figcaption>{_e(caption)} <a href="figures/{name}.png">PNG</a></figcaption></figure>'
    )


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{_e(title)}</h2>\n{body}\n</section>\n'


CSS = """
:root { --ink: #1a1a1a; --muted: #555; --line: #ddd; --accent: #54278f; --warn: #8a5a00; --ok: #1b7837; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 "DejaVu Sans", system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #fff; }
header { padding: 1.4rem 2rem 1rem; border-bottom: 3px solid var(--accent); background: #f7f5fb; }
header h1 { margin: 0 0 .3rem; font-size: 1.6rem; }
header p { margin: .1rem 0; color: var(--muted); }
nav { padding: .5rem 2rem; border-bottom: 1px solid var(--line); font-size: .9rem; }
nav a { margin-right: 1rem; color: var(--accent); text-decoration: none; }
main { padding: 0 2rem 3rem; max-width: 1180px; }
section { padding-top: 1rem; border-bottom: 1px solid var(--line); padding-bottom: 1.2rem; }
h2 { font-size: 1.25rem; margin: .8rem 0 .6rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 .4rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .88rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.decision { font-size: 1.05rem; padding: .7rem 1rem; border-left: 5px solid var(--warn); background: #fff8e6; }
.decision.target { border-color: var(--ok); background: #eef7ee; }
ul.headlines li { margin: .35rem 0; }
figure.chart { margin: .8rem 0 1.2rem; }
figcaption { color: var(--muted); font-size: .85rem; }
.note { color: var(--muted); font-size: .9rem; }
.prov td:first-child { color: var(--muted); }
.prov td { font-family: "DejaVu Sans Mono", monospace; font-size: .82rem; word-break: break-all; }
#report-errors { color: #b2182b; white-space: pre-wrap; }
body.focus section:not(.focused) { display: none; }
body.focus nav { display: none; }
"""

JS = """
(function () {
  var box = document.getElementById("report-errors");
  var errors = 0;
  function fail(msg) { errors += 1; box.hidden = false; box.textContent += msg + "\\n"; }
  var original = console.error;
  console.error = function () { fail(Array.prototype.join.call(arguments, " ")); original.apply(console, arguments); };
  window.addEventListener("error", function (e) { fail("error: " + e.message); });
  var m = /^#only=([\\w,-]+)$/.exec(location.hash);
  if (m) {
    m[1].split(",").forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { document.body.classList.add("focus"); el.classList.add("focused"); }
    });
  }
  var warnings = [];
  function logger(name) {
    var level = 2;
    var self = {
      level: function (l) { if (l === undefined) return level; level = l; return self; },
      error: function () { fail(name + ": " + Array.prototype.join.call(arguments, " ")); return self; },
      warn: function () { warnings.push(name + ": " + Array.prototype.join.call(arguments, " ")); return self; },
      info: function () { return self; },
      debug: function () { return self; }
    };
    return self;
  }
  var specs = document.querySelectorAll("script[type='application/json'][data-chart]");
  var jobs = [];
  specs.forEach(function (s) {
    var name = s.dataset.chart;
    var el = document.getElementById("chart-" + name);
    var options = {renderer: "svg", actions: false, mode: "vega", logger: logger(name)};
    jobs.push(vegaEmbed(el, JSON.parse(s.textContent), options)
      .catch(function (err) { fail(name + ": " + err); }));
  });
  Promise.all(jobs).then(function () {
    document.documentElement.setAttribute("data-rendered", String(specs.length));
    document.documentElement.setAttribute("data-errors", String(errors));
    document.documentElement.setAttribute("data-warnings", warnings.join(" | "));
  });
})();
"""


def _ranking_section(data: ReportData) -> str:
    t = data.table.copy()
    t["interval"] = [f"{_num(a)} – {_num(b)}" for a, b in zip(t["lo90"], t["hi90"], strict=True)]
    t["rank_interval"] = [f"{int(a)} – {int(b)}" for a, b in zip(t["rank_lo90"], t["rank_hi90"], strict=True)]
    table = _table(
        t.head(15),
        [
            ("rank", "Rank", lambda x: f"{int(x)}"),
            ("name", "Organization", None),
            ("events", "Events (expected)", lambda x: _num(x)),
            ("score", "Score", _num),
            ("interval", "90% interval", lambda x: _e(x)),
            ("p_rank1", "P(rank 1)", lambda x: f"{float(x):.3f}"),
            ("rank_interval", "Rank (90%)", lambda x: _e(x)),
        ],
        tid="ranking-table",
        row_attr="org",
    )
    more = f'<p class="note">{len(t) - 15} more organizations in report.json.</p>' if len(t) > 15 else ""
    return (
        f"<p>Every organization with attributed events in {data.year}, scored under the published rubric, "
        "with 90% intervals and the probability of ranking first over Monte Carlo draws of who did each "
        f"event.</p>{table}{more}"
        + _chart_div("ranking", "Expected score (dot), 90% interval (bar) and P(rank 1).")
    )


def _margins_section(data: ReportData) -> str:
    m = data.margins.head(10)
    table = _table(
        m,
        [
            ("name", "Organization", None),
            ("score", "Score", _num),
            ("gap", "Gap to first", _num),
            ("cut_to_lose_first", "Leader's cut to lose first place", _pct),
            ("rise_to_first", "Rise needed to be first", _pct),
            ("leader_cut_to_pass", "Leader's cut for it to pass", _pct),
        ],
        tid="margins-table",
    )
    n, moved, _ = data.robustness
    lead = data.table.iloc[0]
    text = (
        f"<p>{_e(lead['name'])} would have to cut its score by {_pct(lead['cut_to_lose_first'])} to lose first "
        "place: the deterrence message is how far each organization is from the top.</p>"
    )
    if n > 0 and len(data.table) > 1:
        text += (
            f"<p>Manipulation risk: re-attributing {n} of the leader's events (weight {moved:,.1f}) to "
            f"{_e(data.table.iloc[1]['name'])} would change the top organization.</p>"
        )
    elif n < 0:
        text += (
            "<p>Manipulation risk: re-attributing all of the leader's events would not change the top.</p>"
        )
    return text + table


def _regions_section(data: ReportData) -> str:
    parts = []
    for level, ana in (("state", data.states), ("municipality", data.municipalities)):
        n_hot = int((ana.hot["hotspot"] == "hot spot").sum())
        n_cold = int((ana.hot["hotspot"] == "cold spot").sum())
        t = ana.targets.table
        table = _table(
            t,
            [
                ("rank", "Rank", lambda x: f"{int(x)}"),
                ("name", "Region", None),
                ("score", "Score", _num),
                ("events", "Events", lambda x: _num(x, 0)),
                ("gi_z", "Gi* z", lambda x: _num(x, 2)),
                ("gi_p", "p", lambda x: _num(x, 3)),
                ("organizations", "Organizations there", None),
            ],
            tid=f"targets-{level}",
        )
        plural = "states" if level == "state" else "municipalities"
        parts.append(
            f"<h3>{plural.capitalize()}</h3>"
            f"<p>{n_hot} hot spots and {n_cold} cold spots among the {len(ana.hot):,} {plural} "
            f"(Getis-Ord Gi*, {ana.meta.get('permutations')} permutations, p ≤ {ana.meta.get('alpha')}). "
            f"{_e(ana.targets.reason)}</p>"
            + _chart_div(
                f"map-{level}",
                f"Violence score by {level} {data.year}, hot spots outlined in dark red, cold spots in blue.",
            )
            + table
        )
    return (
        "<p>Every state and municipality scored from all events and the SESNSP homicide counts; hot spots "
        "are where high scores cluster beyond chance. They are the regional fallback of the target rule.</p>"
        + "".join(parts)
    )


def _package_section(data: ReportData) -> str:
    if data.package is None:
        return f"<p>{_e(data.package_note)}</p>"
    pkg = data.package
    s = pkg.summary()
    facts = pd.DataFrame(
        [
            ("Target", pkg.target_name),
            ("US buyers supplied", f"{s['buyers_reached']:,}"),
            ("Cases selected", f"{s['cases_selected']} of a budget of {pkg.budget:g} {pkg.budget_kind}"),
            (
                "Revenue denied",
                f"{_money(float(s['revenue_denied']))} a year ({float(s['denied_share']):.0%})",
            ),
            ("Target's US revenue", f"{_money(float(s['revenue_total']))} a year"),
            ("Method", f"{pkg.method}: {pkg.status}"),
            ("Guarantee", pkg.guarantee),
        ],
        columns=["what", "value"],
    )
    sel = pkg.selected.head(12).assign(
        path=lambda f: f["path"].map(
            lambda p: " › ".join(p) if isinstance(p, list | tuple | np.ndarray) else p
        )
    )
    cases = _table(
        sel,
        [
            ("order", "#", lambda x: f"{int(x)}"),
            ("name", "Buyer", None),
            ("type", "Type", None),
            ("region", "Region", None),
            ("denied", "Denied (US$/year)", lambda x: _num(x, 0)),
            ("cumulative", "Cumulative", lambda x: _num(x, 0)),
            ("path", "Supply path", None),
        ],
        tid="package-cases",
    )
    return (
        f"<p>{_e(data.package_note)}</p>"
        + _table(facts, [("what", "", None), ("value", "", None)], tid="package-summary")
        + _chart_div("network", "The target (red), its cells, US wholesalers and distributors; cases ringed.")
        + "<h3>Cases, in the order each adds the most</h3>"
        + cases
    )


def _policies_section(data: ReportData) -> str:
    if data.sim is None:
        return f"<p>{_e(data.sim_note)}</p>"
    t = data.sim.table()
    h = _horizon_column(t)
    months = h.removeprefix("deaths_by_")

    def iv(col: str) -> list[str]:
        return [
            f"{a:,.0f} ({b:,.0f} – {c:,.0f})"
            for a, b, c in zip(t[col], t[f"{col}_lo90"], t[f"{col}_hi90"], strict=True)
        ]

    shown = pd.DataFrame(
        {
            "policy": t["policy"],
            "deaths_h": iv(h),
            "per_month": [f"{x:,.1f}" for x in t["deaths_per_month_last_year"]],
            "alive": [f"{x:.1f}" for x in t["alive_end"]],
            "p_below": [
                "" if pd.isna(x) or p == "volume" else f"{x:.2f}"
                for p, x in zip(t["policy"], t.get("p_below_volume", pd.Series(np.nan, t.index)), strict=True)
            ],
        }
    )
    table = _table(
        shown,
        [
            ("policy", "Policy", None),
            ("deaths_h", f"Deaths by month {months}: median (90% interval)", lambda x: _e(x)),
            ("per_month", "Deaths per month, last year", lambda x: _e(x)),
            ("alive", "Organizations alive at the end", lambda x: _e(x)),
            ("p_below", "P(fewer deaths than volume)", lambda x: _e(x)),
        ],
        tid="policies-table",
    )
    return (
        f"<p>{_e(data.sim_note)}</p>"
        + _chart_div(
            "policies", "Monthly deaths per policy: median line and 90% band over paired replicates."
        )
        + table
    )


def _routes_section(data: ReportData) -> str:
    if data.shift is None:
        return "<p>No routes analysis.</p>"
    from vdto.routes.chart import LABELS

    t = data.shift.table()
    t = t.assign(label=t["name"].map(LABELS).fillna(t["name"]))
    table = _table(
        t,
        [
            ("kind", "Kind", None),
            ("label", "Corridor or region", None),
            ("before", "Share now", _pct),
            ("after", f"Share, Caribbean interdiction {data.shift.change:+.0%}", _pct),
            ("change_pp", "Change (points)", lambda x: f"{float(x):+.1f}"),
        ],
        tid="routes-table",
    )
    return (
        "<p>US-bound cocaine routed over the calibrated corridor network, now and with Caribbean "
        "interdiction changed; the change of Mexican violence follows the value of the trade at stake "
        "(docs/routes.md).</p>"
        + _chart_div(
            "routes", "Shares of US-bound cocaine by corridor and US entry region, before and after."
        )
        + table
    )


def _provenance_section(prov: dict) -> str:
    rows = pd.DataFrame([(k, "" if v is None else v) for k, v in prov.items()], columns=["key", "value"])
    return (
        "<p>What makes these numbers reproducible: run the same vdto version on a store with the same "
        "data hash, with the same rubric and seeds.</p>"
        + _table(rows, [("key", "", None), ("value", "", None)], tid="provenance-table").replace(
            "<table", '<table class="prov"', 1
        )
    )


def render_html(data: ReportData, charts: dict[str, Any], heads: dict[str, str], prov: dict) -> str:
    """The report page: sections, tables and every chart's spec, with the Vega bundle inlined once."""
    d = data.decision
    decision_cls = "decision target" if d.target else "decision"
    summary = (
        f'<p class="{decision_cls}" id="decision">{_e(heads["decision"])}</p>'
        f'<p class="note">The rule: {_e(d.reason)}</p>'
        '<ul class="headlines">'
        + "".join(
            f"<li>{_e(heads[k])}</li>" for k in ("hotspots", "package", "policies", "routes") if k in heads
        )
        + "</ul>"
    )
    sections = [
        ("summary", "Summary", summary),
        ("ranking", f"Ranking {data.year}", _ranking_section(data)),
        ("margins", "Margins", _margins_section(data)),
        (
            "trends",
            "Trends by organization",
            "<p>The leading organizations' expected scores, year by year (same rubric).</p>"
            + _chart_div("trends", "Expected violence score per calendar year."),
        ),
        ("maps", "Maps and hot spots", _regions_section(data)),
        ("package", "Enforcement package", _package_section(data)),
        ("policies", "Policy comparison", _policies_section(data)),
        ("routes", "Routes: the Caribbean shift", _routes_section(data)),
        ("provenance", "Provenance", _provenance_section(prov)),
    ]
    nav = "".join(f'<a href="#{sid}">{_e(title)}</a>' for sid, title, _ in sections)
    body = "".join(_section(sid, title, content) for sid, title, content in sections)
    specs = "".join(
        f'<script type="application/json" data-chart="{name}">{_spec(chart)}</script>\n'
        for name, chart in charts.items()
        if f'id="chart-{name}"' in body
    )
    m = data.ranking.meta
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>vdto report {data.year}</title>\n<style>{CSS}</style>\n"
        f"<script>{_script_safe(vega_bundle())}</script>\n</head>\n<body>\n"
        f"<header><h1>vdto report: violence ranking and enforcement options, {data.year}</h1>"
        f"<p>Store {_e(data.db.name)} · window {_e(m['from'])} to {_e(m['to'])} · {m['events']:,} events · "
        f"vdto {_e(vdto.__version__)} · rubric {_e(m['rubric'])} sha256:{_e(m['rubric_sha256'][:16])}</p></header>\n"
        f"<nav>{nav}</nav>\n<main>\n"
        '<pre id="report-errors" hidden></pre>\n'
        f"{body}</main>\n{specs}<script>{JS}</script>\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------------------------------------
# writing the folder


def _write_atomic(path: Path, content: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(content), mode=0o644)


def _records(frame: pd.DataFrame) -> list:
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].map(lambda v: isinstance(v, list | tuple | np.ndarray)).any():
            frame[col] = frame[col].map(lambda v: list(v) if isinstance(v, list | tuple | np.ndarray) else v)
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def report_json(data: ReportData, heads: dict[str, str], prov: dict, figures: list[str]) -> dict:
    """Provenance, headlines, the decision and every table of the report."""
    tables: dict[str, Any] = {
        "ranking": _records(data.table),
        "rank_probabilities": _records(data.ranking.rank_probs),
        "margins": _records(data.margins),
        "trend": _records(data.trend),
    }
    for level, ana in (("state", data.states), ("municipality", data.municipalities)):
        hot = ana.hot[ana.hot["hotspot"] != "not significant"]
        tables[f"hotspots_{level}"] = _records(hot)
        tables[f"targets_{level}"] = _records(ana.targets.table)
    n, moved, events = data.robustness
    out: dict[str, Any] = {
        "provenance": prov,
        "headlines": heads,
        "decision": data.decision.as_dict(),
        "manipulation": {"events_to_change_top": n, "weight_moved": moved, "events": _records(events)},
    }
    if data.package is not None:
        tables["package_selected"] = _records(data.package.selected)
        out["package"] = {"note": data.package_note, **data.package.summary()}
    if data.sim is not None:
        tables["policies"] = _records(data.sim.table())
        from vdto.sim.results import monthly_bands

        tables["monthly_deaths"] = _records(monthly_bands(data.sim.results))
        out["sim"] = {"note": data.sim_note, **data.sim.meta}
    if data.shift is not None:
        tables["routes"] = _records(data.shift.table())
        out["routes"] = {**data.shift.meta, "violence": data.shift.violence_summary()}
    out["tables"] = tables
    out["figures"] = figures
    return out


def write_report(
    data: ReportData, out_dir: str | os.PathLike[str], *, progress: Callable[[str], None] | None = None
) -> Path:
    """Write ``report.html``, ``report.json`` and ``figures/*.png`` into ``out_dir``; returns the
    HTML path. ``progress`` is called with a label before the figures and before the page."""
    from vdto.regional.maps import save_map

    out_dir = Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    if progress:
        progress("Drawing the figures (PNG)")
    charts = _figures(data)
    written = []
    for name, _ in FIGURES:
        if name in charts:
            save_map(charts[name], out_dir / "figures" / f"{name}.png")
            written.append(f"figures/{name}.png")
    if progress:
        progress("Writing report.html")
    heads = headlines(data)
    prov = data.provenance()
    prov["generated_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    page = render_html(data, charts, heads, prov)
    _write_atomic(out_dir / "report.html", page.encode("utf-8"))
    doc = report_json(data, heads, prov, written)
    _write_atomic(
        out_dir / "report.json",
        (json.dumps(doc, ensure_ascii=False, indent=1, default=_json_default) + "\n").encode("utf-8"),
    )
    return out_dir / "report.html"


def build_report(
    db: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    year: int | None = None,
    sim_results: SimResults | str | os.PathLike[str] | bool | None = None,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> Path:
    """Collect everything from the store at ``db`` and write the report folder (see
    :func:`collect` for the options); returns the path of ``report.html``."""
    data = collect(db, year=year, sim_results=sim_results, seed=seed, progress=progress, **options)
    return write_report(data, out_dir, progress=progress)


__all__ = [
    "FIGURES",
    "STEPS",
    "ReportData",
    "SimResults",
    "build_report",
    "collect",
    "headlines",
    "latest_full_year",
    "network_chart",
    "outputs_from_long",
    "ranking_chart",
    "render_html",
    "report_json",
    "run_comparison",
    "trend_chart",
    "write_report",
]
