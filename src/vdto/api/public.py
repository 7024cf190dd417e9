"""Public, read-only endpoints: what was published, and nothing sensitive."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

import vdto
from vdto.access import audit
from vdto.api import models
from vdto.api.access import file_version
from vdto.api.deps import Context, context, request_id, set_action
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


def _from_ledger(ctx: Context, key: str, read: Callable[[Any], Any], version: Callable[[Path], Any]) -> Any:
    """``read(Ledger)`` on the server's ledger, kept until ``version(path)`` changes; a ledger
    that does not verify is a 409 with its one line."""
    from vdto.publication.ledger import Ledger

    path = _ledger_path(ctx)

    def load() -> Any:
        try:
            return read(Ledger(path))
        except VdtoError as exc:
            raise HTTPException(409, exc.what) from None

    return ctx.cache.get_or_compute((key,), version(path), load)


def _ledger_entries(ctx: Context) -> list[dict]:
    return _from_ledger(ctx, "ledger", lambda ledger: ledger.entries(), file_version)


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

    path, keys = ctx.settings.ledger, ctx.settings.public_keys or ctx.settings.server_held_keys
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


# ------------------------------------------------------------------ checkpoints and proofs

_TEXT = "text/plain; charset=utf-8"
_NOTE_RESPONSE: dict[int | str, dict] = {
    200: {
        "content": {_TEXT: {"schema": {"type": "string"}}},
        "description": "A signed note (C2SP signed-note).",
    }
}


def _ledger_path(ctx: Context) -> Path:
    path = ctx.settings.ledger
    if path is None:
        raise HTTPException(404, "this server publishes no ledger")
    return path


def _ledger_version(path: Path) -> tuple:
    """A cache key for the ledger and its signed checkpoints."""
    from vdto.publication.ledger import checkpoints_path

    return (file_version(path), file_version(checkpoints_path(path)))


def _checkpoints(ctx: Context) -> list[dict]:
    """The ledger's signed checkpoints, ``{"size", "note"}`` by increasing size (kept until the files change)."""
    return _from_ledger(ctx, "ledger-checkpoints", lambda ledger: ledger.checkpoints(), _ledger_version)


def _note(text: str) -> Response:
    return Response(text, media_type=_TEXT)


@router.get(
    "/public/ledger/checkpoint",
    response_class=Response,
    responses=_NOTE_RESPONSE,
    summary="The latest signed checkpoint",
)
def public_checkpoint(ctx: Context = Depends(context)) -> Response:
    """The signed note of the ledger's largest signed tree (text/plain), with the witnesses'
    cosignatures it has; what a witness cosigns and a reader keeps."""
    records = _checkpoints(ctx)
    if not records:
        raise HTTPException(404, "the ledger has no signed checkpoint yet")
    return _note(records[-1]["note"])


@router.get(
    "/public/ledger/checkpoints/{size}",
    response_class=Response,
    responses=_NOTE_RESPONSE,
    summary="The signed checkpoint of one tree size",
)
def public_checkpoint_of(
    size: Annotated[int, PathParam(ge=1, le=2**62, description="The tree size (number of entries).")],
    ctx: Context = Depends(context),
) -> Response:
    """The signed note of the tree of the ledger's first ``size`` entries (text/plain)."""
    records = _checkpoints(ctx)
    found = [r for r in records if r["size"] == size]
    if not found:
        latest = f"the latest is of size {records[-1]['size']}" if records else "there is none yet"
        raise HTTPException(404, f"size: the ledger has no signed checkpoint of tree size {size} ({latest})")
    return _note(found[0]["note"])


def _computed(ctx: Context, key: tuple, compute) -> dict:
    """A proof from the cache, or computed now (at most as often as :class:`MissLimiter` admits)."""
    path = _ledger_path(ctx)
    version = _ledger_version(path)
    hit = ctx.cache.get(key, version)
    if hit is not None:
        return hit
    if not ctx.misses.admit(time.monotonic()):
        raise HTTPException(429, "too many new public computations at once; try again in a second",
                            headers={"Retry-After": "1"})  # fmt: skip
    return ctx.cache.get_or_compute(key, version, compute)


@router.get(
    "/public/ledger/proof/inclusion",
    response_model=models.InclusionProof,
    summary="Prove an entry is in a checkpoint",
)
def public_inclusion_proof(
    seq: Annotated[int, Query(ge=1, le=2**62, description="The entry (1 is the rule entry).")],
    size: Annotated[
        int | None,
        Query(ge=1, le=2**62, description="The signed checkpoint's tree size (default: the latest)."),
    ] = None,
    ctx: Context = Depends(context),
) -> dict:
    """The proof bundle of ``vdto ledger prove``: the entry's exact ledger line with its inclusion
    proof in the tree of the signed checkpoint of ``size``, and the rule and key-change entries up
    to it, so a reader checks it with ``vdto verify proof.json`` without the whole log."""
    from vdto.publication.ledger import Ledger

    path = _ledger_path(ctx)
    records = _checkpoints(ctx)
    if not records:
        raise HTTPException(404, "the ledger has no signed checkpoint yet")
    if size is not None and all(r["size"] != size for r in records):
        raise HTTPException(
            404,
            f"size: the ledger has no signed checkpoint of tree size {size} (the latest is of size {records[-1]['size']})",
        )
    tree = size if size is not None else records[-1]["size"]
    if seq > tree:
        raise HTTPException(422, f"seq: entry {seq} is not in the tree of size {tree} (1 to {tree})")

    def compute() -> dict:
        try:
            return check_public(Ledger(path).proof([seq], size))
        except VdtoError as exc:
            raise HTTPException(409, exc.what) from None

    return _computed(ctx, ("ledger-inclusion", seq, size), compute)


@router.get(
    "/public/ledger/proof/consistency",
    response_model=models.ConsistencyProof,
    summary="Prove a later tree extends an earlier one",
)
def public_consistency_proof(
    old: Annotated[
        int, Query(ge=1, le=2**62, description="The earlier tree size (a checkpoint the reader kept).")
    ],
    new: Annotated[
        int | None, Query(ge=1, le=2**62, description="The later tree size (default: the whole ledger).")
    ] = None,
    ctx: Context = Depends(context),
) -> dict:
    """The consistency proof of ``vdto ledger consistency`` (RFC 9162) from the tree of ``old``
    entries to the tree of ``new``: a witness or reader holding the checkpoint of ``old`` checks
    that the ledger only grew since."""
    from vdto.publication.ledger import Ledger

    path = _ledger_path(ctx)
    total = len(_ledger_entries(ctx))
    upper = total if new is None else new
    if new is not None and new > total:
        raise HTTPException(422, f"new: the ledger has {total} entries (got {new})")
    if old > upper:
        raise HTTPException(422, f"old: must be at most the new size {upper} (got {old})")

    def compute() -> dict:
        try:
            return Ledger(path).consistency(old, new)
        except VdtoError as exc:
            raise HTTPException(409, exc.what) from None

    return _computed(ctx, ("ledger-consistency", old, upper), compute)


# --------------------------------------------------------------------- witness cosignatures

_COSIGNATURE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            _TEXT: {
                "schema": {"type": "string", "description": "The checkpoint as the witness cosigned it."}
            },
            "application/json": {"schema": models.CosignedNote.model_json_schema()},
        },
    }
}


def _witness_keys(ctx: Context) -> dict[str, str]:
    from vdto.publication.witness import load_witness_keys

    folder = ctx.settings.witnesses
    if folder is None:
        raise HTTPException(
            409,
            "this server accepts no witness cosignatures; the operator must start it with --witnesses DIR",
        )
    try:
        return load_witness_keys([folder])
    except VdtoError as exc:  # names no server path
        raise HTTPException(409, f"the server's witness keys cannot be read ({exc.what})") from None


def _note_of(body: bytes, content_type: str) -> str:
    """The note a witness sent: the body as text, or ``{"note": ...}`` as JSON."""
    if content_type.split(";")[0].strip().lower() == "application/json":
        try:
            sent = models.CosignedNote.model_validate_json(body)
        except ValueError as exc:
            raise HTTPException(
                422, f'note: the body is not {{"note": text}} ({str(exc).splitlines()[0]})'
            ) from None
        return sent.note
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(422, "note: the body is not UTF-8 text") from None


def _cosign(ctx: Context, request: Request, text: str) -> dict:
    from vdto.publication.ledger import Ledger
    from vdto.publication.note import Checkpoint, parse_note, verify_cosignature

    path = _ledger_path(ctx)
    witnesses = _witness_keys(ctx)
    try:
        body, lines = parse_note(text)
        cp = Checkpoint.parse(body)
    except VdtoError as exc:
        raise HTTPException(422, f"note: not a signed checkpoint ({exc.what})") from None
    known = [line for line in lines if line.name in witnesses]
    if not known:
        seen = ", ".join(sorted({line.name for line in lines})) or "none"
        raise HTTPException(403, f"note: no cosignature by a witness this server accepts (lines by: {seen})")
    for line in known:  # the same check add_cosignatures makes, before anything is written
        if verify_cosignature(body, line, line.name, witnesses[line.name]) is None:
            raise HTTPException(422, f"note: the cosignature by witness {line.name!r} does not verify")
    names = sorted({line.name for line in known})
    state = request.scope.setdefault("state", {})
    state["actor"] = "witness:" + ",".join(names)
    with ctx.access.write() as store:
        audit.record(store, request_id=request_id(request), actor=state["actor"], method=request.method,
                     path=request.url.path, action="ledger.cosign", outcome="started",
                     detail=f"checkpoint of size {cp.size}")  # fmt: skip
    state["started"] = True
    try:
        added = Ledger(path).add_cosignatures(text, witnesses)
    except VdtoError as exc:
        raise HTTPException(422, f"note: {exc.what}") from None
    state["audit_detail"] = f"cosignature of the checkpoint of size {cp.size} by {', '.join(added)}"
    note = next(r["note"] for r in Ledger(path).checkpoints() if r["size"] == cp.size)
    return {"size": cp.size, "witnesses": added, "checkpoint": note}


@router.post(
    "/public/ledger/cosignatures",
    response_model=models.CosignatureResult,
    summary="Add a witness's cosignature of a checkpoint",
    openapi_extra=_COSIGNATURE_BODY,
    responses={
        403: {"model": models.Error, "description": "No cosignature by a witness this server accepts."}
    },
)
async def public_cosign(request: Request, ctx: Context = Depends(context)) -> dict:
    """A witness sends back a checkpoint it cosigned (the signed note, as text/plain or as
    ``{"note": ...}``); its cosignature is added to the ledger's checkpoint of that size.

    Only cosignatures by the witnesses the operator configured (``vdto serve --witnesses DIR``)
    count, and each must verify; the checkpoint must be one this ledger signed. No token: the
    cosignature is the credential. Audited like every write; at most 1 a second (10 at once).
    """
    set_action(request, "ledger.cosign")
    if not ctx.public_writes.admit(time.monotonic()):
        raise HTTPException(
            429, "too many cosignatures at once; try again in a second", headers={"Retry-After": "1"}
        )
    text = _note_of(await request.body(), request.headers.get("content-type", ""))
    return await run_in_threadpool(_cosign, ctx, request, text)


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
