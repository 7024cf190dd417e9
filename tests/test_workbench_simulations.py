"""The workbench's simulations: the service `vdto compare` and the API share, the jobs API
(launch, follow, refusals, bad input) and the view in a real browser, run to completion.

The rig's fixtures (``wb_data``, ``wb``, ``page``) come from tests/conftest.py's plugin
(:mod:`tests.workbench`); importing them here too would start a second browser in the session.

Kept small: the ``small`` scenario, a few replicates, one worker. Jobs are followed with the
API's long poll (``?wait=``), which answers when the job changes: no sleeping, no busy loop.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.workbench import sign_in
from vdto.access import audit
from vdto.api import simulations
from vdto.api.app import create_app
from vdto.api.views import records
from vdto.services.simulations import CLAIM_POLICIES, run_comparison
from vdto.store import Store

from .conftest import run_here

POLICIES = ["none", "volume", "targeted"]
BODY = {"scenario": "small", "policies": POLICIES, "replicates": 3, "seed": 7}
META = ("vdto_version", "scenario", "scenario_sha256", "world_sha256", "seed", "replicates", "months", "unit")


# ---------------------------------------------------------------------------------- service


def test_the_service_gives_the_table_of_vdto_compare():
    res = run_here("compare", "small", "--policies", ",".join(POLICIES), "-r", "3", "--seed", "7",
                   "--workers", "1", "-f", "json")  # fmt: skip
    assert res.returncode == 0, res.stderr
    cli = json.loads(res.stdout)
    seen: list[tuple[int, int]] = []
    mine = run_comparison("small", POLICIES, 3, 7, 1, progress=lambda done, total: seen.append((done, total)))
    assert json.loads(json.dumps(records(mine.table))) == cli["rows"]
    assert {k: mine.meta[k] for k in META} == {k: cli["meta"][k] for k in META}
    assert mine.meta["seed"] == 7 and mine.meta["replicates"] == 3
    # progress: from 0 to every replicate of every policy, never backwards
    assert seen[0] == (0, 9) and seen[-1] == (9, 9)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert mine.claims is None and mine.charts == {}


def test_the_service_measures_the_claims_and_draws_the_chart():
    seen: list[tuple[int, int]] = []
    c = run_comparison("small", ["none", "targeted"], 2, 1, 1, months=24, claims=True, charts=True,
                       progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert seen[0] == (0, 2 * 2 + 2 * len(CLAIM_POLICIES)) and seen[-1][0] == seen[-1][1]
    assert len(c.claims) == 6
    assert set(c.claims["verdict"]) <= {"supports", "supports, on most runs but not all,", "does not support",
                                        "contradicts"}  # fmt: skip
    assert c.charts["monthly"].lstrip().startswith("<svg")


@pytest.mark.parametrize(
    ("args", "param"),
    [
        ((["none", "nope"],), "policies"),
        (([],), "policies"),
        ((["none", "none"],), "policies"),
        ((["none"], 0), "replicates"),
        ((["none"], 2, -1), "seed"),
    ],
)
def test_the_service_names_the_bad_parameter(args, param):
    from vdto.errors import VdtoError

    with pytest.raises(VdtoError) as caught:
        run_comparison("small", *args, workers=1, months=2)
    assert caught.value.place() == param and "\n" not in caught.value.line()


# -------------------------------------------------------------------------------------- API


@dataclass
class Api:
    """The API in process over a copy of the workbench store."""

    client: TestClient
    db: Path
    tokens: dict

    @property
    def app(self):
        return self.client.app

    def auth(self, agency: str, role: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[agency, role]}"}

    def get(self, path: str, **kw):
        return self.client.get(path, **kw)

    def post(self, path: str, **kw):
        return self.client.post(path, **kw)


@pytest.fixture
def api(wb_data, tmp_path):
    """The API over a copy of the workbench store, with a token per (agency, role)."""
    db = tmp_path / "wb.duckdb"
    shutil.copy(wb_data.db, db)
    return Api(TestClient(create_app(db)), db, wb_data.tokens)


def follow(client, agency: str, job: str, who=("mx", "analyst")) -> dict:
    """The job once it has ended: long polls, each answered when the job changes."""
    path = f"/agencies/{agency}/simulations/{job}"
    state = client.get(path, headers=client.auth(*who)).json()
    for _ in range(200):  # a change per chunk of replicates at most; the job ends long before
        if state["status"] in ("done", "failed"):
            return state
        res = client.get(path, params={"wait": 30, "after": state["revision"]}, headers=client.auth(*who))
        assert res.status_code == 200, res.text
        assert res.json()["revision"] > state["revision"] or res.json()["status"] in ("done", "failed")
        state = res.json()
    raise AssertionError(f"job {job} did not end: {state['status']}")


def test_launch_follow_and_read_a_simulation(api):
    res = api.post("/agencies/mx/simulations", json=BODY, headers=api.auth("mx", "analyst"))
    assert res.status_code == 202, res.text
    job = res.json()
    assert job["status"] in ("queued", "running") and job["request"]["scenario"] == "small"
    assert job["progress"]["total"] == 3 * (len(POLICIES) + len(CLAIM_POLICIES))
    done = follow(api, "mx", job["job"])
    assert done["status"] == "done", done["error"]
    assert done["progress"]["done"] == done["progress"]["total"] and done["stage"] == "ended"
    result = done["result"]
    # the same function as vdto compare: the same table
    same = run_comparison("small", POLICIES, 3, 7, 1)
    assert result["table"] == json.loads(json.dumps(records(same.table)))
    assert result["meta"]["seed"] == 7 and result["meta"]["scenario_sha256"] == same.meta["scenario_sha256"]
    assert result["unit"] == "homicides (people)" and result["synthetic"] is True
    assert len(result["claims"]) == 6 and all(c["verdict"] and c["sentence"] for c in result["claims"])
    assert result["charts"]["monthly"].lstrip().startswith("<svg")
    # the agency's list holds it, without the result; another agency's list does not
    listed = api.get("/agencies/mx/simulations", headers=api.auth("mx", "publisher")).json()
    assert [j["job"] for j in listed] == [job["job"]] and listed[0]["result"] is None
    assert api.get("/agencies/us/simulations", headers=api.auth("us", "analyst")).json() == []
    # the launch is in the audit log: started, then ok
    with Store(api.db, read_only=True) as store:
        rows = [e.as_dict() for e in audit.entries(store, limit=100) if e.action == "simulation.start"]
    assert sorted(r["outcome"] for r in rows) == ["ok", "started"]
    assert all(r["agency"] == "mx" and r["role"] == "analyst" for r in rows)
    assert any(job["job"] in (r["detail"] or "") for r in rows)


def test_only_the_agencys_analyst_launches_and_only_the_agency_reads(api):
    assert api.post("/agencies/mx/simulations", json=BODY).status_code == 401
    for who in (("mx", "publisher"), ("mx", "admin"), ("us", "analyst")):
        res = api.post("/agencies/mx/simulations", json=BODY, headers=api.auth(*who))
        assert res.status_code == 403, (who, res.text)
        assert len(res.json()["detail"].splitlines()) == 1
    job = api.post(
        "/agencies/mx/simulations", json={**BODY, "claims": False}, headers=api.auth("mx", "analyst")
    )
    job_id = job.json()["job"]
    assert api.get(f"/agencies/mx/simulations/{job_id}", headers=api.auth("us", "analyst")).status_code == 403
    assert api.get("/agencies/mx/simulations", headers=api.auth("us", "admin")).status_code == 403
    other = api.get(f"/agencies/us/simulations/{job_id}", headers=api.auth("us", "analyst"))
    assert other.status_code == 404 and job_id in other.json()["detail"]
    assert (
        api.get("/agencies/mx/simulations/0123456789abcdef", headers=api.auth("mx", "analyst")).status_code
        == 404
    )
    assert follow(api, "mx", job_id)["status"] == "done"
    with Store(api.db, read_only=True) as store:
        refused = [e for e in audit.entries(store, limit=100) if e.action == "simulation.start"]
    assert sorted(e.outcome for e in refused).count("refused") == 3


def test_at_most_two_jobs_queue_and_one_runs(api):
    jobs = simulations.jobs_for(api.app)
    with jobs.slots:  # every slot taken: nothing starts until the test lets go
        first = api.post(
            "/agencies/mx/simulations", json={**BODY, "claims": False}, headers=api.auth("mx", "analyst")
        )
        second = api.post(
            "/agencies/us/simulations", json={**BODY, "claims": False}, headers=api.auth("us", "analyst")
        )
        assert first.status_code == second.status_code == 202
        assert api.get(f"/agencies/mx/simulations/{first.json()['job']}",
                       headers=api.auth("mx", "analyst")).json()["status"] == "queued"  # fmt: skip
        third = api.post("/agencies/mx/simulations", json=BODY, headers=api.auth("mx", "analyst"))
        assert third.status_code == 429 and third.headers["retry-after"]
        assert len(third.json()["detail"].splitlines()) == 1 and "at most 2" in third.json()["detail"]
    assert follow(api, "mx", first.json()["job"])["status"] == "done"
    assert follow(api, "us", second.json()["job"], who=("us", "analyst"))["status"] == "done"


@pytest.mark.parametrize(
    ("change", "field", "needle"),
    [
        ({"scenario": "tiny"}, "scenario", "tiny"),
        ({"scenario": "/etc/passwd"}, "scenario", "no files from the web"),
        ({"scenario": "../data/scenarios/small.toml"}, "scenario", "unknown scenario"),
        ({"policies": ["none", "nope"]}, "policies", "nope"),
        ({"policies": ["none", "none"]}, "policies", "twice"),
        ({"policies": ["none+volume"]}, "policies", "cannot be combined"),
        ({"policies": []}, "policies", "at least 1"),
        ({"replicates": 0}, "replicates", "greater than or equal to 1"),
        ({"replicates": 201}, "replicates", "less than or equal to 200"),
        ({"seed": -1}, "seed", "greater than or equal to 0"),
        ({"workers": 10_000}, "workers", "less than or equal to"),
        ({"months": 3}, "months", "Extra inputs"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(api, change, field, needle):
    res = api.post("/agencies/mx/simulations", json={**BODY, **change}, headers=api.auth("mx", "analyst"))
    assert res.status_code == 422, res.text
    detail = res.json()["detail"]
    assert detail.startswith(field) and needle in detail and len(detail.splitlines()) == 1
    assert simulations.jobs_for(api.app).jobs == {}


def test_bad_wait_and_job_ids_are_refused(api):
    auth = api.auth("mx", "analyst")
    assert api.get("/agencies/mx/simulations/nope", headers=auth).status_code == 422
    res = api.get("/agencies/mx/simulations/0123456789abcdef", params={"wait": 31}, headers=auth)
    assert res.status_code == 422 and res.json()["detail"].startswith("query.wait")


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
FIELD = st.sampled_from(["scenario", "policies", "replicates", "seed", "workers", "claims", "extra"])


def _valid(body) -> bool:
    try:
        simulations.SimulationRequest.model_validate(body)
    except ValueError:
        return False
    return True


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(body=(JSON | st.builds(lambda k, v: {**BODY, k: v}, FIELD, JSON)).filter(lambda b: not _valid(b)))
def test_bad_bodies_never_make_a_server_error(api, body):
    res = api.post("/agencies/mx/simulations", json=body, headers=api.auth("mx", "analyst"))
    assert res.status_code == 422, res.text
    assert len(res.json()["detail"].splitlines()) == 1
    assert simulations.jobs_for(api.app).jobs == {}


# ---------------------------------------------------------------------------------- browser


def test_the_view_runs_a_small_comparison_to_the_end(wb, page):
    sign_in(page, wb, "mx", "analyst", view="simulations", lang="en")
    assert page.locator("#view h1").inner_text() == "Simulations"
    assert page.get_by_test_id("data-of").inner_text() == "Data of agency mx"
    assert "no agency's data" in page.get_by_test_id("sim-no-data").inner_text()
    page.get_by_test_id("sim-scenario").select_option("small")
    page.get_by_test_id("sim-replicates").fill("3")
    page.get_by_test_id("sim-seed").fill("7")
    page.get_by_test_id("sim-launch").click()
    page.locator("[data-testid=sim-job][data-status=done]").wait_for(timeout=120_000)
    bar = page.get_by_test_id("sim-progress")
    assert bar.evaluate("b => b.value === b.max && b.max > 1")
    assert page.get_by_test_id("sim-count").inner_text() == "27 of 27 replicates"
    assert page.get_by_test_id("sim-row").count() == 3
    assert (
        "Homicides (people) by policy, over 3 paired replicates"
        in page.get_by_test_id("sim-unit").inner_text()
    )
    assert "deaths" not in page.get_by_test_id("sim-table").inner_text().lower()
    assert "seed 7" in page.get_by_test_id("sim-provenance").inner_text()
    chart = page.get_by_test_id("sim-chart")
    chart.wait_for()
    page.wait_for_function("() => { const i = document.querySelector('[data-testid=sim-chart]'); "
                           "return i && i.complete && i.naturalWidth > 0; }")  # fmt: skip
    assert page.get_by_test_id("sim-claim").count() == 6
    verdicts = page.get_by_test_id("sim-verdict").all_inner_texts()
    assert all(v.startswith("The model") for v in verdicts)
    # the job stays in the address and in the agency's list: a reload follows it again
    assert "job=" in page.url
    assert page.get_by_test_id("sim-listed").count() == 1
    page.reload()
    page.wait_for_selector("#view[data-ready]")
    page.locator("[data-testid=sim-job][data-status=done]").wait_for()
    assert page.get_by_test_id("sim-row").count() == 3


def test_the_view_tells_a_publisher_who_may_launch(wb, page):
    sign_in(page, wb, "mx", "publisher", view="simulations", lang="es")
    assert page.locator("#view h1").inner_text() == "Simulaciones"
    assert "analista" in page.get_by_test_id("sim-needs").inner_text()
    assert page.get_by_test_id("sim-launch").count() == 0
