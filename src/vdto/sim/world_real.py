"""The world from real data for a start year: Mexico's 2,457 municipalities with their people
and homicides outside organized crime, the organizations active in UCDP GED in the years before,
their members, where they are seen, their BACRIM 2020 rivalries and alliances, and the
distribution their starting map is drawn from.

See :func:`mexico_world` for how each array is built and the assumptions behind it. The world
is built once per process and argument set (cached); its arrays are read-only, so copy before
changing them.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from itertools import pairwise

import numpy as np
import pandas as pd

from vdto.errors import VdtoError
from vdto.names import fold
from vdto.orgs import DTO_KINDS, Registry
from vdto.sim.params import START_YEARS
from vdto.sim.world import World

#: Municipalities holding the main land ports of entry to the United States (INEGI code, name in
#: the INEGI catalog, crossing). Each is checked against the bundled catalog when the world is
#: built; a code whose name does not match is dropped (and listed in ``notes``).
BORDER_CROSSINGS: tuple[tuple[str, str, str], ...] = (
    ("02004", "Tijuana", "San Ysidro, Otay Mesa"),
    ("02003", "Tecate", "Tecate"),
    ("02002", "Mexicali", "Calexico, Los Algodones / Andrade"),
    ("26055", "San Luis Río Colorado", "San Luis"),
    ("26070", "General Plutarco Elías Calles", "Sonoyta / Lukeville"),
    ("26060", "Sáric", "Sásabe"),
    ("26043", "Nogales", "Nogales"),
    ("26039", "Naco", "Naco"),
    ("26002", "Agua Prieta", "Douglas"),
    ("08005", "Ascensión", "Puerto Palomas / Columbus"),
    ("08037", "Juárez", "Ciudad Juárez / El Paso"),
    ("08053", "Praxedis G. Guerrero", "Fabens / Tornillo"),
    ("08052", "Ojinaga", "Presidio"),
    ("05002", "Acuña", "Ciudad Acuña / Del Rio"),
    ("05025", "Piedras Negras", "Eagle Pass"),
    ("19005", "Anáhuac", "Colombia / Laredo"),
    ("28027", "Nuevo Laredo", "Laredo"),
    ("28014", "Guerrero", "Nueva Ciudad Guerrero / Falcon Dam"),
    ("28025", "Miguel Alemán", "Roma"),
    ("28007", "Camargo", "Rio Grande City"),
    ("28015", "Gustavo Díaz Ordaz", "Los Ebanos"),
    ("28032", "Reynosa", "Hidalgo / Pharr / Anzalduas"),
    ("28033", "Río Bravo", "Progreso / Donna"),
    ("28022", "Matamoros", "Brownsville"),
)  # fmt: skip

#: Municipalities holding the major seaports (INEGI code, catalog name, port); checked like
#: :data:`BORDER_CROSSINGS`.
SEAPORTS: tuple[tuple[str, str, str], ...] = (
    ("06007", "Manzanillo", "Manzanillo"),
    ("16052", "Lázaro Cárdenas", "Lázaro Cárdenas"),
    ("30193", "Veracruz", "Veracruz"),
    ("28003", "Altamira", "Altamira"),
    ("25012", "Mazatlán", "Mazatlán"),
    ("02001", "Ensenada", "Ensenada"),
    ("25001", "Ahome", "Topolobampo"),
    ("20079", "Salina Cruz", "Salina Cruz"),
    ("07089", "Tapachula", "Puerto Chiapas"),
    ("30039", "Coatzacoalcos", "Coatzacoalcos"),
    ("31059", "Progreso", "Progreso"),
    ("23005", "Benito Juárez", "Cancún"),
)  # fmt: skip

#: Weights of the value terms (stated assumptions, see :func:`mexico_world`).
BORDER_WEIGHT = 4.0
PORT_WEIGHT = 2.0
ROUTE_WEIGHT = 1.0
ROUTE_CAP = 3.0  # log1p(events) units: ~19 events or more earn the full route term
POPULATION_WEIGHT = 0.5
#: Hostility between organizations.
RIVALS, NEUTRAL, ALLIES = 1.0, 0.5, 0.1
#: US buyers in total, split over organizations in proportion to members (at least 1 each).
BUYERS = 100
#: Members of all organizations: Prieto-Curiel, Campedelli & Hope (2023) start their model with
#: 115,000 in 2012 (ReclutamientoC.R, ``Crime0``) and estimate 160,000-185,000 in 2022 (175,000
#: taken); other years by log-linear interpolation (extrapolation before 2012 and after 2022).
MEMBERS_ANCHORS = ((2012, 115_000.0), (2022, 175_000.0))
#: Share of men aged 15-29 among men (INEGI, Censo de Población y Vivienda 2010: 29.7 million of
#: 112.3 million people were aged 15-29, 26.4%; taken for men too).
YOUNG_SHARE = 0.264
#: The baseline of homicides that are not organized-crime killings: the rate of 2000-2006 (INEGI,
#: by municipality of occurrence) less the organized-crime share of 2006 (Lantia: about 20%).
BASELINE_YEARS = (2000, 2006)
PREWAR_OC_SHARE = 0.20
#: Prior weight (person-years) pulling a municipality's baseline rate towards its state's.
SHRINK_PERSON_YEARS = 100_000.0
#: An organization needs this much attributed weight (events) in the look-back to be in the world.
MIN_EVENTS = 1.0


@cache
def _registry() -> Registry:
    return Registry.seed()


def _ucdp() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bundled UCDP GED events and their perpetrators (:func:`vdto.events.bundled.ucdp_attributed`)."""
    from vdto.events.bundled import ucdp_attributed

    return ucdp_attributed()


def _verified(table: tuple[tuple[str, str, str], ...], names: dict[str, str]) -> tuple[list[str], list[str]]:
    """Codes of ``table`` whose catalog name matches (folded), and the codes dropped."""
    keep: list[str] = []
    dropped: list[str] = []
    for code, name, _ in table:
        (keep if code in names and fold(names[code]) == fold(name) else dropped).append(code)
    return keep, dropped


def _buyers(members: np.ndarray, org_ids: list[str], total: int) -> np.ndarray:
    """Buyers per organization: ``total`` split by largest remainder in proportion to members,
    at least 1 each (ties of remainder to the smaller id, never to a position)."""
    quota = total * members / members.sum()
    counts = np.floor(quota).astype(np.int64)
    rest = total - int(counts.sum())
    order = sorted(range(len(quota)), key=lambda i: (-(quota[i] - counts[i]), org_ids[i]))
    counts[order[:rest]] += 1
    return np.maximum(counts, 1)


def _readonly(*arrays: np.ndarray) -> None:
    for a in arrays:
        a.flags.writeable = False


def members_at(year: int) -> float:
    """Members of all organizations in ``year`` (:data:`MEMBERS_ANCHORS`, log-linear).

    >>> round(members_at(2012)), round(members_at(2022))
    (115000, 175000)
    """
    (y0, m0), (y1, m1) = MEMBERS_ANCHORS
    return float(m0 * (m1 / m0) ** ((year - y0) / (y1 - y0)))


def as_of(registry: Registry, org_id: str, year: int) -> str:
    """The organization ``org_id``'s events count for in ``year``: its top-level organization,
    or the one it split from when the registry dates the split on or after 1 January of
    ``year`` (so Los Zetas count for the Gulf Cartel in 2007)."""
    org = registry.top(org_id)
    start = date(year, 1, 1)
    for _ in range(20):
        later = [ch for ch in registry.changes if ch.kind == "split" and org in ch.to and ch.date >= start]
        if not later:
            return org
        org = registry.top(min(later, key=lambda ch: ch.date).from_[0])
    return org


def _check_year(year: int, lookback: int) -> None:
    lo, hi = START_YEARS
    if not lo <= year <= hi:
        raise VdtoError(
            f"no data to start in {year}",
            fix=f"use a start year from {lo} to {hi} (UCDP GED events 1989-2023 before it)",
            param="world.start_year",
        )
    if lookback < 1:
        raise VdtoError(
            "the look-back needs at least one year", fix="use 1 or more", param="world.lookback_years"
        )


def _municipal(codes: np.ndarray, year: int) -> tuple[np.ndarray, np.ndarray]:
    """People and men of each municipality in ``year`` (CONAPO; 0 where the code is missing)."""
    from vdto.geography import geography

    geo = geography()
    total = geo.municipal_population(year).reindex(codes).fillna(0.0).to_numpy(float)
    men = geo.municipal_population(year, "Males").reindex(codes).fillna(0.0).to_numpy(float)
    return total, men


@cache
def _baseline_rates(codes: tuple[str, ...]) -> tuple[np.ndarray, dict[str, float]]:
    """Homicides per person-year of :data:`BASELINE_YEARS` by municipality (shrunk towards the
    state's, :data:`SHRINK_PERSON_YEARS`) and by state (municipality unknown included)."""
    from vdto.data import bundled
    from vdto.events import inegi

    y0, y1 = BASELINE_YEARS
    counts = pd.concat([t.counts for t in inegi.read(bundled("inegi")) if y0 <= t.year <= y1])
    deaths = counts.groupby("region_code")["count"].sum()
    state_deaths = counts.groupby("state_code")["count"].sum()
    years = range(y0, y1 + 1)
    py = sum(_municipal(np.array(codes), y)[0] for y in years)
    idx = pd.Index(codes)
    h = deaths.reindex(idx).fillna(0.0).to_numpy(float)
    state = np.array([c[:2] for c in codes])
    py_state = pd.Series(py).groupby(state).sum()
    state_rate = {s: float(state_deaths.get(s, 0.0)) / float(py_state[s]) for s in py_state.index}
    prior = np.array([state_rate[s] for s in state])
    rate = (h + SHRINK_PERSON_YEARS * prior) / (py + SHRINK_PERSON_YEARS)
    return rate, state_rate


def _baseline(codes: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Expected homicides a month that are not organized-crime killings, per municipality: the
    shrunk rate x population x (1 - :data:`PREWAR_OC_SHARE`) / 12, rescaled so each state's sum
    is its own rate (unknown municipalities included) x its population."""
    rate, state_rate = _baseline_rates(tuple(codes))
    state = np.array([c[:2] for c in codes])
    raw = rate * population
    out = np.zeros(len(codes))
    for s in np.unique(state):
        inside = state == s
        want = state_rate[s] * population[inside].sum()
        got = raw[inside].sum()
        out[inside] = raw[inside] * (want / got if got > 0 else 0.0)
    return out * (1.0 - PREWAR_OC_SHARE) / 12.0


def _organizations(
    perps: pd.DataFrame, reg: Registry, year: int, organizations: int
) -> list[tuple[str, float]]:
    """The organizations of the world: DTOs as of ``year`` by attributed weight (most first, ties
    by id), at most ``organizations``, each with at least :data:`MIN_EVENTS`."""
    weight = perps.groupby("org")["probability"].sum()
    ranked = sorted(
        ((o, float(w)) for o, w in weight.items() if w >= MIN_EVENTS), key=lambda kv: (-kv[1], kv[0])
    )
    return ranked[:organizations]


def _presence(org_ids: list[str], located: pd.DataFrame, reg: Registry, year: int,
              states: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:  # fmt: skip
    """Where each organization may hold plazas ``(N, S)``: the states of its located events,
    plus for a start in 2020 or later the states BACRIM 2020 places its groups in."""
    from vdto.geography import geography
    from vdto.network.bacrim import load_bacrim2020

    pos = {o: i for i, o in enumerate(org_ids)}
    spos = {s: i for i, s in enumerate(states)}
    allowed = np.zeros((len(org_ids), len(states)), bool)
    for o, s in zip(located["org"], located["mun"].str[:2], strict=True):
        if o in pos and s in spos:
            allowed[pos[o], spos[s]] = True
    sources = ["UCDP GED events"]
    if year >= 2020:
        geo = geography()
        nodes = load_bacrim2020(registry=reg).nodes
        for org, region in zip(nodes["org_id"], nodes["region"], strict=True):
            if not isinstance(org, str) or org not in reg:
                continue
            o, s = as_of(reg, org, year), geo.state_code(region)
            if o in pos and s in spos:
                allowed[pos[o], spos[s]] = True
        sources.append("BACRIM 2020 states")
    return allowed, sources


def _hostility(org_ids: list[str], reg: Registry) -> np.ndarray:
    """Hostility from BACRIM 2020 between organizations its groups resolve to (top level)."""
    from vdto.network.bacrim import load_bacrim2020

    n = len(org_ids)
    pos = {o: i for i, o in enumerate(org_ids)}
    net = load_bacrim2020(registry=reg)
    node_org = dict(zip(net.nodes["id"], net.nodes["org_id"], strict=True))
    hostility = np.full((n, n), NEUTRAL)
    for kind, level in (("alliance", ALLIES), ("rivalry", RIVALS)):  # rivalry last: it wins
        ties = net.edges[net.edges["type"] == kind]
        for a, b in zip(ties["source"].map(node_org), ties["target"].map(node_org), strict=True):
            a, b = (reg.top(x) if isinstance(x, str) and x in reg else None for x in (a, b))
            if a in pos and b in pos and a != b:
                hostility[pos[a], pos[b]] = hostility[pos[b], pos[a]] = level
    np.fill_diagonal(hostility, 0.0)
    return hostility


@cache
def mexico_world(start_year: int = 2016, organizations: int = 20, *, lookback_years: int = 3,
                 spread_hops: int = 3) -> World:  # fmt: skip
    """The world from real data for a simulation starting on 1 January ``start_year`` (cached
    per argument set; arrays are read-only).

    **Plazas** are the 2,457 bundled municipalities in INEGI code order; neighbours are their
    queen contiguity (:func:`vdto.regional.contiguity.bundled`), both directions; ``state`` is
    the state of each.

    **People**: ``population`` and ``young`` (men x :data:`YOUNG_SHARE`, men aged 15-29) are
    CONAPO's mid-year figures for ``start_year`` (2007-2009 interpolated; see
    :meth:`vdto.geography.Geography.municipal_population`).

    **Baseline** homicides that are not organized-crime killings: :func:`_baseline`, from INEGI's
    municipal counts of :data:`BASELINE_YEARS` (before the drug war) less 20% (Lantia's
    organized-crime share of 2006), at ``start_year``'s population.

    **Value** (trafficking value), before normalising to mean 1, stated assumptions::

        1 + 4 * border + 2 * port + 1 * min(log1p(events), 3) + 0.5 * population / max population

    ``border`` is 1 in a municipality holding a main land port of entry to the US
    (:data:`BORDER_CROSSINGS`), ``port`` 1 in one holding a major seaport (:data:`SEAPORTS`);
    ``events`` is the number of UCDP GED events located there in the look-back years.

    **Organizations** are the drug-trafficking organizations (registry kinds dto and faction,
    factions rolled up to their parent, and an organization the registry says split off on or
    after 1 January ``start_year`` counted with the one it split from, :func:`as_of`) with UCDP
    GED events in the ``lookback_years`` before ``start_year``: at most ``organizations``, by
    the sum of their attributed perpetrator probabilities (most first, ties by id), each with at
    least :data:`MIN_EVENTS`. **Members**: :func:`members_at` ``(start_year)`` in all, split in
    proportion to 1 / rank (Prieto-Curiel et al. 2023 give cartel sizes a power law with
    exponent -1).

    **Starting map** (a distribution, drawn per replicate by :mod:`vdto.sim.startmap`): the
    claims are each organization's attributed weight in each municipality with located events;
    an organization may hold plazas only in the states where its events are located (and, from
    2020, where BACRIM 2020 places its groups); territories reach ``spread_hops`` hops beyond.

    **Hostility** from BACRIM 2020 (groups resolved to top-level organizations): 1.0 for a pair
    with a rivalry tie, else 0.1 for an alliance, else 0.5; for start years well before 2020 these
    are anachronistic (docs/model.md).

    **Buyers**: 100 US buyers split in proportion to members (largest remainder, at least 1
    each), each of volume 1.
    """
    from vdto.geography import geography
    from vdto.regional.contiguity import bundled

    year, lookback = int(start_year), int(lookback_years)
    _check_year(year, lookback)
    reg = _registry()
    geo = geography()
    cont = bundled("municipality")
    codes = np.array(cont.codes)
    m = len(codes)
    pos = {c: i for i, c in enumerate(cont.codes)}
    src = np.array([pos[c] for c in cont.codes for _ in cont.neighbors[c]], dtype=np.int32)
    dst = np.array([pos[n] for c in cont.codes for n in cont.neighbors[c]], dtype=np.int32)
    states = tuple(sorted({c[:2] for c in cont.codes}))
    state = np.array([states.index(c[:2]) for c in cont.codes], dtype=np.int64)

    # events of the look-back years, their perpetrators as of the start year
    y0, y1 = year - lookback, year - 1
    events, perps = _ucdp()
    events = events[(events["year"] >= y0) & (events["year"] <= y1)]
    perps = perps[perps["source_id"].isin(set(events["source_id"])) & perps["org_id"].notna()]
    perps = perps[perps["org_id"].map(lambda o: o in reg)]
    perps = perps.assign(org=perps["org_id"].map(lambda o: as_of(reg, o, year)))
    perps = perps[perps["org"].map(lambda o: reg.get(o).kind in DTO_KINDS)]
    ranked = _organizations(perps, reg, year, organizations)
    if len(ranked) < 2:
        raise VdtoError(
            f"only {len(ranked)} organization(s) have UCDP GED events in {y0}-{y1}",
            fix="start later or look back more years (world.lookback_years)",
            param="world.start_year",
        )
    org_ids = [o for o, _ in ranked]
    org_pos = {o: i for i, o in enumerate(org_ids)}
    n = len(org_ids)
    rank = np.arange(1, n + 1, dtype=float)
    members = members_at(year) * (1 / rank) / (1 / rank).sum()

    # claims: attributed weight per (municipality, organization)
    mun_of = dict(zip(events["source_id"], events["mun_code"], strict=True))
    located = perps.assign(mun=perps["source_id"].map(mun_of))
    located = located[located["mun"].isin(pos) & located["org"].isin(org_pos)]
    table = (
        located.assign(p=located["mun"].map(pos), o=located["org"].map(org_pos))
        .groupby(["p", "o"], sort=True)["probability"]
        .sum()
    )
    table = table[table > 0]
    p_idx = table.index.get_level_values("p").to_numpy(np.int64)
    claim_ptr = np.concatenate([[0], np.cumsum(np.bincount(p_idx, minlength=m))]).astype(np.int64)
    allowed, presence = _presence(org_ids, located, reg, year, states)

    population, men = _municipal(codes, year)
    baseline = _baseline(codes, population)

    # value
    names = dict(zip(geo.municipalities["mun_code"], geo.municipalities["name"], strict=True))
    border_codes, border_dropped = _verified(BORDER_CROSSINGS, names)
    port_codes, port_dropped = _verified(SEAPORTS, names)
    border = np.isin(codes, border_codes).astype(float)
    port = np.isin(codes, port_codes).astype(float)
    in_catalog = events[events["mun_code"].isin(pos)]
    n_events = np.bincount(in_catalog["mun_code"].map(pos).to_numpy(np.int64), minlength=m)
    route = np.minimum(np.log1p(n_events), ROUTE_CAP)
    value = (
        1.0 + BORDER_WEIGHT * border + PORT_WEIGHT * port + ROUTE_WEIGHT * route
        + POPULATION_WEIGHT * population / population.max()
    )  # fmt: skip
    value /= value.mean()

    hostility = _hostility(org_ids, reg)
    supplier = np.repeat(np.arange(n, dtype=np.int32), _buyers(members, org_ids, BUYERS))
    young = men * YOUNG_SHARE
    claim_org = table.index.get_level_values("o").to_numpy(np.int64)
    claim_weight = table.to_numpy(float)
    volume = np.ones(len(supplier))
    _readonly(codes, value, population, young, baseline, state, src, dst, members, hostility, claim_ptr,
              claim_org, claim_weight, allowed, supplier, volume)  # fmt: skip
    world = World(
        codes=codes, value=value, population=population, young=young, baseline=baseline, state=state,
        state_codes=states, src=src, dst=dst, org_ids=tuple(org_ids), names=tuple(reg.get(o).name for o in org_ids),
        members=members, hostility=hostility, claim_ptr=claim_ptr, claim_org=claim_org, claim_weight=claim_weight,
        allowed=allowed, supplier=supplier, volume=volume, spread_hops=int(spread_hops), start_year=year,
        label=(f"Mexico from {year}: {n} organizations (UCDP GED {y0}-{y1}), rivalries (BACRIM 2020), "
               f"{m:,} municipalities"),
        notes={
            "start_year": year,
            "event_years": [y0, y1],
            "events_used": len(events),
            "events_located": len(in_catalog),
            "plazas": m,
            "plazas_claimed": int((np.diff(claim_ptr) > 0).sum()),
            "claims": len(claim_org),
            "claims_tied": int(_tied_plazas(claim_ptr, claim_weight)),
            "border_plazas": len(border_codes),
            "border_codes": border_codes,
            "border_dropped": border_dropped,
            "ports": len(port_codes),
            "port_codes": port_codes,
            "ports_dropped": port_dropped,
            "organization_ids": org_ids,
            "organization_events": [round(w, 3) for _, w in ranked],
            "members": round(float(members.sum())),
            "presence_from": presence,
            "rival_pairs": int(np.triu(hostility == RIVALS, 1).sum()),
            "allied_pairs": int(np.triu(hostility == ALLIES, 1).sum()),
            "buyers": len(supplier),
            "population": round(float(population.sum())),
            "baseline_per_month": round(float(baseline.sum()), 1),
        },
    )  # fmt: skip
    return world.check()


def _tied_plazas(ptr: np.ndarray, weight: np.ndarray) -> int:
    """Plazas whose largest claim is shared by two or more organizations."""
    tied = 0
    for a, b in pairwise(ptr):
        if b - a > 1:
            w = weight[a:b]
            tied += int((w == w.max()).sum() > 1)
    return tied


__all__ = ["BORDER_CROSSINGS", "SEAPORTS", "as_of", "members_at", "mexico_world"]
