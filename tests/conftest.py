"""Shared fixtures: the bundled real files and a store with the real UCDP events imported once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from vdto.data import bundled
from vdto.events import ucdp
from vdto.events.ingest import import_events

DATA = Path(__file__).parent / "data"

# the workbench's browser rig (a real server, Playwright on Debian's Chromium): its fixtures
# `wb_data`, `wb`, `browser` and `page` are available to every test file
pytest_plugins = ["tests.workbench"]

# the sections of the `vdto report` page, in order (each is a `<section id=...>`)
REPORT_SECTIONS = (
    "summary",
    "ranking",
    "margins",
    "trends",
    "maps",
    "package",
    "policies",
    "routes",
    "calibration",
    "provenance",
)


# -- the order of the files: the longest first, so that the workers finish together ---------------
#
# ``--dist loadfile`` hands each worker one file at a time, in collection order (pyproject turns
# off xdist's own order, by number of tests, which left files of one long test for the end). The
# seconds each file took are kept in pytest's cache; files it has not seen yet go first. The main
# process reads them once and hands them to its workers, which must all collect the same order.

FILE_SECONDS = "vdto/file_seconds"
_seconds_read = pytest.StashKey[dict]()


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _file_seconds(config) -> dict[str, float]:
    if hasattr(config, "workerinput"):
        return config.workerinput.get(FILE_SECONDS, {})
    if _seconds_read not in config.stash:
        cache = getattr(config, "cache", None)
        config.stash[_seconds_read] = cache.get(FILE_SECONDS, {}) if cache is not None else {}
    return config.stash[_seconds_read]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    node.workerinput[FILE_SECONDS] = _file_seconds(node.config)


def pytest_collection_modifyitems(config, items) -> None:
    seconds = _file_seconds(config)
    if seconds:
        items.sort(key=lambda item: -seconds.get(_file_of(item.nodeid), float("inf")))  # stable


_taken: dict[str, float] = {}


def pytest_runtest_logreport(report) -> None:
    _taken[_file_of(report.nodeid)] = _taken.get(_file_of(report.nodeid), 0.0) + report.duration


def pytest_sessionfinish(session) -> None:
    cache = getattr(session.config, "cache", None)
    if cache is None or hasattr(session.config, "workerinput") or not _taken:
        return  # a worker's reports reach the main process too: it keeps the record
    cache.set(FILE_SECONDS, cache.get(FILE_SECONDS, {}) | {f: round(t, 1) for f, t in _taken.items()})


@pytest.fixture(scope="session")
def ucdp_file() -> Path:
    return bundled("ucdp")


@pytest.fixture(scope="session")
def sesnsp_file() -> Path:
    return bundled("sesnsp")


@pytest.fixture(scope="session")
def ucdp_store(tmp_path_factory, ucdp_file) -> tuple[Path, object]:
    """A store holding the real UCDP GED file (read-only use: copy it before writing)."""
    db = tmp_path_factory.mktemp("ucdp") / "ucdp.duckdb"
    result = import_events(db, "ucdp", ucdp_file, ucdp.parse)
    return db, result


@pytest.fixture
def ucdp_store_copy(ucdp_store, tmp_path) -> Path:
    db = tmp_path / "copy.duckdb"
    shutil.copy(ucdp_store[0], db)
    return db


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the vdto command line in a subprocess (as a user would)."""
    return subprocess.run(
        [sys.executable, "-m", "vdto.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


#: the warning filters of a Python started without -W or $PYTHONWARNINGS
PYTHON_WARNING_FILTERS = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
)


def _warning_on_stderr(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def run_here(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the vdto command line in this process, as the ``vdto`` script does (its ``main``: one
    line and exit 2 on bad input), capturing what it prints; for tests that run many commands
    and would otherwise spend most of their time starting interpreters.

    ``cwd`` and ``env`` are as for :func:`run_cli`: the working directory and the whole
    environment the command sees, both put back afterwards. Output is piped, as from a
    subprocess: tables are as wide as ``$VDTO_COLUMNS`` says (160 when unset)."""
    from click.testing import CliRunner

    from vdto.cli import console
    from vdto.cli.app import main

    changes: dict[str, str | None] = {}
    if env is not None:
        changes = {k: v for k, v in env.items() if os.environ.get(k) != v}
        changes |= dict.fromkeys((k for k in os.environ if k not in env), None)
    argv, here, width, code = sys.argv, Path.cwd(), console.out._width, 0
    with CliRunner().isolation(env=changes) as (stdout, stderr, _), warnings.catch_warnings():
        # warnings as a fresh interpreter shows them: Python's own filters, printed on stderr
        warnings.resetwarnings()
        for action, category, module in PYTHON_WARNING_FILTERS:
            warnings.filterwarnings(action, category=category, module=module, append=True)
        warnings.showwarning = _warning_on_stderr
        sys.argv = ["vdto", *args]
        console.out.width = int(os.environ.get("VDTO_COLUMNS", "160") or 160)
        try:
            if cwd is not None:
                os.chdir(cwd)
            main()
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        finally:
            sys.stdout.flush()  # what was written with sys.stdout.write is still in its buffer
            sys.stderr.flush()
            os.chdir(here)
            sys.argv = argv
            console.out.width = width
        out, err = stdout.getvalue().decode(), stderr.getvalue().decode()
    return subprocess.CompletedProcess(list(args), code, out, err)


def assert_one_line_exit_2(res: subprocess.CompletedProcess, *needles: str) -> None:
    """The command failed with exit status 2 and one line on stderr (no traceback) naming each needle."""
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def write_posterior(path: Path, scenario: str = "default") -> Path:
    """A posterior file as `vdto calibrate` writes one (two free parameters, five particles,
    calibrated on ``scenario`` over 2007-2012), for tests that need one without calibrating."""
    import pandas as pd

    from vdto.sim.calibration.estimate import Free, Posterior
    from vdto.sim.params import load_scenario

    sc = load_scenario(scenario)
    free = (Free("violence.attack_rate", 0.015, 0.24), Free("violence.deaths_per_clash", 3.0, 48.0))
    frame = pd.DataFrame({"violence.attack_rate": [0.04, 0.05, 0.06, 0.07, 0.08],
                          "violence.deaths_per_clash": [8.0, 10.0, 12.0, 14.0, 16.0],
                          "weight": [0.1, 0.2, 0.4, 0.2, 0.1]})  # fmt: skip
    meta = {"first": 2007, "last": 2012, "policy": "kingpin", "replicates": 2, "seed": 1,
            "free": [f.__dict__ for f in free], "scenario_sha256": sc.sha256(),
            "scenario": sc.model_dump(mode="json"), "generations": 1, "simulations": 5, "epsilon": 1.0}  # fmt: skip
    return Posterior(frame, meta).write(path)
