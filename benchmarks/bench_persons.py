"""Persons benchmark: the person and cell Monte Carlo on a large synthetic target organization set.

Run from the repository root::

    uv run python benchmarks/bench_persons.py            # 100,000 persons, 1,000,000 links, 2,000 draws
    uv run python benchmarks/bench_persons.py --quick    # 10,000 persons, 100,000 links, 500 draws
    uv run python benchmarks/bench_persons.py --persons 50000 --links 400000 --draws 1000 --seed 7

The problem (built with numpy, not timed): ``--events`` events, each with 1 to 3 candidate
organizations out of ``--orgs`` (popularity ~ 1 / rank ** 1.1, attribution patterns as in
``bench_scoring.py``; the rest of each event's probability is "nobody"); ``--cells`` cells, each
in one organization; ``--persons`` persons spread over the cells; ``--links`` links, each from a
random person to a random event that names the person's organization, with confidence 1.0, 0.9,
0.7 or 0.5 (convicted, charged, arrested, suspect). Links of one person to one event form one
(unit, event) pair; a cell's pair ORs the links of all its members to the event.

Measured in this process, in order (peak memory: ``VmHWM`` reset through /proc/self/clear_refs
before each step, so each figure is that step's own peak; the resident size before the step is
printed beside it):

1. **JIT**: the first call of ``score_units`` on a tiny problem in a fresh child process with an
   empty Numba cache (the compile a first install pays), and in this process with the project's
   Numba cache (what every later run pays: loading the cached machine code).
2. **draw_owners** for all events and ``--draws`` draws (``(events, draws)`` int32).
3. **score_units, persons**: one unit per person, ranked within its organization.
4. **score_units, cells**: one unit per cell, ranked within its organization.
5. **References**: ``draw_scores`` on the same events, weights and draws, every event drawn
   exactly (the same keyed uniforms as draw_owners, summed per organization), and with its
   default large-problem shortcut; then the plain numpy reference (a draws x units matrix,
   ``np.quantile``, argmax per group) on the first ``--ref-persons`` persons, compared bit for
   bit with the kernel on the same subset.

6. **End to end**: the organization ranking of ``--events`` synthetic events (the reference),
   synthetic case files of ``--persons`` persons and ``--links`` links
   (:func:`vdto.persons.synthetic.generate`), and :func:`vdto.persons.scoring.score_persons` on
   them: links resolved to cells and dates, units built, draw_owners, persons and cells scored.

The target: persons (100,000 units, 1,000,000 links, 2,000 draws) under 10 s on 2 cores,
draw_owners included, and the end-to-end scoring of persons and cells from frames too.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

from _measure import cpu_name, in_child, print_machine
from _measure import machine as _machine

DEFAULT = {"persons": 100_000, "links": 1_000_000, "events": 200_000, "cells": 5_000, "draws": 2_000}
QUICK = {"persons": 10_000, "links": 100_000, "events": 20_000, "cells": 500, "draws": 500}
DEFAULT_ORGS = 20
DEFAULT_SEED = 20240601
REF_PERSONS = 2_000
TARGET_S = 10.0

ZIPF_S = 1.1
N_CANDIDATES_P = [0.60, 0.30, 0.10]
PATTERNS = {  # (probabilities, how often) per number of candidates, as in bench_scoring.py
    1: [((1.0,), 0.75), ((0.7,), 0.25)],
    2: [((0.5, 0.5), 0.45), ((0.6, 0.4), 0.40), ((0.4, 0.3), 0.15)],
    3: [((1 / 3, 1 / 3, 1 / 3), 0.70), ((0.3, 0.3, 0.2), 0.30)],
}
CONFIDENCE = ([1.0, 0.9, 0.7, 0.5], [0.15, 0.15, 0.30, 0.40])


def machine() -> list[tuple[str, str]]:
    from vdto.scoring.montecarlo import _cpus

    rows = _machine("numba")
    return [*rows, ("cpu", cpu_name()), ("threads", str(_cpus()))]


# ------------------------------------------------------------------------------------ memory


def _reset_peak() -> bool:
    """Reset this process's ``VmHWM`` to its current resident size (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def measure(fn, *args, **kwargs):
    """(result, seconds, resident MiB before, peak resident MiB during) of ``fn(*args)``."""
    _reset_peak()
    before = _status_kib("VmRSS")
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    seconds = time.perf_counter() - t0
    return out, seconds, before / 1024, _status_kib("VmHWM") / 1024


# ----------------------------------------------------------------------------------- problem


def make_events(rng: np.random.Generator, n: int, n_orgs: int):
    """Weights, candidate rows (event, entity, prob; sorted by event) and keys of ``n`` events."""
    from vdto.rng import keys
    from vdto.scoring.montecarlo import Candidates

    pop = 1.0 / np.arange(1, n_orgs + 1) ** ZIPF_S
    pop /= pop.sum()
    kmax = min(3, n_orgs)
    k = np.minimum(rng.choice([1, 2, 3], n, p=N_CANDIDATES_P), kmax)
    g = np.log(pop) - np.log(-np.log(rng.random((n, n_orgs))))  # Gumbel top-k: distinct candidates
    ents = np.argsort(-g, axis=1)[:, :kmax]
    probs = np.zeros((n, kmax))
    for kk, pats in PATTERNS.items():
        sel = np.flatnonzero(k == kk)
        if not len(sel) or kk > kmax:
            continue
        which = rng.choice(len(pats), len(sel), p=[f for _, f in pats])
        for j, (pp, _) in enumerate(pats):
            probs[sel[which == j], :kk] = pp
    has = np.arange(kmax)[None, :] < k[:, None]
    ev = np.repeat(np.arange(n), k)
    cand = Candidates(ev, ents[has].astype(np.int64), probs[has])
    weights = rng.lognormal(0.0, 0.8, n)
    return weights, cand, keys([f"bench:{i}" for i in range(n)])


def make_units(rng, weights, cand, n_orgs: int, n_persons: int, n_cells: int, n_links: int):
    """Person units and cell units (see the module docstring), and the persons' organizations."""
    from vdto.persons.montecarlo import Units
    from vdto.rng import keys

    pop = np.bincount(cand.entity, minlength=n_orgs).astype(float)
    cell_org = rng.choice(n_orgs, n_cells, p=pop / pop.sum())
    person_cell = rng.integers(0, n_cells, n_persons)
    person_org = cell_org[person_cell]
    # events that name each organization (CSR over the candidate rows, by organization)
    by_org = np.argsort(cand.entity, kind="stable")
    org_ptr = np.concatenate([[0], np.cumsum(np.bincount(cand.entity, minlength=n_orgs))])
    link_person = rng.integers(0, n_persons, n_links)
    org = person_org[link_person]
    size = org_ptr[org + 1] - org_ptr[org]
    row = by_org[org_ptr[org] + (rng.random(n_links) * size).astype(np.int64)]  # a candidate row
    link_event, link_prob = cand.event[row], cand.prob[row]
    conf = rng.choice(CONFIDENCE[0], n_links, p=CONFIDENCE[1])
    link_key = keys(
        [f"p{p}|bench:{e}|{i}" for i, (p, e) in enumerate(zip(link_person, link_event, strict=True))]
    )

    def nest(unit, n_units: int, group) -> Units:
        order = np.lexsort((link_event, unit))  # by unit, then event
        u, e = unit[order], link_event[order]
        new_pair = np.r_[True, (u[1:] != u[:-1]) | (e[1:] != e[:-1])]
        first = np.flatnonzero(new_pair)
        pair_unit = u[first]
        return Units(
            unit_ptr=np.searchsorted(pair_unit, np.arange(n_units + 1)).astype(np.int64),
            pair_event=e[first].astype(np.int64),
            pair_entity=org[order][first].astype(np.int32),
            pair_weight=weights[e[first]],
            pair_prob=link_prob[order][first],
            pair_ptr=np.r_[first, len(order)].astype(np.int64),
            link_conf=conf[order],
            link_key=link_key[order],
            group=np.asarray(group, dtype=np.int64),
        )

    persons = nest(link_person, n_persons, person_org)
    cells = nest(person_cell[link_person], n_cells, cell_org)
    return persons, cells


def subset(units, n: int):
    """The first ``n`` units of ``units`` (their pairs and links only)."""
    from vdto.persons.montecarlo import Units

    p1 = int(units.unit_ptr[n])
    l1 = int(units.pair_ptr[p1])
    return Units(
        units.unit_ptr[: n + 1], units.pair_event[:p1], units.pair_entity[:p1], units.pair_weight[:p1],
        units.pair_prob[:p1], units.pair_ptr[: p1 + 1], units.link_conf[:l1], units.link_key[:l1],
        units.group[:n],
    )  # fmt: skip


# ------------------------------------------------------------------------------- references


def numpy_reference(units, owners, seed: int, draws: int):
    """Plain numpy: the (draws, units) score matrix pair by pair, then quantiles and rank 1."""
    from vdto.persons.montecarlo import unit_tie_keys
    from vdto.rng import draw_keys, mix64, uniforms

    dkeys = draw_keys(seed, range(draws))
    s = np.zeros((draws, units.n_units))
    for u in range(units.n_units):
        for p in range(units.unit_ptr[u], units.unit_ptr[u + 1]):
            links = slice(units.pair_ptr[p], units.pair_ptr[p + 1])
            hit = (uniforms(dkeys, units.link_key[links]) < units.link_conf[links]).any(axis=1)
            hit &= owners[units.pair_event[p]] == units.pair_entity[p]
            s[:, u] += np.where(hit, units.pair_weight[p], 0.0)
    lo, hi = np.quantile(s, [0.05, 0.95], axis=0)
    wins = np.zeros(units.n_units)
    for g in np.unique(units.group):
        members = np.flatnonzero(units.group == g)
        sub = s[:, members]
        top = sub.max(axis=1)
        h = mix64(dkeys[:, None] ^ unit_tie_keys(units)[members][None, :])  # ties: smallest hash
        best = members[np.argmin(np.where(sub == top[:, None], h, np.iinfo(np.uint64).max), axis=1)]
        wins += np.bincount(best[top > 0], minlength=units.n_units)
    return lo, hi, s.mean(axis=0), wins / draws


def child_cold_jit(seed: int, dtypes: tuple[str, ...] = ("int32",)) -> dict:
    """First calls of draw_owners and score_units on a tiny problem (in a fresh interpreter
    whose Numba cache folder is empty, this is the compile), one per owners dtype."""
    t0 = time.perf_counter()
    from vdto.persons.montecarlo import Units, score_units
    from vdto.scoring.montecarlo import Candidates, draw_owners

    imports_s = time.perf_counter() - t0
    cand = Candidates(np.array([0]), np.array([0]), np.array([0.5]))
    units = Units(
        np.array([0, 1]), np.array([0]), np.array([0], np.int32), np.array([1.0]), np.array([0.5]),
        np.array([0, 1]), np.array([0.5]), np.array([3], np.uint64), np.array([0]),
    )  # fmt: skip
    out: dict = {"imports_s": imports_s}
    for dtype in dtypes:
        t0 = time.perf_counter()
        owners = draw_owners(cand, np.array([1], np.uint64), 1, draws=10, seed=seed, dtype=getattr(np, dtype))
        out[f"owners_{dtype}_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        score_units(units, owners, seed=seed, draws=10)
        out[f"units_{dtype}_s"] = time.perf_counter() - t0
    return out


# ---------------------------------------------------------------------------------------- run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the size, 500 draws")
    for name in DEFAULT:
        parser.add_argument(f"--{name}", type=int, default=None)
    parser.add_argument("--orgs", type=int, default=DEFAULT_ORGS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--ref-persons", type=int, default=REF_PERSONS)
    args = parser.parse_args(argv)
    size = dict(QUICK if args.quick else DEFAULT)
    size.update({k: getattr(args, k) for k in DEFAULT if getattr(args, k) is not None})
    draws, seed = size["draws"], args.seed

    from rich.console import Console
    from rich.table import Table

    console = Console()
    print_machine(console, machine())

    # 1. JIT: a cold compile in a child with an empty cache, then this process's first call
    with tempfile.TemporaryDirectory() as cache:
        old = os.environ.get("NUMBA_CACHE_DIR")
        os.environ["NUMBA_CACHE_DIR"] = cache
        try:
            cold = in_child(child_cold_jit, seed)
        finally:
            if old is None:
                del os.environ["NUMBA_CACHE_DIR"]
            else:
                os.environ["NUMBA_CACHE_DIR"] = old
    # in this process, with the project's cache (compiles what is absent)
    warm = child_cold_jit(seed, ("int32", "int8"))

    from vdto.persons.montecarlo import score_units
    from vdto.scoring.montecarlo import draw_owners, draw_scores

    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    weights, cand, ekeys = make_events(rng, size["events"], args.orgs)
    persons, cells = make_units(rng, weights, cand, args.orgs, size["persons"], size["cells"], size["links"])
    build_s = time.perf_counter() - t0
    n_ev = size["events"]
    org_keys = np.arange(args.orgs, dtype=np.uint64) + np.uint64(1)

    # 2-4. the measured calls
    load_before = os.getloadavg()[0]
    owners, owners_s, owners_before, owners_peak = measure(
        draw_owners, cand, ekeys, n_ev, draws=draws, seed=seed
    )
    p_scores, persons_s, p_before, p_peak = measure(score_units, persons, owners, seed=seed, draws=draws)
    c_scores, cells_s, c_before, c_peak = measure(score_units, cells, owners, seed=seed, draws=draws)

    # 5. references
    _, exact_s, e_before, e_peak = measure(
        draw_scores, weights, cand, ekeys, org_keys, draws=draws, seed=seed, exact_limit=n_ev
    )
    _, hybrid_s, h_before, h_peak = measure(
        draw_scores, weights, cand, ekeys, org_keys, draws=draws, seed=seed
    )
    n_ref = min(args.ref_persons, persons.n_units)
    small = subset(persons, n_ref)
    ref, ref_s, _, _ = measure(numpy_reference, small, owners, seed, draws)
    kern, kern_s, _, _ = measure(score_units, small, owners, seed=seed, draws=draws)
    same = all(
        np.array_equal(a, b)
        for a, b in zip(ref, (kern.lo90, kern.hi90, kern.mean, kern.p_rank1), strict=True)
    )
    ref_links = int(small.pair_ptr[-1])
    owners8, owners8_s, o8_before, o8_peak = measure(
        draw_owners, cand, ekeys, n_ev, draws=draws, seed=seed, dtype=np.int8
    )
    same8 = bool(np.array_equal(owners8, owners))
    p8, persons8_s, p8_before, p8_peak = measure(score_units, persons, owners8, seed=seed, draws=draws)
    same8 &= all(
        np.array_equal(getattr(p8, f), getattr(p_scores, f)) for f in ("lo90", "hi90", "mean", "p_rank1")
    )
    del owners8
    load_after = os.getloadavg()[0]
    # what a fresh (events x draws) int32 array costs to fill once, single-threaded: mostly the
    # first touch of its pages, part of draw_owners' time (expensive on some virtual machines)
    shape, owners_mib = owners.shape, owners.nbytes / 2**20
    del owners
    _, touch_s, _, _ = measure(np.ones, shape, dtype=np.int32)

    problem = Table(title="Problem", show_header=False)
    rows = [
        ("events", f"{n_ev:,} ({len(cand.event):,} candidate rows, {args.orgs} organizations)"),
        ("persons", f"{persons.n_units:,} units, {len(persons.pair_event):,} pairs, {len(persons.link_conf):,} links"),
        ("cells", f"{cells.n_units:,} units, {len(cells.pair_event):,} pairs, {len(cells.link_conf):,} links"),
        ("draws", f"{draws:,} (seed {seed})"),
        ("owners matrix", f"{owners_mib:,.0f} MiB (int32, events x draws)"),
        ("build (not timed)", f"{build_s:.1f} s"),
    ]  # fmt: skip
    for k, v in rows:
        problem.add_row(k, v)
    console.print(problem)

    table = Table(title="Timings (this process; peak = VmHWM during the step)")
    for col in ("step", "seconds", "RSS before MiB", "peak MiB", "note"):
        table.add_column(col)

    def row(step, s, before, peak, note=""):
        table.add_row(step, f"{s:.2f}", f"{before:,.0f}", f"{peak:,.0f}", note)

    for what, key in (("draw_owners", "owners_int32_s"), ("score_units", "units_int32_s")):
        table.add_row(f"JIT {what}, empty cache", f"{cold[key]:.2f}", "", "", "first call (child): compile")
        table.add_row(f"JIT {what}, project cache", f"{warm[key]:.2f}", "", "", "first call: cache load")
    row("draw_owners", owners_s, owners_before, owners_peak, f"{n_ev:,} events x {draws:,} draws")
    table.add_row("  (np.ones of that shape)", f"{touch_s:.2f}", "", "", "page first touch, 1 thread")
    row("score_units persons", persons_s, p_before, p_peak, f"{persons.n_units:,} units")
    row("score_units cells", cells_s, c_before, c_peak, f"{cells.n_units:,} units")
    row("ref: draw_scores all exact", exact_s, e_before, e_peak, "same uniforms, org sums")
    row("ref: draw_scores default", hybrid_s, h_before, h_peak, "large-problem shortcut")
    row("draw_owners int8", owners8_s, o8_before, o8_peak, "dtype=np.int8: same values")
    row("score_units persons, int8", persons8_s, p8_before, p8_peak, "owners read as int8")
    table.add_row(
        f"ref: numpy, {n_ref:,} persons",
        f"{ref_s:.2f}",
        "",
        "",
        f"{ref_links:,} links; kernel {kern_s:.3f} s",
    )
    console.print(table)

    total = owners_s + persons_s
    console.print(f"load average (1 min) before the measured steps {load_before:.2f}, after {load_after:.2f}")
    pr = p_scores.p_rank1
    console.print(
        f"persons incl. draw_owners: {total:.2f} s (target {TARGET_S:.0f} s: "
        f"{'met' if total < TARGET_S else 'MISSED'}); cells incl. draw_owners: {owners_s + cells_s:.2f} s"
    )
    console.print(
        f"int8 owners: persons incl. draw_owners {owners8_s + persons8_s:.2f} s; "
        f"same owners and same unit scores as int32: {same8}"
    )
    console.print(
        f"kernel = numpy reference bit for bit on {n_ref:,} persons: {same}; "
        f"numpy/kernel time ratio {ref_s / max(kern_s, 1e-9):,.0f}x"
    )
    console.print(
        f"sanity: sum P(rank 1) per organization <= 1: {bool(np.all(np.bincount(persons.group, pr) <= 1 + 1e-12))}; "
        f"max |mean - expected| / expected (persons with expected > 1): "
        f"{np.max(np.abs(p_scores.mean - p_scores.expected)[p_scores.expected > 1] / p_scores.expected[p_scores.expected > 1]):.3f}; "
        f"cells: {np.max(np.abs(c_scores.mean - c_scores.expected)[c_scores.expected > 1] / c_scores.expected[c_scores.expected > 1]):.3f}"
    )  # fmt: skip
    e2e_ok = end_to_end(console, size, args.orgs, seed, draws)
    return 0 if same and same8 and e2e_ok else 1


def end_to_end(console, size: dict, n_orgs: int, seed: int, draws: int) -> bool:
    """The whole person-level scoring from frames, as ``vdto persons score`` runs it: the
    organization ranking of synthetic events (the reference, same process), synthetic case files
    from :func:`vdto.persons.synthetic.generate`, then :func:`vdto.persons.scoring.score_persons`
    (links resolved to cells and dates, units built, draw_owners, persons and cells scored)."""
    from datetime import date

    import pandas as pd
    from rich.table import Table

    from vdto.orgs import Registry
    from vdto.persons.scoring import Target, score_persons
    from vdto.persons.synthetic import generate
    from vdto.scoring.engine import score_frames

    reg = Registry.seed()
    orgs = [o.id for o in reg.orgs.values() if o.kind != "faction" and o.is_dto][:n_orgs]
    rng = np.random.default_rng(seed)
    n = size["events"]
    day = (np.datetime64("2021-01-01") + rng.integers(0, 365, n).astype("timedelta64[D]")).astype(object)
    events = pd.DataFrame({"source": "bench", "source_id": [str(i) for i in range(n)], "date_start": day,
                           "category": "homicide", "deaths_best": rng.integers(0, 4, n),
                           "victims_civilian": rng.integers(0, 4, n),
                           "state_code": [f"{x:02d}" for x in rng.integers(1, 33, n)]})  # fmt: skip
    pop = 1.0 / np.arange(1, len(orgs) + 1) ** ZIPF_S
    who = rng.choice(orgs, n, p=pop / pop.sum())
    perps = pd.DataFrame({"source": "bench", "source_id": events["source_id"], "raw_name": who, "org_id": who,
                          "faction_id": None, "faction": None, "probability": 0.8})  # fmt: skip
    window = {"start": date(2021, 1, 1), "end": date(2021, 12, 31)}
    result, rank_s, r_before, r_peak = measure(
        score_frames, events, perps, reg, **window, draws=draws, seed=seed
    )
    case = generate(
        result.events, result.attribution, seed=seed, persons=size["persons"], links=size["links"]
    )
    cells = case.cells.rename(columns={"organization": "org_id"})
    members = case.persons[["person", "cell", "role", "start", "end"]].copy()
    members["start"] = pd.to_datetime(members["start"]).dt.date
    members["end"] = pd.to_datetime(members["end"]).dt.date.astype(object).where(members["end"].notna(), None)
    out, e2e_s, e_before, e_peak = measure(
        score_persons, result, cells, members, case.links, reg, Target("all"), seed=seed, draws=draws
    )
    table = Table(title="End to end: score_persons from frames (this process)")
    for col in ("step", "seconds", "RSS before MiB", "peak MiB", "note"):
        table.add_column(col)
    table.add_row("ref: organization ranking", f"{rank_s:.2f}", f"{r_before:,.0f}", f"{r_peak:,.0f}",
                  f"score_frames, {n:,} events, {draws:,} draws")  # fmt: skip
    table.add_row("score_persons (persons and cells)", f"{e2e_s:.2f}", f"{e_before:,.0f}", f"{e_peak:,.0f}",
                  f"{len(case.persons):,} memberships, {len(case.links):,} links; {len(out.persons):,} persons "
                  f"and {len(out.cells):,} cells scored")  # fmt: skip
    console.print(table)
    console.print(
        f"end to end, persons and cells from frames: {e2e_s:.2f} s (target {TARGET_S:.0f} s: "
        f"{'met' if e2e_s < TARGET_S else 'MISSED'}); organization ranking of the same events {rank_s:.2f} s"
    )
    return bool(out.persons["p_rank1"].groupby(out.persons["org"]).sum().le(1 + 1e-12).all())


if __name__ == "__main__":
    sys.exit(main())
