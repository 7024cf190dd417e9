"""API tokens: random bearer secrets, stored only as salted hashes, each with an agency and a role.

A token looks like ``vdto_<id>_<secret>``: ``<id>`` (12 hex characters) names the token in lists,
logs and the audit trail; ``<secret>`` (32 random bytes, URL-safe base64) is shown once, when the
token is created, and never stored. The store keeps a random per-token salt and
``HMAC-SHA256(salt, secret)``; a presented token is checked with a constant-time comparison.

Roles (exactly one per token; no role includes another):

``analyst``
    imports its agency's data, scores it, opens rounds its agency takes part in.
``publisher``
    announces (co-signs) and closes rounds its agency takes part in.
``admin``
    creates, lists and revokes its own agency's tokens and reads its agency's audit trail.

There is no global administrator in the API: the first admin token of an agency is created
with ``vdto tokens create --agency NAME --role admin`` by whoever runs the server (and so can
write the store file).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vdto.errors import ConflictError, UnknownNameError, VdtoError
from vdto.names import check_agency
from vdto.store import Store
from vdto.store.tokens import TokenInfo, stamp

ROLES: tuple[str, ...] = ("analyst", "publisher", "admin")
"""The roles a token can hold."""

PREFIX = "vdto"
_TOKEN = re.compile(r"^vdto_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_TOKEN_ID = re.compile(r"^[0-9a-f]{12}$")


@dataclass(frozen=True)
class Principal:
    """Who a valid token speaks for."""

    token_id: str
    agency: str
    role: str
    label: str = ""

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"token:{self.token_id}"


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`, else a one-line error."""
    if role not in ROLES:
        raise VdtoError(f"unknown role {role!r}", fix=f"use one of: {', '.join(ROLES)}", param="role")
    return role


def _digest(salt: str, secret: str) -> str:
    return hmac.new(bytes.fromhex(salt), secret.encode("ascii"), hashlib.sha256).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


#: Days a token works unless created with another lifetime (rotate before then).
DEFAULT_DAYS = 90
#: The longest lifetime a token may be given.
MAX_DAYS = 366


def create_token(
    store: Store,
    agency: str,
    role: str,
    *,
    label: str = "",
    created_by: str = "cli",
    days: int = DEFAULT_DAYS,
) -> tuple[str, TokenInfo]:
    """Create a token for ``agency`` with ``role``.

    Parameters
    ----------
    store
        A store opened for writing.
    agency
        The agency (agency) the token acts for.
    role
        One of :data:`ROLES`.
    label
        A note saying whose token this is (at most 200 characters).
    created_by
        Who creates it, for the record (``cli`` or ``token:<id>``).
    days
        How long it works (1 to :data:`MAX_DAYS`; default :data:`DEFAULT_DAYS`): after that it is
        refused as expired, and a new one is made with :func:`rotate_token`.

    Returns
    -------
    tuple[str, TokenInfo]
        The token (shown once: only its salted hash is stored) and its listing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with Store(pathlib.Path(tempfile.mkdtemp()) / "t.duckdb") as store:
    ...     token, info = create_token(store, "mx", "analyst", label="ana")
    ...     authenticate(store, token) == Principal(info.token_id, "mx", "analyst", "ana")
    True
    """
    check_agency(agency)
    check_role(role)
    label = " ".join((label or "").split())
    if len(label) > 200:
        raise VdtoError("the label is longer than 200 characters", fix="shorten it", param="label")
    if not 1 <= int(days) <= MAX_DAYS:
        raise VdtoError(f"a token lives 1 to {MAX_DAYS} days (got {days})", fix=f"use e.g. {DEFAULT_DAYS}",
                        param="days")  # fmt: skip
    token_id, secret, salt = secrets.token_hex(6), secrets.token_urlsafe(32), secrets.token_hex(16)
    now = _now()
    expires = now + timedelta(days=int(days))
    store.tokens.add(token_id, agency, role, label, salt, _digest(salt, secret), now, created_by, expires)
    return f"{PREFIX}_{token_id}_{secret}", store.tokens.info(token_id) or TokenInfo(
        token_id, agency, role, label, stamp(now) or "", created_by, None, None, stamp(expires)
    )


def rotate_token(store: Store, token_id: str, *, agency: str | None = None, rotated_by: str = "cli",
                 days: int = DEFAULT_DAYS) -> tuple[str, TokenInfo]:  # fmt: skip
    """A new token with the same agency, role and label, and the old one revoked, in that order
    (the old one keeps working until the new one exists)."""
    old = get_token(store, token_id, agency=agency)
    if old.revoked_at is not None:
        raise ConflictError(
            f"token {token_id} is revoked", fix="create a new token instead", param="token_id"
        )
    token, info = create_token(store, old.agency, old.role, label=old.label, created_by=rotated_by, days=days)
    store.tokens.revoke(token_id, _now(), f"{rotated_by} (rotated to {info.token_id})")
    return token, info


def get_token(store: Store, token_id: str, *, agency: str | None = None) -> TokenInfo:
    """A token's listing; an unknown id (or one of another agency when ``agency`` is given) is an error."""
    info = store.tokens.info(token_id) if _TOKEN_ID.match(token_id or "") else None
    if info is None or (agency is not None and info.agency != agency):
        where = f" of agency {agency!r}" if agency is not None else ""
        raise UnknownNameError(
            f"no token {token_id!r}{where}", fix="list the tokens to see their ids", param="token_id"
        )
    return info


def revoke_token(
    store: Store, token_id: str, *, agency: str | None = None, revoked_by: str = "cli"
) -> TokenInfo:
    """Revoke a token (it stops working at once); revoking twice is an error.

    With ``agency``, only a token of that agency can be revoked (an admin manages its own).
    """
    info = get_token(store, token_id, agency=agency)
    if info.revoked_at is not None:
        raise ConflictError(f"token {token_id} is already revoked", fix="nothing to do", param="token_id")
    store.tokens.revoke(token_id, _now(), revoked_by)
    return get_token(store, token_id)


def list_tokens(store: Store, agency: str | None = None) -> list[TokenInfo]:
    """Every token (of ``agency`` when given), oldest first; never a secret or a hash."""
    return store.tokens.listing(agency)


def parse_token(token: str) -> tuple[str, str] | None:
    """``(token_id, secret)`` of a well-formed token, else None."""
    m = _TOKEN.match(token or "")
    return (m.group(1), m.group(2)) if m else None


def authenticate(store: Store, token: str) -> Principal | None:
    """The principal of a valid, unrevoked token; None for anything else (malformed, unknown, revoked)."""
    principal, _ = check_token(store, token)
    return principal


def check_token(store: Store, token: str) -> tuple[Principal | None, str]:
    """Like :func:`authenticate`, with the reason a token is refused (for the audit log)."""
    parsed = parse_token(token)
    if parsed is None:
        return None, "malformed token"
    token_id, secret = parsed
    row = store.tokens.secret_check(token_id)
    if row is None:
        # compare anyway, so that an unknown id takes as long as a wrong secret
        hmac.compare_digest(_digest("00" * 16, secret), "0" * 64)
        return None, f"unknown token {token_id}"
    agency, role, label, salt, digest, revoked_at, expires_at = row
    if not hmac.compare_digest(_digest(salt, secret), digest):
        return None, f"wrong secret for token {token_id}"
    if revoked_at is not None:
        return None, f"token {token_id} is revoked"
    if expires_at is not None and expires_at <= _now():
        return None, f"token {token_id} expired on {stamp(expires_at)}"
    return Principal(token_id, agency, role, label or ""), ""
