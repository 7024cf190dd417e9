"""Ledger signing by the agencies' own clients: the server never needs a private key.

Announcing or closing a round appends one entry to the ledger that every agency of the round
signs. The server makes the signing request (:func:`~vdto.publication.rounds.announcement_request`,
:func:`~vdto.publication.rounds.closing_request`) and keeps it in the store as the round's pending
request for that purpose (``announce`` or ``close``). Each agency's publisher fetches it, signs it
on its own machine (``vdto sign REQUEST --key AGENCY.key``) and sends the detached signature back.
A signature is checked when it arrives, against exactly the request's bytes and the key the request
names for that agency (the same check the assembler makes): a bad one is a 4xx and nothing is kept.
The last one makes the server assemble the entry (:func:`~vdto.publication.rounds.announce_signed`,
:func:`~vdto.publication.rounds.close_signed`), which checks everything again under the ledger's
lock. On an empty ledger the first request is the rule entry (declaring every agency's public key,
from the server's ``--public-keys`` folder); once it is appended the announcement request follows.

Here is no web framework beyond :class:`ApiError`: the endpoints are in :mod:`vdto.api.agency`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from vdto.access.tokens import Principal
from vdto.api.deps import ApiError, Context, spell, status_of
from vdto.errors import VdtoError
from vdto.store import Round, Store

PURPOSES = ("announce", "close")


def ledger_path(ctx: Context) -> Path:
    """The server's ledger, or a 409 saying the operator must give one."""
    if ctx.settings.ledger is None:
        raise ApiError(409, "this server keeps no ledger; the operator must start it with --ledger FILE")
    return ctx.settings.ledger


@contextmanager
def ledger_errors(path: Path) -> Iterator[None]:
    """Library errors as one-line 4xx answers that never name the server's files."""
    from vdto.publication.ledger import checkpoints_path

    try:
        yield
    except VdtoError as exc:
        server = {str(path), str(checkpoints_path(path))}
        raise ApiError(status_of(exc), exc.what if exc.where in server else exc.line(spell)) from None


def ledger_state(path: Path) -> tuple[int, str]:
    """The ledger's number of entries and last hash (it must verify)."""
    from vdto.publication.ledger import ZERO_HASH, Ledger

    with ledger_errors(path):
        entries = Ledger(path).entries()
    return len(entries), (entries[-1]["hash"] if entries else ZERO_HASH)


def is_current(request: dict[str, Any], state: tuple[int, str]) -> bool:
    """Whether ``request`` still appends to the ledger as it is (the ledger did not move on)."""
    entry = request.get("entry")
    return isinstance(entry, dict) and entry.get("seq") == state[0] + 1 and entry.get("prev") == state[1]


def signers_of(request: dict[str, Any]) -> list[str]:
    """The agencies a request asks to sign."""
    return sorted({str(row["agency"]) for row in request["signers"]})


def public_keys(ctx: Context) -> dict[str, str]:
    """The agencies' public keys the server holds (``--public-keys``, else the ``.pub`` files in the
    ``--server-held-keys`` folder)."""
    from vdto.publication.keys import load_trusted

    folder = ctx.settings.public_keys or ctx.settings.server_held_keys
    if folder is None or not any(folder.glob("*.pub")):
        return {}
    try:
        return load_trusted([folder])
    except VdtoError as exc:
        raise ApiError(409, f"the server's public keys cannot be read ({exc.what})") from None


def _rule_keys(ctx: Context, rnd: Round) -> dict[str, str]:
    keys = public_keys(ctx)
    if missing := [a for a in rnd.agencies if a not in keys]:
        raise ApiError(
            409,
            "the ledger is empty, so the first request is its rule entry, which declares every agency's public "
            f"key; this server has none for {missing[0]!r}: the operator must start it with --public-keys DIR "
            f"holding {missing[0]}.pub",
        )
    return {a: keys[a] for a in rnd.agencies}


def _check_status(rnd: Round, purpose: str) -> None:
    if purpose == "announce" and rnd.status != "open":
        raise ApiError(409, f"round {rnd.round_id} is {rnd.status}, not open: there is nothing to announce")
    if purpose == "close" and rnd.status == "closed":
        raise ApiError(409, f"round {rnd.round_id} is already closed")


def _round(store: Store, round_id: int) -> Round:
    rnd = store.rounds.get(round_id)
    if rnd is None:
        raise ApiError(404, f"no round {round_id}")
    return rnd


def _put(store: Store, rnd: Round, purpose: str, request: dict[str, Any], old: dict[str, Any] | None) -> None:
    with store.transaction() as con:
        store.rounds.put_signing_request(con, rnd.round_id, purpose, request)
        store.rounds.log(con, rnd.round_id, "signing-request",
                         {"purpose": purpose, "kind": request["entry"]["kind"], "seq": request["entry"]["seq"],
                          "request_sha256": request["sha256"], "replaces": old["sha256"] if old else None})  # fmt: skip


def find_current(store: Store, ctx: Context, round_id: int, purpose: str) -> dict[str, Any] | None:
    """The round's pending request for ``purpose`` when it still applies to the ledger, else None."""
    rnd = _round(store, round_id)
    _check_status(rnd, purpose)
    pending = store.rounds.signing_request(round_id, purpose)
    if pending is not None and is_current(pending, ledger_state(ledger_path(ctx))):
        return pending
    return None


def current_request(store: Store, ctx: Context, round_id: int, purpose: str) -> dict[str, Any]:
    """The round's pending request for ``purpose``, made (or made again, when the ledger moved on
    since) and kept in the store. ``store`` is open for writing.

    An announcement's request is made on first call (the rule entry's first, on an empty ledger);
    a closing's only by ``POST /rounds/{id}/close``.
    """
    from vdto.publication.rounds import announcement_request, closing_request

    path = ledger_path(ctx)
    rnd = _round(store, round_id)
    _check_status(rnd, purpose)
    pending = store.rounds.signing_request(round_id, purpose)
    state = ledger_state(path)
    if pending is not None and is_current(pending, state):
        return pending
    with ledger_errors(path):
        if purpose == "announce":
            keys = _rule_keys(ctx, rnd) if state[0] == 0 else None
            request = announcement_request(store, round_id, path, keys)
        else:
            if pending is None:
                raise ApiError(404, f"round {round_id} has no closing request pending; a publisher of the round "
                                    f"asks for one with POST /rounds/{round_id}/close")  # fmt: skip
            p = pending["entry"]["payload"]
            request = closing_request(store, round_id, str(p["outcome"]), str(p.get("reason") or ""), path,
                                      on=date.fromisoformat(str(p["on"])))  # fmt: skip
    _put(store, rnd, purpose, request, pending)
    return request


def closing(
    store: Store, ctx: Context, round_id: int, who: Principal, outcome: str, reason: str, on: date | None
) -> dict[str, Any]:
    """The pending request that closes an announced round as ``outcome``: the one pending when it
    says the same, else a new one (replacing a pending one only when no other agency signed it)."""
    from vdto.publication.rounds import closing_request

    path = ledger_path(ctx)
    rnd = _round(store, round_id)
    _check_status(rnd, "close")
    pending = store.rounds.signing_request(round_id, "close")
    state = ledger_state(path)
    if pending is not None:
        p = pending["entry"]["payload"]
        wanted = (outcome, reason, str(on) if on is not None else p["on"])
        if wanted == (p["outcome"], p["reason"], p["on"]):
            if is_current(pending, state):
                return pending
            on = date.fromisoformat(str(p["on"]))
        else:
            others = [a for a in store.rounds.request_signatures(pending["sha256"]) if a != who.agency]
            if others:
                raise ApiError(409, f"round {round_id} has a pending closing request as {p['outcome']} "
                                    f"({p['reason'] or 'no reason given'}, on {p['on']}) that {', '.join(others)} "
                                    f"signed already; sign that one (GET /rounds/{round_id}/signing-request?purpose=close), "
                                    f"or settle it with {', '.join(others)}")  # fmt: skip
    with ledger_errors(path):
        request = closing_request(store, round_id, outcome, reason, path, on=on)
    _put(store, rnd, "close", request, pending)
    return request


def signature_problem(request: dict[str, Any], sig: dict[str, Any]) -> str | None:
    """Why ``sig`` is not a valid signature of ``request`` (one line naming the field), or None.

    The assembler's own check (:meth:`vdto.publication.ledger.Ledger.assemble`): the agency and
    key must be a signer the request names, and each part the request asks that signer for must
    be an Ed25519 signature of exactly the request's bytes by that key.
    """
    from vdto.publication.ledger import bad_signature_part

    agency = sig["agency"]
    rows = [r for r in request["signers"] if r["agency"] == agency]
    if not rows:
        return (
            f"agency: the request does not ask {agency!r} to sign (it asks {', '.join(signers_of(request))})"
        )
    row = next((r for r in rows if r["key"] == sig["key"]), None)
    if row is None:
        return (f"key: the signature is made with key {str(sig['key'])[:8]}…, not {agency}'s key in force "
                f"({rows[0]['key'][:8]}…) that the request names; sign with that key")  # fmt: skip
    if part := bad_signature_part(request, row, sig):
        return (f"{part}_sig: the {part} signature by {agency!r} is not over the request's bytes; "
                "sign exactly this request, unchanged (vdto sign)")  # fmt: skip
    return None


def _last_entry(path: Path) -> dict[str, Any]:
    line = path.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    entry = json.loads(line)
    return {"seq": entry["seq"], "kind": entry["kind"], "hash": entry["hash"]}


def signed_by(store: Store, round_id: int) -> list[str]:
    """The agencies that signed a round's announcement: through ``POST /rounds/{id}/announce``
    (server-held keys), into the ledger entry that announced it, or by sending their signature of
    its pending announce request."""
    names = set(store.rounds.signoffs(round_id)) | set(store.rounds.announcement_signers(round_id) or [])
    pending = store.rounds.signing_request(round_id, "announce")
    if pending is not None:
        names |= set(store.rounds.request_signatures(pending["sha256"]))
    return sorted(names)


def accept_signature(
    store: Store, ctx: Context, round_id: int, who: Principal, sig: dict[str, Any], purpose: str | None
) -> dict[str, Any]:
    """Check an agency's detached signature of the round's pending request and keep it; with the
    last one, append the entry (and close or announce the round). Nothing is kept or appended
    unless it is valid. Returns what :class:`~vdto.api.models.SignatureResult` shows, with the round."""
    from vdto.publication.rounds import announce_signed, announcement_request, close_signed

    path = ledger_path(ctx)
    rnd = _round(store, round_id)
    pending = {
        p: r for p in PURPOSES if purpose in (None, p) and (r := store.rounds.signing_request(round_id, p))
    }
    if not pending:
        what = f"{purpose} " if purpose else ""
        raise ApiError(409, f"round {round_id} has no pending {what}signing request; get one with "
                            f"GET /rounds/{round_id}/signing-request?purpose={purpose or 'announce'}")  # fmt: skip
    match = next(((p, r) for p, r in pending.items() if r["sha256"] == sig["request_sha256"]), None)
    if match is None:
        p, r = next(iter(pending.items()))
        raise ApiError(422, f"request_sha256: the signature is for another request ({sig['request_sha256'][:12]}…), "
                            f"not round {round_id}'s pending {p} request ({r['sha256'][:12]}…); fetch that with "
                            f"GET /rounds/{round_id}/signing-request?purpose={p} and sign it")  # fmt: skip
    purpose, request = match
    _check_status(rnd, purpose)
    state = ledger_state(path)
    if not is_current(request, state):
        raise ApiError(409, f"the ledger moved on since request {request['sha256'][:12]}… was made (it has {state[0]} "
                            f"entries now); fetch the new request with GET /rounds/{round_id}/signing-request"
                            f"?purpose={purpose} and sign that")  # fmt: skip
    if problem := signature_problem(request, sig):
        raise ApiError(422, problem)
    done = store.rounds.request_signatures(request["sha256"])
    if sig["agency"] in done:
        raise ApiError(409, f"agency {sig['agency']!r} has already signed request {request['sha256'][:12]}…")
    signatures = {**done, sig["agency"]: sig}
    required = signers_of(request)
    waiting = [a for a in required if a not in signatures]
    kind = request["entry"]["kind"]
    appended: dict[str, Any] | None = None
    following: dict[str, Any] | None = None
    if not waiting:
        with ledger_errors(path):
            if purpose == "announce":
                rnd = announce_signed(store, round_id, path, request, [signatures[a] for a in required])
            else:
                rnd = close_signed(store, round_id, path, request, [signatures[a] for a in required])
        appended = _last_entry(path)
        if kind == "rule":
            try:
                following = announcement_request(store, round_id, path)
            except VdtoError:  # made on the next GET instead
                following = None
    with store.transaction() as con:
        store.rounds.add_request_signature(con, round_id, purpose, sig, who.token_id)
        if not waiting:
            store.rounds.clear_signing_request(con, round_id, purpose)
        if following is not None:
            store.rounds.put_signing_request(con, round_id, "announce", following)
        store.rounds.log(con, round_id, "sign", {"purpose": purpose, "agency": sig["agency"], "kind": kind,
                                                 "request_sha256": request["sha256"], "appended": appended})  # fmt: skip
    sha = request["sha256"][:12] + "…"
    if waiting:
        step = (f"waiting for {', '.join(waiting)} to sign request {sha} (GET /rounds/{round_id}/signing-request"
                f"?purpose={purpose}, vdto sign, POST /rounds/{round_id}/signatures)")  # fmt: skip
    elif kind == "rule":
        step = (f"the rule entry starts the ledger (entry {appended['seq'] if appended else 1}); every agency "
                f"now signs the announcement: GET /rounds/{round_id}/signing-request?purpose=announce")  # fmt: skip
    elif purpose == "announce":
        step = f"round {round_id} is announced (ledger entry {appended['seq'] if appended else '?'})"
    else:
        step = (
            f"round {round_id} is closed: {rnd.outcome} (ledger entry {appended['seq'] if appended else '?'})"
        )
    return {
        "round": rnd,
        "purpose": purpose,
        "request_sha256": request["sha256"],
        "signed_by": sorted(signatures),
        "waiting_for": waiting,
        "appended": appended,
        "next": step,
    }
