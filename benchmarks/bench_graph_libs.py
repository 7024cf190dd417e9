"""Graph library benchmark: networkx against rustworkx (and SciPy sparse) on a large supply graph.

Run from the repository root::

    uv run python benchmarks/bench_graph_libs.py               # ~205,000 nodes, ~400,000 edges
    uv run python benchmarks/bench_graph_libs.py --quick       # a tenth of that
    uv run python benchmarks/bench_graph_libs.py --seed 7 --repeats 5

The graph is a seeded, layered supply structure: organizations supply wholesalers, wholesalers
supply other wholesalers (always to a higher index, so the graph stays acyclic) and
distributors. Each library is timed in the same process on the same arrays:

1. construction of a directed graph from the two edge arrays (``source``, ``target``), including
   turning the arrays into the Python objects the library takes;
2. descendants (every node reachable) of the organization with the most direct buyers;
3. shortest paths from that organization to every node it reaches (the path itself, not only its
   length): ``networkx.single_source_shortest_path`` (breadth first) against
   ``rustworkx.digraph_dijkstra_shortest_paths`` with unit weights, the nearest it offers;
   ``networkx.single_source_dijkstra_path`` is timed as well for a like-for-like Dijkstra.

SciPy's ``csgraph`` (``breadth_first_order``; ``shortest_path`` with ``unweighted=True`` and
predecessors) is timed as a third reference, since vdto's package computation works on sparse
arrays. Each measurement is the best of ``--repeats`` runs with the garbage collector off; ratios are networkx time divided by
the other library's time (above 1 = faster than networkx). Results checked against each other:
the reachable sets and path lengths must agree.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
from collections.abc import Callable

import networkx as nx
import numpy as np
import scipy
import scipy.sparse as sp
from scipy.sparse import csgraph

from _measure import cpu_name

try:
    import rustworkx as rx
except ImportError:  # pragma: no cover - the benchmark says so and times the rest
    rx = None


def build_arrays(
    orgs: int, wholesalers: int, distributors: int, seed: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Edge arrays of a layered supply graph; node ids: orgs, then wholesalers, then distributors."""
    rng = np.random.default_rng(seed)
    w0, d0 = orgs, orgs + wholesalers
    n = d0 + distributors
    parts_s, parts_t = [], []
    # every wholesaler buys from 1-3 organizations (popular organizations get more buyers)
    k = rng.integers(1, 4, size=wholesalers)
    buyers = np.repeat(np.arange(w0, d0), k)
    pop = rng.pareto(1.5, size=orgs) + 1.0
    parts_s.append(rng.choice(orgs, size=len(buyers), p=pop / pop.sum()))
    parts_t.append(buyers)
    # a quarter of the wholesalers also buy from one lower-numbered wholesaler (acyclic)
    sub = np.arange(w0 + 1, d0)[rng.random(wholesalers - 1) < 0.25]
    parts_s.append(w0 + (rng.random(len(sub)) * (sub - w0)).astype(np.int64))
    parts_t.append(sub)
    # distributors buy from wholesalers; fill up to the edge budget
    budget = 400_000 * (distributors / 200_000) - sum(len(p) for p in parts_s)
    k = rng.poisson(max(0.0, budget / distributors - 1.0), size=distributors) + 1
    buyers = np.repeat(np.arange(d0, n), k)
    parts_s.append(rng.integers(w0, d0, size=len(buyers)))
    parts_t.append(buyers)
    src = np.concatenate(parts_s).astype(np.int64)
    dst = np.concatenate(parts_t).astype(np.int64)
    # drop repeated pairs so that all libraries see the same simple graph
    key = np.unique(src * n + dst)
    return key // n, key % n, n


def best(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Best of ``repeats`` timed calls, with the garbage collector off while timing (as timeit
    does: otherwise a collection pass over a large networkx graph lands in whichever call
    happens to trigger it)."""
    times, out = [], None
    for _ in range(repeats):
        out = None
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        finally:
            gc.enable()
    return min(times), out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a tenth of the default size")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--io",
        action="store_true",
        help="also time vdto's file formats on the same graph (CSV read, GraphML and GEXF write and "
        "read, link chart; one run each, about three minutes)",
    )
    args = ap.parse_args(argv)
    scale = 10 if args.quick else 1
    src, dst, n = build_arrays(50 // scale or 5, 5_000 // scale, 200_000 // scale, args.seed)
    out_deg = np.bincount(src, minlength=n)
    root = int(np.argmax(out_deg[:50]))
    print(
        f"{cpu_name(platform.machine())} ({os.cpu_count()} CPUs), python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}"
    )
    print(f"networkx {nx.__version__}, rustworkx {rx.__version__ if rx else 'not installed'}")
    print(f"graph: {n:,} nodes, {len(src):,} edges; source organization {root} ({out_deg[root]} buyers)")
    rows: list[tuple[str, str, float]] = []

    # 1. construction -----------------------------------------------------------------
    def nx_build(cls=nx.DiGraph):
        g = cls()
        g.add_nodes_from(range(n))
        g.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
        return g

    t, g_nx = best(nx_build, args.repeats)
    rows.append(("construction", "networkx DiGraph", t))
    t, g_nxm = best(lambda: nx_build(nx.MultiDiGraph), args.repeats)
    rows.append(("construction", "networkx MultiDiGraph", t))
    del g_nxm
    if rx is not None:

        def rx_build():
            g = rx.PyDiGraph(multigraph=True)
            g.add_nodes_from(range(n))
            g.add_edges_from_no_data(list(zip(src.tolist(), dst.tolist(), strict=True)))
            return g

        t, g_rx = best(rx_build, args.repeats)
        rows.append(("construction", "rustworkx PyDiGraph", t))
    t, adj = best(
        lambda: sp.csr_array((np.ones(len(src)), (src, dst)), shape=(n, n)),
        args.repeats,
    )
    rows.append(("construction", "scipy csr_array", t))

    # 2. descendants -----------------------------------------------------------------
    t, desc_nx = best(lambda: nx.descendants(g_nx, root), args.repeats)
    rows.append(("descendants", "networkx", t))
    if rx is not None:
        t, desc_rx = best(lambda: rx.descendants(g_rx, root), args.repeats)
        rows.append(("descendants", "rustworkx", t))
        assert set(desc_rx) == desc_nx, "rustworkx and networkx disagree on descendants"
    t, order = best(
        lambda: csgraph.breadth_first_order(adj, root, directed=True, return_predecessors=False),
        args.repeats,
    )
    rows.append(("descendants", "scipy breadth_first_order", t))
    assert set(order.tolist()) - {root} == desc_nx, "scipy and networkx disagree on descendants"

    # 3. shortest paths --------------------------------------------------------------
    t, paths_nx = best(lambda: nx.single_source_shortest_path(g_nx, root), args.repeats)
    rows.append(("shortest paths", "networkx BFS", t))
    t, _ = best(lambda: nx.single_source_dijkstra_path(g_nx, root), args.repeats)
    rows.append(("shortest paths", "networkx Dijkstra", t))
    if rx is not None:
        t, paths_rx = best(
            lambda: rx.digraph_dijkstra_shortest_paths(g_rx, root, default_weight=1.0), args.repeats
        )
        rows.append(("shortest paths", "rustworkx Dijkstra", t))
        assert len(paths_rx) == len(paths_nx) - 1, "path counts differ"
        for node, path in list(paths_rx.items())[:2000]:
            assert len(path) == len(paths_nx[node]), "path lengths differ"

    def sp_paths():
        dist, pred = csgraph.shortest_path(
            adj, directed=True, unweighted=True, indices=root, return_predecessors=True
        )
        return dist, pred

    t, (dist, _pred) = best(sp_paths, args.repeats)
    rows.append(("shortest paths", "scipy shortest_path (+predecessors)", t))
    assert int(np.isfinite(dist).sum()) == len(paths_nx), "scipy reaches a different set"

    # report --------------------------------------------------------------------------
    base: dict[str, float] = {}
    for task, _lib, t in rows:
        base.setdefault(task, t)  # the first networkx row of each task is the reference
    print(f"\nreachable from the source: {len(desc_nx):,} nodes; best of {args.repeats} runs\n")
    print(f"{'task':<16} {'library':<38} {'seconds':>9} {'x networkx':>11}")
    for task, lib, t in rows:
        print(f"{task:<16} {lib:<38} {t:>9.4f} {base[task] / t:>10.1f}x")
    if args.io:
        time_io(src, dst, n)


def time_io(src: np.ndarray, dst: np.ndarray, n: int) -> None:
    """One timed run of each vdto reader and writer on the benchmark graph (collector on)."""
    import tempfile
    from pathlib import Path

    import pandas as pd

    from vdto.network import csvfiles, formats

    kinds = np.full(n, "distributor", dtype=object)
    kinds[:50], kinds[50:5050] = "organization", "wholesaler"
    ids = np.array([f"n{i}" for i in range(n)], dtype=object)
    org = np.where(np.arange(n) < 50, "cjng", "")
    volume = np.round(np.random.default_rng(0).random(len(src)) * 100, 2)
    frame = pd.DataFrame(
        {
            "source": ids[src],
            "target": ids[dst],
            "type": "supplies",
            "volume": volume,
            "source_type": kinds[src],
            "target_type": kinds[dst],
            "source_org": org[src],
            "target_org": org[dst],
        }
    )
    print("\nvdto file formats (one run each, seconds):")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        frame.to_csv(folder / "edges.csv", index=False)
        t0 = time.perf_counter()
        net = csvfiles.read_edges_csv(folder / "edges.csv")
        print(f"  {'read_edges_csv (with every check)':<36} {time.perf_counter() - t0:8.2f}")
        for name, fn in [
            ("write_graphml", lambda: formats.write_graphml(net, folder / "n.graphml")),
            ("read_graphml", lambda: formats.read_graphml(folder / "n.graphml")),
            ("write_gexf", lambda: formats.write_gexf(net, folder / "n.gexf")),
            ("read_gexf", lambda: formats.read_gexf(folder / "n.gexf")),
            ("write_link_chart", lambda: formats.write_link_chart(net, folder / "chart")),
        ]:
            t0 = time.perf_counter()
            fn()
            print(f"  {name:<36} {time.perf_counter() - t0:8.2f}")


if __name__ == "__main__":
    main()
