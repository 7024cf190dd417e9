"""Supply network benchmark: the enforcement package on the default synthetic network.

Run from the repository root::

    uv run python benchmarks/bench_network.py                 # the default network (~205,000 nodes)
    uv run python benchmarks/bench_network.py --quick         # a tenth of it
    uv run python benchmarks/bench_network.py --budget 250 --hours 50000 --seed 7

The network is ``vdto.network.synthetic.generate(seed)`` with its default sizes (50
organizations, 5,000 wholesalers, 200,000 distributors); the target is the organization whose
organization and cell nodes sell the most volume. Every measurement runs in a fresh child
process (``spawn``) that builds the same seeded network first (not timed), so its peak resident
memory (``VmHWM`` from /proc/self/status) belongs to that task alone:

1. ``enforcement_package(net, target, budget)`` with the exact MILP, ``--repeats`` times;
2. the same with ``solver="greedy"``, ``--repeats`` times;
3. one run with a budget in agent-hours (``--hours``);
4. the library comparison: reachability and share propagation from the target with a plain
   networkx implementation (``DiGraph`` from the edge frame, ``nx.descendants``, then a loop in
   topological order) against vdto's sparse-array propagation, in the same child, with the
   largest difference between the two results.

Times cover the measured call only, not interpreter start-up, imports or building the network.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from _measure import in_child
from _measure import machine as _machine
from _measure import peak_rss_kib as _peak_rss_kib


def machine() -> list[tuple[str, str]]:
    return _machine("scipy", "networkx")


# Keep module-level imports to the standard library: each child process re-imports this file.

DEFAULT_SEED = 20240601
DEFAULT_BUDGET = 100
DEFAULT_HOURS = 20_000
DEFAULT_REPEATS = 3
QUICK = {"organizations": 50, "wholesalers": 500, "distributors": 20_000}
TARGET_S = 2.0


def _network(seed: int, sizes: dict):
    from vdto.network.synthetic import generate

    return generate(seed, **sizes)


def child_generate(seed: int, sizes: dict) -> dict:
    import numpy as np

    t0 = time.perf_counter()
    net = _network(seed, sizes)
    gen_s = time.perf_counter() - t0
    nodes, sup = net.nodes, net.supplies()
    kind = nodes.set_index("id")["type"]
    org = nodes.set_index("id")["org_id"]
    seller = sup["source"].map(kind).isin(["organization", "cell"])
    # volume sold outside the organization itself (organization -> own cell is internal)
    external = seller & (sup["target"].map(kind) != "cell")
    by_org = sup[external].groupby(sup.loc[external, "source"].map(org))["volume"].sum()
    by_org = by_org.sort_values(ascending=False)
    return {
        "seconds": gen_s,
        "stats": net.stats(),
        "target": str(by_org.index[0]),
        "target_share": float(by_org.iloc[0] / by_org.sum()),
        "runner_up": str(by_org.index[1]),
        "runner_up_share": float(by_org.iloc[1] / by_org.sum()),
        "wholesale_top1pct": _top_share(sup, kind, np),
        "peak_rss_kib": _peak_rss_kib(),
    }


def _top_share(sup, kind, np) -> float:
    w = sup[sup["target"].map(kind) == "wholesaler"].groupby("target")["volume"].sum()
    w = np.sort(w.to_numpy())[::-1]
    return float(w[: max(1, len(w) // 100)].sum() / w.sum())


def child_package(seed: int, sizes: dict, target: str, budget: float, kind: str, solver: str) -> dict:
    net = _network(seed, sizes)
    from vdto.network.package import enforcement_package

    rss_before = _peak_rss_kib()
    load = os.getloadavg()[0]
    c0 = time.process_time()
    t0 = time.perf_counter()
    pk = enforcement_package(net, target, budget, budget_kind=kind, solver=solver)
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "cpu_s": time.process_time() - c0,
        "load": load,
        "summary": pk.summary(),
        "timings": pk.timings,
        "notes": pk.notes,
        "rss_before_kib": rss_before,
        "peak_rss_kib": _peak_rss_kib(),
        "selected_types": pk.selected["type"].value_counts().to_dict(),
        "wholesalers_reached": int((pk.buyers["type"] == "wholesaler").sum()),
        "distributors_reached": int((pk.buyers["type"] == "distributor").sum()),
    }


def child_compare(seed: int, sizes: dict, target: str) -> dict:
    net = _network(seed, sizes)
    import networkx as nx
    import numpy as np

    from vdto.network import supply as S

    out: dict = {}
    # -- vdto: reachability and share propagation on sparse arrays (validation included) --------
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        sh = S._propagate(net, target)
        runs.append(time.perf_counter() - t0)
    out["vdto_s"] = min(runs)
    t0 = time.perf_counter()
    table = S.supply_shares(net, target)
    out["vdto_table_s"] = time.perf_counter() - t0
    vdto_share = dict(zip(table["id"], table["share"], strict=True))

    # -- plain networkx -------------------------------------------------------------------------
    nodes, sup = net.nodes, net.supplies()
    t0 = time.perf_counter()
    g = nx.from_pandas_edgelist(sup, "source", "target", edge_attr="volume", create_using=nx.DiGraph)
    out["nx_build_s"] = time.perf_counter() - t0
    mine = nodes["type"].isin(["organization", "cell"]) & (nodes["org_id"] == target)
    sources = [t for t in nodes.loc[mine, "id"] if t in g]
    t0 = time.perf_counter()
    reached: set = set()
    for s in sources:
        reached |= nx.descendants(g, s)
    reached -= set(sources)
    t1 = time.perf_counter()
    share = dict.fromkeys(sources, 1.0)
    sub = g.subgraph(reached | set(sources))
    for v in nx.topological_sort(sub):
        if v in share:
            continue
        inflow = 0.0
        acc = 0.0
        for u, _, vol in g.in_edges(v, data="volume"):
            inflow += vol
            acc += vol * share.get(u, 0.0)
        share[v] = acc / inflow if inflow > 0 else 0.0
    t2 = time.perf_counter()
    out["nx_descendants_s"] = t1 - t0
    out["nx_propagate_s"] = t2 - t1
    out["nx_s"] = t2 - t0
    out["reached_nx"] = len(reached)
    out["reached_vdto"] = int((sh.reach & ~sh.is_t).sum())
    out["same_set"] = set(reached) == set(vdto_share)
    diff = [abs(share[v] - vdto_share[v]) for v in reached if v in vdto_share]
    out["max_diff"] = float(np.max(diff)) if diff else 0.0
    out["peak_rss_kib"] = _peak_rss_kib()
    return out


def _fmt(x, digits: int = 0) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--budget", type=float, default=DEFAULT_BUDGET, help="cases (default 100)")
    ap.add_argument("--hours", type=float, default=DEFAULT_HOURS, help="agent-hours for the hours run")
    ap.add_argument("--repeats", type=int, default=DEFAULT_REPEATS)
    ap.add_argument("--quick", action="store_true", help="500 wholesalers, 20,000 distributors")
    args = ap.parse_args(argv)
    sizes = dict(QUICK) if args.quick else {}

    print("Machine")
    for k, v in machine():
        print(f"  {k}: {v}")

    gen = in_child(child_generate, args.seed, sizes)
    st = gen["stats"]
    target = gen["target"]
    print(f"\nNetwork: generate(seed={args.seed}{', quick sizes' if sizes else ''})")
    print(
        f"  nodes: {st['nodes']:,} ({', '.join(f'{k[6:]} {v:,}' for k, v in st.items() if k.startswith('nodes_'))})"
    )
    print(f"  supply edges: {st['edges']:,}")
    print(f"  generated in {gen['seconds']:.3f} s (peak RSS {gen['peak_rss_kib'] / 1024:.1f} MiB)")
    print(f"  top 1% of wholesalers: {gen['wholesale_top1pct']:.1%} of wholesale volume")
    print(
        f"  target (sells the most volume): {target} ({gen['target_share']:.1%} of organization sales;"
        f" next {gen['runner_up']} {gen['runner_up_share']:.1%})"
    )

    milp = [
        in_child(child_package, args.seed, sizes, target, args.budget, "cases", "milp")
        for _ in range(args.repeats)
    ]
    greedy = [
        in_child(child_package, args.seed, sizes, target, args.budget, "cases", "greedy")
        for _ in range(args.repeats)
    ]
    hours = in_child(child_package, args.seed, sizes, target, args.hours, "hours", "milp")
    cmp = in_child(child_compare, args.seed, sizes, target)

    m = milp[0]["summary"]
    g = greedy[0]["summary"]
    print(f"\nEnforcement package: target {target}, budget {args.budget:g} cases")
    print(
        f"  buyers reached: {m['buyers_reached']:,} (wholesalers {milp[0]['wholesalers_reached']:,},"
        f" distributors {milp[0]['distributors_reached']:,})"
    )
    print(f"  candidates: {m['size_candidates']:,}; revenue units: {m['size_units']:,}")
    print(
        f"  MILP after pruning: {m['size_kept']:,} candidates kept, {m['size_variables']:,} variables"
        f" ({m['size_binaries']:,} binary), {m['size_constraints']:,} constraints"
    )
    print(f"  MILP status: {m['status']}; method {m['method']}")
    print(f"  target revenue reaching US buyers: {_fmt(m['revenue_total'])} US$/year")
    print(
        f"  MILP objective (revenue denied): {_fmt(m['revenue_denied'])} US$/year ({m['denied_share']:.1%})"
    )
    print(f"  upper bound: {_fmt(m['bound'])}; gap {m['gap']:.2e}; MIP gap {m['mip_gap']}")
    print(f"  LP relaxation bound: {_fmt(m['lp_bound'])}; LP gap {m['lp_gap']:.2e}")
    print(f"  cases selected: {m['cases_selected']} ({milp[0]['selected_types']})")
    print(f"  greedy objective: {_fmt(g['revenue_denied'])} US$/year (method {g['method']})")
    ratio = g["revenue_denied"] / m["revenue_denied"] if m["revenue_denied"] else float("nan")
    print(f"  ratio greedy / MILP: {ratio:.6f}")

    def times(runs: list[dict]) -> list[float]:
        return [r["seconds"] for r in runs]

    steps = ["shares", "units", "prune", "greedy", "lp_relaxation", "milp", "tables"]
    print("\n  time per step, seconds (MILP runs | greedy runs)")
    for step in steps:
        a = ", ".join(f"{r['timings'].get(step, 0.0):.3f}" for r in milp)
        b = ", ".join(f"{r['timings'].get(step, 0.0):.3f}" for r in greedy)
        print(f"    {step:<14} {a} | {b}")
    tm, tg = times(milp), times(greedy)
    print(
        f"  enforcement_package, MILP: runs {', '.join(f'{t:.3f}' for t in tm)}; median {statistics.median(tm):.3f} s"
    )
    print(
        f"  enforcement_package, greedy: runs {', '.join(f'{t:.3f}' for t in tg)}; median {statistics.median(tg):.3f} s"
    )

    def col(runs: list[dict], key: str, digits: int) -> str:
        return ", ".join(f"{r[key]:.{digits}f}" for r in runs)

    print(f"  CPU seconds per run: MILP {col(milp, 'cpu_s', 3)}; greedy {col(greedy, 'cpu_s', 3)}")
    print(
        f"  load average (1 min) before each run: MILP {col(milp, 'load', 2)}; greedy {col(greedy, 'load', 2)}"
    )
    print(
        f"  peak RSS: MILP {max(r['peak_rss_kib'] for r in milp) / 1024:.1f} MiB, greedy"
        f" {max(r['peak_rss_kib'] for r in greedy) / 1024:.1f} MiB (after building the network"
        f" {milp[0]['rss_before_kib'] / 1024:.1f} MiB)"
    )
    verdict = "met" if statistics.median(tm) < TARGET_S else "NOT met"
    print(f"  target < {TARGET_S:g} s for the package (median, MILP): {verdict}")

    h = hours["summary"]
    print(f"\nBudget in agent-hours: {args.hours:,.0f} hours, solver milp")
    print(
        f"  pruning kept {h['size_kept']:,} of {h['size_candidates']:,} candidates"
        f" ({h['size_variables']:,} variables, {h['size_constraints']:,} constraints)"
    )
    print(f"  status: {h['status']}; method {h['method']}")
    print(
        f"  revenue denied: {_fmt(h['revenue_denied'])} ({h['denied_share']:.1%}); upper bound"
        f" {_fmt(h['bound'])}; gap {h['gap']:.2%}; cases {h['cases_selected']}, hours used {h['budget_used']:,.0f}"
    )
    print(f"  time {hours['seconds']:.3f} s; peak RSS {hours['peak_rss_kib'] / 1024:.1f} MiB")

    print("\nLibrary comparison: reachability + share propagation from the target")
    print(
        f"  nodes reached: vdto {cmp['reached_vdto']:,}, networkx {cmp['reached_nx']:,}; same set: {cmp['same_set']}"
    )
    print(f"  largest share difference: {cmp['max_diff']:.2e}")
    print(f"  vdto (sparse arrays, best of 3, validation included): {cmp['vdto_s']:.3f} s")
    print(f"  vdto supply_shares (with main paths and the table): {cmp['vdto_table_s']:.3f} s")
    print(f"  networkx: DiGraph from the frame {cmp['nx_build_s']:.3f} s")
    print(
        f"  networkx: descendants {cmp['nx_descendants_s']:.3f} s + topological loop"
        f" {cmp['nx_propagate_s']:.3f} s = {cmp['nx_s']:.3f} s"
    )
    print(f"  ratio networkx / vdto (propagation only): {cmp['nx_s'] / cmp['vdto_s']:.1f}x")
    print(
        f"  ratio networkx / vdto (with building the graph): {(cmp['nx_s'] + cmp['nx_build_s']) / cmp['vdto_s']:.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
