"""Public, read-only endpoints: what was published, and nothing sensitive."""

from __future__ import annotations

import json
import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

import vdto
from vdto.api import models
from vdto.api.access import file_version
from vdto.api.deps import Context, context
from vdto.api.views import check_public, published_scorecard, round_view
from vdto.errors import VdtoError
from vdto.names import AGENCY_PATTERN
from vdto.publication.disclosure import check_year, public_region_scores

router = APIRouter(tags=["public"])

AgencyQuery = Annotated[
    str | None,
    Query(pattern=AGENCY_PATTERN, description="The agency (default: the round's lead agency)."),
]


def _json(obj: object) -> bytes:
    return json.dumps(check_public(obj), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


@router.get("/health", response_model=models.Health, summary="Is the server up")
async def health() -> dict:
    """Answers without touching the store (for the reverse proxy's health check)."""
    return {"status": "ok", "version": vdto.__version__}


@router.get(
    "/public/scorecard",
    response_model=models.PublishedScorecard,
    summary="The latest published scorecard",
)
async def public_scorecard(
    agency: AgencyQuery = None,
    ctx: Context = Depends(context),
) -> Response:
    """The public scorecard of the latest announced round (the lead agency's unless ``agency``).

    Served from memory until the store changes, so it stays fast under load.
    """
    version = ctx.access.version()
    key = ("scorecard", agency)
    body = ctx.cache.get(key, version)
    if body is None:
        async with ctx.flight(key):  # after a change, one request rebuilds the answer; the others wait for it
            body = ctx.cache.get(key, version)
            if body is None:
                body = ctx.cache.put(
                    key, version, await run_in_threadpool(_scorecard_bytes, ctx, None, agency)
                )
    return Response(body, media_type="application/json")


def _scorecard_bytes(ctx: Context, round_id: int | None, agency: str | None) -> bytes:
    with ctx.access.read() as store:
        try:
            return _json(published_scorecard(store, round_id, agency))
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from None


@router.get("/public/rounds", response_model=list[models.Round], summary="Published rounds")
def public_rounds(ctx: Context = Depends(context)) -> list[dict]:
    """Every announced round, oldest first: window, agencies, target, decision, dissents, outcome."""
    with ctx.access.read() as store:
        out = [round_view(store, rnd) for rnd in store.rounds.all(published_only=True)]
    return check_public(out)


@router.get("/public/rounds/{round_id}", response_model=models.Round, summary="One published round")
def public_round(round_id: int, ctx: Context = Depends(context)) -> dict:
    """An announced round with every agency's public scorecard (``evidence``)."""
    with ctx.access.read() as store:
        rnd = store.rounds.get(round_id, published_only=True)
        if rnd is None:
            raise HTTPException(404, f"round {round_id} is not published")
        return check_public(round_view(store, rnd, evidence=True))


@router.get(
    "/public/rounds/{round_id}/scorecard",
    response_model=models.PublishedScorecard,
    summary="A published round's scorecard",
)
def public_round_scorecard(
    round_id: int, agency: AgencyQuery = None, ctx: Context = Depends(context)
) -> Response:
    """One agency's public scorecard of an announced round (the lead agency's by default)."""
    return Response(_scorecard_bytes(ctx, round_id, agency), media_type="application/json")


def _ledger_entries(ctx: Context) -> list[dict]:
    from vdto.publication.ledger import Ledger

    path = ctx.settings.ledger
    if path is None:
        raise HTTPException(404, "this server publishes no ledger")

    def load() -> list[dict]:
        try:
            return Ledger(path).entries()
        except VdtoError as exc:
            raise HTTPException(409, exc.what) from None

    return ctx.cache.get_or_compute(("ledger",), file_version(path), load)


@router.get("/public/ledger", response_model=models.Ledger, summary="The publication ledger")
def public_ledger(
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ctx: Context = Depends(context),
) -> dict:
    """The signed, hash-chained ledger entries in order (a page of them); empty before the first one."""
    entries = _ledger_entries(ctx)
    return check_public(
        {"total": len(entries), "offset": offset, "limit": limit, "entries": entries[offset : offset + limit]}
    )


@router.get("/public/ledger/verify", response_model=models.LedgerCheck, summary="Verify the ledger")
def public_ledger_verify(ctx: Context = Depends(context)) -> dict:
    """Check every link and signature of the ledger, against the agencies' public keys when the server has them."""
    from vdto.publication.keys import load_trusted
    from vdto.publication.ledger import verify

    path, keys = ctx.settings.ledger, ctx.settings.keys_dir
    if path is None:
        raise HTTPException(404, "this server publishes no ledger")
    if not path.exists():
        return {"ok": False, "entries": 0, "first_bad": 1, "problem": "nothing is published yet (no ledger)",
                "last_hash": None, "agencies": {}, "pinned": False}  # fmt: skip
    pubs = sorted(keys.glob("*.pub")) if keys is not None else []

    def check() -> dict:
        trusted = load_trusted([keys]) if pubs and keys is not None else None
        if trusted is not None:
            # pin the keys of the agencies that published rounds (the keys folder may hold others')
            with ctx.access.read() as store:
                expected = store.rounds.published_agencies()
            expected = expected or set(verify(path).agencies)
            trusted = {a: k for a, k in trusted.items() if a in expected} or None
        report = verify(path, trusted)
        return check_public(
            {
                "ok": report.ok,
                "entries": report.entries,
                "first_bad": report.first_bad,
                "problem": report.problem,
                "last_hash": report.last_hash,
                "agencies": report.agencies,
                "pinned": trusted is not None,
            }
        )

    # verified again only when the ledger, the agencies' keys or the store change
    version = (file_version(path), tuple((p.name, file_version(p)) for p in pubs), ctx.access.version())
    return ctx.cache.get_or_compute(("ledger-verify",), version, check)


@router.get("/public/rubric", response_model=models.RubricOut, summary="The published rubric")
def public_rubric(ctx: Context = Depends(context)) -> dict:
    """The rubric of the latest announced round's lead agency, or the shipped default before any."""
    from vdto.scoring import Rubric

    with ctx.access.read() as store:
        rnd = store.rounds.get(published_only=True)
    if rnd is not None:
        rubric = Rubric.model_validate(rnd.evidence[rnd.agencies[0]]["rubric"])
        origin = f"round {rnd.round_id} ({rnd.agencies[0]})"
    else:
        rubric, origin = Rubric.default(), "the shipped default"
    return check_public(
        {
            "name": rubric.name,
            "version": rubric.version,
            "sha256": rubric.sha256(),
            "origin": origin,
            "rubric": rubric.model_dump(mode="json"),
        }
    )


@router.get("/public/regions", response_model=models.Regions, summary="Violence scores by state")
def public_regions(
    year: Annotated[
        int | None,
        Query(
            ge=1989,
            le=2100,
            description="The calendar year (default: the year of the last event). Only "
            "whole years are published: overlapping windows would reveal single days by subtraction.",
        ),
    ] = None,
    agency: Annotated[
        str | None, Query(pattern=AGENCY_PATTERN, description="Whose events (needed when several).")
    ] = None,
    ctx: Context = Depends(context),
) -> dict:
    """Each state's violence score over one calendar year (default rubric), with small event
    counts withheld (and, where one state alone would be, the next smallest too).

    Only states: municipalities are not published, as in the public scorecard.
    """
    version = ctx.access.version()

    def compute() -> dict:
        with ctx.access.read() as store:
            if agency is not None and agency not in store.agencies():
                raise HTTPException(404, f"agency {agency!r} has no data here")
            return check_public(public_region_scores(store, year, agency, ctx.settings.min_count))

    check_year(year)  # a bad request is a 400, never a 429
    key = ("regions", year, agency)
    hit = ctx.cache.get(key, version)
    if hit is not None:
        return hit
    if not ctx.misses.admit(time.monotonic()):
        raise HTTPException(429, "too many new public computations at once; try again in a second",
                            headers={"Retry-After": "1"})  # fmt: skip
    return ctx.cache.get_or_compute(key, version, compute)
