"""Regenerate the workbench screenshots in docs/workbench/ (each view at 1,400 and 390 px wide;
the events and ranking views in both languages).

They are taken by the browser tests' own rig (``tests/workbench.py``): the real server over the
bundled UCDP GED 2015-2023 split between agencies mx and us, Debian's Chromium driven by
Playwright, no request allowed off the machine. Run from the repository root::

    uv run python docs/workbench_shots.py [OUT_DIR]

A round is opened and a small simulation run first, so those views have something to show.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.workbench import NARROW, WIDE, Server, build_data, goto, open_page, sign_in  # noqa: E402

#: (view, address parameters, languages)
SHOTS: tuple[tuple[str, dict[str, str], tuple[str, ...]], ...] = (
    ("events", {"from": "2021-01-01", "to": "2021-12-31"}, ("es", "en")),
    ("ranking", {"from": "2021-01-01", "to": "2021-12-31"}, ("es", "en")),
    ("agencies", {"from": "2021-01-01", "to": "2021-12-31"}, ("es",)),
    ("regions", {"year": "2021", "level": "municipality"}, ("es",)),
    ("rounds", {}, ("es",)),
    ("network", {}, ("es",)),
    ("simulations", {}, ("es",)),
    ("public", {}, ("es",)),
)


def prepare(server: Server) -> None:
    """Open a round for 2021 (mx and us) so the rounds view has one."""
    import httpx

    head = {"Authorization": f"Bearer {server.token('mx', 'analyst')}"}
    res = httpx.post(
        f"{server.url}/rounds", headers=head, timeout=300,
        json={"from": "2021-01-01", "to": "2021-12-31", "agencies": ["mx", "us"], "draws": 500},
    )  # fmt: skip
    res.raise_for_status()


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright
    from tests.browser import CHROMIUM

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "data").mkdir()
        data = build_data(Path(tmp) / "data")
        server = Server(data, Path(tmp))
        try:
            prepare(server)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                for view, params, langs in SHOTS:
                    for lang in langs:
                        for size in (WIDE, NARROW):
                            page = open_page(browser, viewport=size)
                            role = "publisher" if view == "rounds" else "analyst"
                            if view == "public":
                                goto(page, server, view, lang, **params)
                            else:
                                sign_in(page, server, "mx", role, view=view, lang=lang, **params)
                            settle(page, view)
                            name = f"{view}-{lang}-{size['width']}.png"
                            shrink(page.screenshot(full_page=view == "simulations"), out / name)
                            page.watch.check()
                            page.context.close()
                            print(name)
                browser.close()
        finally:
            server.stop()


def shrink(png: bytes, path: Path) -> None:
    """Write the screenshot with an adaptive 256-colour palette (about a third of the bytes)."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def settle(page, view: str) -> None:
    """What a view needs after it rendered before the picture (a run, a map's tiles of geometry)."""
    if view == "simulations":
        page.get_by_test_id("sim-launch").click()
        page.wait_for_selector("[data-testid=sim-claims]", timeout=600_000)
    if view == "regions":
        page.wait_for_selector(".leaflet-overlay-pane path", timeout=60_000)
    if view == "network":
        page.wait_for_selector("[data-testid=node-count]", timeout=60_000)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "workbench")
