"""Headless Chromium for the page tests: find it, run it offline, take screenshots."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if found := shutil.which(name):
            return found
    return None


CHROMIUM = _find_chromium()
#: Where a run must not skip the browser tests (CI sets it): a missing Chromium fails them.
REQUIRED = os.environ.get("VDTO_REQUIRE_CHROMIUM") == "1"
MISSING = "no chromium binary found (install Debian's package: apt-get install -y chromium)"


def needs_chromium(test):
    """Skip ``test`` without Chromium, saying how to install it; fail instead where
    ``VDTO_REQUIRE_CHROMIUM=1`` (CI), so the browser tests never pass by skipping there."""
    if CHROMIUM is None and REQUIRED:
        return _fails(test)
    return pytest.mark.skipif(CHROMIUM is None, reason=MISSING)(test)


def _fails(test):
    import functools

    @functools.wraps(test)
    def run(*args, **kwargs):
        pytest.fail(MISSING + " (VDTO_REQUIRE_CHROMIUM=1)")

    return run


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium with no network: every host name fails to resolve, no proxy works."""
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=http://127.0.0.1:9",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=30000",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def dump_dom(tmp_path: Path, url: str) -> subprocess.CompletedProcess:
    """The DOM after the page's scripts ran (in `stdout`); fails the test if Chromium failed."""
    done = chromium(tmp_path, "--dump-dom", url)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC
    return struct.unpack(">II", data[16:24])


def screenshot(tmp_path: Path, url: str, width: int, height: int) -> bytes:
    """A PNG of the page at `width` x `height`; checks it is a PNG of exactly that size."""
    png = tmp_path / "shot.png"
    done = chromium(tmp_path, f"--screenshot={png}", f"--window-size={width},{height}", url)
    assert done.returncode == 0, done.stderr[-2000:]
    data = png.read_bytes()
    assert png_size(data) == (width, height)
    return data
