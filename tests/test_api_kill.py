"""Killing the server (SIGKILL) in the middle of an import leaves the store consistent.

A real uvicorn server runs in a child process. To kill it at the worst moment, the child's
``Store.transaction`` is wrapped (in the child only, by the launcher below): when a transaction
has inserted events, it writes a marker file and sleeps before COMMIT. The test waits for the
marker, so every row of the import is in the uncommitted transaction, then sends SIGKILL. After
a restart the import must be entirely absent (events, perpetrators, imports) and importing the
same file again must succeed. A second test kills the server while the upload is still arriving.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from vdto.access import audit
from vdto.access.tokens import create_token
from vdto.store import Store

from .test_api import agency_csv, rows

LAUNCHER = r"""
import os, sys, time
from contextlib import contextmanager

from vdto.store import Store

marker = os.environ.get("VDTO_TEST_PAUSE_MARKER")
if marker:
    original = Store.transaction

    @contextmanager
    def paused(self):
        with original(self) as con:
            before = con.execute("SELECT count(*) FROM events").fetchone()[0]
            yield con
            after = con.execute("SELECT count(*) FROM events").fetchone()[0]
            if after > before:  # an import's rows are all in, not yet committed
                with open(marker, "w") as fh:
                    fh.write(str(after - before))
                time.sleep(600)

    Store.transaction = paused

import uvicorn
from vdto.api.app import create_app

uvicorn.run(create_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""

ROWS = 20_000


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db: Path, marker: Path | None = None) -> None:
        self.port = _port()
        tmp = db.parent / "server-tmp"  # uploads left behind by a killed server stay in the test's folder
        tmp.mkdir(exist_ok=True)
        env = {**os.environ, "TMPDIR": str(tmp)}
        env.pop("VDTO_TEST_PAUSE_MARKER", None)
        if marker is not None:
            env["VDTO_TEST_PAUSE_MARKER"] = str(marker)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(db), str(self.port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the server died: " + self.proc.stdout.read().decode(errors="replace"))
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.kill()
        raise RuntimeError("the server did not start in 120 s")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


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
def test_sigkill_inside_the_import_transaction(setup, tmp_path):
    db, token, csv, mapping = setup
    marker = tmp_path / "in-transaction"
    server = Server(db, marker)
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
    deadline = time.monotonic() + 240
    while not marker.exists() and time.monotonic() < deadline and server.proc.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the import never reached its transaction"
    assert int(marker.read_text() or 0) == ROWS  # every row inserted, none committed
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
    sent = threading.Event()

    def body():
        head = (
            b'--B\r\nContent-Disposition: form-data; name="mapping"; filename="mx.toml"\r\n\r\n'
            + mapping.read_bytes()
            + b'\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="mx.csv"\r\n\r\n'
        )
        yield head
        half = len(data) // 2
        yield data[:half]
        sent.set()
        time.sleep(30)  # the server dies meanwhile
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
    assert sent.wait(60)
    time.sleep(0.5)
    server.kill()
    state = _state(db)
    assert (state["events"], state["perpetrators"], state["imports"]) == (0, 0, 0)
    assert state["audit"] == [("import.csv", "started", None)]
    _reimport(db, token, csv, mapping)
