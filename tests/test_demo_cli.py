"""`vdto demo` end to end on a fresh store, and the listing commands' output formats."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from vdto.store import Store

from .conftest import run_cli

pytestmark = pytest.mark.slow  # end-to-end runs; still part of the default suite and CI


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    res = run_cli("demo", "--out", str(out))
    return out, res


def test_demo_imports_the_bundled_data_and_summarises(demo):
    out, res = demo
    assert res.returncode == 0, res.stderr
    with Store(out / "vdto.duckdb", read_only=True) as store:
        assert store.count("events") == 18_957
        assert store.query("SELECT sum(deaths_best) AS d FROM events")["d"].iloc[0] == 140_695
        assert store.count("region_counts") > 0
        assert len(store.imports()) == 2
    assert "18,957 UCDP events" in res.stdout
    assert "140,695 deaths" in res.stdout
    # the 2023 ranking and the SESNSP state table are printed
    assert "Cártel Jalisco Nueva Generación" in res.stdout
    assert "Guanajuato" in res.stdout
    # the latest full year is ranked and the target rule applied: 2023 has no confident target
    assert "Violence ranking 2023" in res.stdout
    assert "Target decision: no confident target" in res.stdout
    assert "regional fallback" in res.stdout
    # ... so the demo names the municipal hot spots to focus on instead
    assert "Regional fallback 2023: top municipal hot spots" in res.stdout


def test_demo_run_twice_starts_from_a_fresh_store(demo):
    out, _ = demo
    res = run_cli("demo", "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    with Store(out / "vdto.duckdb", read_only=True) as store:
        assert store.count("events") == 18_957 and len(store.imports()) == 2


@pytest.mark.parametrize("by", ["year", "org", "state"])
def test_events_formats_agree(demo, by):
    out, _ = demo
    db = str(out / "vdto.duckdb")
    as_json = run_cli("events", "--by", by, "--db", db, "--format", "json")
    as_csv = run_cli("events", "--by", by, "--db", db, "--format", "csv")
    assert as_json.returncode == 0 and as_csv.returncode == 0, as_json.stderr + as_csv.stderr
    records = pd.DataFrame(json.loads(as_json.stdout))
    from io import StringIO

    table = pd.read_csv(StringIO(as_csv.stdout))
    assert len(records) == len(table) > 0
    assert abs(records["deaths"].sum() - 140_695) < 1e-6


def test_events_by_org_window(demo):
    out, _ = demo
    res = run_cli(
        "events",
        "--by",
        "org",
        "--from",
        "2023",
        "--to",
        "2023",
        "--db",
        str(out / "vdto.duckdb"),
        "-f",
        "json",
    )
    rows = json.loads(res.stdout)
    assert rows[0]["org"] == "cjng"
    assert abs(sum(r["deaths"] for r in rows) - _deaths_2023(out)) < 1e-6


def _deaths_2023(out) -> float:
    with Store(out / "vdto.duckdb", read_only=True) as store:
        return float(
            store.query("SELECT sum(deaths_best) AS d FROM events WHERE year(date_start) = 2023")["d"].iloc[0]
        )


def test_bad_option_values_are_one_line(demo):
    out, _ = demo
    res = run_cli("events", "--by", "colour", "--db", str(out / "vdto.duckdb"))
    assert res.returncode == 2 and "use year, org or state" in res.stderr and "Traceback" not in res.stderr
    res = run_cli("events", "--from", "last week", "--db", str(out / "vdto.duckdb"))
    assert res.returncode == 2 and "--from" in res.stderr
    res = run_cli("events", "--db", str(out / "missing.duckdb"))
    assert res.returncode == 2 and "no store at" in res.stderr


def test_vdto_db_environment_variable(demo, tmp_path):
    import os

    out, _ = demo
    env = dict(os.environ, VDTO_DB=str(out / "vdto.duckdb"))
    res = run_cli("imports", "--format", "json", cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    assert [r["kind"] for r in json.loads(res.stdout)] == ["ucdp", "counts"]
