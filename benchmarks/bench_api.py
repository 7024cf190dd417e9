"""HTTP API load benchmark: the public scorecard endpoint under 50 concurrent clients on loopback.

Run from the repository root::

    uv run python benchmarks/bench_api.py                 # 50 clients x 200 requests
    uv run python benchmarks/bench_api.py --quick         # 50 clients x 40 requests
    uv run python benchmarks/bench_api.py --clients 50 --requests 400

What it does:

1. **Store**: the bundled UCDP GED file imported as agency ``mx`` (odd rows) and ``us`` (even
   rows), a round opened for 2021 (2,000 draws) and announced, co-signed into a ledger: the
   published scorecard the endpoint serves (its size is printed with the results).
2. **Server**: ``vdto serve`` (the ``serve`` function of ``vdto.cli.serve``: uvicorn, one worker,
   access log on) in a child process on 127.0.0.1.
3. **Load**: a minimal asyncio HTTP/1.1 client (one kept-alive connection per client; httpx's
   own overhead would dominate on 2 shared cores) runs ``--clients`` concurrent
   clients, each sending ``--requests`` GET /public/scorecard one after the other, after a
   warm-up of 2 requests per client; every latency is the client's time from sending a request
   to reading the whole answer. p50, p95, p99, max and requests/s are printed. Client and server
   share the machine's cores.
4. **Reference**: the same handler's work in this process without HTTP: the cache hit (the
   store's file stat and the cached bytes, what every request does once the answer is cached)
   and the cache miss (open the store, read the round, build and check the JSON: what the first
   request after a change does), each timed over many calls; the ratios put the HTTP figures
   in proportion.

5. **Cache busting** (``--busters N``, default 10): the load again, while ``N`` anonymous clients
   ask ``/public/regions`` for a new answer each time (a year from 1989 to 2023 and a ``from``
   parameter that changes every request, as the attack that once pushed the scorecard's p99
   from 22 ms to 1,183 ms did); the scorecard's p99 with and without them.

The target: p99 under 100 ms with 50 concurrent clients on 2 cores, with or without busters.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _measure import machine as _machine

TARGET_P99_MS = 100.0
WINDOW = ("2021-01-01", "2021-12-31")


def machine() -> list[tuple[str, str]]:
    return _machine("duckdb", "fastapi", "uvicorn", "httpx")


def build_store(folder: Path) -> tuple[Path, Path, Path, float]:
    """The bundled UCDP file split into two agencies, one round announced; returns (db, ledger, keys, s)."""
    from datetime import date

    import pandas as pd

    from vdto.data import bundled
    from vdto.events import ucdp
    from vdto.events.ingest import import_events
    from vdto.publication.keys import Signer, new_keypair
    from vdto.publication.rounds import announce_round, open_round
    from vdto.store import Store

    t0 = time.perf_counter()
    raw = pd.read_csv(bundled("ucdp"), dtype=str, keep_default_na=False)
    db, ledger, keys = folder / "bench.duckdb", folder / "ledger.jsonl", folder / "keys"
    for agency, part in (("mx", raw.iloc[0::2]), ("us", raw.iloc[1::2])):
        path = folder / f"{agency}.csv"
        part.to_csv(path, index=False)
        import_events(db, "ucdp", path, ucdp.parse, agency=agency)
    signers = [Signer.load(new_keypair(a, keys)[0]) for a in ("mx", "us")]
    with Store(db) as store:
        start, end = (date.fromisoformat(d) for d in WINDOW)
        rnd = open_round(store, start, end, ["mx", "us"], draws=2000)
        announce_round(store, rnd.round_id, ledger, signers)
    return db, ledger, keys, time.perf_counter() - t0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, ledger: Path, keys: Path, port: int) -> subprocess.Popen:
    import httpx

    code = (
        "import sys; from pathlib import Path; from vdto.cli.serve import serve; "
        "serve(db=Path(sys.argv[1]), ledger=Path(sys.argv[2]), keys=Path(sys.argv[3]), port=int(sys.argv[4]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(db), str(ledger), str(keys), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, int]:
    """One GET on a kept-alive connection: (status, body length)."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    await reader.readexactly(length)
    return status, length


async def load(
    port: int, path: str, clients: int, requests: int, warmup: int
) -> tuple[list[float], float, int]:
    """Latencies (s) of ``clients`` x ``requests`` GETs, wall time of the measured part, answer size.

    A minimal HTTP/1.1 client on asyncio streams (one kept-alive connection per client), so that
    the client spends as little of the shared cores as it can.
    """
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n\r\n".encode()
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(clients)]
    size = 0

    async def client(conn, n: int, out: list[float] | None) -> None:
        nonlocal size
        reader, writer = conn
        for _ in range(n):
            t = time.perf_counter()
            status, size = await _get(reader, writer, request)
            if status != 200:
                raise RuntimeError(f"status {status}")
            if out is not None:
                out.append(time.perf_counter() - t)

    await asyncio.gather(*(client(c, warmup, None) for c in conns))
    latencies: list[float] = []
    t0 = time.perf_counter()
    await asyncio.gather(*(client(c, requests, latencies) for c in conns))
    wall = time.perf_counter() - t0
    for _, writer in conns:
        writer.close()
    return latencies, wall, size


async def busting(port: int, clients: int, stop: asyncio.Event) -> int:
    """``clients`` anonymous clients asking /public/regions for a new answer each time, until ``stop``."""
    sent = 0

    async def client(k: int) -> None:
        nonlocal sent
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = 0
        while not stop.is_set():
            year = 1989 + (k * 7 + i) % 35
            path = f"/public/regions?agency=mx&year={year}&from=2020-01-{1 + i % 28:02d}&x={k}-{i}"
            req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
            await _get(reader, writer, req)
            sent += 1
            i += 1
        writer.close()

    await asyncio.gather(*(client(k) for k in range(clients)))
    return sent


async def load_with_busters(port: int, clients: int, requests: int, busters: int) -> tuple[list[float], int]:
    stop = asyncio.Event()
    bust = asyncio.create_task(busting(port, busters, stop))
    await asyncio.sleep(1.0)  # the busters are running before the measured load starts
    latencies, _, _ = await load(port, "/public/scorecard", clients, requests, warmup=2)
    stop.set()
    return latencies, await bust


def reference(db: Path, ledger: Path, keys: Path, repeats: int) -> tuple[float, float]:
    """Seconds per call in process: the cached answer (hit) and building it from the store (miss)."""
    from vdto.api.app import create_app
    from vdto.api.public import _scorecard_bytes

    ctx = create_app(db, ledger=ledger, keys_dir=keys).state.vdto
    body = _scorecard_bytes(ctx, None, None)
    ctx.cache.put(("scorecard", None), ctx.access.version(), body)
    t0 = time.perf_counter()
    for _ in range(repeats * 100):
        version = ctx.access.version()
        assert ctx.cache.get(("scorecard", None), version) is not None
    hit = (time.perf_counter() - t0) / (repeats * 100)
    misses = []
    for _ in range(repeats):
        t = time.perf_counter()
        _scorecard_bytes(ctx, None, None)
        misses.append(time.perf_counter() - t)
    return hit, statistics.median(misses)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument(
        "--requests", type=int, default=None, help="Requests per client (default 200, 40 with --quick)."
    )
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--busters", type=int, default=10, help="Cache-busting clients in the second run (0: none)."
    )
    args = ap.parse_args(argv)
    requests = args.requests or (40 if args.quick else 200)

    print("machine:")
    for k, v in machine():
        print(f"  {k}: {v}")
    print(f"  load average before the run (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="vdto-bench-api-") as tmp:
        db, ledger, keys, built = build_store(Path(tmp))
        print(
            f"store built in {built:.1f} s (UCDP GED split into mx and us, round for {WINDOW[0]}..{WINDOW[1]} announced)"
        )
        hit, miss = reference(db, ledger, keys, 20)
        port = free_port()
        proc = start_server(db, ledger, keys, port)
        try:
            latencies, wall, size = asyncio.run(
                load(port, "/public/scorecard", args.clients, requests, warmup=2)
            )
            busted, sent = (
                asyncio.run(load_with_busters(port, args.clients, requests, args.busters))
                if args.busters
                else ([], 0)
            )
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    ms = [x * 1000 for x in latencies]
    p50, p95, p99 = (percentile(ms, q) for q in (50, 95, 99))
    print(
        f"\nGET /public/scorecard: {len(ms):,} requests, {args.clients} concurrent clients, answer {size / 1024:.1f} KiB"
    )
    print(
        f"  p50 {p50:.1f} ms   p95 {p95:.1f} ms   p99 {p99:.1f} ms   max {max(ms):.1f} ms   mean {statistics.fmean(ms):.1f} ms"
    )
    print(f"  throughput {len(ms) / wall:,.0f} requests/s ({wall:.2f} s)")
    print("reference, in process, no HTTP:")
    print(f"  cache hit (stat + cached bytes): {hit * 1e6:.1f} µs per call")
    print(f"  cache miss (open store, read round, build + check JSON): {miss * 1000:.1f} ms per call")
    print(
        f"  HTTP p50 / cache miss: {p50 / (miss * 1000):.2f}; HTTP p50 / cache hit: {p50 / (hit * 1000):,.0f}"
    )
    worst = p99
    if busted:
        bms = [x * 1000 for x in busted]
        bp50, bp99 = percentile(bms, 50), percentile(bms, 99)
        worst = max(p99, bp99)
        print(
            f"with {args.busters} cache-busting clients ({sent:,} /public/regions requests with new parameters):"
        )
        print(
            f"  scorecard p50 {bp50:.1f} ms   p99 {bp99:.1f} ms   max {max(bms):.1f} ms (without them: p99 {p99:.1f} ms)"
        )
    verdict = "met" if worst < TARGET_P99_MS else "NOT met"
    print(f"target p99 < {TARGET_P99_MS:.0f} ms: {verdict}")
    return 0 if worst < TARGET_P99_MS else 1


if __name__ == "__main__":
    sys.exit(main())
