"""Import benchmark: the bundled UCDP GED file and a large synthetic agency CSV.

Run from the repository root::

    uv run python benchmarks/bench_import.py             # 1,000,000 synthetic rows
    uv run python benchmarks/bench_import.py --quick     # 100,000 synthetic rows
    uv run python benchmarks/bench_import.py --rows 250000 --seed 7

Every measured import runs in a fresh child process (``spawn``), so each one starts with cold
caches, as a ``vdto import`` command does, and its peak resident memory belongs to that import
alone (read from ``VmHWM``; ``ru_maxrss`` is printed too, see :func:`_peak_rss_kib`). Times cover the call being measured, not interpreter start-up or module
imports (those are printed separately). Temporary files are removed at the end.

The generic import is compared with DuckDB reading the same file (``read_csv`` with the file's
dialect, types detected by DuckDB), each in its own child process: into a table in memory, into
a table of a new database file (committed and closed, as an import is), and into a pandas frame
(``.df()``); and with ``pandas.read_csv``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _measure import in_child, print_machine
from _measure import machine as _machine
from _measure import peak_rss_kib as _peak_rss_kib
from _measure import ru_maxrss_kib as _ru_maxrss_kib


def machine() -> list[tuple[str, str]]:
    return _machine("duckdb", "pyarrow")


# Keep module-level imports to the standard library: each child process re-imports this file,
# and the reading-only reference must not pay for (or be charged the memory of) vdto's imports.

UCDP_REPEATS = 3
#: DuckDB's reads of the synthetic file the generic import is compared with (see child_duckdb).
REFERENCES = {
    "table": "table in memory",
    "file": "table in a new file",
    "df": "pandas frame (.df())",
}
UCDP_TARGET_S = 3.0
DEFAULT_ROWS = 1_000_000
QUICK_ROWS = 100_000
DEFAULT_SEED = 20240601

CATEGORIES = {  # value in the file -> canonical category (the mapping's [categories])
    "Ejecución": "homicide",
    "Enfrentamiento": "armed_clash",
    "Masacre": "massacre",
    "Agresión a policías": "attack_security_forces",
    "Privación de la libertad": "kidnapping",
    "Desaparición": "disappearance",
}
CATEGORY_WEIGHTS = [0.55, 0.15, 0.05, 0.10, 0.10, 0.05]

GROUPS = [  # real registry names and aliases, an unknown marker and blank cells
    "CJNG",
    "Cártel de Sinaloa",
    "Cártel del Golfo",
    "Los Zetas",
    "La Familia Michoacana",
    "Cártel de Santa Rosa de Lima",
    "desconocido",
    "",
    "CJNG:0.6;Cártel de Sinaloa:0.4",
    "Cártel del Golfo:0.7;Cártel del Noreste:0.3",
]
GROUP_WEIGHTS = [0.22, 0.15, 0.06, 0.04, 0.04, 0.04, 0.20, 0.15, 0.06, 0.04]

MAPPING_TOML = """\
source = "bench-fiscalia"

[columns]
source_id = "folio"
date = "fecha"
state = "estado"
municipality = "municipio"
category = "tipo"
deaths = "muertos"
perpetrator = "grupo"

[victims]
civilian = "civiles"
police = "policias"

[categories]
{categories}
"""


# --------------------------------------------------------------------------------------------
# child-process work (each function runs in a fresh spawned interpreter)


def _timed(parse, times: dict):
    """Wrap an importer's parse function so the time spent parsing can be told apart."""

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return parse(*args, **kwargs)
        finally:
            times["parse"] = time.perf_counter() - t0

    return wrapper


def child_ucdp(path: str, db: str) -> dict:
    t0 = time.perf_counter()
    from vdto.events import ucdp
    from vdto.events.ingest import import_events

    imports_s = time.perf_counter() - t0
    rss_before = _peak_rss_kib()
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    result = import_events(db, "ucdp", path, _timed(ucdp.parse, times))
    elapsed = time.perf_counter() - t0
    rec = result.record
    return {
        "seconds": elapsed,
        "parse_s": times["parse"],
        "imports_s": imports_s,
        "rss_before_kib": rss_before,
        "peak_rss_kib": _peak_rss_kib(),
        "ru_maxrss_kib": _ru_maxrss_kib(),
        "rows_read": rec.rows_read,
        "imported": rec.rows_imported,
        "rejected": rec.rows_rejected,
        "skipped": rec.rows_skipped,
        "unresolved": sum(result.unresolved.values()),
    }


def child_generic(path: str, db: str, mapping_path: str) -> dict:
    t0 = time.perf_counter()
    from vdto.events import generic
    from vdto.events.ingest import import_events

    imports_s = time.perf_counter() - t0
    rss_before = _peak_rss_kib()
    times: dict[str, float] = {}
    _time_stages(times)
    t0 = time.perf_counter()
    spec, digest = generic.load_mapping(mapping_path)
    result = import_events(
        db,
        "csv",
        path,
        _timed(generic.parse, times),
        mapping=spec,
        mapping_path=mapping_path,
        mapping_sha256=digest,
    )
    elapsed = time.perf_counter() - t0
    peak, ru_maxrss = _peak_rss_kib(), _ru_maxrss_kib()
    import duckdb

    with duckdb.connect(db, read_only=True) as con:
        perps = con.execute("SELECT count(*) FROM perpetrators").fetchone()[0]
    rec = result.record
    return {
        "seconds": elapsed,
        "parse_s": times["parse"],
        "stages": {k: v for k, v in times.items() if k != "parse"},
        "imports_s": imports_s,
        "rss_before_kib": rss_before,
        "peak_rss_kib": peak,
        "ru_maxrss_kib": ru_maxrss,
        "rows_read": rec.rows_read,
        "imported": rec.rows_imported,
        "rejected": rec.rows_rejected,
        "perpetrator_rows": int(perps),
        "unresolved": sum(result.unresolved.values()),
        "store_bytes": os.path.getsize(db),
    }


def _time_stages(times: dict) -> None:
    """Time the stages of ``import_events`` after parsing: the registry, the plausibility checks
    and problem list (``finish``), the file's SHA-256 and the store's write (``apply``); the rest
    (opening the store, the import record, the commit) is what remains."""
    from vdto.events import ingest
    from vdto.store.events import EventRepository

    def timed(owner, name: str, key: str) -> None:
        fn = getattr(owner, name)

        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                times[key] = times.get(key, 0.0) + time.perf_counter() - t0

        setattr(owner, name, wrapper)

    timed(ingest, "current_registry", "registry")
    timed(ingest, "finish", "checks")
    timed(ingest, "sha256_file", "sha256")
    for name in ("apply", "insert"):
        if hasattr(EventRepository, name):
            timed(EventRepository, name, "store write")


DUCKDB_DIALECT = "header = true, delim = ',', quote = '\"', escape = '\"'"


def child_duckdb(path: str, how: str, folder: str) -> dict:
    """DuckDB's own read of the file: ``table`` (a table in memory), ``file`` (a table in a new
    database file, closed), ``df`` (a pandas frame)."""
    t0 = time.perf_counter()
    import duckdb

    if how == "df":
        import pandas  # noqa: F401  (.df() needs it: imported before the clock starts, as vdto's are)

    imports_s = time.perf_counter() - t0
    rss_before = _peak_rss_kib()
    source = f"read_csv('{path}', {DUCKDB_DIALECT})"
    t0 = time.perf_counter()
    if how == "table":
        con = duckdb.connect()
        con.execute(f"CREATE TABLE t AS SELECT * FROM {source}")
        rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    elif how == "file":
        con = duckdb.connect(os.path.join(folder, "reference.duckdb"))
        con.execute(f"CREATE TABLE t AS SELECT * FROM {source}")
        rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    else:
        con = duckdb.connect()
        rows = len(con.execute(f"SELECT * FROM {source}").df())
    con.close()
    elapsed = time.perf_counter() - t0
    return {
        "seconds": elapsed,
        "imports_s": imports_s,
        "rss_before_kib": rss_before,
        "peak_rss_kib": _peak_rss_kib(),
        "ru_maxrss_kib": _ru_maxrss_kib(),
        "rows_read": int(rows),
    }


def child_pandas(path: str) -> dict:
    t0 = time.perf_counter()
    import pandas as pd

    imports_s = time.perf_counter() - t0
    rss_before = _peak_rss_kib()
    t0 = time.perf_counter()
    frame = pd.read_csv(path, dtype=str)
    elapsed = time.perf_counter() - t0
    return {
        "seconds": elapsed,
        "imports_s": imports_s,
        "rss_before_kib": rss_before,
        "peak_rss_kib": _peak_rss_kib(),
        "ru_maxrss_kib": _ru_maxrss_kib(),
        "rows_read": len(frame),
    }


# --------------------------------------------------------------------------------------------
# synthetic data


def make_synthetic(n: int, seed: int, folder: Path) -> tuple[Path, Path]:
    """Write an agency-style CSV of ``n`` rows and its mapping TOML; return both paths."""
    import numpy as np
    import pandas as pd

    from vdto.geography import STATES, geography

    rng = np.random.default_rng(seed)
    state_codes = np.array(sorted(STATES), dtype=object)
    state_idx = rng.integers(0, len(state_codes), n)

    # municipality: blank for 30% of rows, else a real INEGI name from the row's state
    muns = geography().municipalities
    municipio = np.full(n, "", dtype=object)
    named = rng.random(n) >= 0.30
    for i, code in enumerate(state_codes):
        rows = np.flatnonzero((state_idx == i) & named)
        names = muns.loc[muns["state_code"] == code, "name"].to_numpy(dtype=object)
        municipio[rows] = names[rng.integers(0, len(names), len(rows))]

    start = np.datetime64("2015-01-01")
    days = (np.datetime64("2025-01-01") - start).astype(int)
    fecha = (start + rng.integers(0, days, n)).astype(str)

    civiles = rng.poisson(0.8, n)
    policias = rng.binomial(1, 0.05, n) * rng.integers(1, 4, n)
    otros = rng.poisson(0.6, n)
    muertos = civiles + policias + otros
    muertos = np.where(muertos == 0, 1, muertos)

    frame = pd.DataFrame(
        {
            "folio": np.char.add("FGE-", np.arange(1, n + 1).astype(str)),
            "fecha": fecha,
            "estado": np.array([STATES[c] for c in state_codes], dtype=object)[state_idx],
            "municipio": municipio,
            "tipo": rng.choice(np.array(list(CATEGORIES), dtype=object), n, p=CATEGORY_WEIGHTS),
            "muertos": muertos,
            "civiles": civiles,
            "policias": policias,
            "grupo": rng.choice(np.array(GROUPS, dtype=object), n, p=GROUP_WEIGHTS),
        }
    )
    csv_path = folder / "agency_events.csv"
    frame.to_csv(csv_path, index=False, encoding="utf-8")
    mapping_path = folder / "mapping.toml"
    cats = "\n".join(f'"{k}" = "{v}"' for k, v in CATEGORIES.items())
    mapping_path.write_text(MAPPING_TOML.format(categories=cats), encoding="utf-8")
    return csv_path, mapping_path


# --------------------------------------------------------------------------------------------
# reporting


def mib(n_bytes: float) -> float:
    return n_bytes / (1 << 20)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=None, help=f"synthetic rows (default {DEFAULT_ROWS:,})")
    ap.add_argument("--quick", action="store_true", help=f"use {QUICK_ROWS:,} synthetic rows")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the synthetic data")
    args = ap.parse_args(argv)
    n = args.rows if args.rows is not None else (QUICK_ROWS if args.quick else DEFAULT_ROWS)
    if n < 1:
        ap.error("--rows must be at least 1")

    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    console = Console()
    print_machine(console, machine())

    from vdto.data import bundled

    ucdp_path = bundled("ucdp")
    tmp = Path(tempfile.mkdtemp(prefix="vdto-bench-"))
    try:
        progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        )
        with progress:
            # 1. the bundled UCDP GED file
            ucdp_runs = []
            for i in range(UCDP_REPEATS):
                task = progress.add_task(f"UCDP GED import, run {i + 1}/{UCDP_REPEATS}", total=None)
                db = tmp / f"ucdp-{i}.duckdb"
                ucdp_runs.append(in_child(child_ucdp, str(ucdp_path), str(db)))
                progress.update(task, total=1, completed=1)

            # 2. the synthetic agency CSV
            task = progress.add_task(f"Writing synthetic CSV ({n:,} rows, seed {args.seed})", total=None)
            t0 = time.perf_counter()
            csv_path, mapping_path = make_synthetic(n, args.seed, tmp)
            gen_s = time.perf_counter() - t0
            progress.update(task, total=1, completed=1)
            task = progress.add_task("Generic CSV import (vdto import csv)", total=None)
            gen = in_child(child_generic, str(csv_path), str(tmp / "synthetic.duckdb"), str(mapping_path))
            progress.update(task, total=1, completed=1)

            # 3. references: reading the same file with DuckDB, and with pandas
            duck = {}
            for how, label in REFERENCES.items():
                task = progress.add_task(f"Reference: DuckDB read_csv into a {label}", total=None)
                duck[how] = in_child(child_duckdb, str(csv_path), how, str(tmp))
                progress.update(task, total=1, completed=1)
            task = progress.add_task("Reference: pandas.read_csv(dtype=str)", total=None)
            ref = in_child(child_pandas, str(csv_path))
            progress.update(task, total=1, completed=1)
        csv_bytes = csv_path.stat().st_size
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # -- UCDP ---------------------------------------------------------------------------------
    times = [r["seconds"] for r in ucdp_runs]
    events = ucdp_runs[0]["imported"]
    t_min, t_med = min(times), statistics.median(times)
    table = Table(title=f"UCDP GED import ({ucdp_path.name}), {UCDP_REPEATS} runs, fresh store each")
    for col in ("", "value"):
        table.add_column(col, justify="right" if col else "left")
    table.add_row("events imported", f"{events:,} (rows read {ucdp_runs[0]['rows_read']:,})")
    table.add_row("runs (s)", ", ".join(f"{t:.3f}" for t in times))
    table.add_row("min (s)", f"{t_min:.3f}")
    table.add_row("median (s)", f"{t_med:.3f}")
    table.add_row("events/s at min", f"{events / t_min:,.0f}")
    table.add_row("events/s at median", f"{events / t_med:,.0f}")
    table.add_row("parsing, median (s)", f"{statistics.median(r['parse_s'] for r in ucdp_runs):.3f}")
    table.add_row("peak RSS, max (MiB)", f"{max(r['peak_rss_kib'] for r in ucdp_runs) / 1024:.1f}")
    table.add_row("module imports, median (s)", f"{statistics.median(r['imports_s'] for r in ucdp_runs):.3f}")
    verdict = "met" if t_med < UCDP_TARGET_S else "NOT met"
    table.add_row("target", f"< {UCDP_TARGET_S:g} s: {verdict} (median)")
    console.print(table)

    # -- synthetic ----------------------------------------------------------------------------
    if gen["imported"] != n:
        console.print(f"[red]expected {n:,} events imported, got {gen['imported']:,}[/red]")
    table = Table(title=f"Synthetic agency CSV ({n:,} rows, seed {args.seed})")
    for col in ("", "vdto import (generic)", "pandas.read_csv only"):
        table.add_column(col, justify="right" if col else "left")
    table.add_row("rows", f"{gen['imported']:,}", f"{ref['rows_read']:,}")
    table.add_row("seconds", f"{gen['seconds']:.3f}", f"{ref['seconds']:.3f}")
    table.add_row("rows/s", f"{n / gen['seconds']:,.0f}", f"{n / ref['seconds']:,.0f}")
    table.add_row("peak RSS (MiB)", f"{gen['peak_rss_kib'] / 1024:.1f}", f"{ref['peak_rss_kib'] / 1024:.1f}")
    table.add_row(
        "ru_maxrss (MiB, see note)",
        f"{gen['ru_maxrss_kib'] / 1024:.1f}",
        f"{ref['ru_maxrss_kib'] / 1024:.1f}",
    )
    table.add_row(
        "peak RSS after module imports (MiB)",
        f"{gen['rss_before_kib'] / 1024:.1f}",
        f"{ref['rss_before_kib'] / 1024:.1f}",
    )
    table.add_row("of which parsing (s)", f"{gen['parse_s']:.3f}", "")
    for stage, seconds in gen["stages"].items():
        table.add_row(f"of which {stage} (s)", f"{seconds:.3f}", "")
    rest = gen["seconds"] - gen["parse_s"] - sum(gen["stages"].values())
    table.add_row("of which the rest (s)", f"{rest:.3f}", "")
    table.add_row("module imports (s)", f"{gen['imports_s']:.3f}", f"{ref['imports_s']:.3f}")
    console.print(table)
    console.print(
        "peak RSS is VmHWM of the child process; ru_maxrss also counts the parent's peak at the "
        "time the child was started (Linux keeps it across fork + execve)"
    )

    table = Table(title="References: DuckDB read_csv of the same file, each in its own child process")
    for col in (
        "DuckDB read_csv into",
        "seconds",
        "peak RSS (MiB)",
        "import time / this",
        "import peak RSS / this",
    ):
        table.add_column(col, justify="right" if col else "left")
    for how, label in REFERENCES.items():
        r = duck[how]
        if r["rows_read"] != n:
            console.print(f"[red]DuckDB into a {label}: read {r['rows_read']:,} rows, expected {n:,}[/red]")
        table.add_row(
            label,
            f"{r['seconds']:.3f}",
            f"{r['peak_rss_kib'] / 1024:.1f}",
            f"{gen['seconds'] / r['seconds']:.2f}x",
            f"{gen['peak_rss_kib'] / r['peak_rss_kib']:.2f}x",
        )
    console.print(table)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    if load:
        console.print(f"load average at the end (1, 5, 15 min): {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")

    t_ratio = gen["seconds"] / ref["seconds"]
    m_ratio = gen["peak_rss_kib"] / ref["peak_rss_kib"]
    file_mib = mib(csv_bytes)
    lines = [
        f"CSV file size: {file_mib:.1f} MiB; written in {gen_s:.1f} s",
        f"perpetrator rows stored: {gen['perpetrator_rows']:,}; unresolved name mentions: {gen['unresolved']:,}",
        f"store file size: {mib(gen['store_bytes']):.1f} MiB",
        f"ratio vdto import / pandas read-only, time: {t_ratio:.2f}x",
        f"ratio vdto import / pandas read-only, peak RSS: {m_ratio:.2f}x",
        f"ratio peak RSS / CSV size, vdto import: {gen['peak_rss_kib'] / 1024 / file_mib:.2f}x",
        f"ratio peak RSS / CSV size, read-only: {ref['peak_rss_kib'] / 1024 / file_mib:.2f}x",
    ]
    for line in lines:
        console.print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
