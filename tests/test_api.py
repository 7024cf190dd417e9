"""The HTTP API in process (FastAPI's TestClient): role boundaries, uploads, rounds, the public record."""

from __future__ import annotations

import json
import shutil
import warnings
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from vdto.access import audit
from vdto.access.tokens import ROLES, authenticate, create_token, list_tokens, revoke_token
from vdto.api.app import create_app, openapi_document
from vdto.events import generic
from vdto.events.ingest import import_events
from vdto.publication.disclosure import SENSITIVE_KEYS
from vdto.publication.keys import new_keypair
from vdto.publication.ledger import verify
from vdto.publication.rounds import open_round
from vdto.store import Store

with warnings.catch_warnings():  # starlette's notice that its test client will move to httpx2
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

DOCS = Path(__file__).parent.parent / "docs"

MAPPING = """
source = "fiscalia-{agency}"
default_category = "homicide"
[columns]
source_id = "id"
date = "date"
deaths = "deaths"
state = "state"
perpetrator = "group"
notes = "note"
[victims]
civilian = "deaths"
"""

TABLES = (
    "events", "perpetrators", "imports", "rounds", "round_history", "dissents", "dismantled", "api_tokens",
    "api_signoffs", "user_orgs", "user_aliases", "region_counts", "signing_requests", "request_signatures",
)  # fmt: skip


STATES = ("Jalisco", "Sinaloa", "Guanajuato", "Michoacán")


def rows(prefix: str, group: str, n: int, day: str = "2020-11-15") -> list[tuple]:
    return [
        (f"{prefix}{i:04d}", day, 1, STATES[i % 3 if i < 30 else 3], group, f"secret note {prefix}{i:04d}")
        for i in range(n)
    ]


def agency_csv(folder: Path, agency: str, data: list[tuple]) -> tuple[Path, Path]:
    """An agency's CSV and its mapping."""
    csv = folder / f"{agency}.csv"
    pd.DataFrame(data, columns=["id", "date", "deaths", "state", "group", "note"]).to_csv(csv, index=False)
    mapping = folder / f"{agency}.toml"
    mapping.write_text(MAPPING.format(agency=agency))
    return csv, mapping


def load(db: Path, csv: Path, mapping: Path, agency: str) -> None:
    spec, digest = generic.load_mapping(mapping)
    import_events(db, "csv", csv, generic.parse, mapping=spec, mapping_sha256=digest, agency=agency)


MX_DATA = rows("mxa", "CJNG", 30) + rows("mxb", "Cártel de Sinaloa", 12) + rows("mxc", "Cártel del Golfo", 2)
US_DATA = rows("usa", "CJNG", 28) + rows("usb", "Cártel de Sinaloa", 11)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A store with mx and us data, round 1 open (both name cjng), tokens, signing keys."""
    folder = tmp_path_factory.mktemp("api")
    db = folder / "s.duckdb"
    for agency, data in (("mx", MX_DATA), ("us", US_DATA), ("zz", rows("zza", "CJNG", 3))):
        load(db, *agency_csv(folder, agency, data), agency)
    keys = folder / "keys"
    for agency in ("mx", "us", "zz"):
        new_keypair(agency, keys)
    tokens: dict[tuple[str, str], str] = {}
    with Store(db) as store:
        rnd = open_round(store, date(2020, 1, 1), date(2020, 12, 31), ["mx", "us"], draws=200)
        assert rnd.target == "cjng"
        for agency in ("mx", "us", "zz"):
            for role in ROLES:
                tokens[agency, role] = create_token(store, agency, role, label=f"{agency} {role}")[0]
                old, info = create_token(store, agency, role, label="revoked")
                revoke_token(store, info.token_id)
                tokens[agency, role + "-revoked"] = old
    return folder, tokens


class Api:
    """A TestClient over a fresh copy of the base store."""

    def __init__(self, folder: Path, tokens: dict, tmp: Path, **options) -> None:
        self.db = tmp / "s.duckdb"
        shutil.copy(folder / "s.duckdb", self.db)
        self.ledger = tmp / "ledger.jsonl"
        self.keys = folder / "keys"
        self.folder = folder
        self.tokens = tokens
        options.setdefault("server_held_keys", self.keys)  # the old flow: the server signs (opt-in)
        options.setdefault("ledger", self.ledger)
        self.app = create_app(self.db, **options)
        self.client = TestClient(self.app)

    def auth(self, agency: str, role: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[agency, role]}"}

    def call(self, method: str, path: str, who: tuple[str, str] | dict | None = None, **kw):
        headers = who if isinstance(who, dict) else (self.auth(*who) if who else {})
        return self.client.request(method, path, headers={**headers, **kw.pop("headers", {})}, **kw)

    def snapshot(self) -> dict:
        with Store(self.db, read_only=True) as store:
            out = {t: store.query(f"SELECT * FROM {t}").to_csv(index=False) for t in TABLES}
        out["ledger"] = self.ledger.read_bytes() if self.ledger.exists() else None
        return out

    def audit_rows(self) -> list[dict]:
        with Store(self.db, read_only=True) as store:
            return [e.as_dict() for e in reversed(audit.entries(store, limit=10_000))]


@pytest.fixture
def api(base, tmp_path) -> Api:
    return Api(*base, tmp_path)


def upload(agency: str, data: list[tuple], folder: Path) -> dict:
    csv, mapping = agency_csv(folder, agency, data)
    return {
        "files": {
            "file": (csv.name, csv.read_bytes(), "text/csv"),
            "mapping": (mapping.name, mapping.read_bytes()),
        }
    }


# ------------------------------------------------------------------------- role boundaries

WRITES = {
    # name: (method, path, role it needs, request keyword arguments)
    "import": ("POST", "/agencies/mx/imports/csv", "analyst", "upload"),
    "score": ("POST", "/agencies/mx/score", "analyst", {"json": {"draws": 10}}),
    "open round": (
        "POST",
        "/rounds",
        "analyst",
        {"json": {"from": "2020-01-01", "to": "2020-12-31", "agencies": ["mx"]}},
    ),
    "announce": ("POST", "/rounds/1/announce", "publisher", {}),
    "sign": (
        "POST",
        "/rounds/1/signatures",
        "publisher",
        {
            "json": {
                "vdto_signature": 1,
                "request_sha256": "0" * 64,
                "agency": "mx",
                "key": "1" * 64,
                "entry_sig": "2" * 128,
                "checkpoint_sig": "3" * 128,
            }
        },
    ),
    "close round": (
        "POST",
        "/rounds/1/close",
        "publisher",
        {"json": {"outcome": "withdrawn", "reason": "test"}},
    ),
    "create token": ("POST", "/agencies/mx/tokens", "admin", {"json": {"role": "analyst"}}),
    "revoke token": ("DELETE", "/agencies/mx/tokens/{mx_analyst}", "admin", {}),
}
WRONG_ROLE = {"analyst": "publisher", "publisher": "analyst", "admin": "analyst"}


def _caller(case: str, role: str) -> tuple[str, str] | dict | None:
    return {
        "no token": None,
        "malformed token": {"Authorization": "Bearer not-a-token"},
        "basic auth": {"Authorization": "Basic bXg6cGFzc3dvcmQ="},
        "revoked token": ("mx", role + "-revoked"),
        "wrong agency": ("zz", role) if role == "publisher" else ("us", role),
        "wrong role": ("mx", WRONG_ROLE[role]),
    }[case]


@pytest.mark.parametrize("write", list(WRITES))
@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("no token", 401),
        ("malformed token", 401),
        ("basic auth", 401),
        ("revoked token", 401),
        ("wrong agency", 403),
        ("wrong role", 403),
    ],
)
def test_refused_writes_leave_only_the_audit_row(api, write, case, status, tmp_path):
    method, path, role, kwargs = WRITES[write]
    with Store(api.db, read_only=True) as store:
        mx_analyst = authenticate(store, api.tokens["mx", "analyst"]).token_id
    path = path.format(mx_analyst=mx_analyst)
    if kwargs == "upload":
        kwargs = upload("mx", rows("new", "CJNG", 5), tmp_path)
    before, audit_before = api.snapshot(), api.audit_rows()
    res = api.call(method, path, _caller(case, role), **kwargs)
    assert res.status_code == status, res.text
    assert isinstance(res.json()["detail"], str) and "\n" not in res.json()["detail"]
    if status == 401:
        assert res.headers["WWW-Authenticate"] == "Bearer"
    assert api.snapshot() == before  # nothing changed...
    new = api.audit_rows()[len(audit_before) :]
    assert len(new) == 1  # ...but the audit row
    row = new[0]
    assert (row["method"], row["path"], row["outcome"], row["status"]) == (method, path, "refused", status)
    assert row["actor"] == ("anonymous" if status == 401 else row["actor"])
    assert row["action"] != "none"
    with Store(api.db, read_only=True) as store:
        assert audit.verify_chain(store) == (True, None, "")


@pytest.mark.parametrize(
    "path", ["/agencies/mx/events", "/agencies/mx/imports", "/agencies/mx/tokens", "/agencies/mx/audit"]
)
def test_no_agency_reads_another_agencys_space(api, path):
    for agency in ("us", "zz"):
        for role in ROLES:
            res = api.call("GET", path, (agency, role))
            assert res.status_code == 403, (agency, role, res.text)
            assert "cannot act for agency 'mx'" in res.json()["detail"]
    assert api.call("GET", path).status_code == 401
    assert api.call("GET", path, ("mx", "admin-revoked")).status_code == 401


def test_each_agency_sees_only_its_own_events(api):
    for agency, data in (("mx", MX_DATA), ("us", US_DATA)):
        res = api.call("GET", f"/agencies/{agency}/events?limit=1000", (agency, "analyst"))
        assert res.status_code == 200
        body = res.json()
        assert body["total"] == len(data) == len(body["events"])
        assert {e["agency"] for e in body["events"]} == {agency}
        assert {e["source_id"] for e in body["events"]} == {r[0] for r in data}


def test_reads_and_publisher_and_admin_scopes(api):
    assert api.call("GET", "/me", ("mx", "publisher")).json()["role"] == "publisher"
    # tokens and the audit trail are the admin's
    for role in ("analyst", "publisher"):
        assert api.call("GET", "/agencies/mx/tokens", ("mx", role)).status_code == 403
        assert api.call("GET", "/agencies/mx/audit", ("mx", role)).status_code == 403
    # reads are not audited
    assert api.audit_rows() == []


# --------------------------------------------------------------------------------- imports


def test_import_through_the_api_is_the_cli_import(api, tmp_path):
    res = api.call(
        "POST",
        "/agencies/mx/imports/csv",
        ("mx", "analyst"),
        **upload("mx", rows("new", "CJNG", 5), tmp_path),
    )
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["record"]["rows_imported"] == 5 and body["record"]["agency"] == "mx"
    assert body["record"]["file_name"] == "mx.csv"
    # the same file through the library: same rows, same record
    ref = tmp_path / "ref.duckdb"
    load(ref, tmp_path / "mx.csv", tmp_path / "mx.toml", "mx")
    cols = "source, source_id, date_start, category, deaths_best, notes"
    with Store(api.db, read_only=True) as a, Store(ref, read_only=True) as b:
        got = a.query(
            f"SELECT {cols} FROM events WHERE import_id = ? ORDER BY source_id", [body["record"]["import_id"]]
        )
        want = b.query(f"SELECT {cols} FROM events ORDER BY source_id")
        pd.testing.assert_frame_equal(got, want)
        assert a.imports.frame().iloc[-1]["sha256"] == b.imports.frame().iloc[-1]["sha256"]
    # a second time: every row is a duplicate, nothing added
    again = api.call(
        "POST",
        "/agencies/mx/imports/csv",
        ("mx", "analyst"),
        **upload("mx", rows("new", "CJNG", 5), tmp_path),
    )
    assert again.json()["record"]["rows_duplicate"] == 5
    outcomes = [(r["action"], r["outcome"], r["status"]) for r in api.audit_rows()]
    assert outcomes == [("import.csv", "started", None), ("import.csv", "ok", 201)] * 2


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("bad row", 422, "mx.csv:3:"),
        ("bad mapping", 422, "mx.toml"),
        ("no mapping", 422, "needs its TOML mapping"),
        ("not multipart", 415, "multipart/form-data"),
        ("cut off", 400, "incomplete"),
        ("unknown field", 400, "unexpected form field"),
        ("binary", 422, "binary data"),
    ],
)
def test_bad_uploads_get_a_clear_4xx_and_change_nothing(api, tmp_path, case, status, message):
    kwargs = upload("mx", rows("bad", "CJNG", 4), tmp_path)
    files = kwargs["files"]
    if case == "bad row":
        text = files["file"][1].decode().splitlines()
        text[2] = text[2].replace("2020-11-15", "2020-13-45")
        files["file"] = ("mx.csv", ("\n".join(text) + "\n").encode(), "text/csv")
    elif case == "bad mapping":
        files["mapping"] = ("mx.toml", b"[columns\nsource_id =")
    elif case == "no mapping":
        del files["mapping"]
    elif case == "not multipart":
        kwargs = {"content": b"id,date\n1,2020-01-01\n", "headers": {"Content-Type": "text/csv"}}
    elif case == "cut off":
        kwargs = {
            "content": b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nid,date\n1,',
            "headers": {"Content-Type": "multipart/form-data; boundary=XyZ"},
        }
    elif case == "unknown field":
        files["extra"] = ("x.txt", b"x")
    elif case == "binary":
        files["file"] = ("mx.csv", b"id,date\x00\x01\x02" * 100, "text/csv")
    before = api.snapshot()
    headers = {**api.auth("mx", "analyst"), **kwargs.pop("headers", {})}
    res = api.client.post("/agencies/mx/imports/csv", headers=headers, **kwargs)
    assert res.status_code == status, res.text
    detail = res.json()["detail"]
    assert message in detail and "\n" not in detail
    assert "vdto-upload-" not in detail and "/tmp" not in detail  # no server path leaks
    assert api.snapshot() == before
    assert [(r["outcome"], r["status"]) for r in api.audit_rows()] == [("started", None), ("failed", status)]
    if case == "bad row":
        problems = res.json()["problems"]
        assert problems[0]["row"] == 3 and problems[0]["column_name"] == "date"
        assert "skip_bad_rows=true" in detail


def test_skip_bad_rows_imports_the_rest(api, tmp_path):
    kwargs = upload("mx", rows("skip", "CJNG", 4), tmp_path)
    text = (
        kwargs["files"]["file"][1]
        .decode()
        .replace("2020-11-15,1,Sinaloa,CJNG,secret note skip0001", "bad,1,Sinaloa,CJNG,x")
    )
    kwargs["files"]["file"] = ("mx.csv", text.encode(), "text/csv")
    res = api.call("POST", "/agencies/mx/imports/csv?skip_bad_rows=true", ("mx", "analyst"), **kwargs)
    assert res.status_code == 201, res.text
    assert res.json()["record"]["rows_imported"] == 3 and res.json()["problems_total"] == 1


def test_uploads_over_the_limit_get_413(base, tmp_path):
    api = Api(*base, tmp_path, max_upload_mb=0.01)  # 10 KiB
    big = upload("mx", rows("big", "CJNG", 400), tmp_path)  # about 16 KiB
    before = api.snapshot()
    res = api.call("POST", "/agencies/mx/imports/csv", ("mx", "analyst"), **big)
    assert res.status_code == 413 and "larger than the limit of 10,485 bytes" in res.json()["detail"]

    def chunks():  # no Content-Length: the limit is enforced while the body streams in
        body = b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        yield body
        for _ in range(20):
            yield b"x" * 1024

    res = api.client.post(
        "/agencies/mx/imports/csv",
        headers={**api.auth("mx", "analyst"), "Content-Type": "multipart/form-data; boundary=B"},
        content=chunks(),
    )
    assert res.status_code == 413
    # JSON bodies are limited to 1 MiB whatever the upload limit
    res = api.call("POST", "/agencies/mx/score", ("mx", "analyst"), content=b"{" + b" " * (1 << 20) + b"}",
                   headers={**api.auth("mx", "analyst"), "Content-Type": "application/json"})  # fmt: skip
    assert res.status_code == 413
    assert api.snapshot() == before
    statuses = [(r["outcome"], r["status"]) for r in api.audit_rows()]
    assert statuses == [("refused", 413), ("started", None), ("failed", 413), ("refused", 413)]


def test_a_client_that_goes_away_mid_upload_leaves_nothing(api):
    import asyncio

    token = api.tokens["mx", "analyst"].encode()
    incoming = [
        {"type": "http.request", "body": b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nid,', "more_body": True},
        {"type": "http.disconnect"},
    ]  # fmt: skip
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/agencies/mx/imports/csv", "raw_path": b"/agencies/mx/imports/csv", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        "headers": [(b"authorization", b"Bearer " + token), (b"content-type", b"multipart/form-data; boundary=B")],
    }  # fmt: skip
    sent: list = []

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    before = api.snapshot()
    asyncio.run(api.app(scope, receive, send))
    assert sent[0]["status"] == 400
    assert api.snapshot() == before
    rows_ = api.audit_rows()
    assert [(r["outcome"], r["status"]) for r in rows_] == [("started", None), ("failed", 400)]
    assert "went away" in rows_[-1]["detail"]


# ------------------------------------------------------------------------ rounds, publishing


def test_cosigned_announcement_end_to_end(api):
    public = api.client.get("/public/scorecard")
    assert public.status_code == 404 and "nothing is published" in public.json()["detail"]
    assert api.client.get("/public/rounds").json() == []
    assert api.client.get("/public/rounds/1").status_code == 404  # open rounds are not public
    # the mx publisher signs first: recorded, nothing published yet
    first = api.call("POST", "/rounds/1/announce", ("mx", "publisher"))
    assert first.status_code == 200, first.text
    assert first.json()["waiting_for"] == ["us"] and not first.json()["announced"]
    assert not api.ledger.exists()
    assert api.call("POST", "/rounds/1/announce", ("mx", "publisher")).status_code == 409  # signs once
    # the us publisher co-signs: the server appends rule + announcement, signed by both
    second = api.call("POST", "/rounds/1/announce", ("us", "publisher"))
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["announced"] and body["signed_by"] == ["mx", "us"] and body["round"]["status"] == "announced"
    report = verify(api.ledger, {a: (api.keys / f"{a}.pub").read_text().strip() for a in ("mx", "us")})
    assert report.ok and report.entries == 2
    entries = [json.loads(line) for line in api.ledger.read_text().splitlines()]
    assert {s["agency"] for s in entries[1]["signatures"]} == {"mx", "us"}
    # the public record
    card = api.client.get("/public/scorecard").json()
    assert card["round"]["round_id"] == 1 and card["agency"] == "mx"
    assert card["scorecard"]["decision"]["target"] == "cjng"
    assert api.client.get("/public/scorecard?agency=us").json()["agency"] == "us"
    assert api.client.get("/public/scorecard?agency=zz").status_code == 404
    assert [r["round_id"] for r in api.client.get("/public/rounds").json()] == [1]
    assert api.client.get("/public/rounds/1").json()["evidence"]["us"]["decision"]["target"] == "cjng"
    assert (
        api.client.get("/public/rounds/1/scorecard?agency=us").json()["scorecard"]["meta"]["agency"] == "us"
    )
    ledger = api.client.get("/public/ledger").json()
    assert ledger["total"] == 2 and [e["kind"] for e in ledger["entries"]] == ["rule", "announcement"]
    check = api.client.get("/public/ledger/verify").json()
    assert check["ok"] and check["pinned"] and check["entries"] == 2
    rubric = api.client.get("/public/rubric").json()
    assert (
        rubric["origin"] == "round 1 (mx)" and rubric["sha256"] == card["scorecard"]["meta"]["rubric_sha256"]
    )
    # closing a shared round takes a publisher of each agency; it is signed into the ledger by both
    asked = api.call(
        "POST", "/rounds/1/close", ("us", "publisher"), json={"outcome": "dismantled", "on": "2021-01-02"}
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["status"] == "announced" and api.client.get("/public/ledger").json()["total"] == 2
    closed = api.call(
        "POST", "/rounds/1/close", ("mx", "publisher"), json={"outcome": "dismantled", "on": "2021-01-02"}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["outcome"] == "dismantled"
    assert api.client.get("/public/ledger").json()["total"] == 3
    assert api.client.get("/public/ledger/verify").json()["ok"]
    # the next round no longer ranks the dismantled target
    nxt = api.call("POST", "/rounds", ("us", "analyst"),
                   json={"from": "2020-01-01", "to": "2020-12-31", "agencies": ["us", "mx"], "draws": 200})  # fmt: skip
    assert nxt.status_code == 201, nxt.text
    assert nxt.json()["round_id"] == 2 and nxt.json()["target"] == "sinaloa"
    assert api.call("GET", "/rounds/2", ("zz", "analyst")).json()["signed_by"] == []
    actions = [(r["action"], r["outcome"]) for r in api.audit_rows() if r["outcome"] != "started"]
    assert actions == [
        ("round.announce", "ok"), ("round.announce", "failed"), ("round.announce", "ok"),
        ("round.close", "ok"), ("round.close", "ok"), ("round.open", "ok"),
    ]  # fmt: skip


def test_ledger_verification_is_cached_until_the_ledger_changes(api):
    """The public check is kept while nothing changes, and a changed ledger is checked again."""
    for agency in ("mx", "us"):
        assert api.call("POST", "/rounds/1/announce", (agency, "publisher")).status_code == 200
    good = api.client.get("/public/ledger/verify").json()
    assert good["ok"] and good["entries"] == 2
    assert api.client.get("/public/ledger/verify").json() == good
    text = api.ledger.read_text()
    lines = text.splitlines(keepends=True)
    assert "cjng" in lines[1]
    api.ledger.write_text(lines[0] + lines[1].replace("cjng", "cjnh"))
    bad = api.client.get("/public/ledger/verify").json()
    assert not bad["ok"] and bad["first_bad"] == 2
    api.ledger.write_text(text)
    assert api.client.get("/public/ledger/verify").json() == good


def test_announcing_needs_the_servers_keys_and_ledger(base, tmp_path):
    api = Api(*base, tmp_path)
    api.app = create_app(api.db, ledger=None, server_held_keys=api.keys)
    api.client = TestClient(api.app)
    assert api.call("POST", "/rounds/1/announce", ("mx", "publisher")).status_code == 200  # waiting for us
    res = api.call("POST", "/rounds/1/announce", ("us", "publisher"))
    assert res.status_code == 409 and "--ledger" in res.json()["detail"]
    assert api.client.get("/public/ledger").status_code == 404
    assert api.client.get("/public/ledger/verify").status_code == 404


def test_round_errors_are_4xx(api):
    analyst = ("mx", "analyst")
    res = api.call(
        "POST", "/rounds", analyst, json={"from": "2020-01-01", "to": "2020-12-31", "agencies": ["mx"]}
    )
    assert res.status_code == 409 and "round 1 is still open" in res.json()["detail"]
    bad = {"from": "2020-12-31", "to": "2020-01-01", "agencies": ["mx", "mx"]}
    assert api.call("POST", "/rounds", analyst, json=bad).status_code == 422
    res = api.call("POST", "/rounds", analyst, json={"from": "2020-01-01", "to": "nope", "agencies": ["mx"]})
    assert res.status_code == 422 and res.json()["detail"].startswith("to:")
    res = api.call(
        "POST",
        "/rounds",
        analyst,
        content=b"{not json",
        headers={**api.auth(*analyst), "Content-Type": "application/json"},
    )
    assert res.status_code == 422
    assert api.call("POST", "/rounds/99/announce", ("mx", "publisher")).status_code == 404
    assert api.call("GET", "/rounds/99", analyst).status_code == 404
    res = api.call("POST", "/rounds/1/close", ("mx", "publisher"), json={"outcome": "withdrawn"})
    assert res.status_code == 400 and "needs a reason" in res.json()["detail"]
    res = api.call("POST", "/agencies/mx/score", analyst, json={"from": "2021-01-01", "to": "2020-01-01"})
    assert res.status_code == 400 and "starts" in res.json()["detail"]
    assert api.call("POST", "/agencies/mx/score", analyst, json={"draws": 0}).status_code == 422


def test_analyst_scores_its_own_data(api):
    res = api.call(
        "POST",
        "/agencies/us/score",
        ("us", "analyst"),
        json={"from": "2020-01-01", "to": "2020-12-31", "draws": 100},
    )
    assert res.status_code == 200, res.text
    card = res.json()
    assert card["meta"]["agency"] == "us" and card["ranking"][0]["org"] == "cjng"
    assert not (SENSITIVE_KEYS & _keys(card))


# ------------------------------------------------------------------------------ the public


def _keys(obj) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | {k for v in obj.values() for k in _keys(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in _keys(v)}
    return set()


def test_public_answers_carry_nothing_sensitive(api):
    api.call("POST", "/rounds/1/announce", ("mx", "publisher"))
    api.call("POST", "/rounds/1/announce", ("us", "publisher"))
    paths = [
        "/public/scorecard", "/public/scorecard?agency=us", "/public/rounds", "/public/rounds/1",
        "/public/rounds/1/scorecard", "/public/ledger", "/public/ledger/verify", "/public/rubric",
        "/public/regions?agency=mx&year=2020", "/health",
    ]  # fmt: skip
    texts = []
    for path in paths:
        res = api.client.get(path)
        assert res.status_code == 200, (path, res.text)
        assert not (_keys(res.json()) & SENSITIVE_KEYS), path
        texts.append(res.text)
    text = "\n".join(texts)
    with Store(api.db, read_only=True) as store:
        events = store.query("SELECT source, source_id, notes FROM events")
    values = {*events["source_id"], *events["notes"], *events["source"]}
    assert len(values) > 80
    assert [v for v in values if v in text] == []
    # the region scores withhold small counts (states with 1 or 2 events show no count)
    regions = api.client.get("/public/regions?agency=mx&year=2020").json()
    assert all(r["events"] is None or r["events"] >= 3 for r in regions["regions"])


def test_public_regions_and_rubric_before_publishing(api):
    rubric = api.client.get("/public/rubric").json()
    assert rubric["name"] == "default-v1" and rubric["origin"] == "the shipped default"
    res = api.client.get("/public/regions?year=2020")
    assert res.status_code == 400 and "several agencies" in res.json()["detail"]
    assert api.client.get("/public/regions?agency=nobody").status_code == 404
    assert api.client.get("/public/regions?agency=Not%20Valid").status_code == 422


def test_public_scorecard_cache_follows_the_store(api):
    assert api.client.get("/public/scorecard").status_code == 404
    api.call("POST", "/rounds/1/announce", ("mx", "publisher"))
    api.call("POST", "/rounds/1/announce", ("us", "publisher"))
    assert api.client.get("/public/scorecard").json()["round"]["status"] == "announced"
    # a change made outside the server (the CLI) is seen too
    with Store(api.db) as store:
        store.con.execute("UPDATE rounds SET status = 'closed', outcome = 'withdrawn', reason = 'x'")
    assert api.client.get("/public/scorecard").json()["round"]["status"] == "closed"


# --------------------------------------------------------------------------------- tokens


def test_admin_manages_its_own_agencys_tokens(api):
    admin = ("mx", "admin")
    res = api.call("POST", "/agencies/mx/tokens", admin, json={"role": "publisher", "label": "new desk"})
    assert res.status_code == 201, res.text
    token, info = res.json()["token"], res.json()["info"]
    assert info["agency"] == "mx" and info["role"] == "publisher" and info["created_by"].startswith("token:")
    me = api.call("GET", "/me", {"Authorization": f"Bearer {token}"}).json()
    assert me == {"token_id": info["token_id"], "agency": "mx", "role": "publisher", "label": "new desk"}
    listed = api.call("GET", "/agencies/mx/tokens", admin).json()
    assert info["token_id"] in {t["token_id"] for t in listed} and {t["agency"] for t in listed} == {"mx"}
    assert token not in json.dumps(listed) and "hash" not in listed[0] and "salt" not in listed[0]
    # a us token cannot be revoked through mx's space
    with Store(api.db, read_only=True) as store:
        us_token = authenticate(store, api.tokens["us", "analyst"]).token_id
    assert api.call("DELETE", f"/agencies/mx/tokens/{us_token}", admin).status_code == 404
    assert api.call("GET", "/me", ("us", "analyst")).status_code == 200
    res = api.call("DELETE", f"/agencies/mx/tokens/{info['token_id']}", admin)
    assert res.status_code == 200 and res.json()["revoked_at"]
    assert api.call("GET", "/me", {"Authorization": f"Bearer {token}"}).status_code == 401
    assert api.call("DELETE", f"/agencies/mx/tokens/{info['token_id']}", admin).status_code == 409
    trail = api.call("GET", "/agencies/mx/audit", admin).json()
    assert [r["action"] for r in trail][:2] == ["token.revoke", "token.revoke"]
    assert all(r["agency"] == "mx" or r["path"].startswith("/agencies/mx/") for r in trail)
    assert not any(token in json.dumps(r) for r in trail)  # no secret in the audit log
    assert api.call("POST", "/agencies/mx/tokens", admin, json={"role": "root"}).status_code == 422


def test_tokens_are_stored_hashed(tmp_path):
    with Store(tmp_path / "t.duckdb") as store:
        token, info = create_token(store, "mx", "analyst")
        secret = token.split("_", 2)[2]
        dump = store.query("SELECT * FROM api_tokens").to_csv()
        assert secret not in dump and token not in dump
        assert authenticate(store, token).agency == "mx"
        assert authenticate(store, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        assert authenticate(store, f"vdto_{info.token_id}_" + "x" * 43) is None
        assert authenticate(store, "") is None
        revoke_token(store, info.token_id)
        assert authenticate(store, token) is None
        with pytest.raises(Exception, match="already revoked"):
            revoke_token(store, info.token_id)
        with pytest.raises(Exception, match="unknown role"):
            create_token(store, "mx", "root")
        with pytest.raises(Exception, match="not a valid agency"):
            create_token(store, "MX!", "admin")


def test_the_audit_chain_finds_a_changed_row(api):
    api.call("POST", "/rounds/1/announce")  # refused: one row
    api.call("POST", "/rounds/1/announce", ("mx", "analyst"))  # refused: one row
    with Store(api.db) as store:
        assert audit.verify_chain(store) == (True, None, "")
        store.con.execute("UPDATE api_audit SET outcome = 'ok' WHERE seq = 1")
        ok, bad, problem = audit.verify_chain(store)
    assert not ok and bad == 1 and "hash does not match" in problem


def test_tokens_cli(tmp_path):
    import typer

    from vdto.cli.serve import register

    app = typer.Typer()
    app.command("version")(lambda: None)
    register(app)
    runner = CliRunner()
    db = str(tmp_path / "t.duckdb")
    res = runner.invoke(
        app, ["tokens", "create", "--agency", "mx", "--role", "admin", "--label", "ops", "--db", db]
    )
    assert res.exit_code == 0, res.output
    token = res.stdout.strip().splitlines()[0]
    assert token.startswith("vdto_")
    listed = runner.invoke(app, ["tokens", "list", "--db", db, "--format", "json"])
    rows_ = json.loads(listed.stdout)
    assert rows_[0]["agency"] == "mx" and rows_[0]["label"] == "ops" and token not in listed.stdout
    res = runner.invoke(app, ["tokens", "revoke", rows_[0]["token_id"], "--db", db])
    assert res.exit_code == 0 and "revoked" in res.stdout
    trail = runner.invoke(app, ["tokens", "audit", "--db", db, "--format", "json"])
    assert [r["action"] for r in json.loads(trail.stdout)] == ["token.revoke", "token.create"]
    assert "OK, 2 rows" in runner.invoke(app, ["tokens", "audit", "--verify", "--db", db]).stdout
    with Store(db, read_only=True) as store:
        assert list_tokens(store)[0].revoked_at is not None
    res = runner.invoke(app, ["serve", "--help"])
    assert res.exit_code == 0 and "--max-upload-mb" in res.stdout


# --------------------------------------------------------------------------------- OpenAPI


def test_openapi_in_docs_is_current():
    current = openapi_document()
    pinned = json.loads((DOCS / "openapi.json").read_text(encoding="utf-8"))
    assert pinned == current, "docs/openapi.json is stale: uv run python -m vdto.api.app > docs/openapi.json"
    assert "/public/scorecard" in current["paths"] and "token" in current["components"]["securitySchemes"]


def test_served_openapi_is_the_document(api):
    assert api.client.get("/openapi.json").json() == openapi_document()
