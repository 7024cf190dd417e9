"""docs/tutorial.md runs: every ```python block, in order, in one namespace, in a fresh folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).parents[1] / "docs" / "tutorial.md"


def blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", TUTORIAL.read_text(encoding="utf-8"), re.M | re.S)


def test_tutorial_has_the_steps():
    code = blocks()
    assert len(code) == 8
    joined = "\n".join(code)
    for name in (
        "import_events",
        "score(",
        "decide(",
        "analyse(",
        "enforcement_package(",
        "shift(",
        "run(",
        "compare_table(",
    ):
        assert name in joined, name


@pytest.mark.slow
def test_tutorial_runs_in_order(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "tutorial"}
    for i, code in enumerate(blocks(), start=1):
        exec(compile(code, f"{TUTORIAL}:block {i}", "exec"), namespace)
    printed = capsys.readouterr().out
    # 1. import
    assert namespace["events"].record.rows_imported == 18_957
    assert "18,957 UCDP events" in printed
    # 2-3. ranking and the rule: 2023 has no confident target
    assert namespace["ranking"].table.iloc[0]["org"] == "cjng"
    assert namespace["decision"].target is None and "no confident target" in namespace["decision"].reason
    # 4. hot spots, map written
    assert len(namespace["regions"].targets.table) == 5 and "municipal hot spots" in printed
    assert (tmp_path / "hotspots-2023.html").stat().st_size > 100_000
    # 5. package
    assert namespace["summary"]["cases_selected"] == 25 and namespace["summary"]["revenue_denied"] > 0
    # 6. routes: less through Mexico
    assert namespace["caribbean"].after.via_mexico < namespace["caribbean"].before.via_mexico
    # 7. the comparison: every policy with an interval
    table = namespace["table"]
    assert list(table["policy"]) == ["none", "volume", "kingpin", "targeted"]
    assert (table["deaths_by_36_lo90"] <= table["deaths_by_36"]).all()
    assert (table["deaths_by_36"] <= table["deaths_by_36_hi90"]).all()
    # 8. the report
    page = namespace["page"]
    assert page == Path("tutorial-report") / "report.html" and (tmp_path / page).stat().st_size > 500_000
    assert "open tutorial-report/report.html" in printed
