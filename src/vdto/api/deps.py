"""The server's settings and the request dependencies: the store, the caller and its role."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from vdto.access import audit
from vdto.access.tokens import Principal, check_token
from vdto.api.access import Cache, StoreAccess
from vdto.errors import (
    ConfigError,
    ConflictError,
    InputFileError,
    PermissionDenied,
    RowErrors,
    UnknownNameError,
    VdtoError,
    spelling,
)
from vdto.names import AGENCY_PATTERN

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An agency token: `Authorization: Bearer vdto_<id>_<secret>` (see `vdto tokens create`).",
)


@dataclass
class Settings:
    """What ``create_app`` was given.

    ``public_keys`` is a folder of the agencies' ``AGENCY.pub`` (the rule entry of a new ledger
    declares them; ``/public/ledger/verify`` pins them); ``witnesses`` a folder of the witnesses'
    ``*.vkey`` whose cosignatures the server accepts. ``server_held_keys`` is off by default: a
    folder of ``AGENCY.key`` the server signs with itself (a single-agency deployment's opt-in; it
    keeps private keys on the server).
    """

    db: FsPath
    ledger: FsPath | None = None
    server_held_keys: FsPath | None = None
    public_keys: FsPath | None = None
    witnesses: FsPath | None = None
    max_upload_bytes: int = 256 << 20
    max_body_bytes: int = 1 << 20
    min_count: int = 3


class FailureLog:
    """Which failed authentications of read requests get an audit row: at most ``per_minute`` a
    minute; the rest are counted and the next row written says how many were left out (so a
    flood of bad tokens cannot fill the log, and is still seen)."""

    def __init__(self, per_minute: int = 60) -> None:
        self.per_minute = per_minute
        self.minute = -1
        self.written = 0
        self.skipped = 0
        self.lock = threading.Lock()

    def admit(self, now: float) -> tuple[bool, int]:
        """Whether to write a row now, and how many failures were left out before it."""
        with self.lock:
            minute = int(now // 60)
            if minute != self.minute:
                self.minute, self.written = minute, 0
            if self.written >= self.per_minute:
                self.skipped += 1
                return False, 0
            self.written += 1
            skipped, self.skipped = self.skipped, 0
            return True, skipped


class MissLimiter:
    """A token bucket for answers anonymous clients make the server compute (cache misses):
    ``rate`` a second, up to ``burst`` at once; cached answers never wait (so clients asking for
    ever new answers cannot take the cores the public scorecard needs)."""

    def __init__(self, rate: float = 2.0, burst: float = 2.0) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.at = burst, 0.0
        self.lock = threading.Lock()

    def admit(self, now: float) -> bool:
        with self.lock:
            self.tokens = (
                min(self.burst, self.tokens + (now - self.at) * self.rate) if self.at else self.tokens
            )
            self.at = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return True
            return False


@dataclass
class Context:
    """Shared by every request of one server."""

    settings: Settings
    access: StoreAccess
    cache: Cache = field(default_factory=Cache)
    _flights: dict = field(default_factory=dict)
    failures: FailureLog = field(default_factory=lambda: FailureLog())
    misses: MissLimiter = field(default_factory=lambda: MissLimiter())
    #: anonymous writes (witness cosignatures): 1 a second, 10 at once
    public_writes: MissLimiter = field(default_factory=lambda: MissLimiter(rate=1.0, burst=10.0))

    def flight(self, key: object) -> asyncio.Lock:
        """An asyncio lock per cache key, so that only one request rebuilds a missing answer."""
        if len(self._flights) > 256:
            self._flights.clear()
        return self._flights.setdefault(key, asyncio.Lock())


#: How the API names a library parameter where it is not the parameter's own name.
FIELD_NAMES: dict[str, str] = {
    "start": "from",
    "end": "to",
    "window": "from/to",
    "skip_bad_rows": "skip_bad_rows=true",
    "report": "the problems list",
    "use_counts": "a measure the store holds",
    "ledger": "ledger (the operator must start the server with --ledger FILE)",
    "public_keys": "the agencies' public keys (the operator must start the server with --public-keys DIR)",
    # actions a fix may point to (done by the server's operator)
    "register": "the registry (`vdto orgs add` or `vdto orgs alias` on the server)",
    "list_orgs": "the registry (`vdto orgs list` on the server)",
}


#: A library parameter as the API names it (a JSON field or query parameter).
spell = spelling(FIELD_NAMES)


def status_of(exc: VdtoError) -> int:
    """The HTTP status of a library error: 422 for a bad file or config, 404 for an unknown name,
    403 for what the caller may not do, 409 for what the state does not allow, else 400."""
    if isinstance(exc, RowErrors | InputFileError | ConfigError):
        return 422
    if isinstance(exc, UnknownNameError):
        return 404
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, ConflictError):
        return 409
    return 400


class ApiError(Exception):
    """An answer other than 200, with one line of detail (and row problems for a rejected upload)."""

    def __init__(self, status: int, detail: str, problems: list[dict] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.problems = problems


async def context(request: Request) -> Context:
    """The server's shared context (async: a sync dependency would cost a worker-thread hop)."""
    return request.app.state.vdto


def _state(request: Request) -> dict:
    """The request's scope state (what the audit middleware reads)."""
    return request.scope.setdefault("state", {})


def request_id(request: Request) -> str:
    """The id tying a request's audit rows together (set by the audit middleware for writes)."""
    return _state(request).setdefault("request_id", uuid.uuid4().hex[:16])


def set_action(request: Request, action: str) -> None:
    """Name what a write asks for, for the audit log."""
    _state(request)["action"] = action


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def _lookup(ctx: Context, token: str) -> tuple[Principal | None, str]:
    with ctx.access.read() as store:
        return check_token(store, token)


async def principal(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ctx: Context = Depends(context),
) -> Principal:
    """The caller of an agency endpoint: 401 without a valid, unrevoked token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("no token: send the header 'Authorization: Bearer <token>'")
    found, why = await run_in_threadpool(_lookup, ctx, credentials.credentials)
    state = _state(request)
    if found is None:
        state["auth_failure"] = why
        if request.method in ("GET", "HEAD", "OPTIONS"):  # writes are audited by the middleware
            await run_in_threadpool(_audit_failed_read, ctx, request, why)
        raise _unauthorized("the token is not valid (unknown, mistyped, revoked or expired)")
    state["principal"] = found
    return found


def _audit_failed_read(ctx: Context, request: Request, why: str) -> None:
    """One audit row for a read refused for its token (rate-limited by :class:`FailureLog`)."""
    write, skipped = ctx.failures.admit(time.time())
    if not write:
        return
    detail = why + (f" ({skipped} earlier failures in the last minutes not recorded)" if skipped else "")
    with ctx.access.write() as store:
        audit.record(store, request_id=request_id(request), actor="anonymous", agency=None, role=None,
                     method=request.method, path=request.url.path, action="none", outcome="refused", status=401,
                     detail=detail)  # fmt: skip


def check_agency(who: Principal, agency: str) -> None:
    """403 unless the caller's token belongs to ``agency``."""
    if who.agency != agency:
        raise HTTPException(
            403, f"a token of agency {who.agency!r} cannot act for agency {agency!r}; use that agency's token"
        )


def check_role(who: Principal, role: str, what: str) -> None:
    """403 unless the caller holds ``role``."""
    if who.role != role:
        raise HTTPException(403, f"{what} needs a {role} token; this token's role is {who.role}")


def start_write(request: Request, ctx: Context, who: Principal, action: str, detail: str = "") -> None:
    """Record that an authorised write begins (its outcome is recorded when it ends).

    Runs in a worker thread; nothing is done unless this row is written.
    """
    set_action(request, action)
    with ctx.access.write() as store:
        audit.record(
            store,
            request_id=request_id(request),
            actor=who.actor,
            agency=who.agency,
            role=who.role,
            method=request.method,
            path=request.url.path,
            action=action,
            outcome="started",
            detail=detail or None,
        )
    _state(request)["started"] = True


# the parameters every agency endpoint takes, spelled once
#: The ``{agency}`` of a path.
Agency = Annotated[str, Path(pattern=AGENCY_PATTERN, description="The agency.")]
#: The caller, from its token (401 without a valid one).
Caller = Annotated[Principal, Depends(principal)]
#: The server's context (settings, store access, caches).
Ctx = Annotated[Context, Depends(context)]
