"""Regenerate the screenshots of docs/scorecard.md: the public scorecard of a real two-agency round,
signed, witnessed and checked by the page itself in the browser.

    uv run python docs/scorecard_figures.py [WORK]

WORK is a new or empty scratch folder (a temporary one by default). The script splits the bundled UCDP GED
events of 2021 between two agencies (`vdto split-agencies`, the command that made
examples/mx-events.csv.gz and us-events.csv.gz) and imports each into a store of its own; then,
as the agencies would with keys at hand (`vdto round open`, `vdto round announce`, `vdto
publish --round 1 --ledger --key`, `vdto witness cosign`, `vdto publish --refresh`), it opens round
1 for 2021, announces it in a new ledger signed by both agencies' keys (fixed keys, so that the
shots do not change from run to run), has a witness cosign the announcement's checkpoint,
publishes the round's site signed into the ledger with the agencies' public keys and the
witness's verifier key, has the witness cosign the checkpoint that includes the site, and renews
the site's proofs.

A browser lets the page read its own files (what its check in `#vdto-verify` needs) only over
http(s), so the site is served on 127.0.0.1 (a port of the system's choosing) and headless
Chromium resolves that address and no other. Before any shot, the page's DOM is dumped once and
its `#vdto-verify` must say data-state="ok"; the script stops otherwise. Each shot is taken at
1,400 and 390 CSS pixels wide, in Spanish and in English, full page height, in a browser with a
fresh profile (a reader's first visit): docs/scorecard-es-1400.png, docs/scorecard-en-1400.png,
docs/scorecard-es-390.png and docs/scorecard-en-390.png. Each is reduced to a palette of 256
colours so that it stays small.

Chromium's windows are at least 500 pixels wide, so the page is shown in an iframe of the exact
width (its own viewport), inside a page written beside it, and the shot is cropped to it. The
page's height is measured the same way, once its check has finished.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from vdto.publication.keys import Signer
from vdto.publication.ledger import Ledger
from vdto.publication.rounds import announce_round, open_round
from vdto.publication.witness import cosign, new_witness, parse_vkey
from vdto.services.publish import publish_scorecard, refresh_site
from vdto.store import Store

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
VDTO = shutil.which("vdto") or str(Path(sys.executable).with_name("vdto"))
CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))),
    None,
)
WIDTHS = (1400, 390)
LANGS = ("es", "en")
#: The tallest shot taken (pixels): a longer page is cut there.
MAX_HEIGHT = 16000
#: Monte Carlo draws and seed of the round and its scorecard (the command line's defaults).
DRAWS, SEED = 2000, 7
#: The witness's name, as it appears on the page.
WITNESS = "periodico.example/witness"
#: A PNG larger than this (bytes) is refused: the docs stay light.
MAX_PNG = 600_000


def vdto(work: Path, *args: str) -> None:
    print("$ vdto " + " ".join(args), file=sys.stderr)
    env = {**os.environ, "VDTO_DB": str(work / "agencies.duckdb")}
    subprocess.run([VDTO, *args], check=True, cwd=work, env=env)


def chromium(work: Path, *args: str) -> str:
    """Headless Chromium, in a fresh profile, that reaches 127.0.0.1 and nothing else (every other
    host fails to resolve); returns its stdout. The virtual-time budget lets the page's
    asynchronous check (WebCrypto) finish before the DOM is dumped or the shot taken."""
    assert CHROMIUM, "no chromium binary (apt-get install -y chromium)"
    profile = Path(tempfile.mkdtemp(prefix="profile-", dir=work))
    done = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--hide-scrollbars", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--proxy-server=http://127.0.0.1:9", "--virtual-time-budget=30000",
            f"--user-data-dir={profile}", *args,
        ],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    shutil.rmtree(profile, ignore_errors=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    return done.stdout


def signer(agency: str, fill: int) -> Signer:
    """A fixed key (the same shots on every run; never use such a key for real)."""
    return Signer(agency, Ed25519PrivateKey.from_private_bytes(bytes([fill]) * 32))


def build_site(work: Path) -> Path:
    """The published site of round 1 (2021, agencies mx and us), signed and witnessed."""
    vdto(work, "split-agencies", "--out", str(work), "--agencies", "mx,us", "--share", "0.8",
         "--from", "2021", "--to", "2021", "--seed", "1")  # fmt: skip
    for agency in ("mx", "us"):
        vdto(work, "import", "ucdp", str(work / f"{agency}-events.csv.gz"), "--agency", agency, "-q")
    mx, us = signer("mx", 1), signer("us", 2)
    keys = work / "keys"  # the agencies' public keys, as `vdto keys new` writes them
    keys.mkdir()
    for s in (mx, us):
        (keys / f"{s.agency}.pub").write_text(s.public_hex + "\n", encoding="ascii")
    trusted = {s.agency: s.public_hex for s in (mx, us)}
    ledger, witness, site = work / "ledger.jsonl", work / "witness", work / "site"
    new_witness(WITNESS, witness)
    name, witness_hex = parse_vkey((witness / "witness.vkey").read_text(encoding="utf-8"))
    print("round 1: open, announce, witness, publish, witness, refresh", file=sys.stderr)
    with Store(work / "agencies.duckdb") as store:
        rnd = open_round(store, date(2021, 1, 1), date(2021, 12, 31), ["mx", "us"], draws=DRAWS, seed=SEED)
        announce_round(store, rnd.round_id, ledger, [mx, us])  # the rule, then the announcement
        book = Ledger(ledger)
        seen = cosign(witness, book.latest_checkpoint(), trusted)  # the witness sees the announcement
        book.add_cosignatures(seen.note, {name: witness_hex})
        announced = seen.checkpoint.size
        publish_scorecard(store, site, ledger=ledger, signers=[mx, us], keys_dir=keys, witnesses_dir=witness,
                          round_id=rnd.round_id, draws=DRAWS, seed=SEED)  # fmt: skip
    # the site entry makes a new checkpoint: the witness cosigns it too (it extends the one it
    # saw), and the site's proofs are renewed to carry that cosignature
    seen = cosign(witness, book.latest_checkpoint(), trusted, book.consistency(announced))
    book.add_cosignatures(seen.note, {name: witness_hex})
    refresh_site(site, ledger, keys_dir=keys, witnesses_dir=witness)
    return site


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def serve(folder: Path) -> http.server.ThreadingHTTPServer:
    """``folder`` over http on 127.0.0.1, a free port, in a thread (call ``shutdown()`` after)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def check_verified(work: Path, base: str) -> None:
    """Dump the page's DOM once: its check must have finished with data-state="ok"."""
    dom = chromium(work, "--dump-dom", base + "index.html")
    box = re.search(r'<div id="vdto-verify"([^>]*)>', dom)
    state = re.search(r'data-state="([^"]*)"', box.group(1)) if box else None
    if not state or state.group(1) != "ok":
        found = re.search(r'<div id="vdto-verify".*?</div>', dom, re.S)
        raise SystemExit(
            f"the page's check did not pass ({state.group(1) if state else 'no #vdto-verify'}): "
            + html.unescape(re.sub(r"<[^>]+>", " ", found.group(0) if found else dom[-2000:]))[:2000]
        )
    verdict = re.search(r'data-verdict="([^"]*)"', box.group(1))
    print(f"#vdto-verify: ok {html.unescape(verdict.group(1)) if verdict else ''}", file=sys.stderr)


HEIGHT_PROBE = """<script>
window.addEventListener("load", async function () {
  if (window.vdtoVerify && window.vdtoVerify.done) await window.vdtoVerify.done;
  var box = document.getElementById("vdto-verify");
  window.parent.postMessage({lang: document.documentElement.getAttribute("lang"), width: window.innerWidth,
                             height: document.documentElement.scrollHeight,
                             scrollWidth: document.documentElement.scrollWidth,
                             state: box && box.getAttribute("data-state")}, "*");
});
</script>"""


def frame_page(site: Path, name: str, frames: list[tuple[str, int, int]], collect: bool = False) -> str:
    """A page beside index.html holding one iframe per (page, width, height), stacked; with
    ``collect`` it writes what the frames post into <pre id="results">. Returns its name."""
    tags = "".join(
        f'<iframe src="{src}" style="display:block;border:0;width:{w}px;height:{h}px"></iframe>'
        for src, w, h in frames
    )
    script = (
        '<pre id="results"></pre><script>var got = [];window.addEventListener("message", function (e) {'
        'got.push(e.data); document.getElementById("results").textContent = JSON.stringify(got);});</script>'
        if collect
        else ""
    )
    (site / name).write_text(
        f'<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head>'
        f'<body style="margin:0">{tags}{script}</body></html>',
        encoding="utf-8",
    )
    return name


def height(site: Path, work: Path, base: str, lang: str, width: int) -> int:
    """The page's full height at ``width`` in ``lang`` once its check has finished, measured in a
    fresh browser as the shot is taken (a first visit: what the panel says depends on it); the
    check must have passed and the page must be no wider than ``width``."""
    page = (site / "index.html").read_text(encoding="utf-8")
    head, tail = page.rsplit("</body>", 1)
    (site / "_probe.html").write_text(head + HEIGHT_PROBE + "</body>" + tail, encoding="utf-8")
    harness = frame_page(site, "_height.html", [(f"_probe.html#{lang}", width, 600)], collect=True)
    dom = chromium(work, f"--window-size={max(width, 500)},800", "--dump-dom", base + harness)
    found = re.search(r'<pre id="results">(.*?)</pre>', dom, re.S)
    got = json.loads(html.unescape(found.group(1))) if found and found.group(1) else []
    if len(got) != 1 or got[0]["lang"] != lang or int(got[0]["width"]) != width or got[0]["state"] != "ok":
        raise SystemExit(
            f"{lang} at {width} px: the page did not report its height after a passing check: {got}"
        )
    if int(got[0]["scrollWidth"]) > width:
        raise SystemExit(
            f"{lang} at {width} px: the page is {got[0]['scrollWidth']} px wide, wider than the screen"
        )
    return int(got[0]["height"])


def shoot(site: Path, work: Path, base: str, lang: str, width: int, height: int, out: Path) -> None:
    height = min(height, MAX_HEIGHT)
    harness = frame_page(site, "_shot.html", [(f"index.html#{lang}", width, height)])
    raw = work / "shot.png"
    chromium(work, f"--screenshot={raw}", f"--window-size={max(width, 500)},{height}", base + harness)
    with Image.open(raw) as shot:
        image = shot.convert("RGB").crop((0, 0, width, height))
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        out, optimize=True
    )
    size = out.stat().st_size
    print(f"{out.relative_to(ROOT)}: {width} x {height}, {size:,} bytes", file=sys.stderr)
    if size > MAX_PNG:
        raise SystemExit(f"{out.relative_to(ROOT)}: {size:,} bytes, over {MAX_PNG:,}")


def main(argv: list[str]) -> None:
    work = Path(argv[0]).resolve() if argv else Path(tempfile.mkdtemp(prefix="vdto-scorecard-"))
    if work.exists() and any(work.iterdir()):
        raise SystemExit(f"{work}: not empty; give a new or empty scratch folder")
    work.mkdir(parents=True, exist_ok=True)
    site = build_site(work)
    httpd = serve(site)
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}/"
        check_verified(work, base)
        for width in WIDTHS:
            for lang in LANGS:
                tall = height(site, work, base, lang, width)
                shoot(site, work, base, lang, width, tall, DOCS / f"scorecard-{lang}-{width}.png")
    finally:
        httpd.shutdown()
        httpd.server_close()
        for scratch in ("_probe.html", "_height.html", "_shot.html"):
            (site / scratch).unlink(missing_ok=True)


if __name__ == "__main__":
    main(sys.argv[1:])
