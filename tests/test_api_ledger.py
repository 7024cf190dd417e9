"""The ledger through the HTTP API: signing where the key lives, checkpoints, proofs, witnesses.

The server holds no private key (the default): each agency's publisher fetches the round's
signing request, signs it with its own key (``sign_request``, what ``vdto sign`` runs on the
agency's machine) and sends the detached signature; the last one makes the server append.
A bad signature is a 4xx with one line and nothing is stored or appended. The public reads
serve the signed checkpoints, inclusion and consistency proofs as ``Ledger`` makes them, and
witnesses the operator configured send back cosigned checkpoints.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from vdto.api.deps import MissLimiter
from vdto.publication.keys import Signer
from vdto.publication.ledger import (
    Ledger,
    request_bytes,
    sign_request,
    verify,
    verify_consistency,
    verify_proof,
)
from vdto.publication.note import parse_note
from vdto.publication.witness import cosign, load_witness_keys, new_witness
from vdto.store import Store

from .conftest import run_here
from .test_api import Api, base  # noqa: F401 - the store with mx, us and zz, round 1 open

WITNESS = "news.example/witness"


def one_line(res, *needles: str) -> str:
    detail = res.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail, detail
    for needle in needles:
        assert needle in detail, detail
    return detail


@pytest.fixture(scope="module")
def witness(tmp_path_factory) -> tuple[Path, Path]:
    """A witness's own folder (its key) and the operator's folder of accepted *.vkey."""
    own = tmp_path_factory.mktemp("witness") / "news"
    new_witness(WITNESS, own)
    accepted = own.parent / "accepted"
    accepted.mkdir()
    shutil.copy(own / "witness.vkey", accepted / "news.vkey")
    return own, accepted


@pytest.fixture
def api(base, witness, tmp_path) -> Api:  # noqa: F811 - the test_api fixture, used here
    """No server-held keys: the agencies' public keys and the accepted witnesses only."""
    folder = base[0]
    public = tmp_path / "public"
    public.mkdir()
    for agency in ("mx", "us", "zz"):
        shutil.copy(folder / "keys" / f"{agency}.pub", public / f"{agency}.pub")
    server = Api(*base, tmp_path, server_held_keys=None, public_keys=public, witnesses=witness[1])
    server.app.state.vdto.misses = MissLimiter(rate=1e9, burst=1e9)  # rates are test_rate.py's
    server.app.state.vdto.public_writes = MissLimiter(rate=1e9, burst=1e9)
    return server


def signer(api: Api, agency: str) -> Signer:
    """The agency's key, on its own machine."""
    return Signer.load(api.keys / f"{agency}.key")


def trusted(api: Api) -> dict[str, str]:
    return {a: (api.keys / f"{a}.pub").read_text().strip() for a in ("mx", "us")}


def fetch(api: Api, agency: str = "mx", purpose: str = "announce") -> dict:
    res = api.call("GET", f"/rounds/1/signing-request?purpose={purpose}", (agency, "publisher"))
    assert res.status_code == 200, res.text
    return res.json()


def send(api: Api, agency: str, signature: dict, who: str | None = None, **query):
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return api.call(
        "POST",
        "/rounds/1/signatures" + (f"?{params}" if params else ""),
        (who or agency, "publisher"),
        json=signature,
    )


def sign_all(api: Api, purpose: str = "announce") -> dict:
    """Every agency fetches the pending request and sends its own signature; the last answer."""
    request = fetch(api, "mx", purpose)
    last = {}
    for agency in ("mx", "us"):
        res = send(api, agency, sign_request(request, signer(api, agency)))
        assert res.status_code == 200, res.text
        last = res.json()
    return last


def announce(api: Api) -> None:
    assert sign_all(api)["appended"]["kind"] == "rule"
    assert sign_all(api)["appended"]["kind"] == "announcement"


def stored(api: Api) -> dict:
    """What a refused signature must leave as it was: the ledger, its checkpoints, the requests."""
    with Store(api.db, read_only=True) as store:
        out = {t: store.query(f"SELECT * FROM {t}").to_csv(index=False)
               for t in ("rounds", "signing_requests", "request_signatures")}  # fmt: skip
    for path in (api.ledger, Path(str(api.ledger) + ".checkpoints")):
        out[path.name] = path.read_bytes() if path.exists() else None
    return out


# ------------------------------------------------------------------- signing where the key lives


def test_two_agencies_announce_with_their_own_signatures(api):
    res = api.call("POST", "/rounds/1/announce", ("mx", "publisher"))
    assert res.status_code == 409
    one_line(res, "holds no signing keys", "/rounds/1/signing-request", "vdto sign")
    # the first request on an empty ledger is the rule entry, declaring both agencies' keys
    rule = fetch(api, "mx")
    assert rule["entry"]["kind"] == "rule" and rule["entry"]["payload"]["agencies"] == trusted(api)
    assert fetch(api, "us") == rule  # one request, signed by every agency
    assert [s["agency"] for s in rule["signers"]] == ["mx", "us"]
    first = send(api, "mx", sign_request(rule, signer(api, "mx")))
    assert first.status_code == 200, first.text
    assert first.json()["waiting_for"] == ["us"] and first.json()["appended"] is None
    assert not api.ledger.exists()
    assert api.call("GET", "/rounds/1", ("us", "analyst")).json()["signed_by"] == ["mx"]
    second = send(api, "us", sign_request(rule, signer(api, "us"))).json()
    assert second["appended"]["seq"] == 1 and second["appended"]["kind"] == "rule"
    assert "announcement" in second["next"] and second["round"]["status"] == "open"
    # then the announcement itself
    request = fetch(api, "us")
    assert request["entry"]["kind"] == "announcement" and request["entry"]["seq"] == 2
    assert send(api, "us", sign_request(request, signer(api, "us"))).json()["waiting_for"] == ["mx"]
    done = send(api, "mx", sign_request(request, signer(api, "mx"))).json()
    assert done["appended"]["seq"] == 2 and done["round"]["status"] == "announced"
    assert done["round"]["ledger_hash"] == done["appended"]["hash"] and done["signed_by"] == ["mx", "us"]
    report = verify(api.ledger, trusted(api))
    assert report.ok and report.entries == 2 and report.checkpoint_size == 2
    assert api.client.get("/public/ledger/verify").json()["pinned"]
    assert api.client.get("/public/scorecard").json()["round"]["round_id"] == 1
    assert api.call("GET", "/rounds/1", ("zz", "analyst")).json()["signed_by"] == ["mx", "us"]
    res = api.call("GET", "/rounds/1/signing-request", ("mx", "publisher"))
    assert res.status_code == 409 and "not open" in one_line(res)
    # every write is on record: who sent which signature, and what it appended
    rows = [(r["action"], r["outcome"], r["actor"]) for r in api.audit_rows() if r["outcome"] != "started"]
    assert [(a, o) for a, o, _ in rows] == [("round.announce", "refused")] + [("round.sign", "ok")] * 4
    details = [r["detail"] for r in api.audit_rows() if r["action"] == "round.sign" and r["outcome"] == "ok"]
    assert "waiting for us" in details[0] and "rule entry" in details[1] and "announced" in details[3]
    with Store(api.db, read_only=True) as store:
        assert store.query("SELECT count(*) AS n FROM request_signatures")["n"][0] == 4
        assert store.query("SELECT count(*) AS n FROM signing_requests")["n"][0] == 0


def test_signing_needs_a_publisher_of_the_round_and_the_agencies_public_keys(api, base, tmp_path):  # noqa: F811
    assert api.call("GET", "/rounds/1/signing-request", ("mx", "analyst")).status_code == 403
    assert api.call("GET", "/rounds/1/signing-request", ("zz", "publisher")).status_code == 403
    assert api.call("GET", "/rounds/9/signing-request", ("mx", "publisher")).status_code == 404
    res = api.call("GET", "/rounds/1/signing-request?purpose=close", ("mx", "publisher"))
    assert res.status_code == 404 and "POST /rounds/1/close" in one_line(res)
    res = api.call("GET", "/rounds/1/signing-request?purpose=other", ("mx", "publisher"))
    assert res.status_code == 422 and one_line(res).startswith("query.purpose")
    (tmp_path / "bare").mkdir()
    bare = Api(*base, tmp_path / "bare", server_held_keys=None)  # no --public-keys
    res = bare.call("GET", "/rounds/1/signing-request", ("mx", "publisher"))
    assert res.status_code == 409 and one_line(res, "rule entry", "--public-keys", "mx.pub")
    assert not bare.ledger.exists()


def _other_bytes(request: dict, sig: dict, key: Signer) -> dict:
    return {**sig, "entry_sig": key.sign(b"other bytes")}


def _other_checkpoint(request: dict, sig: dict, key: Signer) -> dict:
    return {**sig, "checkpoint_sig": key.sign(request_bytes(request)[0] or b"")}


def _other_request(request: dict, sig: dict, key: Signer) -> dict:
    return {**sig, "request_sha256": "ab" * 32}


BAD = {
    # name: (who sends it, how the mx signature is changed, status, words of the one line)
    "over other bytes": ("mx", _other_bytes, 422, ("entry_sig", "not over the request's bytes")),
    "checkpoint over other bytes": ("mx", _other_checkpoint, 422, ("checkpoint_sig", "not over")),
    "for another request": ("mx", _other_request, 422, ("request_sha256", "another request")),
    "by the wrong agency's token": (
        "us",
        lambda r, s, k: s,
        403,
        ("agency", "cannot send a signature by 'mx'"),
    ),
    "an analyst's token": ("mx-analyst", lambda r, s, k: s, 403, ("publisher",)),
    "malformed": ("mx", lambda r, s, k: {**s, "entry_sig": "zz"}, 422, ("entry_sig",)),
    "an extra field": ("mx", lambda r, s, k: {**s, "note": "x"}, 422, ("note",)),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_signature_is_refused_and_nothing_is_appended(api, case):
    who, change, status, words = BAD[case]
    request = fetch(api)
    assert send(api, "us", sign_request(request, signer(api, "us"))).json()["waiting_for"] == ["mx"]
    before = stored(api)
    bad = change(request, sign_request(request, signer(api, "mx")), signer(api, "mx"))
    res = (
        api.call("POST", "/rounds/1/signatures", ("mx", "analyst"), json=bad)
        if who == "mx-analyst"
        else send(api, "mx", bad, who=who)
    )
    assert res.status_code == status, res.text
    one_line(res, *words)
    assert stored(api) == before  # the last signature would have appended: nothing was
    assert not api.ledger.exists()
    last = api.audit_rows()[-1]
    assert (
        last["action"] == "round.sign"
        and last["outcome"] in ("refused", "failed")
        and last["status"] == status
    )
    # the good one still completes the request
    assert send(api, "mx", sign_request(request, signer(api, "mx"))).json()["appended"]["seq"] == 1


def test_a_signature_by_another_key_or_twice_is_refused(api):
    request = fetch(api)
    zz = signer(api, "zz")
    entry, checkpoint = request_bytes(request)
    forged = {"vdto_signature": 1, "request_sha256": request["sha256"], "agency": "mx", "key": zz.public_hex,
              "entry_sig": zz.sign(entry or b""), "checkpoint_sig": zz.sign(checkpoint)}  # fmt: skip
    before = stored(api)
    res = send(api, "mx", forged)
    assert res.status_code == 422 and one_line(res, "key:", "key in force").startswith("key:")
    assert stored(api) == before
    mine = sign_request(request, signer(api, "mx"))
    assert send(api, "mx", mine).status_code == 200
    res = send(api, "mx", mine)
    assert res.status_code == 409 and "already signed" in one_line(res)
    res = send(api, "mx", mine, purpose="close")
    assert res.status_code == 409 and "no pending close signing request" in one_line(res)


def test_a_request_the_ledger_moved_past_is_made_again(api):
    """Someone appended meanwhile (e.g. `vdto round announce --key` on a machine holding both
    keys): the old request's signatures no longer count, and the server makes a new request."""
    request = fetch(api)
    assert send(api, "mx", sign_request(request, signer(api, "mx"))).status_code == 200
    keys = [signer(api, a) for a in ("mx", "us")]
    Ledger.init(api.ledger, request["entry"]["payload"], keys)
    before = stored(api)
    res = send(api, "us", sign_request(request, signer(api, "us")))
    assert res.status_code == 409 and "moved on" in one_line(res)
    assert stored(api) == before
    again = fetch(api)
    assert again["entry"]["kind"] == "announcement" and again["sha256"] != request["sha256"]
    assert sign_all(api)["round"]["status"] == "announced"
    assert verify(api.ledger, trusted(api)).ok


# --------------------------------------------------------------------------------- closing


def test_closing_an_announced_round_is_signed_by_every_agency(api):
    announce(api)
    body = {"outcome": "dismantled", "on": "2021-01-02"}
    res = api.call("POST", "/rounds/1/close", ("us", "publisher"), json=body)
    assert res.status_code == 202, res.text
    request = res.json()
    assert (
        request["entry"]["kind"] == "round-close" and request["entry"]["payload"]["outcome"] == "dismantled"
    )
    assert api.call("POST", "/rounds/1/close", ("mx", "publisher"), json=body).json() == request  # the same
    assert fetch(api, "mx", "close") == request
    lines = api.ledger.read_bytes()
    assert send(api, "us", sign_request(request, signer(api, "us"))).json()["waiting_for"] == ["mx"]
    # mx wants another outcome: refused while us's signature stands
    res = api.call(
        "POST", "/rounds/1/close", ("mx", "publisher"), json={"outcome": "withdrawn", "reason": "no"}
    )
    assert res.status_code == 409 and "signed already" in one_line(res)
    assert api.ledger.read_bytes() == lines
    done = send(api, "mx", sign_request(request, signer(api, "mx"))).json()
    assert done["appended"]["kind"] == "round-close" and done["round"]["status"] == "closed"
    assert done["round"]["outcome"] == "dismantled" and "closed" in done["next"]
    report = verify(api.ledger, trusted(api))
    assert report.ok and report.entries == 3 and report.checkpoint_size == 3
    actions = [(r["action"], r["outcome"]) for r in api.audit_rows() if r["outcome"] != "started"]
    assert actions[-5:] == [("round.close", "ok"), ("round.close", "ok"), ("round.sign", "ok"),
                            ("round.close", "failed"), ("round.sign", "ok")]  # fmt: skip


def test_an_open_round_closes_without_the_ledger(api):
    body = {"outcome": "withdrawn", "reason": "rankers disagree"}
    assert api.call("POST", "/rounds/1/close", ("mx", "publisher"), json=body).json()["status"] == "open"
    closed = api.call("POST", "/rounds/1/close", ("us", "publisher"), json=body)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert not api.ledger.exists()


# ------------------------------------------------------------------------- checkpoints, proofs


def test_checkpoints_and_proofs_are_what_the_ledger_gives(api):
    res = api.client.get("/public/ledger/checkpoint")
    assert res.status_code == 404 and "no signed checkpoint" in one_line(res)
    announce(api)
    ledger = Ledger(api.ledger)
    res = api.client.get("/public/ledger/checkpoint")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/plain")
    assert res.text == ledger.latest_checkpoint()
    assert api.client.get("/public/ledger/checkpoints/1").text == ledger.checkpoints()[0]["note"]
    res = api.client.get("/public/ledger/checkpoints/7")
    assert res.status_code == 404 and one_line(res).startswith("size:")
    assert api.client.get("/public/ledger/checkpoints/0").status_code == 422
    # inclusion: the bundle of `vdto ledger prove`, which verify_proof accepts
    bundle = api.client.get("/public/ledger/proof/inclusion?seq=2").json()
    assert bundle == ledger.proof([2])
    report = verify_proof(bundle, trusted(api))
    assert report.ok and report.size == 2 and report.entries[2]["kind"] == "announcement"
    assert api.client.get("/public/ledger/proof/inclusion?seq=2").json() == bundle  # cached
    old = api.client.get("/public/ledger/proof/inclusion?seq=1&size=1").json()
    assert old == ledger.proof([1], 1) and verify_proof(old, trusted(api)).ok
    for query, status, name in (
        ("seq=2&size=1", 422, "seq:"), ("seq=3", 422, "seq:"), ("seq=1&size=5", 404, "size:"),
        ("seq=0", 422, "query.seq"), ("seq=x", 422, "query.seq"), ("", 422, "query.seq"),
        ("seq=1&size=0", 422, "query.size"),
    ):  # fmt: skip
        res = api.client.get(f"/public/ledger/proof/inclusion?{query}")
        assert res.status_code == status, (query, res.text)
        assert one_line(res).startswith(name), (query, res.text)
    # consistency: from the checkpoint a reader kept to the latest
    proof = api.client.get("/public/ledger/proof/consistency?old=1").json()
    assert proof == ledger.consistency(1) and proof["new_size"] == 2
    first, latest = (r["note"] for r in ledger.checkpoints())
    verify_consistency(first, latest, proof)
    assert api.client.get("/public/ledger/proof/consistency?old=1&new=1").json()["proof"] == []
    for query, name in (
        ("old=3", "old:"), ("old=2&new=1", "old:"), ("old=1&new=9", "new:"), ("old=0", "query.old"),
        ("new=2", "query.old"), ("old=1&new=-1", "query.new"),
    ):  # fmt: skip
        res = api.client.get(f"/public/ledger/proof/consistency?{query}")
        assert res.status_code == 422, (query, res.text)
        assert one_line(res).startswith(name), (query, res.text)


def test_new_proofs_are_rate_limited_and_cached_ones_are_not(api):
    announce(api)
    api.app.state.vdto.misses = MissLimiter(rate=0.001, burst=1)
    assert api.client.get("/public/ledger/proof/inclusion?seq=1").status_code == 200
    assert api.client.get("/public/ledger/proof/inclusion?seq=1").status_code == 200  # cached
    res = api.client.get("/public/ledger/proof/inclusion?seq=2")
    assert res.status_code == 429 and res.headers["Retry-After"] == "1"


def test_no_ledger_no_checkpoints(base, tmp_path):  # noqa: F811
    server = Api(*base, tmp_path, server_held_keys=None, ledger=None)
    for path in ("/public/ledger/checkpoint", "/public/ledger/checkpoints/1",
                 "/public/ledger/proof/inclusion?seq=1", "/public/ledger/proof/consistency?old=1"):  # fmt: skip
        res = server.client.get(path)
        assert res.status_code == 404 and "publishes no ledger" in one_line(res)
    res = server.call("GET", "/rounds/1/signing-request", ("mx", "publisher"))
    assert res.status_code == 409 and "--ledger" in one_line(res)


# -------------------------------------------------------------------------------- witnesses


def _flip(note: str, name: str) -> str:
    """``note`` with one bit of ``name``'s signature changed."""
    out = []
    for line in note.splitlines(keepends=True):
        if line.startswith(f"— {name} "):
            raw = bytearray(base64.b64decode(line.split()[-1]))
            raw[-1] ^= 1
            line = f"— {name} {base64.b64encode(bytes(raw)).decode()}\n"
        out.append(line)
    return "".join(out)


def test_witness_cosignatures(api, witness, tmp_path):
    own, accepted = witness
    announce(api)
    note = api.client.get("/public/ledger/checkpoint").text
    cosigned = cosign(own, note, trusted(api), timestamp=1_800_000_000).note
    sidecar = Path(str(api.ledger) + ".checkpoints")
    before = sidecar.read_bytes()
    # forged: the cosignature does not verify
    res = api.client.post("/public/ledger/cosignatures", content=_flip(cosigned, WITNESS),
                          headers={"Content-Type": "text/plain"})  # fmt: skip
    assert res.status_code == 422 and one_line(res, "note:", "does not verify")
    # by a witness the operator did not configure
    stranger = tmp_path / "stranger"
    new_witness("stranger.example/witness", stranger)
    res = api.client.post("/public/ledger/cosignatures", content=cosign(stranger, note, trusted(api)).note)
    assert res.status_code == 403 and one_line(res, "no cosignature by a witness this server accepts")
    # malformed, or a checkpoint this ledger did not sign
    res = api.client.post("/public/ledger/cosignatures", content="not a note")
    assert res.status_code == 422 and one_line(res).startswith("note:")
    res = api.client.post("/public/ledger/cosignatures", json={"note": 3})
    assert res.status_code == 422 and one_line(res).startswith("note:")
    assert sidecar.read_bytes() == before
    # accepted: the checkpoint now carries the cosignature, and verify checks it
    res = api.client.post("/public/ledger/cosignatures", json={"note": cosigned})
    assert res.status_code == 200, res.text
    assert res.json()["witnesses"] == [WITNESS] and res.json()["size"] == 2
    served = api.client.get("/public/ledger/checkpoint").text
    assert served == res.json()["checkpoint"] and {s.name for s in parse_note(served)[1]} == {
        "mx",
        "us",
        WITNESS,
    }
    assert verify(api.ledger, trusted(api), witnesses=load_witness_keys([accepted])).witnessed == (WITNESS,)
    again = api.client.post("/public/ledger/cosignatures", content=cosigned.encode(),
                            headers={"Content-Type": "text/plain; charset=utf-8"})  # fmt: skip
    assert again.status_code == 200 and again.json()["checkpoint"] == served  # kept once
    rows = [r for r in api.audit_rows() if r["action"] == "ledger.cosign"]
    assert [(r["outcome"], r["status"]) for r in rows] == [
        ("refused", 422), ("refused", 403), ("refused", 422), ("refused", 422),
        ("started", None), ("ok", 200), ("started", None), ("ok", 200),
    ]  # fmt: skip
    assert rows[0]["actor"] == "anonymous" and rows[5]["actor"] == f"witness:{WITNESS}"
    assert "size 2" in rows[5]["detail"]


def test_cosignatures_need_configured_witnesses(base, tmp_path, witness):  # noqa: F811
    server = Api(*base, tmp_path, server_held_keys=None)
    res = server.client.post("/public/ledger/cosignatures", content="x")
    assert res.status_code == 409 and "--witnesses" in one_line(res)


# ----------------------------------------------------------------------- server-held keys


def test_server_held_keys_keep_the_old_flow(base, tmp_path):  # noqa: F811
    server = Api(*base, tmp_path)  # server_held_keys: the keys folder (opt-in)
    for agency in ("mx", "us"):
        assert server.call("POST", "/rounds/1/announce", (agency, "publisher")).status_code == 200
    assert verify(server.ledger, trusted(server)).ok
    body = {"outcome": "withdrawn", "reason": "test", "on": "2021-01-02"}
    assert server.call("POST", "/rounds/1/close", ("mx", "publisher"), json=body).status_code == 200
    closed = server.call("POST", "/rounds/1/close", ("us", "publisher"), json=body)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    entries = [json.loads(line) for line in server.ledger.read_text().splitlines()]
    assert [e["kind"] for e in entries] == ["rule", "announcement", "round-close"]


def test_the_request_saved_and_signed_with_vdto_sign_is_what_the_api_takes(api, tmp_path):
    """The curl flow of docs/api.md: save the request as served, `vdto sign` it, send the file."""
    saved = tmp_path / "announce-1.request.json"
    res = api.call("GET", "/rounds/1/signing-request?purpose=announce", ("mx", "publisher"))
    saved.write_bytes(res.content)
    for agency in ("mx", "us"):
        done = run_here("sign", str(saved), "--key", str(api.keys / f"{agency}.key"))
        assert done.returncode == 0, done.stderr
        sig = saved.with_name(f"announce-1.request.{agency}.sig.json")
        res = api.call("POST", "/rounds/1/signatures", (agency, "publisher"), content=sig.read_bytes(),
                       headers={"Content-Type": "application/json"})  # fmt: skip
        assert res.status_code == 200, res.text
    assert res.json()["appended"]["kind"] == "rule" and verify(api.ledger, trusted(api)).ok
