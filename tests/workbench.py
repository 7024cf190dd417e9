"""The workbench's test rig: a real server on a loopback socket and headless Chromium driven by
Playwright (Debian's chromium, never a downloaded browser), with every request that would leave
the machine refused and recorded, and every console error and page error collected.

Tests use the ``wb`` fixture (a server over a fresh copy of the workbench store) and the ``page``
fixture (a signed-out page; ``sign_in(page, wb, "mx", "analyst")`` signs in). At teardown a page
must have logged no console error, raised no page error and asked for nothing but the server.
"""

from __future__ import annotations

import shutil
import socket
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser import CHROMIUM, MISSING, REQUIRED
from vdto.access.tokens import ROLES, create_token
from vdto.events import ucdp
from vdto.events.ingest import import_events
from vdto.publication.keys import new_keypair
from vdto.services.imports import split_ucdp
from vdto.store import Store

AGENCIES = ("mx", "us")
WIDE = {"width": 1400, "height": 900}
NARROW = {"width": 390, "height": 844}


@dataclass
class WorkbenchData:
    """The workbench store: UCDP GED 2015-2023 split between mx and us (80% of incidents each,
    drawn independently, as in the demo), a token for every agency and role, signing keys."""

    folder: Path
    db: Path
    keys: Path
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)


def data_with(wb_data: WorkbenchData, folder: Path, fill) -> WorkbenchData:
    """A copy of the workbench store in ``folder`` with more in it: ``fill(store, folder)`` runs on
    the copy, opened for writing (a supply network, an agency's case files...)."""
    from vdto.store import Store

    db = folder / "wb.duckdb"
    shutil.copy(wb_data.db, db)
    with Store(db) as store:
        fill(store, folder)
    return WorkbenchData(folder, db, wb_data.keys, dict(wb_data.tokens))


def build_data(folder: Path) -> WorkbenchData:
    """Build the workbench store, tokens and keys in ``folder``."""
    db = folder / "wb.duckdb"
    parts = split_ucdp(folder, agencies=AGENCIES, years=(2015, 2023), share=0.8, seed=1)
    for agency in AGENCIES:
        import_events(db, "ucdp", parts[agency], ucdp.parse, agency=agency)
    keys = folder / "keys"
    data = WorkbenchData(folder, db, keys)
    for agency in (*AGENCIES, "zz"):
        new_keypair(agency, keys)
    with Store(db) as store:
        for agency in (*AGENCIES, "zz"):
            for role in ROLES:
                data.tokens[agency, role] = create_token(store, agency, role, label=f"{agency} {role}")[0]
    return data


@pytest.fixture(scope="session")
def wb_data(tmp_path_factory) -> WorkbenchData:
    return build_data(tmp_path_factory.mktemp("workbench"))


class Server:
    """``vdto serve``'s application under uvicorn, in a thread of the test process, on a socket
    bound before it starts (a client that connects early waits in the backlog: no polling)."""

    def __init__(self, data: WorkbenchData, tmp: Path, **options) -> None:
        import uvicorn

        from vdto.api.app import create_app

        self.data = data
        self.db = tmp / "wb.duckdb"
        shutil.copy(data.db, self.db)
        self.ledger = tmp / "ledger.jsonl"
        options.setdefault("ledger", self.ledger)
        options.setdefault("public_keys", data.keys)
        self.app = create_app(self.db, **options)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()

    def token(self, agency: str, role: str) -> str:
        return self.data.tokens[agency, role]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


@pytest.fixture
def wb(wb_data, tmp_path):
    """A server over a fresh copy of the workbench store (its own ledger in ``tmp_path``)."""
    server = Server(wb_data, tmp_path)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test file: Playwright's sync API runs an event loop in this thread while
    it is started, so it stops with the file (a later file's ``asyncio.run`` would fail)."""
    if CHROMIUM is None:
        if REQUIRED:
            pytest.fail(MISSING + " (VDTO_REQUIRE_CHROMIUM=1)")
        pytest.skip(MISSING)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        )  # fmt: skip
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """What a page did that it must not: console errors, page errors, requests to another host."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    refusals: set[int] = field(default_factory=set)

    def expect(self, status: int) -> None:
        """The test makes the API refuse a request with ``status``: the line the browser logs for
        it ("Failed to load resource: ... status of 403") is not a page error. It is left out at
        :meth:`check`, whenever it arrived (a view's second request may be logged late)."""
        self.refusals.add(status)

    def check(self) -> None:
        assert not self.outside, f"requests left the machine: {self.outside}"
        logged = [e for e in self.errors if not any(f"status of {s} " in e for s in self.refusals)]
        assert not logged, f"the page logged errors: {logged}"


def open_page(browser, *, viewport: dict | None = None, allowed: tuple[str, ...] = ("127.0.0.1",), **context):
    """A new page with its own context and its :class:`Watch` (``page.watch``)."""
    ctx = browser.new_context(viewport=viewport or WIDE, accept_downloads=True, **context)
    page = ctx.new_page()
    watch = Watch()

    def guard(route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in allowed:
            route.continue_()
        else:
            watch.outside.append(route.request.url)
            route.abort()

    ctx.route("**/*", guard)
    page.on("console", lambda msg: watch.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: watch.errors.append(f"page error: {exc}"))
    page.watch = watch  # type: ignore[attr-defined]
    return page


@pytest.fixture
def page(browser):
    """A page at 1,400 x 900; after the test, no console error and no request off the machine."""
    p = open_page(browser)
    yield p
    try:
        p.watch.check()
    finally:
        p.context.close()


def goto(page, wb: Server, view: str = "", lang: str = "es", **params) -> None:
    """Open the workbench at ``#/view?params`` and wait until the view has rendered."""
    query = "&".join(f"{k}={v}" for k, v in params.items())
    page.goto(f"{wb.url}/?lang={lang}#/{view}{'?' + query if query else ''}")
    wait_ready(page)


def wait_ready(page, timeout: float = 60_000) -> None:
    """Wait until the view in the address has finished rendering (``data-ready`` on ``#view``)
    or the sign-in form shows."""
    page.wait_for_function(
        "() => document.querySelector('#view[data-ready]') || !document.getElementById('sign-in').hidden",
        timeout=timeout,
    )


def sign_in(page, wb: Server, agency: str = "mx", role: str = "analyst", view: str = "events", lang: str = "es",
            **params) -> None:  # fmt: skip
    """Open ``view`` and sign in with the token of ``agency``/``role``; waits for the view."""
    goto(page, wb, view, lang, **params)
    page.get_by_test_id("token").fill(wb.token(agency, role))
    page.get_by_test_id("sign-in").click()
    page.wait_for_selector("#view[data-ready]", timeout=60_000)


WINDOW_2021 = (date(2021, 1, 1), date(2021, 12, 31))
