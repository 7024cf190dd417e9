"""The default world from real data: Mexico's 2,457 municipalities, the organizations most active
in UCDP GED and their BACRIM 2020 rivalries and alliances.

See :func:`default_world` for how each array is built and the assumptions behind it. The world
is built once per process and argument set (cached); its arrays are read-only, so copy before
changing them.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from vdto.errors import VdtoError
from vdto.names import fold
from vdto.orgs import DTO_KINDS, Registry
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

#: Weights of the value terms (stated assumptions, see :func:`default_world`).
BORDER_WEIGHT = 4.0
PORT_WEIGHT = 2.0
ROUTE_WEIGHT = 1.0
ROUTE_CAP = 3.0  # log1p(events) units: ~19 events or more earn the full route term
POPULATION_WEIGHT = 0.5
#: Hostility between organizations.
RIVALS, NEUTRAL, ALLIES = 1.0, 0.5, 0.1
#: How far (contiguity hops) an organization's territory reaches beyond its event plazas.
SPREAD_HOPS = 3
#: US buyers in total, split over organizations in proportion to strength (at least 1 each).
BUYERS = 100


@cache
def _registry() -> Registry:
    return Registry.seed()


@cache
def _ucdp() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Events (source_id, year, mun_code) and perpetrators (source_id, org_id, probability) of
    the bundled UCDP GED file, rows with problems dropped (as the importer does)."""
    from vdto.data import bundled
    from vdto.events import ucdp

    batch = ucdp.parse(bundled("ucdp"), _registry())
    batch.drop_bad_rows()
    ev = batch.events
    events = pd.DataFrame(
        {
            "source_id": ev["source_id"].astype(str).to_numpy(),
            "year": pd.to_datetime(ev["date_start"]).dt.year.to_numpy(),
            "mun_code": ev["mun_code"].to_numpy(dtype=object),
        }
    )
    pe = batch.perpetrators
    perps = pd.DataFrame(
        {
            "source_id": pe["source_id"].astype(str).to_numpy(),
            "org_id": pe["org_id"].to_numpy(dtype=object),
            "probability": pe["probability"].astype(float).to_numpy(),
        }
    )
    return events, perps


def _verified(table: tuple[tuple[str, str, str], ...], names: dict[str, str]) -> tuple[list[str], list[str]]:
    """Codes of ``table`` whose catalog name matches (folded), and the codes dropped."""
    keep: list[str] = []
    dropped: list[str] = []
    for code, name, _ in table:
        (keep if code in names and fold(names[code]) == fold(name) else dropped).append(code)
    return keep, dropped


def _spread(owner: np.ndarray, src: np.ndarray, dst: np.ndarray, hops: int) -> np.ndarray:
    """Multi-source BFS: each unowned plaza within ``hops`` of owned ones goes to the owner of
    its nearest owned plaza (by hops), ties to the lowest organization index."""
    owner = owner.copy()
    dist = np.where(owner >= 0, 0, np.iinfo(np.int32).max)
    n = int(owner.max()) + 1 if (owner >= 0).any() else 0
    for hop in range(1, hops + 1):
        edge = (dist[src] == hop - 1) & (dist[dst] > hop)
        if not edge.any():
            break
        best = np.full(len(owner), n, dtype=np.int64)
        np.minimum.at(best, dst[edge], owner[src[edge]])
        reached = best < n
        owner[reached] = best[reached]
        dist[reached] = hop
    return owner


def _buyers(strength: np.ndarray, total: int) -> np.ndarray:
    """Buyers per organization: ``total`` split by largest remainder in proportion to strength,
    at least 1 each."""
    quota = total * strength / strength.sum()
    counts = np.floor(quota).astype(np.int64)
    rest = total - int(counts.sum())
    order = np.lexsort((np.arange(len(quota)), -(quota - counts)))  # largest remainder, then index
    counts[order[:rest]] += 1
    return np.maximum(counts, 1)


def _readonly(*arrays: np.ndarray) -> None:
    for a in arrays:
        a.flags.writeable = False


@cache
def default_world(organizations: int = 20, *, years: tuple[int, int] = (2016, 2020)) -> World:
    """The default world from real data (cached per argument set; arrays are read-only).

    **Plazas** are the 2,457 bundled municipalities in INEGI code order; neighbours are their
    queen contiguity (:func:`vdto.regional.contiguity.bundled`), both directions.

    **Value** (trafficking value) is, before normalising to mean 1, these stated assumptions::

        1 + 4 * border + 2 * port + 1 * min(log1p(events), 3) + 0.5 * population / max population

    ``border`` is 1 in a municipality holding a main land port of entry to the US
    (:data:`BORDER_CROSSINGS`), ``port`` 1 in one holding a major seaport (:data:`SEAPORTS`);
    ``events`` is the number of UCDP GED events located in the municipality in ``years`` (a
    proxy for the trafficking routes fought over), its term capped at 3 log-units (about 19
    events). The population term is minor by design.

    **Population**: the bundled data have population by state only (CONAPO, averaged over the
    months of ``years``); each state's population is split equally over its municipalities.
    This is a crude estimate (a state capital and a village get the same figure).

    **Organizations** are the ``organizations`` drug-trafficking organizations (registry kinds
    dto and faction, factions rolled up to their parent) with the most UCDP-attributed events in
    ``years`` (the sum of their perpetrator probabilities), most active first, named by their
    registry names. ``strength`` is proportional to the square root of each one's share of those
    events, normalised to mean 1.

    **Owner**: a municipality with attributed events goes to the chosen organization with the
    largest attributed weight there (ties to the lower index); the other municipalities go to
    the owner of the nearest owned one by contiguity hops (ties to the lower index), up to 3
    hops; farther ones belong to nobody (-1).

    **Hostility** comes from BACRIM 2020, its groups resolved through the registry to top-level
    organizations: 1.0 for a pair with a rivalry tie between any of their groups, else 0.1 for a
    pair with an alliance tie, else 0.5 (a pair both rival and allied counts as rivals).

    **Buyers**: 100 US buyers split over the organizations in proportion to strength (largest
    remainder, at least 1 each, so the total can exceed 100 slightly), each of volume 1.

    ``notes`` gives the counts: plazas owned (by events and by spread) and unowned, border
    plazas and ports found (and any dropped because the catalog name did not match), events
    used, the organization ids and their event weights.
    """
    from vdto.geography import geography
    from vdto.network.bacrim import load_bacrim2020
    from vdto.regional.contiguity import bundled

    y0, y1 = (int(y) for y in years)
    if organizations < 1 or y0 > y1:
        raise VdtoError(
            f"cannot build a world of {organizations} organizations over {y0}-{y1}",
            "default_world",
            "ask for 1 or more organizations and a year range with start <= end",
        )
    reg = _registry()
    geo = geography()

    # plazas and contiguity
    cont = bundled("municipality")
    codes = np.array(cont.codes)
    m = len(codes)
    pos = {c: i for i, c in enumerate(cont.codes)}
    src = np.array([pos[c] for c in cont.codes for _ in cont.neighbors[c]], dtype=np.int32)
    dst = np.array([pos[n] for c in cont.codes for n in cont.neighbors[c]], dtype=np.int32)

    # events in the years
    events, perps = _ucdp()
    events = events[(events["year"] >= y0) & (events["year"] <= y1)]
    located = events[events["mun_code"].isin(pos)]
    n_events = np.bincount(located["mun_code"].map(pos).to_numpy(np.int64), minlength=m)

    # organizations: DTOs (factions rolled up) by attributed events
    perps = perps[perps["source_id"].isin(set(events["source_id"])) & perps["org_id"].notna()]
    top = {o: reg.top(o) for o in pd.unique(perps["org_id"]) if o in reg}
    perps = perps.assign(org_id=perps["org_id"].map(top))
    perps = perps[perps["org_id"].map(lambda o: isinstance(o, str) and reg.get(o).kind in DTO_KINDS)]
    weight = perps.groupby("org_id")["probability"].sum()
    ranked = sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))[:organizations]
    if len(ranked) < organizations:
        raise VdtoError(
            f"only {len(ranked)} organizations have UCDP events in {y0}-{y1}",
            "default_world",
            f"ask for at most {len(ranked)} organizations or widen the years",
        )
    org_ids = [o for o, _ in ranked]
    org_pos = {o: i for i, o in enumerate(org_ids)}
    n = len(org_ids)
    share = np.array([w for _, w in ranked]) / weight.sum()
    strength = np.sqrt(share)
    strength /= strength.mean()

    # owner: the largest attributed weight per municipality, then spread by contiguity
    mun_of = dict(zip(events["source_id"], events["mun_code"], strict=True))
    chosen = perps[perps["org_id"].isin(org_pos)]
    chosen = chosen.assign(mun=chosen["source_id"].map(mun_of))
    chosen = chosen[chosen["mun"].isin(pos)]
    table = np.zeros((m, n))
    np.add.at(
        table,
        (chosen["mun"].map(pos).to_numpy(np.int64), chosen["org_id"].map(org_pos).to_numpy(np.int64)),
        chosen["probability"].to_numpy(float),
    )
    seeded = table.max(axis=1) > 0
    owner = np.where(seeded, table.argmax(axis=1), -1).astype(np.int32)  # argmax: lowest index on ties
    owner = _spread(owner, src, dst, SPREAD_HOPS).astype(np.int32)

    # population: the state's (mean over the months of the years) split equally
    pop = geo.population
    pop = pop[(pop["date"].dt.year >= y0) & (pop["date"].dt.year <= y1)]
    state_pop = pop.groupby("state_code")["population"].mean()
    state_of = pd.Series([c[:2] for c in cont.codes])
    per_state = state_of.map(state_of.value_counts())
    population = (state_of.map(state_pop) / per_state).to_numpy(float)
    if np.isnan(population).any():
        raise VdtoError(
            f"no state population for {y0}-{y1}", "default_world", "use years within the CONAPO projections"
        )

    # value
    names = dict(zip(geo.municipalities["mun_code"], geo.municipalities["name"], strict=True))
    border_codes, border_dropped = _verified(BORDER_CROSSINGS, names)
    port_codes, port_dropped = _verified(SEAPORTS, names)
    border = np.isin(codes, border_codes).astype(float)
    port = np.isin(codes, port_codes).astype(float)
    route = np.minimum(np.log1p(n_events), ROUTE_CAP)
    value = (
        1.0
        + BORDER_WEIGHT * border
        + PORT_WEIGHT * port
        + ROUTE_WEIGHT * route
        + POPULATION_WEIGHT * population / population.max()
    )
    value /= value.mean()

    # hostility from BACRIM 2020
    net = load_bacrim2020(registry=reg)
    node_org = dict(zip(net.nodes["id"], net.nodes["org_id"], strict=True))
    hostility = np.full((n, n), NEUTRAL)
    for kind, level in (("alliance", ALLIES), ("rivalry", RIVALS)):  # rivalry last: it wins
        ties = net.edges[net.edges["type"] == kind]
        for a, b in zip(ties["source"].map(node_org), ties["target"].map(node_org), strict=True):
            if a in org_pos and b in org_pos and a != b:
                hostility[org_pos[a], org_pos[b]] = hostility[org_pos[b], org_pos[a]] = level
    np.fill_diagonal(hostility, 0.0)

    # US buyers
    supplier = np.repeat(np.arange(n, dtype=np.int32), _buyers(strength, BUYERS))
    volume = np.ones(len(supplier))

    arrays = (codes, value, population, src, dst, strength, hostility, owner, supplier, volume)
    _readonly(*arrays)
    owned = int((owner >= 0).sum())
    world = World(
        codes=codes,
        value=value,
        population=population,
        src=src,
        dst=dst,
        names=tuple(reg.get(o).name for o in org_ids),
        strength=strength,
        hostility=hostility,
        owner=owner,
        supplier=supplier,
        volume=volume,
        label=(f"Mexico {y0}-{y1}: {n} organizations (UCDP), rivalries (BACRIM 2020), {m:,} municipalities"),
        notes={
            "plazas": m,
            "plazas_owned": owned,
            "plazas_owned_by_events": int(seeded.sum()),
            "plazas_owned_by_spread": owned - int(seeded.sum()),
            "plazas_unowned": m - owned,
            "border_plazas": len(border_codes),
            "border_codes": border_codes,
            "border_dropped": border_dropped,
            "ports": len(port_codes),
            "port_codes": port_codes,
            "ports_dropped": port_dropped,
            "events_used": len(events),
            "events_located": len(located),
            "organization_ids": org_ids,
            "organization_events": [round(float(w), 3) for _, w in ranked],
            "rival_pairs": int(np.triu(hostility == RIVALS, 1).sum()),
            "allied_pairs": int(np.triu(hostility == ALLIES, 1).sum()),
            "buyers": len(supplier),
        },
    )
    return world.check()


__all__ = ["BORDER_CROSSINGS", "SEAPORTS", "default_world"]
