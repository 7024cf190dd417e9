"""Simulations for the workbench: policy comparisons an analyst launches over the API and the
server runs in the background, on the local runner (``vdto compare``'s own service,
:func:`vdto.services.simulations.run_comparison`, so the numbers are the command line's).

- ``POST /agencies/{agency}/simulations`` (an analyst of the agency) queues a comparison of
  bundled scenario, policies, replicates and seed, and answers 202 with the job;
- ``GET /agencies/{agency}/simulations/{job}`` gives its status, its progress (replicates done
  of all) and, once done, the comparison table, the chart (static SVG) and the claims;
  ``?wait=SECONDS`` holds the answer until the job changes (``after``: the ``revision`` the
  caller has seen) or ends, so a client follows a job without polling in a loop;
- ``GET /agencies/{agency}/simulations`` lists the agency's jobs.

Jobs live in the server's memory only: a restart forgets them, and nothing is written to the
store but the audit rows of the launches. Every job shows the scenario, policies, replicates and
seed it ran, which reproduce its numbers exactly (``vdto compare SCENARIO --policies ...
--replicates R --seed S``). The server runs one job at a time (1 worker process by default, at
most the CPU count) and holds at most :data:`MAX_ACTIVE` queued or running; a launch beyond that
is refused with 429. A simulation uses no agency data: every agency's token sees its own jobs only.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from vdto.api.deps import (
    Agency,
    ApiError,
    Caller,
    Ctx,
    check_agency,
    check_role,
    set_action,
    spell,
    start_write,
)
from vdto.api.views import records
from vdto.errors import VdtoError
from vdto.services.simulations import (
    CLAIM_POLICIES,
    Comparison,
    check_policies,
    run_comparison,
    scenario_names,
    units,
)

log = logging.getLogger("vdto.api")

router = APIRouter(tags=["agency"])

JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="The job's id.")]

#: The most replicates a job from the web may ask for.
MAX_REPLICATES = 200
#: The most policies one job compares.
MAX_POLICIES = 12
#: Jobs queued or running on the whole server at once; one runs at a time.
MAX_ACTIVE = 2
#: Ended jobs each agency keeps (the oldest are forgotten first).
KEEP = 20
#: The longest a ``?wait=`` holds an answer, in seconds.
MAX_WAIT = 30.0
#: The most answers held by ``?wait=`` at once (each holds a worker thread); beyond, the answer is
#: given at once.
MAX_WAITING = 8
#: The most worker processes a job may use.
MAX_WORKERS = os.cpu_count() or 1

Status = Literal["queued", "running", "done", "failed"]
Stage = Literal["queued", "world", "policies", "claims", "chart", "ended"]


# ----------------------------------------------------------------------------------- models


class SimulationRequest(BaseModel):
    """A comparison to run: a bundled scenario, the policies, the replicates and the seed."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(
        description="A bundled scenario: 'small' (a synthetic grid, quick) or 'default' (Mexico from real data).",
        json_schema_extra={"enum": list(scenario_names())},
    )
    policies: list[Annotated[str, Field(max_length=60)]] = Field(
        min_length=1,
        max_length=MAX_POLICIES,
        description="Policies to compare, each once: none, volume, kingpin, targeted, regional, caribbean, "
        "or combinations like targeted+caribbean.",
    )
    replicates: int = Field(20, ge=1, le=MAX_REPLICATES, description="Paired replicates per policy.")
    seed: int = Field(1, ge=0, le=2**32 - 1, description="The seed (the same seed gives the same numbers).")
    workers: int = Field(1, ge=1, le=MAX_WORKERS, description="Worker processes (at most the server's CPUs).")
    claims: bool = Field(
        True, description="Also measure the claims (the six policies run again on the same replicates)."
    )

    @field_validator("scenario")
    @classmethod
    def _bundled(cls, value: str) -> str:
        names = scenario_names()
        if value not in names:
            raise ValueError(
                f"unknown scenario {value[:40]!r}: use {' or '.join(names)} (no files from the web)"
            )
        return value

    @field_validator("policies")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        try:
            return check_policies(value)
        except VdtoError as exc:
            raise ValueError(f"{exc.what}; {exc.fix}") from None


class SimulationProgress(BaseModel):
    """Replicates simulated so far, of all (every policy's and the claims')."""

    done: int
    total: int


class SimulationResult(BaseModel):
    """A finished comparison: what ``vdto compare -f json`` gives, the claims and the chart."""

    meta: dict[str, Any] = Field(
        description="Provenance: vdto version, scenario and world SHA-256, seed, unit..."
    )
    unit: str = Field(description="What the homicide columns count, in words (e.g. 'homicides (people)').")
    synthetic: bool = Field(description="The world is the synthetic grid (people of a made-up world).")
    horizon: int = Field(description="The month the deaths_by_* columns count to.")
    table: list[dict[str, Any]] = Field(description="One row per policy: the columns of vdto compare.")
    claims: list[dict[str, Any]] | None = Field(
        description="One row per claim, with its verdict; null if not asked."
    )
    charts: dict[str, str] = Field(description="Static SVG charts by name ('monthly').")


class SimulationJob(BaseModel):
    """A job: what it runs, where it stands and, once done, its result."""

    job: str
    agency: str
    actor: str
    status: Status
    stage: Stage
    revision: int = Field(description="Grows whenever the job changes (see ?wait= and after=).")
    request: SimulationRequest
    progress: SimulationProgress
    created_at: str
    started_at: str | None
    finished_at: str | None
    error: str | None
    result: SimulationResult | None


# ------------------------------------------------------------------------------------- jobs


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Gone(Exception):
    """The application that launched a job has been garbage-collected (a server or a test client
    that is gone): the job stops at its next chunk of replicates instead of running on for no one."""


@dataclass
class Job:
    """One comparison and its state; changed under ``changed``'s lock only."""

    id: str
    agency: str
    actor: str
    request: SimulationRequest
    total: int
    status: Status = "queued"
    stage: Stage = "queued"
    done: int = 0
    revision: int = 0
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    result: dict[str, Any] | None = None
    changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def ended(self) -> bool:
        return self.status in ("done", "failed")

    def update(self, **values: Any) -> None:
        with self.changed:
            for k, v in values.items():
                setattr(self, k, v)
            self.revision += 1
            self.changed.notify_all()

    def wait(self, after: int | None, seconds: float) -> None:
        """Hold until the job's revision passes ``after`` (default: its revision now), it ends, or
        ``seconds`` pass."""
        with self.changed:
            seen = self.revision if after is None else after
            self.changed.wait_for(lambda: self.ended or self.revision > seen, timeout=seconds)

    def view(self, result: bool = True) -> dict[str, Any]:
        with self.changed:
            return {
                "job": self.id, "agency": self.agency, "actor": self.actor, "status": self.status,
                "stage": self.stage, "revision": self.revision, "request": self.request.model_dump(),
                "progress": {"done": self.done, "total": self.total}, "created_at": self.created_at,
                "started_at": self.started_at, "finished_at": self.finished_at, "error": self.error,
                "result": self.result if result else None,
            }  # fmt: skip


def _expected(req: SimulationRequest) -> int:
    return req.replicates * (len(req.policies) + (len(CLAIM_POLICIES) if req.claims else 0))


def result_view(c: Comparison) -> dict[str, Any]:
    """A comparison as the API shows it (JSON-ready: NaN as null)."""
    horizon = next(
        int(col.removeprefix("deaths_by_"))
        for col in c.table.columns
        if col.startswith("deaths_by_") and not col.endswith(("lo90", "hi90"))
    )
    meta = {k: (v.item() if hasattr(v, "item") else v) for k, v in c.meta.items()}
    return {
        "meta": meta,
        "unit": units(c.meta),
        "synthetic": c.scenario.world.kind == "grid",
        "horizon": horizon,
        "table": records(c.table),
        "claims": records(c.claims) if c.claims is not None else None,
        "charts": dict(c.charts),
    }


class Jobs:
    """The server's simulation jobs, in memory: at most ``active`` queued or running, ``running``
    of them at once, ``keep`` ended ones per agency. A job stops at its next chunk of replicates
    once the application that launched it has been garbage-collected (``app`` is a weak
    reference to it; a server stopping while a job runs is the usual case)."""

    def __init__(
        self, app: weakref.ref[Any], active: int = MAX_ACTIVE, running: int = 1, keep: int = KEEP
    ) -> None:
        self.app = app
        self.active = active
        self.keep = keep
        self.slots = threading.Semaphore(running)
        self.waiting = threading.BoundedSemaphore(MAX_WAITING)
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {}

    def submit(self, agency: str, actor: str, req: SimulationRequest) -> Job:
        with self.lock:
            busy = sum(not j.ended for j in self.jobs.values())
            if busy >= self.active:
                raise HTTPException(
                    429,
                    f"{busy} simulations are already queued or running on this server (at most {self.active}); "
                    "try again when one has finished",
                    headers={"Retry-After": "30"},
                )
            job = Job(uuid.uuid4().hex[:16], agency, actor, req, _expected(req))
            self.jobs[job.id] = job
            ended = [j.id for j in self.jobs.values() if j.agency == agency and j.ended]
            for old in ended[: max(0, len(ended) - self.keep)]:
                del self.jobs[old]
        threading.Thread(target=self._run, args=(job,), name=f"vdto-simulation-{job.id}", daemon=True).start()
        return job

    def get(self, agency: str, job_id: str) -> Job:
        with self.lock:
            job = self.jobs.get(job_id)
        if job is None or job.agency != agency:
            raise ApiError(
                404, f"no simulation {job_id!r} for agency {agency!r} (jobs are kept in memory only)"
            )
        return job

    def of(self, agency: str) -> list[Job]:
        with self.lock:
            return [j for j in reversed(self.jobs.values()) if j.agency == agency]

    def _run(self, job: Job) -> None:
        with self.slots:
            job.update(status="running", stage="world", started_at=_now())
            req = job.request
            part = req.replicates * len(req.policies)

            def progress(done: int, total: int) -> None:
                if self.app() is None:
                    raise Gone("the server is gone")
                stage = "chart" if done >= total else "claims" if done >= part else "policies"
                job.update(done=done, total=total, stage=stage)

            try:
                comparison = run_comparison(
                    req.scenario, req.policies, req.replicates, req.seed, req.workers, claims=req.claims,
                    charts=True, chunk_size=max(5, math.ceil(req.replicates / (10 * req.workers))), progress=progress,
                )  # fmt: skip
                job.update(status="done", stage="ended", result=result_view(comparison), finished_at=_now())
            except VdtoError as exc:
                job.update(status="failed", stage="ended", error=exc.line(spell), finished_at=_now())
            except Gone:
                job.update(status="failed", stage="ended", error="the server stopped", finished_at=_now())
            except Exception as exc:
                log.error("simulation %s failed", job.id, exc_info=exc)
                job.update(status="failed", stage="ended", finished_at=_now(),
                           error=f"internal error ({type(exc).__name__}); the server log has the details")  # fmt: skip


_CREATE = threading.Lock()


def jobs_for(app: Any) -> Jobs:
    """The jobs of an application (made on first use, kept in ``app.state.simulations``)."""
    with _CREATE:
        jobs = getattr(app.state, "simulations", None)
        if jobs is None:
            jobs = Jobs(weakref.ref(app))
            app.state.simulations = jobs
    return jobs


def jobs_of(request: Request) -> Jobs:
    """The jobs of the application serving ``request``."""
    return jobs_for(request.app)


# -------------------------------------------------------------------------------- endpoints


@router.post(
    "/agencies/{agency}/simulations",
    response_model=SimulationJob,
    status_code=202,
    summary="Launch a policy comparison",
)
def simulation_start(
    body: SimulationRequest, agency: Agency, who: Caller, ctx: Ctx, request: Request
) -> dict[str, Any]:
    """Queue a comparison of policies on a bundled scenario (an analyst of the agency): the same
    run as ``vdto compare SCENARIO --policies ... --replicates R --seed S``, on the server's
    local runner. Answers 202 with the job; follow it with ``GET .../simulations/{job}``. At
    most two jobs are queued or running on the server (429 beyond). Uses no agency data."""
    set_action(request, "simulation.start")
    check_agency(who, agency)
    check_role(who, "analyst", "launching a simulation")
    detail = f"{body.scenario}: {','.join(body.policies)} x {body.replicates} replicates, seed {body.seed}"
    start_write(request, ctx, who, "simulation.start", detail)
    job = jobs_of(request).submit(agency, who.actor, body)
    request.scope.setdefault("state", {})["audit_detail"] = f"simulation {job.id}: {detail}"
    return job.view()


@router.get(
    "/agencies/{agency}/simulations", response_model=list[SimulationJob], summary="The agency's simulations"
)
def simulation_list(agency: Agency, who: Caller, request: Request) -> list[dict[str, Any]]:
    """The agency's jobs this server holds, newest first, without their results (any of its
    tokens). Jobs live in memory: a restarted server has none."""
    check_agency(who, agency)
    return [j.view(result=False) for j in jobs_of(request).of(agency)]


@router.get("/agencies/{agency}/simulations/{job}", response_model=SimulationJob, summary="One simulation")
async def simulation_get(
    agency: Agency,
    job: JobId,
    who: Caller,
    request: Request,
    wait: Annotated[
        float,
        Query(
            ge=0, le=MAX_WAIT, description="Hold the answer up to this many seconds until the job changes."
        ),
    ] = 0,
    after: Annotated[
        int | None,
        Query(ge=0, le=2**62, description="With wait: the revision already seen (default: now's)."),
    ] = None,
) -> dict[str, Any]:
    """A job's status, progress and, once done, its table, chart and claims (any token of the
    agency). With ``wait``, the answer waits until the job's revision passes ``after`` or the job
    ends, at most ``wait`` seconds (at once when the server already holds many such answers)."""
    check_agency(who, agency)
    jobs = jobs_of(request)
    found = jobs.get(agency, job)
    # when too many answers are held already, this one is given at once
    if wait > 0 and not found.ended and jobs.waiting.acquire(blocking=False):
        try:
            await run_in_threadpool(found.wait, after, wait)
        finally:
            jobs.waiting.release()
    return found.view()
