"""The workbench's persons view (focused deterrence on people) in a real browser: the list, a
person's evidence, the group audit and the csv/i2 exports agree with the API's answers for the same
parameters; a publisher gets the API's 403 line and an agency without person records its one line;
the page never shows a raw identifier and each of its calls is audited."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import httpx
import pandas as pd
import pytest

# the rig's fixtures (wb_data, browser, page) come from the tests.workbench plugin (tests/conftest.py)
from tests.workbench import WINDOW_2021, Server, WorkbenchData, data_with, sign_in, wait_ready
from vdto.persons.keys import write_key
from vdto.services.persons import StoreTrail, generate_case_files, import_case_files

DRAWS = 200
TOP = 8
WINDOW = {"from": WINDOW_2021[0].isoformat(), "to": WINDOW_2021[1].isoformat()}
BODY = {**WINDOW, "draws": DRAWS}
RAW_ID = re.compile(r"SYN-\d")  # a person's identifier in the synthetic case files (cells are SYN-C-...)


@pytest.fixture(scope="module")
def persons_data(wb_data, tmp_path_factory) -> WorkbenchData:
    """The workbench store with synthetic case files of agency mx imported (pseudonymised with a key)."""

    def fill(store, folder) -> None:
        key = write_key(folder / "mx.key")
        case = generate_case_files(store, *WINDOW_2021, seed=3, agency="mx")
        case.write(folder / "case")
        trail = StoreTrail(store, "test", "import", "mx")
        import_case_files(store, folder / "case", key=key, trail=trail, agency="mx")

    return data_with(wb_data, tmp_path_factory.mktemp("wb-persons"), fill)


@pytest.fixture
def server(persons_data, tmp_path):
    s = Server(persons_data, tmp_path)
    yield s
    s.stop()


def post(
    server: Server, endpoint: str, body: dict, who: tuple[str, str] = ("mx", "analyst")
) -> httpx.Response:
    agency = who[0]
    return httpx.post(
        f"{server.url}/agencies/{agency}/persons/{endpoint}",
        json=body,
        headers={"Authorization": f"Bearer {server.token(*who)}"},
        timeout=120,
    )


def pts(x: float) -> str:
    return f"{x:,.1f} pts"


def pct(p: float) -> str:
    return f"{p * 100:,.1f}%"


def unzip(path: Path) -> dict[str, pd.DataFrame]:
    with zipfile.ZipFile(path) as zf:
        return {
            n: pd.read_csv(io.BytesIO(zf.read(n)), encoding="utf-8-sig", dtype=str) for n in zf.namelist()
        }


def test_the_list_evidence_audit_and_exports_agree_with_the_api(server, page, tmp_path):
    sign_in(page, server, "mx", "analyst", view="persons", lang="en")
    assert page.locator("#view h1").inner_text() == "Persons"
    assert page.locator('[data-view-link="persons"]').count() == 1
    assert page.get_by_test_id("data-of").inner_text() == "Data of agency mx"
    warning = page.get_by_test_id("persons-warning").inner_text()
    assert "never published" in warning and "audit log" in warning
    # nothing is asked of the API until the analyst asks for the list
    assert page.get_by_test_id("persons-persons").count() == 0

    page.get_by_test_id("persons-draws").fill(str(DRAWS))
    page.get_by_test_id("persons-top").fill(str(TOP))
    page.get_by_test_id("persons-run").click()
    page.wait_for_selector('[data-testid="persons-result"][data-loaded] [data-testid="persons-persons"]')
    assert f"draws={DRAWS}" in page.url and f"top={TOP}" in page.url

    answer = post(server, "list", {**BODY, "top": TOP}).json()
    persons = answer["persons"]
    assert len(persons) == TOP
    rows = page.get_by_test_id("persons-persons-row")
    assert rows.count() == TOP
    for i, want in enumerate(persons):
        row = rows.nth(i)
        assert row.get_by_test_id("pseudonym").inner_text() == want["person"]
        assert row.get_by_test_id("score").inner_text() == pts(want["score"])
        assert row.get_by_test_id("interval").inner_text() == f"{want['lo90']:,.1f}–{want['hi90']:,.1f} pts"
        assert row.get_by_test_id("p-rank1").inner_text() == pct(want["p_rank1"])
    cells = page.get_by_test_id("persons-cells-row")
    assert cells.count() == len(answer["cells"])
    assert cells.first.get_by_test_id("score").inner_text() == pts(answer["cells"][0]["score"])
    # the decisions line: the API's P(rank 1) and threshold, in words
    said = answer["decisions"]["persons"]
    line = page.get_by_test_id("decision-persons").inner_text()
    assert f"{answer['threshold'] * 100:.0f}%" in line
    if any(p["named"] for p in persons):
        assert line.startswith("The top person") and next(p for p in persons if p["named"])["person"] in line
    else:
        best = float(re.search(r"is (\d\.\d+)", said).group(1))
        assert line.startswith("No confident top person") and pct(best) in line
    assert answer["target"]["label"] in page.get_by_test_id("persons-target-line").inner_text()

    # a person's evidence: as many rows as the API gives for them
    chosen = persons[1]["person"]
    rows.nth(1).get_by_test_id("pseudonym").click()
    box = page.locator(f'[data-testid="person-evidence"][data-person="{chosen}"]')
    box.wait_for()
    behind = [e for e in answer["evidence"] if e["person"] == chosen]
    assert behind and box.get_by_test_id("evidence-row").count() == len(behind) == int(
        box.get_attribute("data-count")
    )
    assert box.get_by_test_id("evidence-row").first.locator("td").first.inner_text() == behind[0]["event_id"]

    # the group audit: one succession row per current leader, the BACRIM allies and rivals
    page.get_by_test_id("persons-audit-run").click()
    page.wait_for_selector('[data-testid="persons-audit"][data-loaded] [data-testid="succession"]')
    audit = post(server, "audit", BODY).json()
    leaders = {r["leader"] for r in audit["succession"]}
    succession = page.get_by_test_id("succession-row")
    assert succession.count() == len(leaders) > 0
    first = next(r for r in audit["succession"] if r["rank"] == 1 or r["candidate"] is None)
    assert succession.first.locator("td").nth(1).inner_text() == first["leader"]
    assert succession.first.get_by_test_id("risk").inner_text() == first["risk"]
    assert page.get_by_test_id("audit-components-row").count() == min(20, len(audit["components"]))
    assert page.get_by_test_id("audit-brokers-row").count() == min(20, len(audit["brokers"]))
    if audit["allies"]:
        assert audit["allies"][0] in page.get_by_test_id("audit-allies").inner_text()
    if audit["rivals"]:
        assert audit["rivals"][0] in page.get_by_test_id("audit-rivals").inner_text()

    # the exports: the zip the API gives for the same parameters
    with page.expect_download() as done:
        page.get_by_test_id("persons-export-csv").click()
    got = done.value
    assert got.suggested_filename == "persons-mx-csv.zip"
    path = tmp_path / got.suggested_filename
    got.save_as(path)
    files = unzip(path)
    assert sorted(files) == ["cells.csv", "evidence.csv", "persons.csv"]
    assert list(files["persons.csv"]["person"]) == [p["person"] for p in persons]
    assert set(files["persons.csv"]["draws"]) == {str(DRAWS)}
    with page.expect_download() as done:
        page.get_by_test_id("persons-export-i2").click()
    i2 = tmp_path / "i2.zip"
    done.value.save_as(i2)
    entities = unzip(i2)["entities.csv"]
    assert set(entities.loc[entities["Entity Type"] == "Person", "Entity ID"]) == {
        p["person"] for p in persons
    }

    # no raw identifier anywhere on the page, text or markup; no missing value shown as "null"
    assert "null" not in page.locator("#view").inner_text()
    assert not RAW_ID.search(page.locator("body").inner_text())
    assert not RAW_ID.search(page.content())

    # every call of the page was audited as the analyst's, with its outcome
    log = httpx.get(f"{server.url}/agencies/mx/audit", params={"limit": 1000},
                    headers={"Authorization": f"Bearer {server.token('mx', 'admin')}"}, timeout=60).json()  # fmt: skip
    done_ok = [(r["action"], r["outcome"]) for r in log if r["action"].startswith("persons.")]
    for action in ("persons.list", "persons.audit", "persons.export.csv", "persons.export.i2"):
        assert (action, "ok") in done_ok and (action, "started") in done_ok, (action, done_ok)

    # the parameters are in the address: a reload shows the same list again
    page.reload()
    wait_ready(page)
    page.wait_for_selector('[data-testid="persons-result"][data-loaded] [data-testid="persons-persons"]')
    assert page.get_by_test_id("persons-draws").input_value() == str(DRAWS)
    assert (
        page.get_by_test_id("persons-persons-row").first.get_by_test_id("pseudonym").inner_text()
        == (persons[0]["person"])
    )


def test_a_publisher_gets_the_apis_refusal_line(server, page):
    page.watch.expect(403)
    sign_in(page, server, "mx", "publisher", view="persons", lang="es", draws=DRAWS, top=5, **WINDOW)
    assert page.locator("#view h1").inner_text() == "Personas"
    error = page.get_by_test_id("persons-result").get_by_test_id("error")
    error.wait_for()
    refused = post(server, "list", {**BODY, "top": 5}, who=("mx", "publisher"))
    assert refused.status_code == 403
    assert error.inner_text() == refused.json()["detail"]
    assert page.get_by_test_id("persons-persons").count() == 0


def test_an_agency_without_person_records_gets_one_line(server, page):
    page.watch.expect(400)
    sign_in(page, server, "us", "analyst", view="persons", lang="en")
    page.get_by_test_id("persons-draws").fill(str(DRAWS))
    page.get_by_test_id("persons-run").click()
    error = page.get_by_test_id("persons-result").get_by_test_id("error")
    error.wait_for()
    answer = post(server, "list", {**BODY, "top": 20}, who=("us", "analyst"))
    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert "\n" not in detail and "no person records" in detail
    assert error.inner_text() == detail
    assert page.get_by_test_id("persons-persons").count() == 0
    assert page.get_by_test_id("persons-run").is_enabled()
