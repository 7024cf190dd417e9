"""First-hour problems: the package's numbers with their units (and said to be synthetic when the
generator made the network), the target's subnetwork export, and private keys inside a git
repository."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from vdto.network.graph import SupplyNetwork
from vdto.network.package import enforcement_package
from vdto.network.synthetic import generate
from vdto.store import Store

from .conftest import assert_one_line_exit_2, run_here

SIZE = {"organizations": 12, "wholesalers": 300, "distributors": 3000}


@pytest.fixture(scope="module")
def net() -> SupplyNetwork:
    return generate(seed=1, **SIZE)


@pytest.fixture(scope="module")
def db(tmp_path_factory, net) -> Path:
    """A store holding the synthetic network (seed 1), as `vdto network generate` saves it."""
    path = tmp_path_factory.mktemp("net") / "n.duckdb"
    with Store(path) as store:
        net.save(store, {"generator": "vdto.network.synthetic", "seed": 1})
    return path


# -- 1. the package's numbers with their units -------------------------------------------------
def test_package_summary_text_prints_units_and_meaningful_digits(net):
    pkg = enforcement_package(net, "cjng", 5)
    pkg.objective, pkg.gap, pkg.solve_seconds, pkg.mip_gap = 565136292.9732497, 2.1e-15, 4.47e-06, 0.0123
    text = pkg.summary_text()
    assert set(text) == set(pkg.summary())
    assert text["revenue_denied"] == "US$565.1 million a year"
    assert text["revenue_total"].startswith("US$") and text["revenue_total"].endswith(" a year")
    assert text["gap"] == "0%" and text["mip_gap"] == "1.23%"
    assert text["solve_seconds"] == "0.00000447 s"
    assert text["budget"] == "5 cases" and text["budget_used"] == "5 cases"
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", text["buyers_reached"])
    assert re.fullmatch(r"[\d,]+\.\d%", text["denied_share"])
    for value in text.values():
        assert not re.search(r"\d[eE][-+]?\d|\.\d{9,}", value), value  # no raw floats
    # files keep full precision
    assert pkg.summary()["revenue_denied"] == 565136292.9732497


def test_shared_regions_is_a_count_not_a_share():
    from vdto.render.fmt import cell

    assert cell(3, "shared_regions") == "3" and cell(0.25, "denied_share") == "25%"


def test_package_command_prints_units_and_says_the_network_is_synthetic(db):
    res = run_here("network", "package", "--target", "CJNG", "--budget", "5", "--db", str(db))
    assert res.returncode == 0, res.stderr
    assert "synthetic supply network (seed 1)" in res.stdout
    rows = {
        m.group(1): m.group(2).strip()
        for m in re.finditer(r"^│ (\w+)\s*│ (.*?)│$", res.stdout, flags=re.MULTILINE)
    }
    assert re.fullmatch(r"US\$[\d.,]+( million| billion)? a year", rows["revenue_denied"])
    assert rows["denied_share"].endswith("%") and rows["gap"].endswith("%")
    assert rows["solve_seconds"].endswith(" s") and "e-" not in rows["solve_seconds"]
    assert not re.search(r"\d\.\d{10,}|\d{4,}\.\d{3,}|\de-\d", res.stdout)  # no raw floats
    # JSON keeps full precision, and says where the money comes from
    doc = json.loads(
        run_here(
            "network", "package", "--target", "CJNG", "--budget", "5", "--db", str(db), "-f", "json"
        ).stdout
    )
    assert doc["network"] == "the synthetic supply network (seed 1)"
    assert isinstance(doc["summary"]["revenue_denied"], float)
    assert doc["summary"]["revenue_denied"] == pytest.approx(sum(r["denied"] for r in doc["selected"]))


def _report_data(net, pkg) -> SimpleNamespace:
    """The parts of a ReportData that `headlines` reads, without scoring anything."""
    return SimpleNamespace(
        year=2020,
        decision=SimpleNamespace(target="cjng", target_name="CJNG", p_rank1=0.97, threshold=0.9),
        municipalities=SimpleNamespace(
            targets=SimpleNamespace(table=pd.DataFrame({"name": []})),
            hot=pd.DataFrame({"hotspot": []}),
            emerging=None,
        ),
        states=SimpleNamespace(hot=pd.DataFrame({"hotspot": []})),
        package=pkg,
        network=net,
        package_note="",
        sim=None,
        shift=None,
    )


def test_report_headline_says_the_network_is_synthetic(db, net):
    from vdto.services.report.data import headlines

    with Store(db, read_only=True) as store:
        stored = SupplyNetwork.load(store)  # meta as the store keeps it (JSON text)
    pkg = enforcement_package(stored, "cjng", 5)
    line = headlines(_report_data(stored, pkg))["package"]
    assert f"cases against {pkg.target_name} on the synthetic supply network (seed 1) would deny US$" in line
    real = SupplyNetwork(net.nodes, net.edges, {"origin.file": "edges.csv"})
    line = headlines(_report_data(real, pkg))["package"]
    assert "synthetic" not in line and "would deny US$" in line


def test_report_package_note_says_a_stored_network_is_synthetic(db):
    from vdto.orgs import Registry
    from vdto.services.report.data import _network_origin, _package

    with Store(db, read_only=True) as store:
        stored = SupplyNetwork.load(store)
    decision = SimpleNamespace(target="cjng", target_name="CJNG")
    pkg, _, note = _package(stored, Registry.seed(), decision, None, 5, 0)
    assert pkg is not None and "synthetic supply network (seed 1)" in note
    assert _network_origin(stored.meta).startswith(
        "synthetic (vdto.network.synthetic, seed 1, 300 wholesalers"
    )
    # a synthetic network without its parameters recorded still reads
    assert _network_origin({"synthetic": "true"}) == (
        "synthetic (vdto.network.synthetic, seed None, ? wholesalers, ? distributors)"
    )


# -- 2. the target's subnetwork ----------------------------------------------------------------
def test_export_target_subnetwork_is_small_and_holds_the_target(db, tmp_path):
    from vdto.network.formats import read_gexf

    full, sub = tmp_path / "full.gexf", tmp_path / "sub.gexf"
    res = run_here("network", "export", str(full), "-f", "gexf", "--db", str(db))
    assert res.returncode == 0, res.stderr
    res = run_here("network", "export", str(sub), "-f", "gexf", "--target", "Tijuana Cartel", "--db", str(db))
    assert res.returncode == 0, res.stderr
    assert sub.stat().st_size * 10 < full.stat().st_size
    back = read_gexf(sub)
    ids = set(back.nodes["id"])
    assert {"org:tijuana", "cell:tijuana:1"} <= ids
    assert set(back.edges["source"]) | set(back.edges["target"]) <= ids
    said = " ".join(res.stdout.split())
    assert f"{len(back.nodes):,} nodes" in said and f"{len(back.edges):,} edges" in said
    assert f"{sub.stat().st_size:,} bytes" in said and "within 2 supply edges" in said


def test_export_subnetwork_in_every_format_and_hops(db, net, tmp_path):
    from vdto.network.formats import read_graphml
    from vdto.network.supply import subnetwork
    from vdto.services.network import export_network

    with Store(db, read_only=True) as store:
        one = export_network(store, tmp_path / "sub.graphml", "graphml", target="CAF", hops=1)
        two = export_network(store, tmp_path / "i2", "i2", target="tijuana")
        zero = export_network(store, tmp_path / "own.gexf", "gexf", target="tijuana", hops=0)
    assert one.target == "tijuana" and one.hops == 1 and two.hops == 2
    assert len(read_graphml(tmp_path / "sub.graphml").nodes) == one.nodes < two.nodes < len(net.nodes)
    entities = pd.read_csv(tmp_path / "i2" / "entities.csv", encoding="utf-8-sig")
    assert len(entities) == two.nodes and "org:tijuana" in set(entities["Entity ID"])
    assert two.bytes == sum(p.stat().st_size for p in two.paths)
    own = subnetwork(net, "tijuana", 0)
    assert zero.nodes == len(own.nodes) and set(own.nodes["type"]) == {"organization", "cell"}


def test_export_unknown_target_is_one_line_and_exit_2(db, tmp_path):
    out = tmp_path / "sub.gexf"
    res = run_here(
        "network", "export", str(out), "-f", "gexf", "--target", "Cártel Inventado", "--db", str(db)
    )
    assert_one_line_exit_2(res, "unknown organization 'Cártel Inventado'")
    assert not out.exists()
    res = run_here("network", "export", str(out), "--hops", "3", "--db", str(db))
    assert_one_line_exit_2(res, "--hops", "--target")
    res = run_here("network", "export", str(out), "--target", "cjng", "--hops", "-1", "--db", str(db))
    assert_one_line_exit_2(res, "--hops")
    assert not out.exists()


# -- 3. private keys inside a git repository ---------------------------------------------------
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git_repo(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def test_project_gitignore_covers_keys():
    lines = (Path(__file__).parents[1] / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "keys/" in lines and "*.key" in lines


@needs_git
def test_keys_new_warns_when_the_key_is_in_a_git_repository(tmp_path):
    repo = _git_repo(tmp_path / "repo")
    res = run_here("keys", "new", "mx", "--dir", "keys", cwd=repo)
    assert res.returncode == 0, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert f"keys/mx.key is inside the git repository at {repo.resolve()}" in lines[0]
    assert "it is not ignored" in lines[0] and "add it to .gitignore or keep keys outside" in lines[0]
    assert "PRIVATE" not in res.stdout + res.stderr
    # once ignored, no warning; outside any repository, none either
    (repo / ".gitignore").write_text("keys/\n", encoding="utf-8")
    res = run_here("keys", "new", "us", "--dir", "keys", cwd=repo)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    outside = tmp_path / "plain"
    outside.mkdir()
    res = run_here("keys", "new", "mx", "--dir", "keys", cwd=outside)
    assert res.returncode == 0 and res.stderr == "", res.stderr


@needs_git
def test_repository_warning_in_the_service_layer(tmp_path, monkeypatch):
    from vdto.publication import keys

    repo = _git_repo(tmp_path / "repo")
    key = repo / "deep" / "keys" / "mx.key"
    warning = keys.repository_warning(key)
    assert warning is not None and str(repo) in warning and "not ignored" in warning
    (repo / ".gitignore").write_text("*.key\n", encoding="utf-8")
    assert keys.repository_warning(key) is None
    # a linked work tree or submodule has a .git file, not a folder
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / ".git").write_text("gitdir: /nowhere\n", encoding="utf-8")
    assert keys.repository_warning(linked / "mx.key") is not None  # git cannot answer: warn
    # without git on PATH, a key in a work tree is warned about all the same
    monkeypatch.setattr(keys.shutil, "which", lambda name: None)
    warning = keys.repository_warning(key)
    assert warning is not None and "git is not on PATH" in warning
    assert keys.repository_warning(tmp_path / "elsewhere" / "mx.key") is None
