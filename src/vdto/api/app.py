"""The FastAPI application: :func:`create_app` builds it over one store (``vdto serve`` runs it).

Errors are answered as ``{"detail": "<one line>"}`` with a 4xx status: a library error
(:class:`~vdto.errors.VdtoError`) keeps its one line; a bad request names the first bad
parameter. A 500 is the last resort of a bug: it names the request id and the log has the rest.
Every request that is not a GET, HEAD or OPTIONS is written to the audit log with its outcome
(see :mod:`vdto.access.audit`), whether it was authorised or not.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import vdto
from vdto.access import audit
from vdto.api import agency, compare, explore, maps, networks, persons, public, simulations, ui
from vdto.api.access import Cache, StoreAccess, StoreBusy
from vdto.api.deps import ApiError, Context, Settings, spell, status_of
from vdto.api.models import Error
from vdto.api.views import SensitiveFieldError
from vdto.errors import VdtoError

log = logging.getLogger("vdto.api")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UPLOAD_PATH = re.compile(r"^/agencies/[^/]+/(imports/[^/]+|persons/imports)/?$")

ACTIONS = {
    "agency_import": "import",
    "agency_score": "score",
    "round_open": "round.open",
    "round_announce": "round.announce",
    "round_close": "round.close",
    "round_signature": "round.sign",
    "public_cosign": "ledger.cosign",
    "tokens_create": "token.create",
    "tokens_revoke": "token.revoke",
    "persons_import": "persons.import",
    "persons_scores": "persons.score",
    "persons_audit": "persons.audit",
    "persons_list": "persons.list",
    "persons_export": "persons.export",
    "persons_forget": "persons.forget",
}

DESCRIPTION = """\
Violence-targeted drug enforcement: the published record for everyone, and each agency's own
space behind its tokens.

* **public** endpoints need no token and never carry a sensitive field (source names, event ids,
  notes, coordinates, municipalities, raw perpetrator names).
* **agency** endpoints need `Authorization: Bearer <token>`; a token belongs to one agency and
  holds one role: `analyst` (import, score, open rounds), `publisher` (announce, co-sign, close
  rounds) or `admin` (the agency's tokens and audit trail). No agency reads or writes another's
  raw events.

Every write is recorded in an append-only, hash-chained audit log, refused ones included.
Errors are `{"detail": "<one line>"}`. See docs/api.md.
"""


class BodyTooLarge(StarletteHTTPException):
    """A request body over the limit (raised while it is being read)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {_size(limit)}")


def _size(n: int) -> str:
    return f"{n / (1 << 20):g} MiB" if n >= 1 << 20 else f"{n:,} bytes"


def _error(
    status: int, detail: str, headers: dict | None = None, problems: list | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"detail": " ".join(str(detail).split()) or "error"}
    if problems is not None:
        body["problems"] = problems
    return JSONResponse(body, status_code=status, headers=headers)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Error, "description": text}
    for code, text in {
        400: "A bad request (one line says what and how to fix it).",
        401: "No token, or a token that is not valid (unknown or revoked).",
        403: "The token's agency or role may not do this.",
        404: "Not found.",
        409: "The state of the round, ledger or token does not allow it.",
        413: "The request body is over the size limit.",
        415: "The body is not multipart/form-data.",
        422: "A parameter, body or uploaded file is invalid.",
        429: "Too many new public computations at once; try again after Retry-After seconds.",
        503: "The store is in use by another process; try again.",
    }.items()
}
PUBLIC_ERRORS: dict[int | str, dict[str, Any]] = {
    k: v for k, v in ERRORS.items() if k in (400, 404, 409, 413, 422, 429, 503)
}


class AuditMiddleware:
    """Size limits on request bodies, and one audit row for the outcome of every write request."""

    def __init__(self, app: ASGIApp, context: Context) -> None:
        self.app = app
        self.ctx = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        settings = self.ctx.settings
        upload = method == "POST" and _UPLOAD_PATH.match(path) is not None
        limit = settings.max_upload_bytes if upload else settings.max_body_bytes
        state = scope.setdefault("state", {})
        writes = method not in SAFE_METHODS
        if writes:
            state["request_id"] = uuid.uuid4().hex[:16]

        length = dict(scope.get("headers") or []).get(b"content-length")
        too_big: StarletteHTTPException | None = None
        if length is not None:
            try:
                if int(length) > limit:
                    too_big = BodyTooLarge(limit)
            except ValueError:
                too_big = StarletteHTTPException(400, "the Content-Length header is not a number")
        if too_big is not None:
            response = _error(too_big.status_code, too_big.detail, {"Connection": "close"})
            if writes:
                await self._record(scope, response.status_code, too_big.detail)
            await response(scope, receive, send)
            return

        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        if not writes:
            await self.app(scope, limited, send)
            return

        held: list[Message] = []
        status = 500
        body = bytearray()

        async def hold(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and len(body) < 65536:
                body.extend(message.get("body", b""))
            held.append(message)

        try:
            await self.app(scope, limited, hold)
        except Exception as exc:
            await self._record(scope, 500, f"internal error ({type(exc).__name__})")
            raise
        detail = state.get("audit_detail")
        if status >= 400 or not detail:
            with contextlib.suppress(ValueError, AttributeError):
                detail = json.loads(bytes(body)).get("detail") or detail
        await self._record(scope, status, detail if isinstance(detail, str) else None)
        for message in held:
            await send(message)

    async def _record(self, scope: Scope, status: int, detail: str | None) -> None:
        state = scope.get("state", {})
        who = state.get("principal")
        if state.get("auth_failure"):
            detail = f"{detail or ''}; {state['auth_failure']}".strip("; ")
        endpoint = scope.get("endpoint")
        action = state.get("action") or ACTIONS.get(getattr(endpoint, "__name__", ""), "none")
        outcome = "ok" if status < 400 else ("failed" if state.get("started") else "refused")
        try:
            await run_in_threadpool(
                self._write,
                request_id=state.get("request_id") or uuid.uuid4().hex[:16],
                actor=who.actor if who else state.get("actor", "anonymous"),
                agency=who.agency if who else None,
                role=who.role if who else None,
                method=scope["method"],
                path=scope["path"],
                action=action,
                outcome=outcome,
                status=status,
                detail=detail,
            )
        except Exception:  # the answer still goes out; the log says the audit row is missing
            log.exception("could not write the audit row of %s %s", scope["method"], scope["path"])

    def _write(self, **row: Any) -> None:
        with self.ctx.access.write() as store:
            audit.record(store, **row)


def _validation_line(exc: RequestValidationError | ValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    loc = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body",)) or "body"
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    return f"{loc}: {first.get('msg', 'invalid')}{more}"


def create_app(
    db_path: str | Path,
    *,
    ledger: str | Path | None = None,
    public_keys: str | Path | None = None,
    witnesses: str | Path | None = None,
    server_held_keys: str | Path | None = None,
    max_upload_mb: float = 256,
    min_count: int = 3,
) -> FastAPI:
    """Build the API over the store at ``db_path``.

    Parameters
    ----------
    db_path
        The DuckDB store (created on first use). The server opens it per request, so ``vdto``
        commands can use it between requests; run one server process per store.
    ledger
        The publication ledger (JSON Lines) announcements are appended to and the public reads.
        Without it, rounds cannot be announced and ``/public/ledger`` answers 404.
    public_keys
        A folder of the agencies' ``<agency>.pub``: the rule entry that starts a new ledger
        declares them, and ``/public/ledger/verify`` pins them.
    witnesses
        A folder of the witnesses' ``*.vkey`` whose cosignatures ``/public/ledger/cosignatures``
        accepts (none without it).
    server_held_keys
        Off by default: the agencies sign on their own machines (``vdto sign``) and the server
        holds no private key. For a single-agency deployment only, a folder of ``<agency>.key``
        (mode 0600) the server signs announcements and closings with itself when a publisher asks
        (its ``<agency>.pub`` are used as ``public_keys`` when those are not given). It keeps
        private keys on the server: whoever controls the server can sign as the agency.
    max_upload_mb
        The largest upload accepted (the whole request body), in MiB.
    min_count
        Event counts below this are withheld from public region scores.

    Returns
    -------
    FastAPI
        The application (serve it with one uvicorn worker).
    """
    settings = Settings(
        db=Path(db_path),
        ledger=Path(ledger) if ledger is not None else None,
        server_held_keys=Path(server_held_keys) if server_held_keys is not None else None,
        public_keys=Path(public_keys) if public_keys is not None else None,
        witnesses=Path(witnesses) if witnesses is not None else None,
        max_upload_bytes=int(max_upload_mb * (1 << 20)),
        min_count=min_count,
    )
    ctx = Context(settings, StoreAccess(settings.db))
    app = FastAPI(
        title="vdto API",
        version=vdto.__version__,
        description=DESCRIPTION,
        redoc_url=None,
        openapi_tags=[
            {"name": "public", "description": "Read-only, no token: the published record."},
            {"name": "agency", "description": "Token-authenticated: each agency's own space and the rounds."},
        ],
    )
    app.state.vdto = ctx
    # the event list's and the region map's own caches (made here, not by a first request, so
    # two first requests cannot each make one); the shared ctx.cache keeps the public scorecard
    app.state.events_cache = Cache(size=256)
    app.state.regions_cache = Cache(size=64)
    app.include_router(public.router, responses=PUBLIC_ERRORS)
    app.include_router(agency.router, responses=ERRORS)
    for extra in (explore, compare, maps, networks, simulations, persons):
        app.include_router(extra.router, responses=ERRORS)
    app.include_router(ui.router)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.detail, problems=exc.problems)

    @app.exception_handler(VdtoError)
    async def _vdto_error(request: Request, exc: VdtoError) -> JSONResponse:
        return _error(status_of(exc), exc.line(spell))

    @app.exception_handler(StoreBusy)
    async def _busy(request: Request, exc: StoreBusy) -> JSONResponse:
        return _error(503, str(exc), {"Retry-After": "5"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_line(exc))

    @app.exception_handler(ValidationError)
    async def _invalid_model(request: Request, exc: ValidationError) -> JSONResponse:
        return _error(422, _validation_line(exc))

    @app.exception_handler(SensitiveFieldError)
    async def _sensitive(request: Request, exc: SensitiveFieldError) -> JSONResponse:
        log.error("%s %s: %s", request.method, request.url.path, exc)
        return _error(500, "this answer was withheld: it would have carried a sensitive field")

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        rid = request.scope.get("state", {}).get("request_id", "-")
        log.error("internal error in %s %s (request %s)", request.method, request.url.path, rid, exc_info=exc)
        return _error(500, f"internal error (request {rid}); the server log has the details")

    app.add_middleware(AuditMiddleware, context=ctx)
    return app


def openapi_document() -> dict:
    """The API's OpenAPI document (what docs/openapi.json holds)."""
    return create_app("unused.duckdb").openapi()


def main() -> None:
    """``python -m vdto.api.app``: print the OpenAPI document (to refresh docs/openapi.json)."""
    print(json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=False))


if __name__ == "__main__":
    main()
