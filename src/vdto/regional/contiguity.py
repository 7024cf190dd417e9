"""Queen contiguity over region polygons (libpysal), with islands handled explicitly.

Two regions are neighbours when their polygons share at least one point (queen contiguity).
A region with no neighbour (an *island*, e.g. an island municipality) would have an undefined
spatial lag; vdto either links it to its nearest region by polygon distance (``islands =
"nearest"``, the default, and the link is reported) or leaves it out of the analysis
(``islands = "drop"``, its statistics are then empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from vdto.errors import VdtoError
from vdto.geography import geography

ISLAND_RULES = ("nearest", "drop")


@dataclass(frozen=True)
class Contiguity:
    """Neighbours of each region.

    ``codes`` are the regions in the analysis (in order), ``neighbors`` maps each code to its
    neighbours' codes, ``islands`` the codes that had no queen neighbour and ``island_links``
    the (island, nearest) pairs added when ``islands="nearest"``; ``dropped`` the islands left
    out when ``islands="drop"``.
    """

    codes: tuple[str, ...]
    neighbors: dict[str, list[str]]
    islands: tuple[str, ...]
    island_links: tuple[tuple[str, str], ...]
    dropped: tuple[str, ...]

    def weights(self):
        """A libpysal ``W`` over :attr:`codes` (binary; transform it as the statistic needs)."""
        from vdto.regional.pysal import weights

        return weights().W(
            {c: self.neighbors[c] for c in self.codes}, id_order=list(self.codes), silence_warnings=True
        )

    def matrix(self):
        """The binary contiguity matrix as a SciPy sparse CSR matrix, rows in :attr:`codes` order."""
        from scipy import sparse

        pos = {c: i for i, c in enumerate(self.codes)}
        rows = [pos[c] for c in self.codes for _ in self.neighbors[c]]
        cols = [pos[n] for c in self.codes for n in self.neighbors[c]]
        n = len(self.codes)
        return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def check_islands(islands: str) -> str:
    """The island rule, or a one-line error naming ``islands``."""
    if islands not in ISLAND_RULES:
        raise VdtoError(
            f"unknown island rule {islands!r}", fix=f"use one of: {', '.join(ISLAND_RULES)}", param="islands"
        )
    return islands


def queen(codes: list[str], polygons: list, *, islands: str = "nearest") -> Contiguity:
    """Queen contiguity of ``polygons`` (shapely) named by ``codes``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> c = queen(["a", "b", "c"], [box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)])
    >>> c.neighbors["a"], c.islands, c.island_links
    (['b'], ('c',), (('c', 'b'),))
    """
    import shapely

    from vdto.regional.pysal import weights

    check_islands(islands)
    if len(codes) != len(polygons) or len(set(codes)) != len(codes):
        raise VdtoError(
            "region codes must be unique and match the polygons", "polygons", "give one code per polygon"
        )
    codes = [str(c) for c in codes]
    w = weights().Queen.from_iterable(polygons, ids=codes, silence_warnings=True)
    neighbors = {c: sorted(str(n) for n in w.neighbors[c]) for c in codes}
    isolated = tuple(c for c in codes if not neighbors[c])
    links: list[tuple[str, str]] = []
    dropped: tuple[str, ...] = ()
    if isolated and islands == "nearest" and len(codes) > 1:
        tree = shapely.STRtree(polygons)
        pos = {c: i for i, c in enumerate(codes)}
        for c in isolated:
            hits = tree.query_nearest(polygons[pos[c]], exclusive=True, all_matches=False)
            nearest = codes[int(np.atleast_1d(hits)[0])]
            links.append((c, nearest))
            neighbors[c] = sorted(set(neighbors[c]) | {nearest})
            neighbors[nearest] = sorted(set(neighbors[nearest]) | {c})
    elif isolated and islands == "drop":
        dropped = isolated
        codes = [c for c in codes if c not in set(isolated)]
        neighbors = {c: neighbors[c] for c in codes}
    return Contiguity(tuple(codes), neighbors, isolated, tuple(links), dropped)


@cache
def region_polygons(level: str) -> tuple[tuple[str, ...], tuple]:
    """Codes and polygons of the bundled regions: 2,457 municipalities, or 32 states built as
    the union of their municipalities (so both levels share one set of borders)."""
    import shapely

    codes, polys = geography().municipality_shapes()
    order = np.argsort(codes)
    codes = [codes[i] for i in order]
    polys = [shapely.make_valid(polys[i]) for i in order]
    if level == "municipality":
        return tuple(codes), tuple(polys)
    if level != "state":
        raise VdtoError(f"unknown level {level!r}", fix="use one of: state, municipality", param="level")
    states = sorted({c[:2] for c in codes})
    groups = {s: [p for c, p in zip(codes, polys, strict=True) if c[:2] == s] for s in states}
    return tuple(states), tuple(shapely.union_all(groups[s]) for s in states)


@cache
def bundled(level: str, islands: str = "nearest") -> Contiguity:
    """Queen contiguity over the bundled polygons of ``level`` (cached per process)."""
    codes, polys = region_polygons(level)
    return queen(list(codes), list(polys), islands=islands)


__all__ = ["ISLAND_RULES", "Contiguity", "bundled", "queen", "region_polygons"]
