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

from dataclasses import dataclass

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
            fix=f"pass {low} or more",
            param=name,
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
    opts = _Options(
        seed,
        organizations,
        wholesalers,
        distributors,
        cells_per_org,
        org_zipf,
        regional,
        via_cell,
        via_city,
        wholesaler_pareto,
        distributor_sigma,
        distributor_median_kg,
        distributor_local,
        distributor_direct,
        markup,
        border_price,
        wholesaler_hours,
        distributor_hours,
    )
    _check_options(opts)
    # one generator, drawn from in a fixed order: the same seed gives the same network
    rng = np.random.default_rng(seed)
    mk = _markets()
    orgs = _organizations(rng, opts, mk)
    cells = _cells(rng, opts, orgs)
    whs = _wholesalers(rng, opts, mk, orgs)
    dis = _distributors(rng, opts, mk, whs)
    inflow = _wholesaler_inflow(rng, whs, dis)
    direct = _direct_purchases(rng, opts, mk, orgs, dis)
    routes = _routes(rng, opts)
    lay = _Layout.of(opts, len(cells.org), mk.n)
    drawn = _Drawn(opts, mk, orgs, cells, whs, dis, inflow, direct, routes, lay)
    src, dst, vol = _supply_edges(rng, drawn)
    prices = _prices_and_costs(rng, drawn)
    ids, nodes = _node_frame(mk, orgs, cells, whs, dis, prices)
    edges = _edge_frame(rng, ids, src, dst, vol)
    return SupplyNetwork.from_frames(nodes, edges, _meta(opts))


# ---------------------------------------------------------------------------------------------
# the steps of generate, in the order they draw from the random generator


@dataclass(frozen=True)
class _Options:
    """The parameters of :func:`generate`, as given."""

    seed: int
    organizations: int
    wholesalers: int
    distributors: int
    cells_per_org: int
    org_zipf: float
    regional: float
    via_cell: float
    via_city: float
    wholesaler_pareto: float
    distributor_sigma: float
    distributor_median_kg: float
    distributor_local: float
    distributor_direct: float
    markup: tuple[float, float]
    border_price: float
    wholesaler_hours: float
    distributor_hours: float

    @property
    def n_org(self) -> int:
        return int(self.organizations)

    @property
    def n_w(self) -> int:
        return int(self.wholesalers)

    @property
    def n_d(self) -> int:
        return int(self.distributors)


def _check_options(o: _Options) -> None:
    """Raise :class:`VdtoError` for counts that are not integers large enough, shares outside
    [0, 1], and ``via_cell + via_city`` above 1."""
    for name, value, low in (
        ("seed", o.seed, 0),
        ("organizations", o.organizations, 1),
        ("wholesalers", o.wholesalers, 1),
        ("distributors", o.distributors, 0),
        ("cells_per_org", o.cells_per_org, 0),
    ):
        _check(name, value, low)
    for name, share in (
        ("regional", o.regional),
        ("via_cell", o.via_cell),
        ("via_city", o.via_city),
        ("distributor_local", o.distributor_local),
        ("distributor_direct", o.distributor_direct),
    ):
        if not 0.0 <= share <= 1.0:
            raise VdtoError(f"{name} must be in [0, 1] (got {share!r})", fix="pass a share", param=name)
    if o.via_cell + o.via_city > 1.0:
        raise VdtoError("via_cell + via_city must not exceed 1", fix="lower one of them", param="via_cell")


@dataclass
class _Markets:
    """The US markets of :data:`MARKETS` as arrays: corridor (index in :data:`CORRIDORS`),
    relative size, base price and region (``"City, ST"``)."""

    corridor: np.ndarray
    size: np.ndarray
    price: np.ndarray
    region: list[str]

    @property
    def n(self) -> int:
        return len(self.size)


def _markets() -> _Markets:
    corridor_names = list(CORRIDORS)
    return _Markets(
        corridor=np.array([corridor_names.index(m[2]) for m in MARKETS]),
        size=np.array([m[3] for m in MARKETS]),
        price=np.array([m[4] for m in MARKETS]),
        region=[f"{m[0]}, {m[1]}" for m in MARKETS],
    )


@dataclass
class _Orgs:
    """Organizations: (org_id, name), corridors (org × corridor), price level relative to the
    mean, and weight as a supplier in each market (org × market)."""

    ids: list[tuple[str, str]]
    corr: np.ndarray
    factor: np.ndarray
    reach: np.ndarray


def _organizations(rng: np.random.Generator, o: _Options, mk: _Markets) -> _Orgs:
    """Organizations: sizes, corridors, price level."""
    n_org = o.n_org
    n_cor = len(CORRIDORS)
    orgs = _org_ids(n_org)
    org_size = 1.0 / np.arange(1, n_org + 1) ** o.org_zipf
    n_corr = np.clip(1 + (rng.random(n_org) < 0.5) + (np.arange(n_org) < 3) * 2, 1, n_cor)
    org_corr = np.zeros((n_org, n_cor), dtype=bool)
    for i in range(n_org):
        org_corr[i, rng.choice(n_cor, size=n_corr[i], replace=False)] = True
    org_factor = np.exp(rng.normal(0.0, 0.12, n_org))  # price level relative to the mean
    # weight of each organization as a supplier in each market
    reach = org_size[:, None] * np.where(org_corr[:, mk.corridor], 1.0, 1.0 - o.regional)  # (org, mkt)
    return _Orgs(orgs, org_corr, org_factor, reach)


@dataclass
class _Cells:
    """Cells: the organization (index) of each, the corridor (index) it sits on, and the number
    of cells per organization."""

    org: np.ndarray
    corr: np.ndarray
    per_org: int


def _cells(rng: np.random.Generator, o: _Options, orgs: _Orgs) -> _Cells:
    """``cells_per_org`` cells per organization, each on one of its corridors."""
    cell_org = np.repeat(np.arange(o.n_org), o.cells_per_org)
    cell_corr = np.empty(len(cell_org), dtype=int)
    for c, org in enumerate(cell_org):
        cell_corr[c] = rng.choice(np.flatnonzero(orgs.corr[org]))
    return _Cells(cell_org, cell_corr, o.cells_per_org)


@dataclass
class _Wholesalers:
    """Wholesalers: market, attractiveness, up to 3 supplying organizations (-1 = none) and the
    share of its purchases from each."""

    mkt: np.ndarray
    attr: np.ndarray
    sup: np.ndarray
    mix: np.ndarray


def _wholesalers(rng: np.random.Generator, o: _Options, mk: _Markets, orgs: _Orgs) -> _Wholesalers:
    """Wholesalers: market, attractiveness, suppliers."""
    n_w, n_org = o.n_w, o.n_org
    w_mkt = _draw(rng, np.cumsum(mk.size), n_w)
    w_attr = rng.pareto(o.wholesaler_pareto, n_w) + 1.0
    w_k = 1 + (rng.random(n_w) < 0.45) + (rng.random(n_w) < 0.15)  # 1-3 organizations
    w_sup = np.full((n_w, 3), -1)
    for m in range(mk.n):
        rows = np.flatnonzero(w_mkt == m)
        p = orgs.reach[:, m] / orgs.reach[:, m].sum()
        for r in rows:
            k = min(int(w_k[r]), n_org)
            w_sup[r, :k] = rng.choice(n_org, size=k, replace=False, p=p)
    w_mix = rng.dirichlet(np.ones(3), n_w) * (w_sup >= 0)
    w_mix /= w_mix.sum(axis=1, keepdims=True)
    return _Wholesalers(w_mkt, w_attr, w_sup, w_mix)


@dataclass
class _Distributors:
    """Distributors: market, up to 3 wholesalers (-1 = none), yearly volume, the share bought
    from each wholesaler and the kilograms that makes (distributor × slot)."""

    mkt: np.ndarray
    sup: np.ndarray
    vol: np.ndarray
    mix: np.ndarray
    bought: np.ndarray


def _distributors(rng: np.random.Generator, o: _Options, mk: _Markets, whs: _Wholesalers) -> _Distributors:
    """Distributors: market, wholesalers (preferential, mostly local), volume."""
    n_d = o.n_d
    d_mkt = _draw(rng, np.cumsum(mk.size), n_d)
    d_k = 1 + (rng.random(n_d) < 0.4) + (rng.random(n_d) < 0.12)
    d_sup = np.full((n_d, 3), -1)
    glob_cdf = np.cumsum(whs.attr)
    for m in range(mk.n):
        rows = np.flatnonzero(d_mkt == m)
        local = np.flatnonzero(whs.mkt == m)
        loc_cdf = np.cumsum(whs.attr[local]) if len(local) else glob_cdf
        for j in range(3):
            is_local = rng.random(len(rows)) < o.distributor_local
            pick_g = _draw(rng, glob_cdf, len(rows))
            pick_l = local[_draw(rng, loc_cdf, len(rows))] if len(local) else pick_g
            d_sup[rows, j] = np.where(is_local, pick_l, pick_g)
    d_sup[d_k < 2, 1] = -1
    d_sup[d_k < 3, 2] = -1
    d_sup[:, 1] = np.where(d_sup[:, 1] == d_sup[:, 0], -1, d_sup[:, 1])
    d_sup[:, 2] = np.where((d_sup[:, 2] == d_sup[:, 0]) | (d_sup[:, 2] == d_sup[:, 1]), -1, d_sup[:, 2])
    d_vol = o.distributor_median_kg * np.exp(rng.normal(0.0, o.distributor_sigma, n_d))
    d_mix = rng.dirichlet(np.ones(3), n_d) * (d_sup >= 0)
    d_mix /= d_mix.sum(axis=1, keepdims=True)
    dw_vol = d_mix * d_vol[:, None]  # (distributor, slot) kilograms bought from that wholesaler
    return _Distributors(d_mkt, d_sup, d_vol, d_mix, dw_vol)


def _wholesaler_inflow(rng: np.random.Generator, whs: _Wholesalers, dis: _Distributors) -> np.ndarray:
    """Each wholesaler's yearly purchases: its sales to distributors plus its own retail (a Beta
    share of throughput), plus a small base so every wholesaler trades."""
    n_w = len(whs.attr)
    ok = dis.sup >= 0
    w_sales = np.bincount(dis.sup[ok], weights=dis.bought[ok], minlength=n_w)
    retail_share = rng.beta(2.0, 6.0, n_w)
    w_base = np.exp(rng.normal(np.log(2.0), 0.5, n_w)) * whs.attr / whs.attr.mean()
    return w_sales / (1.0 - retail_share) + w_base


@dataclass
class _Direct:
    """Distributors that also buy straight from an organization (index), and the volume."""

    idx: np.ndarray
    org: np.ndarray
    vol: np.ndarray


def _direct_purchases(
    rng: np.random.Generator, o: _Options, mk: _Markets, orgs: _Orgs, dis: _Distributors
) -> _Direct:
    """Direct distributor purchases from a cell or organization of their market's suppliers."""
    direct = np.flatnonzero(rng.random(o.n_d) < o.distributor_direct)
    direct_org = np.empty(len(direct), dtype=int)
    for m in range(mk.n):
        sel = dis.mkt[direct] == m
        direct_org[sel] = _draw(rng, np.cumsum(orgs.reach[:, m]), int(sel.sum()))
    direct_vol = dis.vol[direct] * rng.uniform(0.1, 0.5, len(direct))
    return _Direct(direct, direct_org, direct_vol)


@dataclass
class _Routes:
    """How each wholesaler purchase (wholesaler × slot) travels: via a cell (``use_cell``), the
    city market (``use_city``) or direct; ``pick`` chooses among the organization's cells."""

    use_cell: np.ndarray
    use_city: np.ndarray
    pick: np.ndarray


def _routes(rng: np.random.Generator, o: _Options) -> _Routes:
    """Routing of wholesaler purchases: via a cell, the city market or direct."""
    route = rng.random((o.n_w, 3))
    use_cell = (route < o.via_cell) & (o.cells_per_org > 0)
    use_city = (~use_cell) & (route < o.via_cell + o.via_city)
    pick = rng.integers(0, max(o.cells_per_org, 1), size=(o.n_w, 3))
    return _Routes(use_cell, use_city, pick)


@dataclass(frozen=True)
class _Layout:
    """Node index layout: organizations, cells, cities, wholesalers, distributors (``o0``, ``c0``,
    ``m0``, ``w0``, ``d0``: where each kind starts; ``n``: all nodes)."""

    o0: int
    c0: int
    m0: int
    w0: int
    d0: int
    n: int

    @classmethod
    def of(cls, o: _Options, n_cell: int, n_mkt: int) -> _Layout:
        o0, c0, m0 = 0, o.n_org, o.n_org + n_cell
        w0 = m0 + n_mkt
        d0 = w0 + o.n_w
        return cls(o0, c0, m0, w0, d0, d0 + o.n_d)


def _cell_for(
    o: _Options, cells: _Cells, mk: _Markets, org: np.ndarray, mkt: np.ndarray, pick: np.ndarray
) -> np.ndarray:
    """A cell of ``org``, preferring one on the market's corridor."""
    cpo = o.cells_per_org
    base = org * cpo
    out = base + pick % cpo
    for j in range(cpo):
        on = cells.corr[base + j] == mk.corridor[mkt]
        out = np.where(on & (cells.corr[out] != mk.corridor[mkt]), base + j, out)
    return out


class _EdgeParts:
    """Supply edges collected in parts (seller, buyer, volume as node indices)."""

    def __init__(self) -> None:
        self.src: list[np.ndarray] = []
        self.dst: list[np.ndarray] = []
        self.vol: list[np.ndarray] = []

    def add(self, src: np.ndarray, dst: np.ndarray, vol: np.ndarray) -> None:
        self.src.append(np.asarray(src, dtype=np.int64))
        self.dst.append(np.asarray(dst, dtype=np.int64))
        self.vol.append(np.asarray(vol, dtype=float))


@dataclass(frozen=True)
class _Drawn:
    """Everything drawn before the edges: what the edge and price steps read."""

    o: _Options
    mk: _Markets
    orgs: _Orgs
    cells: _Cells
    whs: _Wholesalers
    dis: _Distributors
    inflow: np.ndarray
    direct: _Direct
    routes: _Routes
    lay: _Layout


def _supply_edges(rng: np.random.Generator, d: _Drawn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every supply edge (seller, buyer, volume), parallel edges merged, in a stable order."""
    parts = _EdgeParts()
    _wholesaler_edges(parts, d)
    _distributor_edges(rng, parts, d)
    src, dst, vol = _merge_parallel(parts, d.lay.n)
    if d.o.cells_per_org:
        _fill_cell_volumes(src, dst, vol, d.lay, len(d.cells.org))
    return src, dst, vol


def _wholesaler_edges(parts: _EdgeParts, d: _Drawn) -> None:
    """Wholesaler purchases (from a cell, the organization or the city market) and what the city
    markets and cells buy to sell them on."""
    o, lay, mk, cells, whs, inflow, routes = d.o, d.lay, d.mk, d.cells, d.whs, d.inflow, d.routes
    rows, slots = np.nonzero(whs.sup >= 0)
    org = whs.sup[rows, slots]
    vol = whs.mix[rows, slots] * inflow[rows]
    mkt = whs.mkt[rows]
    cl = routes.use_cell[rows, slots]
    ct = routes.use_city[rows, slots]
    dr = ~(cl | ct)
    if o.cells_per_org:
        cell_ids = _cell_for(o, cells, mk, org[cl], mkt[cl], routes.pick[rows[cl], slots[cl]])
    else:
        cell_ids = np.empty(0, int)
    parts.add(lay.c0 + cell_ids, lay.w0 + rows[cl], vol[cl])  # cell -> wholesaler
    parts.add(lay.o0 + org[dr], lay.w0 + rows[dr], vol[dr])  # organization -> wholesaler
    parts.add(lay.m0 + mkt[ct], lay.w0 + rows[ct], vol[ct])  # city market -> wholesaler
    # the city market buys what it sells, from the organizations (via a cell when there is one)
    if o.cells_per_org:
        n_cell = len(cells.org)
        city_cells = _cell_for(o, cells, mk, org[ct], mkt[ct], routes.pick[rows[ct], slots[ct]])
        parts.add(lay.c0 + city_cells, lay.m0 + mkt[ct], vol[ct])
        parts.add(lay.o0 + cells.org, lay.c0 + np.arange(n_cell), np.zeros(n_cell))  # volumes filled below
    else:
        parts.add(lay.o0 + org[ct], lay.m0 + mkt[ct], vol[ct])


def _distributor_edges(rng: np.random.Generator, parts: _EdgeParts, d: _Drawn) -> None:
    """Distributor purchases from wholesalers, and direct ones from a cell or organization."""
    o, lay, mk, cells, dis, direct = d.o, d.lay, d.mk, d.cells, d.dis, d.direct
    rows, slots = np.nonzero(dis.sup >= 0)
    parts.add(lay.w0 + dis.sup[rows, slots], lay.d0 + rows, dis.bought[rows, slots])
    if len(direct.idx):
        if o.cells_per_org:
            pick = rng.integers(0, o.cells_per_org, len(direct.idx))
            dc = _cell_for(o, cells, mk, direct.org, dis.mkt[direct.idx], pick)
            parts.add(lay.c0 + dc, lay.d0 + direct.idx, direct.vol)
        else:
            parts.add(lay.o0 + direct.org, lay.d0 + direct.idx, direct.vol)


def _merge_parallel(parts: _EdgeParts, n_nodes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The edges with parallel ones (same seller and buyer) merged, keeping a stable order."""
    src = np.concatenate(parts.src)
    dst = np.concatenate(parts.dst)
    vol = np.concatenate(parts.vol)
    key = src * n_nodes + dst
    uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
    vol = np.bincount(inv, weights=vol, minlength=len(uniq))
    order = np.argsort(first, kind="stable")
    return src[first][order], dst[first][order], vol[order]


def _fill_cell_volumes(src: np.ndarray, dst: np.ndarray, vol: np.ndarray, lay: _Layout, n_cell: int) -> None:
    """Set each organization -> cell volume (in place) to everything the cell sells."""
    is_cell_src = (src >= lay.c0) & (src < lay.m0)
    cell_out = np.bincount(src[is_cell_src] - lay.c0, weights=vol[is_cell_src], minlength=n_cell)
    oc = (src < lay.c0) & (dst >= lay.c0) & (dst < lay.m0)
    vol[oc] = cell_out[dst[oc] - lay.c0]


@dataclass
class _Prices:
    """Prices per kilogram (organizations, cities, wholesalers, distributors) and case costs in
    agent-hours (wholesalers, distributors)."""

    org: np.ndarray
    city: np.ndarray
    w: np.ndarray
    d: np.ndarray
    w_cost: np.ndarray
    d_cost: np.ndarray


def _prices_and_costs(rng: np.random.Generator, d: _Drawn) -> _Prices:
    """Prices (regional, by supplier price level, with markups) and case costs (by volume)."""
    o, mk, orgs, whs, inflow, dis = d.o, d.mk, d.orgs, d.whs, d.inflow, d.dis
    n_w, n_d = o.n_w, o.n_d
    w_price_level = (whs.mix * np.where(whs.sup >= 0, orgs.factor[np.maximum(whs.sup, 0)], 0.0)).sum(axis=1)
    w_price = mk.price[whs.mkt] * w_price_level * np.exp(rng.normal(0.0, 0.05, n_w))
    d_wmean = (dis.mix * np.where(dis.sup >= 0, w_price[np.maximum(dis.sup, 0)], 0.0)).sum(axis=1)
    d_price = d_wmean * rng.uniform(o.markup[0], o.markup[1], n_d)
    city_price = mk.price.astype(float)
    org_price = o.border_price * orgs.factor
    w_cost = o.wholesaler_hours * np.exp(rng.normal(0.0, 0.35, n_w)) * (inflow / np.median(inflow)) ** 0.15
    d_scale = (dis.vol / np.median(dis.vol)) ** 0.15 if n_d else dis.vol
    d_cost = o.distributor_hours * np.exp(rng.normal(0.0, 0.4, n_d)) * d_scale
    return _Prices(org_price, city_price, w_price, d_price, w_cost, d_cost)


def _node_frame(
    mk: _Markets, orgs: _Orgs, cells: _Cells, whs: _Wholesalers, dis: _Distributors, prices: _Prices
) -> tuple[np.ndarray, pd.DataFrame]:
    """The node ids (in layout order) and the node frame."""
    n_org, n_cell, n_mkt, n_w, n_d = len(orgs.ids), len(cells.org), mk.n, len(whs.mkt), len(dis.mkt)
    ids, names = _node_ids_and_names(orgs, cells, n_w, n_d)
    types = np.concatenate(
        [
            np.full(n_org, NodeType.ORGANIZATION.value, dtype=object),
            np.full(n_cell, NodeType.CELL.value, dtype=object),
            np.full(n_mkt, NodeType.CITY.value, dtype=object),
            np.full(n_w, NodeType.WHOLESALER.value, dtype=object),
            np.full(n_d, NodeType.DISTRIBUTOR.value, dtype=object),
        ]
    )
    org_ids = np.concatenate(
        [
            np.array([oid for oid, _ in orgs.ids], dtype=object),
            np.array([orgs.ids[o][0] for o in cells.org], dtype=object),
            np.full(n_mkt + n_w + n_d, None, dtype=object),
        ]
    )
    corridor_names = list(CORRIDORS)
    org_home = [CORRIDORS[corridor_names[int(np.flatnonzero(orgs.corr[i])[0])]] for i in range(n_org)]
    regions_arr = np.array(mk.region, dtype=object)
    region = np.concatenate(
        [
            np.array(org_home, dtype=object),
            np.array([CORRIDORS[corridor_names[c]] for c in cells.corr], dtype=object),
            regions_arr,
            regions_arr[whs.mkt],
            regions_arr[dis.mkt],
        ]
    )
    price = np.concatenate([prices.org, np.full(n_cell, np.nan), prices.city, prices.w, prices.d])
    cost = np.concatenate(
        [np.full(n_org + n_cell + n_mkt, np.nan), np.round(prices.w_cost), np.round(prices.d_cost)]
    )
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
    return ids, nodes


def _node_ids_and_names(orgs: _Orgs, cells: _Cells, n_w: int, n_d: int) -> tuple[np.ndarray, np.ndarray]:
    """Node ids (``org:<id>``, ``cell:<org>:<n>``, ``city:<slug>``, ``w:00001``, ``d:000001``) and
    display names, in layout order."""
    cpo = cells.per_org
    corridor_names = list(CORRIDORS)
    w_ids = np.char.add("w:", np.char.zfill(np.arange(1, n_w + 1).astype(str), 5))
    d_ids = np.char.add("d:", np.char.zfill(np.arange(1, n_d + 1).astype(str), 6))
    city_slug = [m[0].lower().replace(" ", "_") for m in MARKETS]
    ids = np.concatenate(
        [
            np.array([f"org:{oid}" for oid, _ in orgs.ids], dtype=object),
            np.array([f"cell:{orgs.ids[o][0]}:{j % cpo + 1}" for j, o in enumerate(cells.org)], dtype=object),
            np.array([f"city:{s}" for s in city_slug], dtype=object),
            w_ids.astype(object),
            d_ids.astype(object),
        ]
    )
    names = np.concatenate(
        [
            np.array([name for _, name in orgs.ids], dtype=object),
            np.array(
                [
                    f"{orgs.ids[o][1]} – plaza {CORRIDORS[corridor_names[cells.corr[j]]]} {j % cpo + 1}"
                    for j, o in enumerate(cells.org)
                ],
                dtype=object,
            ),
            np.array([f"{m[0]} market" for m in MARKETS], dtype=object),
            np.char.add("Wholesaler ", w_ids.astype(str)).astype(object),
            np.char.add("Distributor ", d_ids.astype(str)).astype(object),
        ]
    )
    return ids, names


def _edge_frame(
    rng: np.random.Generator, ids: np.ndarray, src: np.ndarray, dst: np.ndarray, vol: np.ndarray
) -> pd.DataFrame:
    """The edge frame: supply edges with rounded volumes and a drawn confidence."""
    return pd.DataFrame(
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


def _meta(o: _Options) -> dict:
    """The network's meta: the generator, its version and every parameter."""
    params = {
        "seed": int(o.seed),
        "organizations": int(o.organizations),
        "wholesalers": int(o.wholesalers),
        "distributors": int(o.distributors),
        "cells_per_org": int(o.cells_per_org),
        "org_zipf": o.org_zipf,
        "regional": o.regional,
        "via_cell": o.via_cell,
        "via_city": o.via_city,
        "wholesaler_pareto": o.wholesaler_pareto,
        "distributor_sigma": o.distributor_sigma,
        "distributor_median_kg": o.distributor_median_kg,
        "distributor_local": o.distributor_local,
        "distributor_direct": o.distributor_direct,
        "markup": list(o.markup),
        "border_price": o.border_price,
        "wholesaler_hours": o.wholesaler_hours,
        "distributor_hours": o.distributor_hours,
    }
    return {
        "generator": "vdto.network.synthetic.generate",
        "generator_version": GENERATOR_VERSION,
        "synthetic": True,
        "params": params,
        "seed": int(o.seed),
        "units": {"volume": "kilograms per year", "price": "US$ per kilogram", "cost": "agent-hours"},
    }
