"""README.md's commands run as written, in order, from a fresh folder holding the repository's
``src/`` and ``examples/``, through the ``vdto`` command line's own Typer app."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)


def usage() -> list[str]:
    """The shell blocks a reader runs (not the two set-up commands, which install)."""
    return [b for b in blocks("sh") if "pip install" not in b]


def test_the_readme_keeps_two_setup_commands_and_names_only_files_that_exist():
    setup = [b.strip() for b in blocks("sh") if "pip install" in b]
    assert setup == [
        "python3 -m pip install uv && uv run --locked vdto demo",
        "python3 -m pip install uv && uv run --locked pytest",
    ]
    made = {"problems.csv", "map.html", "evaluation.png", "shift.png", "small.png", "runs.parquet", "cjng.gexf",
            "ranking-2020.csv", "ledger.jsonl", "site/ledger.jsonl", "edges.csv", "nodes.csv"}  # fmt: skip
    for block in usage():
        for name in re.findall(r"[\w./-]+\.(?:csv|gz|toml|bz2|parquet|jsonl|gexf)\b", block):
            assert name in made or (ROOT / name).exists(), f"README names {name}, which does not exist"


def commands(block: str) -> list[list[str]]:
    """A shell block's commands as argument lists (``a && b`` is two; comments dropped)."""
    out = []
    for line in block.splitlines():
        for part in line.split("&&"):
            args = shlex.split(part, comments=True)
            if args:
                out.append(args)
    return out


@pytest.mark.slow
def test_every_readme_command_runs_as_written(tmp_path, monkeypatch):
    # in this process, through the same Typer app the ``vdto`` script runs (no interpreter start
    # per command); ``export NAME=VALUE`` sets the variable for the commands after it
    from typer.testing import CliRunner

    from vdto.cli.app import app

    (tmp_path / "src").symlink_to(ROOT / "src")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("VDTO_")]:
        monkeypatch.delenv(name)
    runner = CliRunner()
    ran = 0
    for block in usage():
        for args in commands(block):
            if args[0] == "export":
                name, _, value = args[1].partition("=")
                monkeypatch.setenv(name, value)
                continue
            assert args[:3] == ["uv", "run", "vdto"], args
            result = runner.invoke(app, args[3:], catch_exceptions=False)
            assert result.exit_code == 0, f"{shlex.join(args)}: {result.output[-2000:]}"
            ran += 1
    assert ran >= 40
    # what the commands were for
    assert (tmp_path / "site" / "index.html").exists() and (tmp_path / "report" / "report.es.html").exists()
    ranking = pd.read_csv(tmp_path / "ranking-2020.csv")
    assert ranking["events"].nunique() > 5 and (ranking["meta_agency"] == "default").all()
    # the split the README documents is the one shipped
    for name in ("mx-events.csv.gz", "us-events.csv.gz"):
        assert (tmp_path / "examples" / name).read_bytes() == (ROOT / "examples" / name).read_bytes()
    # then the Python blocks, in the same folder
    for i, code in enumerate(blocks("python"), start=1):
        done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, f"README python block {i}: {done.stderr[-2000:]}"
