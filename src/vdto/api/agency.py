"""Agency endpoints: token-authenticated, each limited to the token's agency and role.

- any token of an agency reads that agency's own raw events, imports and every round;
- ``analyst`` imports into its agency's space, scores its data, opens rounds it takes part in;
- ``publisher`` announces (co-signs) and closes rounds its agency takes part in: it fetches the
  round's signing request, signs it on its own machine (``vdto sign``) and sends the signature
  (:mod:`vdto.api.signing`); only a server started with ``--server-held-keys`` signs itself;
- ``admin`` manages its agency's tokens and reads its audit trail.

Every write first records a ``started`` audit row; the audit middleware records the outcome.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from vdto.access import audit, tokens
from vdto.access.tokens import Principal
from vdto.api import models, signing
from vdto.api.deps import (
    Agency,
    ApiError,
    Caller,
    Context,
    Ctx,
    check_agency,
    check_role,
    set_action,
    spell,
    start_write,
    status_of,
)
from vdto.api.uploads import receive_form
from vdto.api.views import records, round_view
from vdto.errors import RowErrors, VdtoError

router = APIRouter(tags=["agency"])


# ------------------------------------------------------------------------------------ reads


@router.get("/me", response_model=models.Me, summary="Who this token is")
def me(who: Caller) -> dict:
    """The token's id, agency, role and label."""
    return {"token_id": who.token_id, "agency": who.agency, "role": who.role, "label": who.label}


@router.get(
    "/agencies/{agency}/imports", response_model=list[models.ImportRecord], summary="The agency's imports"
)
def agency_imports(agency: Agency, who: Caller, ctx: Ctx) -> list[dict]:
    """Every import into the agency's space: file, SHA-256, rows read, imported, rejected."""
    check_agency(who, agency)
    with ctx.access.read() as store:
        frame = store.imports.frame(agency)
    return records(frame)


# ---------------------------------------------------------------------------------- imports


def _problem(p) -> dict:
    return {
        "row": p.row, "column": p.column, "column_name": p.column_name, "value": str(p.value)[:200],
        "problem": p.message, "fix": p.fix,
    }  # fmt: skip


def _run_import(
    ctx: Context, agency: str, kind: str, files: dict[str, FsPath], encoding: str, skip_bad_rows: bool
) -> dict:
    """The same importer as ``vdto import KIND``, in one transaction, with the store to itself."""
    from vdto.events.tabular import decompressed_limit
    from vdto.services.imports import import_file

    mapping = files.get("mapping") if kind == "csv" else None
    # an upload may expand, once decompressed, to no more than the upload limit itself
    with ctx.access.exclusive() as db, decompressed_limit(ctx.settings.max_upload_bytes):
        result = import_file(
            db, kind, files["file"], agency=agency, mapping=mapping, mapping_name=mapping.name if mapping else None,
            skip_bad_rows=skip_bad_rows, encoding=encoding,
        )  # fmt: skip
    return {
        "record": asdict(result.record),
        "unresolved": dict(result.unresolved.most_common(100)),
        "skipped": dict(result.skipped),
        "adjusted": dict(result.adjusted),
        "problems": [_problem(p) for p in result.problems[:100]],
        "problems_total": len(result.problems),
    }  # fmt: skip


_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The data file."},
                        "mapping": {
                            "type": "string",
                            "format": "binary",
                            "description": "The TOML column mapping (kind csv only; see docs/schema.md).",
                        },
                    },
                }
            }
        },
    }
}


@router.post(
    "/agencies/{agency}/imports/{kind}",
    response_model=models.ImportResult,
    status_code=201,
    summary="Import a file into the agency's space",
    openapi_extra=_UPLOAD_BODY,
)
async def agency_import(
    request: Request,
    agency: Agency,
    kind: Literal["ucdp", "acled", "csv"],
    who: Caller,
    ctx: Ctx,
    skip_bad_rows: Annotated[bool, Query(description="Import the valid rows, count the bad ones.")] = False,
    encoding: Annotated[
        str, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="ucdp/acled text encoding.")
    ] = "utf-8",
) -> dict:
    """Upload a UCDP GED or ACLED CSV, or any CSV/Parquet with a TOML mapping (``kind`` csv), as multipart
    form data (``file``, and ``mapping`` for csv). The body streams to disk (413 over the size limit);
    the import is the CLI's: one transaction, all rows or none, duplicates left as they are.
    """
    set_action(request, f"import.{kind}")
    check_agency(who, agency)
    check_role(who, "analyst", "importing")
    await run_in_threadpool(start_write, request, ctx, who, f"import.{kind}")
    folder = FsPath(tempfile.mkdtemp(prefix="vdto-upload-"))
    try:
        try:
            files, _ = await receive_form(
                request.headers.get("content-type"),
                request.stream(),
                folder,
                files={"file", "mapping"} if kind == "csv" else {"file"},
            )
        except ClientDisconnect:
            raise ApiError(
                400, "the client went away before the upload was complete; nothing was imported"
            ) from None
        if "file" not in files:
            raise ApiError(422, "the form has no 'file' part; send the data file as the field 'file'")
        if kind == "csv" and "mapping" not in files:
            raise ApiError(422, "a csv import needs its TOML mapping as the form field 'mapping'")
        try:
            return await run_in_threadpool(_run_import, ctx, agency, kind, files, encoding, skip_bad_rows)
        except VdtoError as exc:
            line = exc.line(spell).replace(str(folder) + os.sep, "")
            for name in ("file", "mapping"):
                line = line.replace(name + os.sep, "")
            problems = [_problem(p) for p in exc.problems[:100]] if isinstance(exc, RowErrors) else None
            raise ApiError(status_of(exc), line, problems) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------------- scoring


@router.post("/agencies/{agency}/score", response_model=dict[str, Any], summary="Score the agency's data")
def agency_score(body: models.ScoreRequest, agency: Agency, who: Caller, ctx: Ctx, request: Request) -> dict:
    """Rank organizations on the agency's own data (default rubric): the scorecard with intervals,
    P(rank 1), margins and the target decision. Nothing is stored."""
    set_action(request, "score")
    check_agency(who, agency)
    check_role(who, "analyst", "scoring")
    start_write(request, ctx, who, "score")
    from vdto.publication.scorecard import build_scorecard
    from vdto.services.scoring import rank_window

    with ctx.access.read() as store:
        if agency not in store.agencies():
            raise ApiError(404, f"agency {agency!r} has no data yet; import some first")
        ranking = rank_window(
            store, body.from_, body.to, draws=body.draws, seed=body.seed, agency=agency, state=body.state
        )
    return build_scorecard(ranking.result, decision=ranking.decision, min_count=ctx.settings.min_count)


# ----------------------------------------------------------------------------------- rounds


@router.get("/rounds", response_model=list[models.Round], summary="Every round (agency view)")
def rounds_list(who: Caller, ctx: Ctx) -> list[dict]:
    """Every round, open ones included, with who signed its announcement."""
    with ctx.access.read() as store:
        return [
            round_view(store, rnd, signed_by=signing.signed_by(store, rnd.round_id))
            for rnd in store.rounds.all()
        ]


def _round(store, round_id: int):
    rnd = store.rounds.get(round_id)
    if rnd is None:
        raise ApiError(404, f"no round {round_id}")
    return rnd


@router.get("/rounds/{round_id}", response_model=models.Round, summary="One round (agency view)")
def round_get(round_id: int, who: Caller, ctx: Ctx) -> dict:
    """A round and who signed its announcement; its agencies' scorecards only to a token of one
    of its agencies until it is announced (then they are public)."""
    with ctx.access.read() as store:
        rnd = _round(store, round_id)
        shown = who.agency in rnd.agencies or rnd.announced_at is not None
        return round_view(store, rnd, evidence=shown, signed_by=signing.signed_by(store, round_id))


@router.post("/rounds", response_model=models.Round, status_code=201, summary="Open a round")
def round_open(body: models.RoundOpen, who: Caller, ctx: Ctx, request: Request) -> dict:
    """Score each agency's data, apply the target rule, record the decision (``vdto round open``).

    An analyst opens a round only if its own agency takes part.
    """
    from vdto.publication.rounds import open_round

    set_action(request, "round.open")
    check_role(who, "analyst", "opening a round")
    if who.agency not in body.agencies:
        raise ApiError(
            403, f"agency {who.agency!r} can only open a round it takes part in (add it to agencies)"
        )
    start_write(request, ctx, who, "round.open", f"agencies {','.join(body.agencies)}")
    with ctx.access.write() as store:
        rnd = open_round(
            store, body.from_, body.to, list(body.agencies), require_agreement=body.require_agreement,
            draws=body.draws, seed=body.seed,
        )  # fmt: skip
        request.scope["state"]["audit_detail"] = f"round {rnd.round_id} opened; target {rnd.target or 'none'}"
        return round_view(store, rnd, evidence=True, signed_by=[])


def _signer(ctx: Context, agency: str):
    from vdto.publication.keys import Signer

    keys = ctx.settings.server_held_keys
    if keys is None:
        raise ApiError(
            409, "this server holds no signing keys; the operator must start it with --server-held-keys DIR"
        )
    try:
        return Signer.load(keys / f"{agency}.key")
    except VdtoError:
        raise ApiError(
            409,
            f"the server holds no usable signing key for agency {agency!r}; the operator must put "
            f"{agency}.key (mode 0600) in the server-held keys folder",
        ) from None


def _round_for(ctx: Context, who: Principal, round_id: int, role: str, what: str):
    check_role(who, role, what)
    with ctx.access.read() as store:
        rnd = _round(store, round_id)
    if who.agency not in rnd.agencies:
        raise ApiError(403, f"agency {who.agency!r} does not take part in round {round_id}")
    return rnd


def _request_answer(request: dict, status: int = 200) -> Response:
    """A signing request as it is signed: its canonical JSON, what ``vdto sign`` reads."""
    from vdto.publication.ledger import canonical_json

    return Response(canonical_json(request) + "\n", status_code=status, media_type="application/json")


_CLOSE_REQUEST: dict[int | str, dict[str, Any]] = {
    202: {
        "model": models.SigningRequest,
        "description": "The closing needs every agency's signature (no server-held keys): the pending "
        "closing request, to sign with `vdto sign` and send to POST /rounds/{round_id}/signatures.",
    }
}


@router.get(
    "/rounds/{round_id}/signing-request",
    response_model=models.SigningRequest,
    summary="The round's pending signing request",
)
def round_signing_request(
    round_id: int,
    who: Caller,
    ctx: Ctx,
    purpose: Annotated[
        Literal["announce", "close"], Query(description="announce (made on first call) or close.")
    ] = "announce",
) -> Response:
    """The ledger signing request that announces (or closes) the round, for the publisher to save
    and sign on its own machine: ``vdto sign REQUEST --key AGENCY.key``; then ``POST
    /rounds/{round_id}/signatures`` with the signature file. Every agency of the round signs the
    same request. The announcement's request is made on the first call; on an empty ledger it is
    the rule entry's (declaring every agency's public key), and the announcement's follows once
    the rule entry is appended. A closing's request is made by ``POST /rounds/{round_id}/close``.
    A request the ledger moved past is made again (signatures of the old one no longer count)."""
    _round_for(ctx, who, round_id, "publisher", "signing for a round")
    with ctx.access.read() as store:
        found = signing.find_current(store, ctx, round_id, purpose)
    if found is None:
        with ctx.access.write() as store:
            found = signing.current_request(store, ctx, round_id, purpose)
    return _request_answer(found)


@router.post(
    "/rounds/{round_id}/signatures",
    response_model=models.SignatureResult,
    summary="Send the agency's signature of the round's request",
)
def round_signature(
    round_id: int,
    body: models.SignatureFile,
    who: Caller,
    ctx: Ctx,
    request: Request,
    purpose: Annotated[
        Literal["announce", "close"] | None,
        Query(description="Which pending request it signs (default: the one its request_sha256 names)."),
    ] = None,
) -> dict:
    """The signature file ``vdto sign`` wrote, of the round's pending request, by the caller's own
    agency. It is checked at once against the request's bytes and the agency's key in force (a
    signature over other bytes, by another agency or for another request is a 4xx, and nothing is
    kept). With the last agency's signature the server appends the entry to the ledger and the
    round is announced or closed (after a rule entry, the announcement's request follows)."""
    set_action(request, "round.sign")
    _round_for(ctx, who, round_id, "publisher", "signing for a round")
    if body.agency != who.agency:
        raise ApiError(
            403, f"agency: a token of agency {who.agency!r} cannot send a signature by {body.agency!r}; "
            "each agency sends its own",
        )  # fmt: skip
    start_write(request, ctx, who, "round.sign", f"round {round_id} request {body.request_sha256[:12]}")
    with ctx.access.write() as store:
        done = signing.accept_signature(store, ctx, round_id, who, body.model_dump(), purpose)
        request.scope["state"]["audit_detail"] = (
            f"round {round_id} {done['purpose']} request {done['request_sha256'][:12]} signed by {who.agency}; "
            + done["next"]
        )
        done["round"] = round_view(
            store, done["round"], evidence=True, signed_by=signing.signed_by(store, round_id)
        )
        return done


@router.post(
    "/rounds/{round_id}/announce", response_model=models.SignResult, summary="Sign a round's announcement"
)
def round_announce(round_id: int, who: Caller, ctx: Ctx, request: Request) -> dict:
    """Only on a server started with ``--server-held-keys`` (a single-agency deployment): the
    publisher's agency signs the round's announcement, and once every agency that must sign has
    (all of them when the round requires agreement, else the lead), the server appends the round's
    scorecards to the ledger, signed with the keys it holds (``vdto round announce``). Otherwise
    409: each agency signs on its own machine (``GET /rounds/{round_id}/signing-request``)."""
    from vdto.publication.rounds import sign_off

    set_action(request, "round.announce")
    _round_for(ctx, who, round_id, "publisher", "announcing a round")
    if ctx.settings.server_held_keys is None:
        raise ApiError(
            409, f"this server holds no signing keys: each agency signs on its own machine; GET "
            f"/rounds/{round_id}/signing-request?purpose=announce, sign it with `vdto sign`, and POST the "
            f"signature to /rounds/{round_id}/signatures",
        )  # fmt: skip
    start_write(request, ctx, who, "round.announce", f"round {round_id}")
    with ctx.access.write() as store:
        done = sign_off(
            store, round_id, who.agency, who.token_id, ledger_path=ctx.settings.ledger,
            signer_for=lambda agency: _signer(ctx, agency),
        )  # fmt: skip
        request.scope["state"]["audit_detail"] = (
            f"round {round_id} announced; ledger entry {done.round.ledger_hash}"
            if done.announced
            else f"round {round_id} signed by {who.agency}; waiting for {','.join(done.waiting_for)}"
        )
        return {
            "round": round_view(store, done.round, evidence=True, signed_by=done.signed_by),
            "signed_by": done.signed_by,
            "waiting_for": done.waiting_for,
            "announced": done.announced,
        }


@router.post(
    "/rounds/{round_id}/close", response_model=models.Round, summary="Close a round", responses=_CLOSE_REQUEST
)
def round_close(round_id: int, body: models.RoundClose, who: Caller, ctx: Ctx, request: Request) -> Any:
    """Ask to close a round as dismantled (the target leaves later rankings) or withdrawn (with a
    reason). A round not yet announced closes when a publisher of each agency has asked for the
    same outcome. An announced round's closing is appended to the ledger signed by every agency:
    the answer is then 202 with the pending closing request, which each agency signs on its own
    machine (``vdto sign``) and sends to ``POST /rounds/{round_id}/signatures``; the round closes
    with the last signature. On a server started with ``--server-held-keys`` the server signs it
    itself once a publisher of each agency has asked."""
    from vdto.publication.rounds import request_close

    set_action(request, "round.close")
    rnd = _round_for(ctx, who, round_id, "publisher", "closing a round")
    start_write(request, ctx, who, "round.close", f"round {round_id} {body.outcome}")
    ledger = ctx.settings.ledger if rnd.announced_at is not None else None
    if ledger is not None and ctx.settings.server_held_keys is None:
        with ctx.access.write() as store:
            pending = signing.closing(store, ctx, round_id, who, body.outcome, body.reason, body.on)
            waiting = [
                a
                for a in signing.signers_of(pending)
                if a not in store.rounds.request_signatures(pending["sha256"])
            ]
        request.scope["state"]["audit_detail"] = (
            f"round {round_id} closing request {pending['sha256'][:12]} ({body.outcome}) pending; "
            f"waiting for {','.join(waiting)} to sign"
        )
        return _request_answer(pending, 202)
    with ctx.access.write() as store:
        done = request_close(
            store, round_id, who.agency, who.token_id, body.outcome, body.reason, on=body.on, ledger_path=ledger,
            signer_for=lambda agency: _signer(ctx, agency),
        )  # fmt: skip
        request.scope["state"]["audit_detail"] = (
            f"round {round_id} asked closed by {who.agency}; waiting for {','.join(done.waiting_for)}"
            if done.waiting_for
            else f"round {round_id} closed: {body.outcome}"
        )
        return round_view(store, done.round, evidence=True, signed_by=signing.signed_by(store, round_id))


# ----------------------------------------------------------------------------------- tokens


def _admin(who: Principal, agency: str) -> None:
    check_agency(who, agency)
    check_role(who, "admin", "managing tokens")


@router.get("/agencies/{agency}/tokens", response_model=list[models.TokenInfo], summary="The agency's tokens")
def tokens_list(agency: Agency, who: Caller, ctx: Ctx) -> list[dict]:
    """Every token of the agency (never a secret)."""
    _admin(who, agency)
    with ctx.access.read() as store:
        return [t.as_dict() for t in tokens.list_tokens(store, agency)]


@router.post(
    "/agencies/{agency}/tokens", response_model=models.TokenCreated, status_code=201, summary="Create a token"
)
def tokens_create(agency: Agency, body: models.TokenCreate, who: Caller, ctx: Ctx, request: Request) -> dict:
    """Create a token for the agency; the answer holds the token, shown this once."""
    set_action(request, "token.create")
    _admin(who, agency)
    start_write(request, ctx, who, "token.create", f"role {body.role}")
    with ctx.access.write() as store:
        token, info = tokens.create_token(store, agency, body.role, label=body.label, created_by=who.actor,
                                          days=body.days)  # fmt: skip
    request.scope["state"]["audit_detail"] = f"created token {info.token_id} ({info.role})"
    return {"token": token, "info": info.as_dict()}


@router.delete(
    "/agencies/{agency}/tokens/{token_id}", response_model=models.TokenInfo, summary="Revoke a token"
)
def tokens_revoke(
    agency: Agency,
    token_id: Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")],
    who: Caller,
    ctx: Ctx,
    request: Request,
) -> dict:
    """Revoke one of the agency's tokens; it stops working at once."""
    set_action(request, "token.revoke")
    _admin(who, agency)
    start_write(request, ctx, who, "token.revoke", f"token {token_id}")
    with ctx.access.write() as store:
        try:
            info = tokens.get_token(store, token_id, agency=agency)
        except VdtoError:
            raise ApiError(404, f"agency {agency!r} has no token {token_id}") from None
        if info.revoked_at is not None:
            raise ApiError(409, f"token {token_id} is already revoked")
        return tokens.revoke_token(store, token_id, agency=agency, revoked_by=who.actor).as_dict()


@router.get(
    "/agencies/{agency}/audit", response_model=list[models.AuditEntry], summary="The agency's audit trail"
)
def audit_list(
    agency: Agency,
    who: Caller,
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="Only rows before this seq.")] = None,
) -> list[dict]:
    """The audit rows of the agency's tokens and of requests to its paths, newest first."""
    check_agency(who, agency)
    check_role(who, "admin", "reading the audit trail")
    with ctx.access.read() as store:
        return [e.as_dict() for e in audit.entries(store, agency=agency, limit=limit, before=before)]
