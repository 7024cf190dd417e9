"""Workbench load benchmark: the events view under 20 concurrent users on loopback.

Run from the repository root::

    uv run python benchmarks/bench_workbench.py                # 20 users, 60 s measured
    uv run python benchmarks/bench_workbench.py --quick        # 20 users, 20 s measured
    uv run python benchmarks/bench_workbench.py --users 20 --duration 120

What it does:

1. **Store**: the whole bundled UCDP GED Mexico file (18,957 events, 1989-2023) imported as
   agency ``mx``, and an analyst token of ``mx``.
2. **Server**: ``vdto serve`` (the ``serve`` function of ``vdto.cli.serve``: uvicorn, one worker)
   in a child process on 127.0.0.1.
3. **Load**: ``--users`` simulated analysts. Each opens the events view over and over: it sends
   the view's two calls at once, as the page does (``GET /agencies/mx/events`` with a page of 50
   and ``GET /agencies/mx/events/facets``, on two kept-alive connections, like a browser's
   parallel connections), waits for both answers, then *thinks* for a time drawn uniformly
   from 0.5 to 1.5 s (Locust's ``wait_time = between(0.5, 1.5)``) before the next view. The
   filters are drawn at random as an analyst would set them: a year (2007-2023, or a range of
   two to five years, or none), a state (one of the 12 with most events, half the time), an
   organization (one of the 8 most named, a third of the time), a category (a tenth of the
   time), an order, and the first page most of the time (pages 2-4 otherwise). Every latency is
   the client's time from sending a request to reading the whole answer; after a warm-up of
   ``--warmup`` seconds the requests of ``--duration`` seconds are measured. p50, p95, p99 and
   max are printed per call and overall. A small asyncio HTTP/1.1 client keeps the client's
   own share of the two cores small; client and server share the machine.
4. **Reference**: the same work in this process without HTTP, over the same draws of filters:
   the service calls on a store kept open (the queries alone), and through the server's store
   access (open the store, query, close: what a request without a cached answer does).

The target: p95 under 300 ms with 20 concurrent users on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from _measure import machine as _machine

TARGET_P95_MS = 300.0
AGENCY = "mx"
STATES = ("02", "11", "16", "08", "14", "12", "28", "25", "32", "26", "15", "21")
ORGS = ("sinaloa", "cjng", "juarez", "gulf", "zetas", "csrl", "carteles_unidos", "la_familia")
SORTS = ("-date", "-date", "-date", "date", "-deaths")


def machine() -> list[tuple[str, str]]:
    return _machine("duckdb", "fastapi", "uvicorn")


def build_store(folder: Path) -> tuple[Path, str, float]:
    """The bundled UCDP file as agency mx and an analyst token: (db, token, seconds)."""
    from vdto.access.tokens import create_token
    from vdto.data import bundled
    from vdto.events import ucdp
    from vdto.events.ingest import import_events
    from vdto.store import Store

    t0 = time.perf_counter()
    db = folder / "bench.duckdb"
    import_events(db, "ucdp", bundled("ucdp"), ucdp.parse, agency=AGENCY)
    with Store(db) as store:
        token = create_token(store, AGENCY, "analyst", label="bench")[0]
    return db, token, time.perf_counter() - t0


def draw_filters(rng: random.Random) -> dict[str, str]:
    """The filters an analyst sets on one visit of the view (see the module docstring)."""
    q: dict[str, str] = {}
    r = rng.random()
    if r < 0.6:
        year = rng.randint(2007, 2023)
        q["from"], q["to"] = f"{year}-01-01", f"{year}-12-31"
    elif r < 0.85:
        first = rng.randint(2007, 2019)
        q["from"], q["to"] = f"{first}-01-01", f"{first + rng.randint(1, 4)}-12-31"
    if rng.random() < 0.5:
        q["entity"] = rng.choice(STATES)
    if rng.random() < 1 / 3:
        q["organization"] = rng.choice(ORGS)
    if rng.random() < 0.1:
        q["category"] = rng.choice(("armed_clash", "attack_civilians"))
    return q


def draw_page(rng: random.Random) -> dict[str, str]:
    return {
        "sort": rng.choice(SORTS),
        "limit": "50",
        "offset": str(50 * (0 if rng.random() < 0.8 else rng.randint(1, 3))),
    }


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, port: int) -> subprocess.Popen:
    import httpx

    code = "import sys; from pathlib import Path; from vdto.cli.serve import serve; serve(db=Path(sys.argv[1]), port=int(sys.argv[2]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db), str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


async def _get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """One GET on a kept-alive connection: (status, body)."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    return status, await reader.readexactly(length)


async def load(
    port: int, token: str, users: int, warmup: float, duration: float, seed: int
) -> tuple[dict[str, list[float]], int, float]:
    """Latencies (s) per call of the measured part, the number of failed calls and the wall time."""
    lat: dict[str, list[float]] = {"events": [], "facets": []}
    failed = 0
    t_start = time.perf_counter()
    t_measure, t_end = t_start + warmup, t_start + warmup + duration

    def request(path: str, q: dict[str, str]) -> bytes:
        return (
            f"GET {path}?{urlencode(q)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
        ).encode()

    async def call(conn, name: str, req: bytes) -> None:
        nonlocal failed
        t = time.perf_counter()
        status, body = await _get(*conn, req)
        if status != 200:
            failed += 1
            print(f"  {name}: status {status}: {body[:200]!r}", file=sys.stderr)
        elif t >= t_measure and t < t_end:
            lat[name].append(time.perf_counter() - t)

    async def user(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
        await asyncio.sleep(rng.uniform(0, 1.5))  # users arrive spread out, not in one burst
        while time.perf_counter() < t_end:
            q = draw_filters(rng)
            await asyncio.gather(
                call(conns[0], "events", request(f"/agencies/{AGENCY}/events", {**q, **draw_page(rng)})),
                call(conns[1], "facets", request(f"/agencies/{AGENCY}/events/facets", q)),
            )
            await asyncio.sleep(rng.uniform(0.5, 1.5))
        for _, writer in conns:
            writer.close()

    await asyncio.gather(*(user(k) for k in range(users)))
    return lat, failed, time.perf_counter() - t_start


def reference(db: Path, draws: int, seed: int) -> dict[str, float]:
    """Median seconds per view (events page + facets) in process: store kept open, and opened
    per call through the server's store access."""
    from datetime import date

    from vdto.api.access import StoreAccess
    from vdto.services import events as service
    from vdto.store import Store

    rng = random.Random(seed)
    views = []
    for _ in range(draws):
        q, page = draw_filters(rng), draw_page(rng)
        flt = service.EventFilter(
            start=date.fromisoformat(q["from"]) if "from" in q else None,
            end=date.fromisoformat(q["to"]) if "to" in q else None,
            entity=q.get("entity"), organization=q.get("organization"), category=q.get("category"),
        )  # fmt: skip
        views.append((flt, page))

    def one(store, flt, page) -> None:
        service.list_events(store, AGENCY, flt, int(page["offset"]), int(page["limit"]), page["sort"])
        service.facets(store, AGENCY, flt)

    out = {}
    with Store(db, read_only=True) as store:
        one(store, *views[0])  # the geography and registry load once per process
        times = []
        for flt, page in views:
            t = time.perf_counter()
            one(store, flt, page)
            times.append(time.perf_counter() - t)
    out["open store"] = statistics.median(times)
    access = StoreAccess(db)
    times = []
    for flt, page in views:
        t = time.perf_counter()
        with access.read() as store:
            one(store, flt, page)
        times.append(time.perf_counter() - t)
    out["store access"] = statistics.median(times)
    times = []
    for _ in range(draws):
        t = time.perf_counter()
        with access.read():
            pass
        times.append(time.perf_counter() - t)
    out["store access alone"] = statistics.median(times)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def _line(name: str, ms: list[float]) -> str:
    p50, p95, p99 = (percentile(ms, q) for q in (50, 95, 99))
    return (
        f"  {name:<8} {len(ms):>6,} requests   p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   p99 {p99:6.1f} ms"
        f"   max {max(ms):6.1f} ms   mean {statistics.fmean(ms):6.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument(
        "--duration", type=float, default=None, help="Measured seconds (default 60, 20 with --quick)."
    )
    ap.add_argument("--warmup", type=float, default=5.0, help="Seconds of load before measuring.")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", type=Path, default=None, help="Also write the figures to this JSON file.")
    args = ap.parse_args(argv)
    duration = args.duration or (20.0 if args.quick else 60.0)

    print("machine:")
    for k, v in machine():
        print(f"  {k}: {v}")
    print(f"  load average before the run (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="vdto-bench-workbench-") as tmp:
        db, token, built = build_store(Path(tmp))
        print(f"store built in {built:.1f} s (the bundled UCDP GED file as agency {AGENCY})")
        ref = reference(db, 200, args.seed)
        port = free_port()
        proc = start_server(db, port)
        try:
            lat, failed, _wall = asyncio.run(load(port, token, args.users, args.warmup, duration, args.seed))
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    ms = {k: [x * 1000 for x in v] for k, v in lat.items()}
    every = ms["events"] + ms["facets"]
    print(
        f"\nthe events view, {args.users} users (think time uniform 0.5-1.5 s), {duration:.0f} s measured"
        f" after {args.warmup:.0f} s of warm-up, {failed} failed calls:"
    )
    for name in ("events", "facets"):
        print(_line(name, ms[name]))
    print(_line("all", every))
    print(f"  throughput {len(every) / duration:,.1f} requests/s")
    print("reference, in process, no HTTP (median per view: events page + facets):")
    print(f"  store kept open (the queries alone): {ref['open store'] * 1000:.1f} ms")
    print(f"  through the server's store access (open, query, close): {ref['store access'] * 1000:.1f} ms")
    print(f"  the store access alone (open and close, no query): {ref['store access alone'] * 1000:.1f} ms")
    p95 = percentile(every, 95)
    ok = p95 < TARGET_P95_MS and not failed
    print(f"target p95 < {TARGET_P95_MS:.0f} ms: {'met' if ok else 'NOT met'} (p95 {p95:.1f} ms)")
    if args.json:
        figures = {
            n: {f"p{q}": percentile(v, q) for q in (50, 95, 99)} | {"n": len(v)} for n, v in ms.items()
        }
        args.json.write_text(json.dumps({"users": args.users, "duration": duration, "failed": failed,
                                         "calls": figures, "p95_all": p95, "reference_ms": {k: v * 1000 for k, v in ref.items()}},
                                        indent=2))  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
