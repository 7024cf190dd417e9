"""Helpers shared by the benchmark scripts: peak memory, child processes, the machine table."""

from __future__ import annotations

import importlib
import multiprocessing
import os
import platform
import resource
from concurrent.futures import ProcessPoolExecutor


def ru_maxrss_kib() -> int:
    """``getrusage().ru_maxrss`` in KiB (Linux); survives ``fork`` + ``execve``, see below."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def peak_rss_kib() -> int:
    """Peak resident memory of this process, in KiB: ``VmHWM`` where it exists.

    On Linux ``ru_maxrss`` survives ``fork`` + ``execve``: a spawned child reports at least its
    parent's peak at the moment it was started. ``VmHWM`` in /proc/self/status belongs to the
    new program alone, so it is used where it exists.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return ru_maxrss_kib()


def in_child(fn, *args) -> dict:
    """Run ``fn(*args)`` in a fresh spawned interpreter and return its result."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(fn, *args).result()


def machine(*packages: str) -> list[tuple[str, str]]:
    """Rows for the machine table: cores, memory, platform, Python, vdto and ``packages`` versions."""
    import vdto

    try:
        with open("/proc/meminfo") as fh:
            mem = f"{int(fh.readline().split()[1]) / (1 << 20):.1f} GiB"
    except (OSError, ValueError, IndexError):
        mem = "unknown"
    rows = [
        ("cpu_count", str(os.cpu_count())),
        ("memory", mem),
        ("platform", platform.platform()),
        ("processor", platform.machine()),
        ("python", platform.python_version()),
        ("vdto", vdto.__version__),
    ]
    return rows + [
        (name, importlib.import_module(name).__version__) for name in ("numpy", "pandas", *packages)
    ]


def cpu_name(default: str = "unknown") -> str:
    """The CPU's model name from /proc/cpuinfo, else ``platform.processor()``, else ``default``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or default


def print_machine(console, rows) -> None:
    """Print ``rows`` (label, value) as the rich table titled "Machine" on ``console``."""
    from rich.table import Table

    info = Table(title="Machine", show_header=False)
    for k, v in rows:
        info.add_row(k, v)
    console.print(info)
