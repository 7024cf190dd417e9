"""The workbench's shell: the page, its assets, its words, sign-in and the public view, in a real browser."""

from __future__ import annotations

import re

import pytest

from tests.workbench import goto, sign_in
from vdto.api import ui


def test_every_word_has_both_languages_and_one_home():
    assert ui.translation_problems() == []
    words = ui.translations()
    assert set(words["es"]) == set(words["en"])


def test_every_word_the_scripts_ask_for_exists():
    words = ui.translations()["en"]
    wanted = set()
    for path in ui.assets().values():
        if path.suffix == ".js" and "vendor" not in path.parts:
            wanted |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", path.read_text(encoding="utf-8")))
    # a key ending in "_" is a prefix the script completes (t("regions.layer_" + name)): some word must start with it
    missing = sorted(
        k for k in wanted if (not any(w.startswith(k) for w in words) if k.endswith("_") else k not in words)
    )
    assert not missing, missing


def test_the_page_loads_nothing_from_elsewhere(wb):
    import httpx

    res = httpx.get(wb.url + "/")
    assert res.status_code == 200
    csp = res.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp
    for src in re.findall(r'(?:src|href)="([^"#]+)"', res.text):
        assert src.startswith("/"), src  # no other host, no protocol-relative address
        assert httpx.get(wb.url + src).status_code == 200, src
    assert httpx.get(wb.url + "/?lang=en").text.count('lang="en"') == 1


@pytest.mark.parametrize(
    "path", ["../api/app.py", "..%2Fapp.js", "vendor/../../__init__.py", "nope.js", "app.py"]
)
def test_only_shipped_files_are_served(wb, path):
    import httpx

    assert httpx.get(f"{wb.url}/ui/{path}").status_code == 404


def test_public_view_needs_no_token(wb, page):
    goto(page, wb, "public", lang="en")
    assert page.locator("#view h1").inner_text() == "Public"
    # a server with a ledger path but nothing announced yet says so
    assert page.get_by_test_id("ledger-check").inner_text() == "nothing is published yet (no ledger)"


def test_sign_in_refuses_a_bad_token_and_accepts_a_good_one(wb, page):
    goto(page, wb, "events", lang="en")
    assert page.locator("#sign-in").is_visible()
    page.get_by_test_id("token").fill("vdto_nope_nope")
    page.get_by_test_id("sign-in").click()
    page.get_by_test_id("sign-in-error").wait_for()
    assert page.get_by_test_id("sign-in-error").inner_text() == "Token not valid or revoked."
    page.watch.expect(401)  # the browser logs the refused request itself, as it should
    sign_in(page, wb, "mx", "analyst", view="events", lang="en")
    assert page.get_by_test_id("agency-badge").inner_text() == "Agency mx · analyst"
    page.get_by_test_id("lang").click()
    page.wait_for_selector("#view[data-ready]")
    assert page.get_by_test_id("agency-badge").inner_text() == "Agencia mx · analyst"
    page.get_by_test_id("sign-out").click()
    assert page.locator("#sign-in").is_visible()
