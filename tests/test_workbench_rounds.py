"""The workbench's rounds view: a round opened, co-signed by two agencies and announced into the
real ledger through the page, each agency signing on its own side with `vdto sign` (the private
key never enters the browser); and every write the view offers refused for a wrong role or
another agency's token, as the API refuses it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import run_here

# the rig's fixtures (wb, browser, page) come from the tests.workbench plugin (tests/conftest.py):
# importing them here would make a second session browser when another workbench file runs in the
# same process
from tests.workbench import goto, sign_in
from vdto.publication.ledger import verify

ROUND = {"from": "2021-01-01", "to": "2021-12-31", "agencies": ["mx", "us"], "draws": 100}


def call(server, method: str, path: str, who: tuple[str, str] | None, **kw) -> httpx.Response:
    headers = {"Authorization": f"Bearer {server.token(*who)}"} if who else {}
    return httpx.request(method, server.url + path, headers=headers, timeout=120, **kw)


def one_line(res: httpx.Response, *needles: str) -> str:
    detail = res.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail, detail
    for needle in needles:
        assert needle in detail, detail
    return detail


def row(pg, round_id: int = 1):
    return pg.locator(f'tr[data-round="{round_id}"]')


def switch(pg, server, agency: str, role: str) -> None:
    """Sign out and sign in again with another token, on the rounds view."""
    if pg.get_by_test_id("sign-out").is_visible():
        pg.get_by_test_id("sign-out").click()
    sign_in(pg, server, agency, role, view="rounds", lang="en")


def sign_in_browser(pg, server, agency: str, folder: Path, purpose: str = "announce") -> str:
    """As the agency's publisher: download the round's request, sign it outside the browser with
    `vdto sign` and the agency's own key, upload the signature file; the line the page shows."""
    switch(pg, server, agency, "publisher")
    row(pg).get_by_test_id("purpose").select_option(purpose)
    with pg.expect_download() as done:
        row(pg).get_by_test_id("download-request").click()
    request = folder / f"{agency}-{done.value.suggested_filename}"
    done.value.save_as(request)
    signature = request.with_suffix(".sig.json")
    res = run_here(
        "sign", str(request), "--key", str(server.data.keys / f"{agency}.key"), "--out", str(signature)
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(signature.read_text())["agency"] == agency
    before = pg.evaluate("() => document.querySelectorAll('[data-testid=round-row]')[0].outerHTML")
    row(pg).get_by_test_id("signature-file").set_input_files(signature)
    pg.wait_for_function(
        "(before) => { const r = document.querySelector('tr[data-round=\"1\"]');"
        " if (!r || r.outerHTML === before) return false; if (r.dataset.status === 'closed') return true;"
        " const m = r.querySelector('[data-testid=round-message]'); return m && !m.hidden; }",
        arg=before,
    )
    closed = row(pg).get_attribute("data-status") == "closed"
    message = pg.get_by_test_id("rounds-note") if closed else row(pg).get_by_test_id("round-message")
    assert message.get_attribute("class") == "ok", message.inner_text()
    return message.inner_text()


def test_a_round_opened_cosigned_and_announced_through_the_page(wb, page, tmp_path):
    asked: list[str] = []
    page.on("request", lambda req: asked.append(req.url))
    sign_in(page, wb, "mx", "analyst", view="rounds", lang="en")
    assert page.locator("#view h1").inner_text() == "Rounds"
    assert page.get_by_test_id("data-of").inner_text() == "Data of agency mx"
    assert page.get_by_test_id("no-rounds").is_visible()
    page.get_by_test_id("open-from").fill("2021-01-01")
    page.get_by_test_id("open-to").fill("2021-12-31")
    page.get_by_test_id("open-agencies").fill("mx, us")
    page.get_by_test_id("open-draws").fill("100")
    page.get_by_test_id("open-submit").click()
    row(page).wait_for()
    opened = call(wb, "GET", "/rounds/1", ("mx", "analyst")).json()
    assert opened["status"] == "open" and opened["agencies"] == ["mx", "us"] and opened["target"]
    assert row(page).get_by_test_id("round-target").inner_text() == opened["target"]
    assert page.get_by_test_id("open-result").inner_text() == f"Round 1 opened; target {opened['target']}."
    # an analyst sees the signing controls, but cannot use them
    assert row(page).get_by_test_id("download-request").is_disabled()
    assert row(page).get_by_test_id("signature-file").is_disabled()
    assert "publisher token" in (row(page).get_by_test_id("close").get_attribute("title") or "")

    # a publisher cannot open rounds; an agency's publisher cannot send another agency's signature
    switch(page, wb, "mx", "publisher")
    assert page.get_by_test_id("open-needs").is_visible() and page.get_by_test_id("open-submit").count() == 0
    foreign = tmp_path / "us.sig.json"
    request = call(wb, "GET", "/rounds/1/signing-request", ("us", "publisher")).json()
    (tmp_path / "us.request.json").write_text(json.dumps(request))
    assert run_here("sign", str(tmp_path / "us.request.json"), "--key", str(wb.data.keys / "us.key"),
                    "--out", str(foreign)).returncode == 0  # fmt: skip
    row(page).get_by_test_id("signature-file").set_input_files(foreign)
    refused = row(page).get_by_test_id("round-message")
    refused.wait_for()
    assert refused.get_attribute("class") == "error" and refused.get_attribute("role") == "alert"
    assert refused.inner_text().startswith("agency: a token of agency 'mx' cannot send a signature by 'us'")
    page.watch.expect(403)  # the browser logs the refused request itself, as it should
    # the announce button (server-held keys only) shows the API's 409 in one line
    row(page).get_by_test_id("announce").click()
    row(page).get_by_test_id("round-message").filter(has_text="holds no signing keys").wait_for()
    page.watch.expect(409)

    # the first request on an empty ledger is the rule entry, then the announcement's
    assert "waiting for us" in sign_in_browser(page, wb, "mx", tmp_path)
    assert "announcement" in sign_in_browser(page, wb, "us", tmp_path)
    assert not row(page).get_by_test_id("ledger-hash").count()
    assert "waiting for mx" in sign_in_browser(page, wb, "us", tmp_path)
    assert "announced" in sign_in_browser(page, wb, "mx", tmp_path)

    entries = [json.loads(line) for line in wb.ledger.read_text().splitlines()]
    assert [e["kind"] for e in entries] == ["rule", "announcement"]
    assert {s["agency"] for s in entries[1]["signatures"]} == {"mx", "us"}
    keys = {a: (wb.data.keys / f"{a}.pub").read_text().strip() for a in ("mx", "us")}
    assert verify(wb.ledger, keys).ok
    assert row(page).get_attribute("data-status") == "announced"
    assert row(page).get_by_test_id("signed-by").inner_text() == "mx, us"
    assert row(page).get_by_test_id("ledger-hash").get_attribute("title") == entries[1]["hash"]
    # closing an announced round: a closing request every agency signs the same way
    row(page).get_by_test_id("close-outcome").select_option("dismantled")
    row(page).get_by_test_id("close-on").fill("2022-03-01")
    row(page).get_by_test_id("close").click()
    row(page).get_by_test_id("round-message").filter(has_text="waits for every agency's signature").wait_for()
    assert "waiting for us" in sign_in_browser(page, wb, "mx", tmp_path, "close")
    assert "closed" in sign_in_browser(page, wb, "us", tmp_path, "close")
    assert row(page).get_attribute("data-status") == "closed" and "dismantled" in row(page).inner_text()
    entries = [json.loads(line) for line in wb.ledger.read_text().splitlines()]
    assert len(entries) == 3 and entries[2]["kind"] != "announcement"
    assert verify(wb.ledger, keys).ok
    # the public record shows it, verified
    goto(page, wb, "public", lang="en")
    assert page.get_by_test_id("public-round").count() == 1
    assert (
        page.get_by_test_id("ledger-check").inner_text()
        == f"Verified: 3 entries, root {entries[-1]['hash'][:16]}"
    )
    # the page never asked for any agency's raw events
    calls = [u for u in asked if "/ui/" not in u]
    assert calls and not [u for u in calls if "/events" in u or "/agencies/" in u]


def test_an_agency_outside_the_round_sees_it_without_actions(wb, page):
    assert call(wb, "POST", "/rounds", ("mx", "analyst"), json=ROUND).status_code == 201
    sign_in(page, wb, "zz", "publisher", view="rounds", lang="en")
    assert page.get_by_test_id("data-of").inner_text() == "Data of agency zz"
    assert "does not take part" in row(page).inner_text()
    assert row(page).get_by_test_id("download-request").count() == 0


# ----------------------------------------------------------------------- the access matrix

SIGNATURE = {
    "vdto_signature": 1, "request_sha256": "0" * 64, "agency": "mx", "key": "1" * 64,
    "entry_sig": "2" * 128, "checkpoint_sig": "3" * 128,
}  # fmt: skip

#: every write the rounds view offers: (method, path, role it needs, request keyword arguments)
ACTIONS = {
    "open": ("POST", "/rounds", "analyst", {"json": ROUND}),
    "download request": (
        "GET",
        "/rounds/1/signing-request",
        "publisher",
        {"params": {"purpose": "announce"}},
    ),
    "download closing request": (
        "GET",
        "/rounds/1/signing-request",
        "publisher",
        {"params": {"purpose": "close"}},
    ),
    "upload signature": ("POST", "/rounds/1/signatures", "publisher", {"json": SIGNATURE}),
    "announce": ("POST", "/rounds/1/announce", "publisher", {}),
    "close": ("POST", "/rounds/1/close", "publisher", {"json": {"outcome": "withdrawn", "reason": "test"}}),
}
WRONG_ROLES = {"analyst": ("publisher", "admin"), "publisher": ("analyst", "admin")}


@pytest.fixture
def opened(wb):
    """The workbench server with round 1 (mx and us) open."""
    res = call(wb, "POST", "/rounds", ("mx", "analyst"), json=ROUND)
    assert res.status_code == 201, res.text
    return wb


def _state(server) -> tuple:
    rounds = call(server, "GET", "/rounds", ("mx", "analyst")).json()
    return rounds, server.ledger.exists()


@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_write_of_the_view_is_refused_for_a_wrong_role_or_another_agency(opened, action):
    method, path, role, kwargs = ACTIONS[action]
    before = _state(opened)
    callers = [((("mx", r)), "needs a " + role) for r in WRONG_ROLES[role]]
    # another agency: zz takes no part in round 1; for opening, us asks for a round of mx alone
    if action == "open":
        kwargs = {"json": {**ROUND, "agencies": ["mx"]}}
        callers += [(("us", "analyst"), "can only open a round it takes part in")]
    else:
        callers += [(("zz", "publisher"), "does not take part in round 1")]
    for who, words in callers:
        res = call(opened, method, path, who, **kwargs)
        assert res.status_code == 403, (who, res.text)
        one_line(res, words)
    assert call(opened, method, path, None, **kwargs).status_code == 401
    assert _state(opened) == before  # nothing changed


def test_a_publisher_sends_only_its_own_agencys_signature(opened):
    request = call(opened, "GET", "/rounds/1/signing-request", ("us", "publisher")).json()
    from vdto.publication.keys import Signer
    from vdto.publication.ledger import sign_request

    signature = sign_request(request, Signer.load(opened.data.keys / "us.key"))
    res = call(opened, "POST", "/rounds/1/signatures", ("mx", "publisher"), json=signature)
    assert res.status_code == 403 and one_line(res).startswith("agency: a token of agency 'mx'")
    res = call(opened, "POST", "/rounds/1/signatures", ("us", "publisher"), json=signature)
    assert res.status_code == 200 and res.json()["signed_by"] == ["us"]


def test_a_round_not_announced_is_closed_by_each_agencys_publisher(opened, page):
    switch(page, opened, "mx", "publisher")
    row(page).get_by_test_id("close-outcome").select_option("withdrawn")
    row(page).get_by_test_id("close").click()
    refused = row(page).get_by_test_id("round-message")
    refused.wait_for()
    assert refused.get_attribute("class") == "error" and "needs a reason" in refused.inner_text()
    page.watch.expect(400)  # the browser logs the refused request itself, as it should
    for agency in ("mx", "us"):
        switch(page, opened, agency, "publisher")
        row(page).get_by_test_id("close-outcome").select_option("withdrawn")
        row(page).get_by_test_id("close-reason").fill("window too short")
        row(page).get_by_test_id("close").click()
        if agency == "mx":
            row(page).get_by_test_id("round-message").filter(has_text="Closing asked").wait_for()
        else:
            page.locator('tr[data-round="1"][data-status="closed"]').wait_for()
    assert page.get_by_test_id("rounds-note").inner_text() == "Closed: withdrawn."
    assert "reason: window too short" in row(page).inner_text()
    assert row(page).get_by_test_id("close").count() == 0
    assert not opened.ledger.exists()  # nothing was announced, so nothing is in the ledger
