"""`vdto demo` end to end on a fresh store, and the listing commands' output formats."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from vdto.store import Store

from .conftest import REPORT_SECTIONS, run_cli, run_here

pytestmark = pytest.mark.slow  # end-to-end runs; still part of the default suite and CI


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    res = run_here("demo", "--out", str(out))
    return out, res


def test_demo_imports_the_bundled_data_and_summarises(demo):
    out, res = demo
    assert res.returncode == 0, res.stderr
    with Store(out / "vdto.duckdb", read_only=True) as store:
        assert store.count("events") == 18_957
        assert store.query("SELECT sum(deaths_best) AS d FROM events")["d"].iloc[0] == 140_695
        assert store.count("region_counts") > 0
        assert len(store.imports.frame()) == 2
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


def test_demo_writes_the_report(demo):
    out, res = demo
    assert res.returncode == 0, res.stderr
    folder = out / "report"
    page = folder / "report.html"
    text = page.read_text(encoding="utf-8")
    # the target decision, in plain words and as the rule states it
    assert "No target for 2023: the leader, Cártel Jalisco Nueva Generación" in text
    assert "no confident target: the leader, Cártel Jalisco Nueva Generación, has P(rank 1) = 0.743" in text
    # the ranking table, every section, and one spec per chart
    assert '<table id="ranking-table">' in text
    assert text.index('<tr data-org="cjng">') < text.index('<tr data-org="sinaloa">')
    for sid in REPORT_SECTIONS:
        assert f'<section id="{sid}">' in text, sid
    assert text.count('type="application/json" data-chart=') == 9  # with the pattern maps
    assert 'id="targets-municipality"' in text and "Tijuana, Baja California" in text
    doc = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert doc["decision"]["target"] is None and doc["decision"]["threshold"] == 0.9
    assert [r["org"] for r in doc["tables"]["ranking"][:2]] == ["cjng", "sinaloa"]
    assert doc["package"]["cases_selected"] == 25 and doc["package"]["target"] == "cjng"
    assert {r["policy"] for r in doc["tables"]["policies"]} == {"none", "volume", "targeted", "caribbean"}
    prov = doc["provenance"]
    assert prov["scenario"] == "default" and prov["sim_replicates"] == 40 and prov["sim_months"] == 36
    assert len(prov["rubric_sha256"]) == len(prov["data_sha256"]) == len(prov["scenario_sha256"]) == 64
    # the key figures, as non-empty PNGs (in English, then in Spanish)
    names = ["ranking", "map-state", "map-municipality", "patterns-state", "patterns-municipality", "network",
             "policies", "routes"]  # fmt: skip
    assert doc["figures"] == [f"figures/{n}{lang}.png" for lang in ("", ".es") for n in names]
    for n in names:
        data = (folder / "figures" / f"{n}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, n
    # the plain-language summary and the report's path in the terminal
    for line in ("In plain words", "No target for 2023", "Hot spots:", "Enforcement package: 25 cases",
                 "Policy comparison:", "Caribbean shift: halving Caribbean interdiction"):  # fmt: skip
        assert line in res.stdout, line
    assert f"Report: {page}" in res.stdout


def test_demo_run_twice_starts_from_a_fresh_store(demo, capsys):
    from vdto.services.demo import run_demo

    out, _ = demo
    result = run_demo(out, report=False)  # the imports again, without the report steps
    assert capsys.readouterr().out == ""
    assert result.ranking is not None and result.report is None
    with Store(out / "vdto.duckdb", read_only=True) as store:
        assert store.count("events") == 18_957 and len(store.imports.frame()) == 2
    assert (out / "report" / "report.html").exists()  # the first run's report is left alone


@pytest.mark.parametrize("by", ["year", "org", "state"])
def test_events_formats_agree(demo, by):
    out, _ = demo
    db = str(out / "vdto.duckdb")
    as_json = run_here("events", "--by", by, "--db", db, "--format", "json")
    as_csv = run_here("events", "--by", by, "--db", db, "--format", "csv")
    assert as_json.returncode == 0 and as_csv.returncode == 0, as_json.stderr + as_csv.stderr
    records = pd.DataFrame(json.loads(as_json.stdout))
    from io import StringIO

    table = pd.read_csv(StringIO(as_csv.stdout))
    assert len(records) == len(table) > 0
    assert abs(records["deaths"].sum() - 140_695) < 1e-6


def test_events_by_org_window(demo):
    out, _ = demo
    res = run_here(
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
    res = run_here("events", "--by", "colour", "--db", str(out / "vdto.duckdb"))
    assert res.returncode == 2 and "use year, org or state" in res.stderr and "Traceback" not in res.stderr
    res = run_here("events", "--from", "last week", "--db", str(out / "vdto.duckdb"))
    assert res.returncode == 2 and "--from" in res.stderr
    res = run_here("events", "--db", str(out / "missing.duckdb"))
    assert res.returncode == 2 and "no store at" in res.stderr


def test_vdto_db_environment_variable(demo, tmp_path):
    import os

    out, _ = demo
    env = dict(os.environ, VDTO_DB=str(out / "vdto.duckdb"))
    res = run_cli("imports", "--format", "json", cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stderr
    assert [r["kind"] for r in json.loads(res.stdout)] == ["ucdp", "counts"]
