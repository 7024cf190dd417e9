"""The network commands as a user runs them: generate, stats, export/import, package, bad input."""

from __future__ import annotations

import json

import pytest

from .conftest import DATA, run_here

pytestmark = pytest.mark.slow  # several commands on a generated network


def test_generate_package_export_import(tmp_path):
    db = str(tmp_path / "n.duckdb")
    res = run_here(
        "network",
        "generate",
        "--seed",
        "5",
        "--organizations",
        "12",
        "--wholesalers",
        "300",
        "--distributors",
        "3000",
        "--db",
        db,
    )
    assert res.returncode == 0, res.stderr
    stats = {
        r["what"]: r["count"]
        for r in json.loads(run_here("network", "stats", "--db", db, "-f", "json").stdout)
    }
    assert stats["nodes_wholesaler"] == 300 and stats["nodes_distributor"] == 3000
    res = run_here(
        "network", "package", "--target", "Cártel de Sinaloa", "--budget", "5", "--db", db, "-f", "json"
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["summary"]["target"] == "sinaloa" and doc["summary"]["cases_selected"] == 5
    assert doc["summary"]["revenue_denied"] <= doc["summary"]["revenue_total"]
    # the selected cases' denied revenue adds up to the package's objective
    assert sum(r["denied"] for r in doc["selected"]) == pytest.approx(doc["summary"]["revenue_denied"])
    assert doc["succession"] and doc["succession"][0]["org_id"]
    gexf = tmp_path / "net.gexf"
    assert run_here("network", "export", str(gexf), "-f", "gexf", "--db", db).returncode == 0
    db2 = str(tmp_path / "m.duckdb")
    assert run_here("network", "import", str(gexf), "--db", db2).returncode == 0
    stats2 = {
        r["what"]: r["count"]
        for r in json.loads(run_here("network", "stats", "--db", db2, "-f", "json").stdout)
    }
    assert stats2 == stats
    res = run_here("network", "export", str(tmp_path / "i2"), "-f", "i2", "--db", db)
    assert res.returncode == 0 and (tmp_path / "i2" / "links.csv").exists()


def test_bad_network_file_and_unknown_target(tmp_path):
    bad = tmp_path / "edges.csv"
    text = (DATA / "network" / "edges_inline.csv").read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    row = text[1].split(",")
    row[header.index("volume")] = "-5"
    bad.write_text("\n".join([text[0], ",".join(row), *text[2:]]) + "\n", encoding="utf-8")
    db = str(tmp_path / "n.duckdb")
    res = run_here("network", "import", str(bad), "--db", db)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "edges.csv:2" in res.stderr and res.stderr.strip().count("\n") == 0
    assert not (tmp_path / "n.duckdb").exists()  # nothing half-written
    from vdto.store import Store

    Store(db).close()
    res = run_here("network", "package", "--target", "cjng", "--budget", "3", "--db", db)
    assert res.returncode == 2 and "no supply network" in res.stderr
    run_here("network", "import", "bacrim2020", "--db", db)
    res = run_here("network", "package", "--target", "Cártel Inventado", "--budget", "3", "--db", db)
    assert res.returncode == 2 and "unknown organization" in res.stderr
