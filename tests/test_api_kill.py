"""Killing the server (SIGKILL) in the middle of an import leaves the store consistent.

A real uvicorn server runs in a child process, on a socket the test binds and hands to it (so the
test's first request waits in the socket's queue until the server answers: no polling for
readiness). To kill it at the worst moment, the child reports what it is doing on a pipe (the
launcher below wraps, in the child only, ``Store.transaction`` and the audit log): when a
transaction has inserted events it says so and waits before COMMIT; when an import's ``started``
audit row is written it says so. The test blocks on the pipe until the child reports the moment,
then sends SIGKILL. After a restart the import must be entirely absent (events, perpetrators,
imports) and importing the same file again must succeed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from vdto.access import audit
from vdto.access.tokens import create_token
from vdto.store import Store

from .test_api import agency_csv, rows

LAUNCHER = r"""
import os, sys, threading
from contextlib import contextmanager

from vdto.access import audit
from vdto.store import Store

report = int(os.environ["VDTO_TEST_REPORT_FD"])


def say(line):
    os.write(report, (line + "\n").encode())


if os.environ.get("VDTO_TEST_PAUSE"):
    original = Store.transaction

    @contextmanager
    def paused(self):
        with original(self) as con:
            before = con.execute("SELECT count(*) FROM events").fetchone()[0]
            yield con
            after = con.execute("SELECT count(*) FROM events").fetchone()[0]
            if after > before:  # an import's rows are all in, not yet committed
                say(f"in-transaction {after - before}")
                threading.Event().wait()  # until the test kills this process

    Store.transaction = paused

record = audit.record


def recorded(store, **row):
    entry = record(store, **row)
    say(f"audit {row['action']} {row['outcome']}")
    return entry


audit.record = recorded

import uvicorn
from vdto.api.app import create_app

uvicorn.run(create_app(sys.argv[1]), fd=int(sys.argv[2]), log_level="warning")
"""

ROWS = 20_000


class Server:
    """The API in a child process, on a socket bound here; what it does is read from a pipe."""

    def __init__(self, db: Path, pause: bool = False) -> None:
        tmp = db.parent / "server-tmp"  # uploads left behind by a killed server stay in the test's folder
        tmp.mkdir(exist_ok=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.reports, write_end = os.pipe()
        env = {**os.environ, "TMPDIR": str(tmp), "VDTO_TEST_REPORT_FD": str(write_end)}
        env.pop("VDTO_TEST_PAUSE", None)
        if pause:
            env["VDTO_TEST_PAUSE"] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(db), str(self.sock.fileno())],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(self.sock.fileno(), write_end),
        )
        os.close(write_end)  # the child holds the only writer: the pipe ends when the child does
        self.lines = self._lines()
        # the socket already listens: this request waits in its queue until the server answers
        res = httpx.get(self.url + "/health", timeout=120)
        if res.status_code != 200:
            self.kill()
            raise RuntimeError(f"the server answered {res.status_code}")

    def _lines(self):
        with os.fdopen(self.reports, "r", encoding="utf-8") as pipe:
            yield from pipe

    def wait_for(self, prefix: str) -> str:
        """Block until the child reports a line starting with ``prefix`` (or dies: then fail)."""
        for line in self.lines:
            if line.startswith(prefix):
                return line.strip()
        raise RuntimeError(
            "the server ended before saying: " + prefix + "; " + self.proc.stdout.read().decode()
        )

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.sock.close()


@pytest.fixture
def setup(tmp_path):
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        token = create_token(store, "mx", "analyst")[0]
    csv, mapping = agency_csv(tmp_path, "mx", rows("kill", "CJNG", ROWS))
    return db, token, csv, mapping


def _files(csv: Path, mapping: Path) -> dict:
    return {"file": (csv.name, csv.read_bytes(), "text/csv"), "mapping": (mapping.name, mapping.read_bytes())}


def _state(db: Path) -> dict:
    with Store(db) as store:  # opening for writing replays the write-ahead log, as a restart does
        counts = {t: store.count(t) for t in ("events", "perpetrators", "imports")}
        rows_ = [e.as_dict() for e in reversed(audit.entries(store, limit=100))]
        assert audit.verify_chain(store)[0]
    return {**counts, "audit": [(r["action"], r["outcome"], r["status"]) for r in rows_]}


def _reimport(db: Path, token: str, csv: Path, mapping: Path) -> None:
    server = Server(db)
    try:
        res = httpx.post(
            server.url + "/agencies/mx/imports/csv",
            headers={"Authorization": f"Bearer {token}"},
            files=_files(csv, mapping),
            timeout=300,
        )
    finally:
        server.kill()
    assert res.status_code == 201, res.text
    assert res.json()["record"]["rows_imported"] == ROWS
    state = _state(db)
    assert (state["events"], state["imports"]) == (ROWS, 1)
    assert state["perpetrators"] > 0
    assert state["audit"][-2:] == [("import.csv", "started", None), ("import.csv", "ok", 201)]


@pytest.mark.slow
def test_sigkill_inside_the_import_transaction(setup):
    db, token, csv, mapping = setup
    server = Server(db, pause=True)
    answers: list = []

    def send() -> None:
        try:
            answers.append(
                httpx.post(
                    server.url + "/agencies/mx/imports/csv",
                    headers={"Authorization": f"Bearer {token}"},
                    files=_files(csv, mapping),
                    timeout=300,
                )
            )
        except httpx.TransportError as exc:
            answers.append(exc)

    client = threading.Thread(target=send)
    client.start()
    line = server.wait_for("in-transaction")
    assert int(line.split()[1]) == ROWS  # every row inserted, none committed
    server.kill()
    client.join(timeout=60)
    assert isinstance(answers[0], httpx.TransportError)  # the client got no answer
    state = _state(db)
    assert (state["events"], state["perpetrators"], state["imports"]) == (0, 0, 0)
    assert state["audit"] == [("import.csv", "started", None)]  # the attempt is on record
    _reimport(db, token, csv, mapping)


@pytest.mark.slow
def test_sigkill_while_the_upload_arrives(setup):
    db, token, csv, mapping = setup
    server = Server(db)
    data = csv.read_bytes()
    killed = threading.Event()

    def body():
        head = (
            b'--B\r\nContent-Disposition: form-data; name="mapping"; filename="mx.toml"\r\n\r\n'
            + mapping.read_bytes()
            + b'\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="mx.csv"\r\n\r\n'
        )
        yield head
        half = len(data) // 2
        yield data[:half]
        killed.wait(120)  # the rest never arrives: the server is killed meanwhile
        yield data[half:] + b"\r\n--B--\r\n"

    def send() -> None:
        with contextlib.suppress(httpx.TransportError):
            httpx.post(
                server.url + "/agencies/mx/imports/csv",
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "multipart/form-data; boundary=B",
                },
                content=body(),
                timeout=60,
            )

    client = threading.Thread(target=send, daemon=True)
    client.start()
    server.wait_for("audit import.csv started")  # the attempt is on record; the upload is arriving
    server.kill()
    killed.set()
    state = _state(db)
    assert (state["events"], state["perpetrators"], state["imports"]) == (0, 0, 0)
    assert state["audit"] == [("import.csv", "started", None)]
    _reimport(db, token, csv, mapping)
