"""A seeded, synthetic US supply network for demonstrations, tests and benchmarks.

Real supply data (who buys from whom, and how much) is confidential, so vdto ships a generator
whose output has the shape of such data: Mexican drug-trafficking organizations (named after
real registry entries; their sizes, corridors and customers are invented), their cells or
plazas on the Mexican side of the border, US city markets, wholesalers and distributors, with
heavy-tailed volumes, regional prices and case costs. Nothing in it is intelligence: it is a
test bed. docs/network.md lists every assumption.

The same ``seed`` and parameters always give identical frames; ``net.meta`` records both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vdto.errors import VdtoError
from vdto.network.graph import EdgeType, NodeType, SupplyNetwork

GENERATOR_VERSION = 1

#: Border corridors: the Mexican state of the plazas that feed them (a region code for cells).
CORRIDORS: dict[str, str] = {
    "pacific": "BC",  # Baja California -> San Diego, Calexico
    "sonora": "SON",  # Sonora -> Nogales, Douglas
    "chihuahua": "CHIH",  # Chihuahua -> El Paso
    "coahuila": "COAH",  # Coahuila -> Eagle Pass, Del Rio
    "tamaulipas": "TAMPS",  # Tamaulipas -> Laredo, McAllen, Brownsville
}

#: US markets: (city, state, corridor that usually feeds it, relative market size, base
#: wholesale price in US$ per kilogram). Sizes and prices are round illustrative figures:
#: prices rise with distance from the border, as public price reports describe in general terms.
MARKETS: tuple[tuple[str, str, str, float, float], ...] = (
    ("San Diego", "CA", "pacific", 4.0, 16_000),
    ("Calexico", "CA", "pacific", 1.0, 15_000),
    ("Los Angeles", "CA", "pacific", 10.0, 18_000),
    ("Seattle", "WA", "pacific", 3.0, 25_000),
    ("Nogales", "AZ", "sonora", 1.0, 15_000),
    ("Phoenix", "AZ", "sonora", 6.0, 17_500),
    ("Tucson", "AZ", "sonora", 2.0, 16_500),
    ("El Paso", "TX", "chihuahua", 2.0, 16_000),
    ("Denver", "CO", "chihuahua", 3.0, 23_000),
    ("Chicago", "IL", "chihuahua", 7.0, 27_000),
    ("Eagle Pass", "TX", "coahuila", 1.0, 15_500),
    ("San Antonio", "TX", "coahuila", 3.0, 18_000),
    ("Laredo", "TX", "tamaulipas", 1.5, 15_500),
    ("McAllen", "TX", "tamaulipas", 1.5, 15_500),
    ("Houston", "TX", "tamaulipas", 6.0, 19_000),
    ("Dallas", "TX", "tamaulipas", 5.0, 21_000),
    ("Atlanta", "GA", "tamaulipas", 6.0, 26_000),
    ("Miami", "FL", "tamaulipas", 3.0, 25_000),
    ("Philadelphia", "PA", "tamaulipas", 3.0, 31_000),
    ("New York", "NY", "tamaulipas", 9.0, 32_000),
)

#: Organizations placed first (largest synthetic sizes), when the registry has them as active
#: DTOs; the order sets the synthetic size rank only and is not an estimate of real market shares.
LEADING_ORGS: tuple[str, ...] = (
    "sinaloa",
    "cjng",
    "gulf",
    "cdn",
    "juarez",
    "tijuana",
    "beltran_leyva",
    "caballeros_templarios",
    "zetas",
    "lnfm",
    "carteles_unidos",
    "csrl",
)


def _org_ids(n: int) -> list[tuple[str, str]]:
    """``n`` (org_id, name) pairs: leading registry DTOs, then the other active DTOs sorted by id,
    then synthetic ids ``org_NNN`` (NNN the rank) when the registry has too few."""
    from vdto.orgs import Registry

    reg = Registry.seed()
    active = {o.id: o.name for o in reg.orgs.values() if o.kind == "dto" and o.status == "active"}
    order = [i for i in LEADING_ORGS if i in active]
    order += sorted(i for i in active if i not in set(order))
    out = [(i, active[i]) for i in order[:n]]
    for k in range(len(out), n):
        out.append((f"org_{k + 1:03d}", f"Synthetic organization {k + 1}"))
    return out


def _check(name: str, value: int, low: int) -> None:
    if not isinstance(value, int | np.integer) or value < low:
        raise VdtoError(
            f"{name} must be an integer >= {low} (got {value!r})",
            f"generate({name}=...)",
            f"pass {name} >= {low}",
        )


def _draw(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn from the cumulative weights ``cdf`` (last entry = total)."""
    return np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right").clip(0, len(cdf) - 1)


def generate(
    seed: int = 0,
    organizations: int = 50,
    wholesalers: int = 5_000,
    distributors: int = 200_000,
    cells_per_org: int = 2,
    *,
    org_zipf: float = 1.1,
    regional: float = 0.8,
    via_cell: float = 0.7,
    via_city: float = 0.1,
    wholesaler_pareto: float = 1.2,
    distributor_sigma: float = 1.0,
    distributor_median_kg: float = 0.6,
    distributor_local: float = 0.9,
    distributor_direct: float = 0.02,
    markup: tuple[float, float] = (1.4, 2.0),
    border_price: float = 10_000.0,
    wholesaler_hours: float = 1_600.0,
    distributor_hours: float = 400.0,
) -> SupplyNetwork:
    """A synthetic supply network (see the module docstring and docs/network.md).

    Parameters
    ----------
    seed
        Seed of ``numpy.random.default_rng``; the same seed and parameters give identical frames.
    organizations, wholesalers, distributors
        Numbers of nodes of each kind (organizations take registry DTO ids, see ``_org_ids``).
    cells_per_org
        Cells (plazas) per organization, on the Mexican side of its corridors; 0 for none.
    org_zipf
        Organization sizes follow ``1 / rank ** org_zipf``.
    regional
        Weight of an organization in a market outside its corridors, relative to one inside
        is ``1 - regional`` (so 0.8 means outsiders are 5 times less likely suppliers).
    via_cell, via_city
        Share of wholesaler purchases routed through a cell of the organization, or bought on
        the city market (a city node that buys from several organizations); the rest is direct.
    wholesaler_pareto
        Tail index of wholesaler attractiveness (Pareto): lower means heavier tails.
    distributor_sigma, distributor_median_kg
        Distributor yearly volume is lognormal with this sigma and median (kilograms).
    distributor_local
        Probability that a distributor's wholesaler is in its own market.
    distributor_direct
        Share of distributors that also buy straight from a cell or organization.
    markup
        Range of the distributor price relative to its wholesalers' mean price.
    border_price
        Mean price per kilogram an organization charges at the border.
    wholesaler_hours, distributor_hours
        Median agent-hours to build a case against a wholesaler or a distributor.
    """
    for name, value, low in (
        ("seed", seed, 0),
        ("organizations", organizations, 1),
        ("wholesalers", wholesalers, 1),
        ("distributors", distributors, 0),
        ("cells_per_org", cells_per_org, 0),
    ):
        _check(name, value, low)
    for name, value in (
        ("regional", regional),
        ("via_cell", via_cell),
        ("via_city", via_city),
        ("distributor_local", distributor_local),
        ("distributor_direct", distributor_direct),
    ):
        if not 0.0 <= value <= 1.0:
            raise VdtoError(f"{name} must be in [0, 1] (got {value!r})", f"generate({name}=...)", "")
    if via_cell + via_city > 1.0:
        raise VdtoError("via_cell + via_city must not exceed 1", "generate(via_cell=..., via_city=...)", "")
    params = {
        "seed": int(seed),
        "organizations": int(organizations),
        "wholesalers": int(wholesalers),
        "distributors": int(distributors),
        "cells_per_org": int(cells_per_org),
        "org_zipf": org_zipf,
        "regional": regional,
        "via_cell": via_cell,
        "via_city": via_city,
        "wholesaler_pareto": wholesaler_pareto,
        "distributor_sigma": distributor_sigma,
        "distributor_median_kg": distributor_median_kg,
        "distributor_local": distributor_local,
        "distributor_direct": distributor_direct,
        "markup": list(markup),
        "border_price": border_price,
        "wholesaler_hours": wholesaler_hours,
        "distributor_hours": distributor_hours,
    }
    rng = np.random.default_rng(seed)
    n_org, n_w, n_d = int(organizations), int(wholesalers), int(distributors)
    corridor_names = list(CORRIDORS)
    n_cor = len(corridor_names)
    n_mkt = len(MARKETS)
    mkt_corridor = np.array([corridor_names.index(m[2]) for m in MARKETS])
    mkt_size = np.array([m[3] for m in MARKETS])
    mkt_price = np.array([m[4] for m in MARKETS])
    mkt_region = [f"{m[0]}, {m[1]}" for m in MARKETS]

    # -- organizations: sizes, corridors, price level ------------------------------------------
    orgs = _org_ids(n_org)
    org_size = 1.0 / np.arange(1, n_org + 1) ** org_zipf
    n_corr = np.clip(1 + (rng.random(n_org) < 0.5) + (np.arange(n_org) < 3) * 2, 1, n_cor)
    org_corr = np.zeros((n_org, n_cor), dtype=bool)
    for i in range(n_org):
        org_corr[i, rng.choice(n_cor, size=n_corr[i], replace=False)] = True
    org_factor = np.exp(rng.normal(0.0, 0.12, n_org))  # price level relative to the mean
    # weight of each organization as a supplier in each market
    reach = org_size[:, None] * np.where(org_corr[:, mkt_corridor], 1.0, 1.0 - regional)  # (org, mkt)

    # -- cells: cells_per_org per organization, each on one of its corridors --------------------
    cell_org = np.repeat(np.arange(n_org), cells_per_org)
    cell_corr = np.empty(len(cell_org), dtype=int)
    for c, o in enumerate(cell_org):
        cell_corr[c] = rng.choice(np.flatnonzero(org_corr[o]))

    # -- wholesalers: market, attractiveness, suppliers -----------------------------------------
    w_mkt = _draw(rng, np.cumsum(mkt_size), n_w)
    w_attr = rng.pareto(wholesaler_pareto, n_w) + 1.0
    w_k = 1 + (rng.random(n_w) < 0.45) + (rng.random(n_w) < 0.15)  # 1-3 organizations
    w_sup = np.full((n_w, 3), -1)
    for m in range(n_mkt):
        rows = np.flatnonzero(w_mkt == m)
        p = reach[:, m] / reach[:, m].sum()
        for r in rows:
            k = min(int(w_k[r]), n_org)
            w_sup[r, :k] = rng.choice(n_org, size=k, replace=False, p=p)
    w_mix = rng.dirichlet(np.ones(3), n_w) * (w_sup >= 0)
    w_mix /= w_mix.sum(axis=1, keepdims=True)

    # -- distributors: market, wholesalers (preferential, mostly local), volume -----------------
    d_mkt = _draw(rng, np.cumsum(mkt_size), n_d)
    d_k = 1 + (rng.random(n_d) < 0.4) + (rng.random(n_d) < 0.12)
    d_sup = np.full((n_d, 3), -1)
    glob_cdf = np.cumsum(w_attr)
    for m in range(n_mkt):
        rows = np.flatnonzero(d_mkt == m)
        local = np.flatnonzero(w_mkt == m)
        loc_cdf = np.cumsum(w_attr[local]) if len(local) else glob_cdf
        for j in range(3):
            is_local = rng.random(len(rows)) < distributor_local
            pick_g = _draw(rng, glob_cdf, len(rows))
            pick_l = local[_draw(rng, loc_cdf, len(rows))] if len(local) else pick_g
            d_sup[rows, j] = np.where(is_local, pick_l, pick_g)
    d_sup[d_k < 2, 1] = -1
    d_sup[d_k < 3, 2] = -1
    d_sup[:, 1] = np.where(d_sup[:, 1] == d_sup[:, 0], -1, d_sup[:, 1])
    d_sup[:, 2] = np.where((d_sup[:, 2] == d_sup[:, 0]) | (d_sup[:, 2] == d_sup[:, 1]), -1, d_sup[:, 2])
    d_vol = distributor_median_kg * np.exp(rng.normal(0.0, distributor_sigma, n_d))
    d_mix = rng.dirichlet(np.ones(3), n_d) * (d_sup >= 0)
    d_mix /= d_mix.sum(axis=1, keepdims=True)
    dw_vol = d_mix * d_vol[:, None]  # (distributor, slot) kilograms bought from that wholesaler
    ok = d_sup >= 0
    w_sales = np.bincount(d_sup[ok], weights=dw_vol[ok], minlength=n_w)
    # own retail: a Beta share of throughput, plus a small base so every wholesaler trades
    retail_share = rng.beta(2.0, 6.0, n_w)
    w_base = np.exp(rng.normal(np.log(2.0), 0.5, n_w)) * w_attr / w_attr.mean()
    w_inflow = w_sales / (1.0 - retail_share) + w_base

    # direct distributor purchases from a cell or organization of their market's suppliers
    direct = np.flatnonzero(rng.random(n_d) < distributor_direct)
    direct_org = np.empty(len(direct), dtype=int)
    for m in range(n_mkt):
        sel = d_mkt[direct] == m
        direct_org[sel] = _draw(rng, np.cumsum(reach[:, m]), int(sel.sum()))
    direct_vol = d_vol[direct] * rng.uniform(0.1, 0.5, len(direct))

    # -- routing wholesaler purchases: via a cell, the city market or direct --------------------
    route = rng.random((n_w, 3))
    use_cell = (route < via_cell) & (cells_per_org > 0)
    use_city = (~use_cell) & (route < via_cell + via_city)
    pick = rng.integers(0, max(cells_per_org, 1), size=(n_w, 3))

    def cell_for(org: np.ndarray, mkt: np.ndarray, pick_: np.ndarray) -> np.ndarray:
        """A cell of ``org``, preferring one on the market's corridor."""
        base = org * cells_per_org
        out = base + pick_ % cells_per_org
        for j in range(cells_per_org):
            on = cell_corr[base + j] == mkt_corridor[mkt]
            out = np.where(on & (cell_corr[out] != mkt_corridor[mkt]), base + j, out)
        return out

    # node index layout: orgs, cells, cities, wholesalers, distributors
    n_cell = len(cell_org)
    o0, c0, m0 = 0, n_org, n_org + n_cell
    w0 = m0 + n_mkt
    d0 = w0 + n_w
    src_parts: list[np.ndarray] = []
    dst_parts: list[np.ndarray] = []
    vol_parts: list[np.ndarray] = []

    def add(src: np.ndarray, dst: np.ndarray, vol: np.ndarray) -> None:
        src_parts.append(np.asarray(src, dtype=np.int64))
        dst_parts.append(np.asarray(dst, dtype=np.int64))
        vol_parts.append(np.asarray(vol, dtype=float))

    rows, slots = np.nonzero(w_sup >= 0)
    org = w_sup[rows, slots]
    vol = w_mix[rows, slots] * w_inflow[rows]
    mkt = w_mkt[rows]
    cl = use_cell[rows, slots]
    ct = use_city[rows, slots]
    dr = ~(cl | ct)
    cells = cell_for(org[cl], mkt[cl], pick[rows[cl], slots[cl]]) if cells_per_org else np.empty(0, int)
    add(c0 + cells, w0 + rows[cl], vol[cl])  # cell -> wholesaler
    add(o0 + org[dr], w0 + rows[dr], vol[dr])  # organization -> wholesaler
    add(m0 + mkt[ct], w0 + rows[ct], vol[ct])  # city market -> wholesaler
    # the city market buys what it sells, from the organizations (via a cell when there is one)
    if cells_per_org:
        city_cells = cell_for(org[ct], mkt[ct], pick[rows[ct], slots[ct]])
        add(c0 + city_cells, m0 + mkt[ct], vol[ct])
        add(o0 + cell_org, c0 + np.arange(n_cell), np.zeros(n_cell))  # volumes filled below
    else:
        add(o0 + org[ct], m0 + mkt[ct], vol[ct])
    # distributors
    rows, slots = np.nonzero(d_sup >= 0)
    add(w0 + d_sup[rows, slots], d0 + rows, dw_vol[rows, slots])
    if len(direct):
        if cells_per_org:
            dc = cell_for(direct_org, d_mkt[direct], rng.integers(0, cells_per_org, len(direct)))
            add(c0 + dc, d0 + direct, direct_vol)
        else:
            add(o0 + direct_org, d0 + direct, direct_vol)

    src = np.concatenate(src_parts)
    dst = np.concatenate(dst_parts)
    vol = np.concatenate(vol_parts)
    n_nodes = d0 + n_d
    # merge parallel edges (same seller and buyer), keeping a stable order
    key = src * n_nodes + dst
    uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
    vol = np.bincount(inv, weights=vol, minlength=len(uniq))
    order = np.argsort(first, kind="stable")
    src, dst, vol = src[first][order], dst[first][order], vol[order]
    # organization -> cell volume: everything the cell sells
    if cells_per_org:
        is_cell_src = (src >= c0) & (src < m0)
        cell_out = np.bincount(src[is_cell_src] - c0, weights=vol[is_cell_src], minlength=n_cell)
        oc = (src < c0) & (dst >= c0) & (dst < m0)
        vol[oc] = cell_out[dst[oc] - c0]

    # -- prices and case costs ------------------------------------------------------------------
    w_price_level = (w_mix * np.where(w_sup >= 0, org_factor[np.maximum(w_sup, 0)], 0.0)).sum(axis=1)
    w_price = mkt_price[w_mkt] * w_price_level * np.exp(rng.normal(0.0, 0.05, n_w))
    d_wmean = (d_mix * np.where(d_sup >= 0, w_price[np.maximum(d_sup, 0)], 0.0)).sum(axis=1)
    d_price = d_wmean * rng.uniform(markup[0], markup[1], n_d)
    city_price = mkt_price.astype(float)
    org_price = border_price * org_factor
    w_cost = wholesaler_hours * np.exp(rng.normal(0.0, 0.35, n_w)) * (w_inflow / np.median(w_inflow)) ** 0.15
    d_scale = (d_vol / np.median(d_vol)) ** 0.15 if n_d else d_vol
    d_cost = distributor_hours * np.exp(rng.normal(0.0, 0.4, n_d)) * d_scale

    # -- frames ---------------------------------------------------------------------------------
    w_ids = np.char.add("w:", np.char.zfill(np.arange(1, n_w + 1).astype(str), 5))
    d_ids = np.char.add("d:", np.char.zfill(np.arange(1, n_d + 1).astype(str), 6))
    city_slug = [m[0].lower().replace(" ", "_") for m in MARKETS]
    ids = np.concatenate(
        [
            np.array([f"org:{oid}" for oid, _ in orgs], dtype=object),
            np.array(
                [f"cell:{orgs[o][0]}:{j % cells_per_org + 1}" for j, o in enumerate(cell_org)], dtype=object
            ),
            np.array([f"city:{s}" for s in city_slug], dtype=object),
            w_ids.astype(object),
            d_ids.astype(object),
        ]
    )
    types = np.concatenate(
        [
            np.full(n_org, NodeType.ORGANIZATION.value, dtype=object),
            np.full(n_cell, NodeType.CELL.value, dtype=object),
            np.full(n_mkt, NodeType.CITY.value, dtype=object),
            np.full(n_w, NodeType.WHOLESALER.value, dtype=object),
            np.full(n_d, NodeType.DISTRIBUTOR.value, dtype=object),
        ]
    )
    org_home = [CORRIDORS[corridor_names[int(np.flatnonzero(org_corr[i])[0])]] for i in range(n_org)]
    names = np.concatenate(
        [
            np.array([name for _, name in orgs], dtype=object),
            np.array(
                [
                    f"{orgs[o][1]} – plaza {CORRIDORS[corridor_names[cell_corr[j]]]} {j % cells_per_org + 1}"
                    for j, o in enumerate(cell_org)
                ],
                dtype=object,
            ),
            np.array([f"{m[0]} market" for m in MARKETS], dtype=object),
            np.char.add("Wholesaler ", w_ids.astype(str)).astype(object),
            np.char.add("Distributor ", d_ids.astype(str)).astype(object),
        ]
    )
    org_ids = np.concatenate(
        [
            np.array([oid for oid, _ in orgs], dtype=object),
            np.array([orgs[o][0] for o in cell_org], dtype=object),
            np.full(n_mkt + n_w + n_d, None, dtype=object),
        ]
    )
    regions_arr = np.array(mkt_region, dtype=object)
    region = np.concatenate(
        [
            np.array(org_home, dtype=object),
            np.array([CORRIDORS[corridor_names[c]] for c in cell_corr], dtype=object),
            regions_arr,
            regions_arr[w_mkt],
            regions_arr[d_mkt],
        ]
    )
    price = np.concatenate([org_price, np.full(n_cell, np.nan), city_price, w_price, d_price])
    cost = np.concatenate([np.full(n_org + n_cell + n_mkt, np.nan), np.round(w_cost), np.round(d_cost)])
    nodes = pd.DataFrame(
        {
            "id": ids,
            "type": types,
            "name": names,
            "org_id": org_ids,
            "region": region,
            "price": np.round(price, 2),
            "cost": cost,
        }
    )
    edges = pd.DataFrame(
        {
            "source": ids[src],
            "target": ids[dst],
            "type": np.full(len(src), EdgeType.SUPPLIES.value, dtype=object),
            "volume": np.round(vol, 4),
            "share": np.nan,
            "confidence": np.round(rng.beta(8.0, 2.0, len(src)), 3),
            "weight": np.nan,
            "start": pd.NaT,
            "end": pd.NaT,
        }
    )
    meta = {
        "generator": "vdto.network.synthetic.generate",
        "generator_version": GENERATOR_VERSION,
        "synthetic": True,
        "params": params,
        "seed": int(seed),
        "units": {"volume": "kilograms per year", "price": "US$ per kilogram", "cost": "agent-hours"},
    }
    return SupplyNetwork.from_frames(nodes, edges, meta)
