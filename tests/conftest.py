"""Shared fixtures: the bundled real files and a store with the real UCDP events imported once."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vdto.data import bundled
from vdto.events import ucdp
from vdto.events.ingest import import_events

DATA = Path(__file__).parent / "data"

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


def run_here(*args: str) -> subprocess.CompletedProcess:
    """Run the vdto command line in this process, as the ``vdto`` script does (its ``main``: one
    line and exit 2 on bad input), capturing what it prints; for tests that run many commands
    and would otherwise spend most of their time starting interpreters."""
    from click.testing import CliRunner

    from vdto.cli.app import main

    argv, code = sys.argv, 0
    with CliRunner().isolation() as (stdout, stderr, _):
        sys.argv = ["vdto", *args]
        try:
            main()
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        finally:
            sys.argv = argv
            sys.stdout.flush()  # what was written with sys.stdout.write (CSV, JSON) reaches the buffer
            sys.stderr.flush()
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
