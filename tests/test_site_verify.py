"""The published site checks itself in the reader's browser: ``verify.js`` against ``vdto verify``.

One real two-agency site is built per module (the bundled 2021 UCDP events split between mx and
us, a round announced by both, mx's key rotated before it, the site signed into the ledger, the
round closed, us's key rotated after it, a witness cosigning the checkpoints). Every tamper an
attacker could try is then made on a copy of the site, each in its own folder: a byte changed in
every kind of file, entries reordered or dropped, a fork shown to two readers, signatures by keys
that are not in force, a co-signature removed, the scorecard's data edited, a figure edited in
each page; and a set of crafted inputs that walk through the parser's and the checks' corner
cases. Each folder is checked by the command line (:func:`verify_site` and ``vdto verify``) and by
the page itself in headless Chromium, served from 127.0.0.1 and loaded one after another in an
iframe of a harness page; the browser's verdict must equal the command line's on every one.
"""

from __future__ import annotations

import csv
import functools
import http.server
import io
import json
import re
import shutil
import threading
import urllib.parse
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from vdto.events import ucdp
from vdto.events.ingest import import_events
from vdto.publication.keys import Signer, load_trusted, new_keypair
from vdto.publication.ledger import (
    Ledger,
    canonical_json,
    checkpoints_path,
    entry_hash,
    signed_bytes,
)
from vdto.publication.note import parse_note, signature_line
from vdto.publication.rounds import announce_round, close_round, open_round, rule_payload
from vdto.publication.site import recompute_site
from vdto.publication.sitecheck import PROOF_FILES, attach_ledger, verify_site
from vdto.publication.witness import SplitView, check_evidence, cosign, new_witness, parse_vkey
from vdto.services.publish import publish_scorecard
from vdto.store import Store

from .browser import chromium, needs_chromium

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DRAWS = 200
WITNESS = "elpais.example/witness"
#: Chromium's own flags (tests/browser.py) send every host to NOTFOUND; this keeps that and lets
#: the harness reach the test's server on 127.0.0.1, and nothing else.
LOOPBACK_ONLY = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


# ------------------------------------------------------------------------------------ the site


@dataclass
class World:
    """The clean site and everything an attacker, a witness and the tests need around it."""

    root: Path
    site: Path
    ledger: Path
    keys: Path
    signers: dict[str, Signer]  # mx_old, mx, us_old, us, intruder (another "us"), third
    witness: Path
    witness_key: str
    kept: str  # the witness's latest cosigned checkpoint (of the whole ledger)
    truncated_ledger: Path
    fork_ledger: Path
    fork_note: str


def _signer(agency: str, folder: Path) -> Signer:
    return Signer.load(new_keypair(agency, folder)[0])


def _copy_ledger(src: Path, dst: Path, size: int) -> Ledger:
    """The first ``size`` entries of a ledger and their checkpoints (what an attacker keeps)."""
    lines = src.read_bytes().split(b"\n")[:size]
    dst.write_bytes(b"".join(line + b"\n" for line in lines))
    records = [json.loads(x) for x in checkpoints_path(src).read_text(encoding="utf-8").splitlines()]
    text = "".join(canonical_json(r) + "\n" for r in records if r["size"] <= size)
    checkpoints_path(dst).write_text(text, encoding="utf-8")
    return Ledger(dst)


def _published(content: Path, ledger: Path, out: Path, world_keys: Path, vkey: str) -> Path:
    """A site with ``content``'s files and the proofs of ``ledger`` (as `vdto publish` attaches them)."""
    shutil.copytree(content, out)
    for name in PROOF_FILES:
        (out / name).unlink(missing_ok=True)
    attach_ledger(out, ledger, trusted=load_trusted([world_keys]), witness_keys=[vkey])
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    root = tmp_path_factory.mktemp("siteverify")
    db = root / "store.duckdb"
    for agency in ("mx", "us"):
        import_events(db, "ucdp", EXAMPLES / f"{agency}-events.csv.gz", ucdp.parse, agency=agency)
    keys = root / "keys"  # the keys the rule entry declares, as the site publishes them
    s = {"mx_old": _signer("mx", root / "mx-old"), "us_old": _signer("us", keys), "mx": _signer("mx", root / "mx-new"),
         "us": _signer("us", root / "us-new"), "intruder": _signer("us", root / "intruder"),
         "third": _signer("third", root / "third")}  # fmt: skip
    shutil.copy(root / "mx-old" / "mx.pub", keys / "mx.pub")
    ledger = root / "ledger.jsonl"
    witness = root / "witness"
    new_witness(WITNESS, witness)
    vkey = (witness / "witness.vkey").read_text(encoding="utf-8").strip()
    name, witness_hex = parse_vkey(vkey)
    site = root / "site"
    with Store(db) as store:
        rnd = open_round(store, date(2021, 1, 1), date(2021, 12, 31), ["mx", "us"], draws=DRAWS)
        declared = {"mx": s["mx_old"].public_hex, "us": s["us_old"].public_hex}
        book = Ledger.init(ledger, rule_payload(rnd, declared), [s["mx_old"], s["us_old"]])
        book.append("key-change", {"agency": "mx", "key": s["mx"].public_hex, "reason": "routine rotation"},
                    [s["us_old"], s["mx"]])  # fmt: skip
        announce_round(store, rnd.round_id, ledger, [s["mx"], s["us_old"]])  # entry 3
        trusted = {"mx": s["mx"].public_hex, "us": s["us_old"].public_hex}
        seen = cosign(witness, book.latest_checkpoint(), trusted)
        book.add_cosignatures(seen.note, {name: witness_hex})
        publish_scorecard(store, site, ledger=ledger, signers=[s["mx"], s["us_old"]], keys_dir=keys,
                          witnesses_dir=witness, round_id=rnd.round_id, draws=DRAWS)  # fmt: skip  # entry 4
        close_round(store, rnd.round_id, "dismantled", on=date(2022, 1, 15), ledger_path=ledger,
                    signers=[s["mx"], s["us_old"]])  # fmt: skip  # entry 5
    book.append(
        "key-change",
        {"agency": "us", "key": s["us"].public_hex, "reason": "new hardware"},
        [s["mx"], s["us"]],
    )
    trusted = {"mx": s["mx"].public_hex, "us": s["us"].public_hex}
    seen = cosign(witness, book.latest_checkpoint(), trusted, book.consistency(3))
    book.add_cosignatures(seen.note, {name: witness_hex})
    attach_ledger(site, ledger, trusted=load_trusted([keys]), witness_keys=[vkey])
    # what attackers publish: the ledger cut after the site entry, and a fork whose last entry
    # says something else, signed by the same agencies (both with their own proofs)
    truncated = _copy_ledger(ledger, root / "truncated.jsonl", 4)
    fork = _copy_ledger(ledger, root / "fork.jsonl", 5)
    fork.append(
        "key-change", {"agency": "us", "key": s["us"].public_hex, "reason": "lost laptop"}, [s["mx"], s["us"]]
    )
    return World(root, site, ledger, keys, s, witness, vkey, seen.note, truncated.path, fork.path,
                  str(fork.latest_checkpoint()))  # fmt: skip


# ------------------------------------------------------------------------------------ tampering


def _read(folder: Path, name: str) -> bytes:
    return (folder / name).read_bytes()


def _put(folder: Path, name: str, data: bytes | str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


_HEX = b"0123456789abcdef"


def _flip(data: bytes, at: int, mask: int | None = None) -> bytes:
    """``data`` with the byte at ``at`` changed: XOR ``mask``, or by default the next character of
    its kind (a hex digit stays a hex digit, a letter a letter, ``+`` and ``/`` swap), so what it was part of still
    reads as before and only the checks can tell."""
    c = data[at]
    if mask is not None:
        new = c ^ mask
    elif c in _HEX:
        new = _HEX[(_HEX.index(c) + 1) % 16]
    elif 65 <= c <= 90 or 97 <= c <= 122:
        base = 65 if c <= 90 else 97
        new = base + (c - base + 1) % 26
    elif c in b"+/":  # a base64 character stays one: a signature must fail as a signature
        new = b"/+"[b"+/".index(c)]
    else:
        new = c ^ 1
    return data[:at] + bytes([new]) + data[at + 1 :]


def _after(data: bytes, marker: bytes, start: int = 0, skip: int = 0) -> int:
    at = data.index(marker, start)
    return at + len(marker) + skip


def _lines(folder: Path) -> list[bytes]:
    return _read(folder, "ledger.jsonl").split(b"\n")[:-1]


def _set_lines(folder: Path, lines: list[bytes]) -> None:
    _put(folder, "ledger.jsonl", b"".join(line + b"\n" for line in lines))


def _edit_line(folder: Path, seq: int, edit) -> None:
    lines = _lines(folder)
    lines[seq - 1] = edit(lines[seq - 1])
    _set_lines(folder, lines)


def _resigned(line: bytes, drop: tuple[str, ...] = (), add: tuple[Signer, ...] = (), replace: dict | None = None,
              flip_sig: str = "") -> bytes:  # fmt: skip
    """An entry line with signatures dropped, added, replaced or changed, its hash recomputed
    (what an attacker holding those keys, or none, writes)."""
    entry = json.loads(line)
    body = signed_bytes(entry)
    sigs = [s for s in entry["signatures"] if s["agency"] not in drop]
    for sig in sigs:
        if sig["agency"] == flip_sig:
            sig["sig"] = _flip(sig["sig"].encode(), 10).decode()
    for agency, signer in (replace or {}).items():
        sigs = [s for s in sigs if s["agency"] != agency]
        sigs.append({"agency": agency, "key": signer.public_hex, "sig": signer.sign(body)})
    sigs += [{"agency": s.agency, "key": s.public_hex, "sig": s.sign(body)} for s in add]
    entry["signatures"] = sorted(sigs, key=lambda s: (s["agency"], s["key"]))
    entry.pop("hash")
    entry["hash"] = entry_hash(entry)
    return canonical_json(entry).encode("utf-8")


def _resigned_note(note: str, agency: str, signer: Signer) -> str:
    """A checkpoint note whose ``agency`` line is replaced by a signature made with ``signer``."""
    body, sigs = parse_note(note)
    lines = [s.line for s in sigs if s.name != agency]
    line = signature_line(agency, bytes.fromhex(signer.public_hex), bytes.fromhex(signer.sign(body.encode())))
    return body + "\n" + line + "".join(lines)


def _card_edit(edit):
    def apply(folder: Path) -> None:
        card = json.loads(_read(folder, "scorecard.json"))
        edit(card)
        _put(folder, "scorecard.json", canonical_json(card))

    return apply


def _csv_edit(name: str, edit):
    def apply(folder: Path) -> None:
        rows = list(csv.reader(io.StringIO(_read(folder, name).decode("utf-8"))))
        rows = edit(rows[0], rows[1:])
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        _put(folder, name, out.getvalue())

    return apply


def _scaled(value: str) -> str:
    return repr(float(value) * 2) if value else value


def _scale_columns(columns: tuple[str, ...]):
    def edit(header, rows):
        at = [header.index(c) for c in columns]
        return [header] + [[_scaled(v) if i in at else v for i, v in enumerate(r)] for r in rows]

    return edit


def _swap_first_two(header, rows):
    org, name = header.index("org"), header.index("name")
    rows[0][org], rows[1][org] = rows[1][org], rows[0][org]
    rows[0][name], rows[1][name] = rows[1][name], rows[0][name]
    return [header, *rows]


def _narrow_interval(header, rows):
    lo, hi = header.index("lo90"), header.index("hi90")
    rows[0][lo], rows[0][hi] = _scaled(rows[0][lo]), rows[0][hi]
    return [header, *rows]


def _drop_org(column: str, org: str):
    def edit(header, rows):
        return [header] + [r for r in rows if r[header.index(column)] != org]

    return edit


def _scale_card(card: dict) -> None:
    for row in card["ranking"]:
        for key in ("score", "lo90", "hi90"):
            row[key] = row[key] * 2


def _scaled_with_sums(folder: Path) -> None:
    """Every published score and every sum behind it doubled, consistently: `vdto recompute`
    passes, only the signature tells."""
    _csv_edit("aggregates.csv", _scale_columns(("decayed_probability_sum", "score")))(folder)
    _csv_edit("scorecard.csv", _scale_columns(("score", "lo90", "hi90")))(folder)
    _card_edit(_scale_card)(folder)


def _edit_figure(name: str):
    """Change the first digit of the first number cell of a page (before any script)."""

    def apply(folder: Path) -> None:
        data = _read(folder, name)
        end = data.index(b"<script")
        cell = re.search(rb'<td class="num">(\d)', data[:end])
        assert cell is not None, name
        at = cell.start(1)
        _put(folder, name, data[:at] + (b"9" if data[at : at + 1] != b"9" else b"8") + data[at + 1 :])

    return apply


def _flip_middle(name: str):
    def apply(folder: Path) -> None:
        data = _read(folder, name)
        end = data.find(b"<script")
        _put(folder, name, _flip(data, (end if end > 0 else len(data)) // 2))

    return apply


def _flip_at(
    name: str, marker: bytes, skip: int = 0, mask: int | None = None, start_marker: bytes | None = None
):
    def apply(folder: Path) -> None:
        data = _read(folder, name)
        start = data.rindex(start_marker) if start_marker else 0
        _put(folder, name, _flip(data, _after(data, marker, start, skip), mask))

    return apply


def _flip_in_line(seq: int, marker: bytes, skip: int = 0, mask: int | None = None):
    def apply(folder: Path) -> None:
        _edit_line(folder, seq, lambda line: _flip(line, _after(line, marker, 0, skip), mask))

    return apply


def _reorder(folder: Path) -> None:
    lines = _lines(folder)
    lines[2], lines[3] = lines[3], lines[2]
    _set_lines(folder, lines)


def _drop_middle(folder: Path) -> None:
    lines = _lines(folder)
    del lines[2]
    _set_lines(folder, lines)


def _rotated_checkpoint(world: World):
    def apply(folder: Path) -> None:
        text = _read(folder, "ledger.jsonl.checkpoints").decode("utf-8")
        records = [json.loads(x) for x in text.splitlines()]
        records[-1]["note"] = _resigned_note(records[-1]["note"], "us", world.signers["us_old"])
        _put(folder, "ledger.jsonl.checkpoints", "".join(canonical_json(r) + "\n" for r in records))
        _put(folder, "checkpoint.txt", records[-1]["note"])

    return apply


def _replace(name: str, old: bytes, new: bytes, count: int = 1):
    def apply(folder: Path) -> None:
        data = _read(folder, name)
        assert old in data, (name, old)
        _put(folder, name, data.replace(old, new, count))

    return apply


def _line_replace(seq: int, old: bytes, new: bytes):
    def apply(folder: Path) -> None:
        def edit(line: bytes) -> bytes:
            assert old in line, (seq, old)
            return line.replace(old, new, 1)

        _edit_line(folder, seq, edit)

    return apply


def _proof_edit(edit):
    def apply(folder: Path) -> None:
        bundle = json.loads(_read(folder, "proof.json"))
        edit(bundle)
        _put(folder, "proof.json", json.dumps(bundle, ensure_ascii=False))

    return apply


def _sidecar_edit(edit):
    def apply(folder: Path) -> None:
        _put(folder, "ledger.jsonl.checkpoints", edit(_read(folder, "ledger.jsonl.checkpoints")))

    return apply


def _delete(name: str):
    def apply(folder: Path) -> None:
        (folder / name).unlink()

    return apply


def _checkpoint_of_size(size: int):
    def apply(folder: Path) -> None:
        records = [json.loads(x) for x in _read(folder, "ledger.jsonl.checkpoints").decode().splitlines()]
        _put(folder, "checkpoint.txt", next(r["note"] for r in records if r["size"] == size))

    return apply


@dataclass
class Case:
    name: str
    folder: Path
    group: str  # "tamper": must fail, naming `where`; "parity": the browser must agree, whatever it says
    where: str | None = None  # for tampers: the exact `where` the check must name
    says: str = ""  # for tampers: words the problem must hold
    modes: tuple[str, ...] = ("page",)  # "page": index.html over http; "folder": the folder picker's files


def _tampers(world: World) -> list[tuple]:
    """(name, make, where, says) for every tamper of the matrix."""
    s = world.signers
    byte = [
        ("byte-ledger-payload", _flip_in_line(3, b'"target":"'), "ledger.jsonl entry 3", "payload_sha256 does not match"),
        ("byte-ledger-signature", _flip_in_line(1, b'"sig":"', 10), "ledger.jsonl entry 1", "hash does not match"),
        ("forged-signature", _edit_line_with(1, flip_sig="mx"), "ledger.jsonl entry 1", "signature by 'mx' does not verify"),
        ("byte-ledger-hash", _flip_in_line(6, b'"hash":"', 63), "ledger.jsonl entry 6", "hash"),
        ("byte-ledger-time", _flip_in_line(2, b'"time":"', 3), "ledger.jsonl entry 2", "hash does not match"),
        ("byte-ledger-not-utf8", _flip_in_line(2, b'"reason":"', 2, 0xFF), "ledger.jsonl entry 2", "not valid UTF-8"),
        ("byte-ledger-checkpoints", _flip_at("ledger.jsonl.checkpoints", "\u2014 mx ".encode(), 20,
                                             start_marker=b'{"note":'), "ledger.jsonl checkpoint 6", "'mx'"),
        ("byte-checkpoint-root", _flip_at("checkpoint.txt", b"\n6\n", 5), "checkpoint.txt", "does not verify"),
        ("byte-checkpoint-cosignature", _flip_at("checkpoint.txt", f"\u2014 {WITNESS} ".encode(), 40),
         "checkpoint.txt", "cosignature by witness"),
        ("byte-proof-inclusion", _flip_at("proof.json", b'"inclusion":["', 7), "proof.json entry 3", "inclusion proof"),
        ("byte-proof-line", _flip_at("proof.json", b'\\"files\\":{', 30), "proof.json entry 4", ""),
    ]  # fmt: skip
    for name in ("index.html", "methodology.html", "scorecard.json", "scorecard.csv", "aggregates.csv",
                 "rubric.json", "keys/mx.pub", "keys/us.pub"):  # fmt: skip
        byte.append(
            (f"byte-{name.replace('/', '-')}", _flip_middle(name), name, "differs from the signed copy")
        )
    ledger = [
        ("entries-reordered", _reorder, "ledger.jsonl entry 3", "seq is 4, expected 3 (entries removed or reordered?)"),
        ("middle-entry-dropped", _drop_middle, "ledger.jsonl entry 3", "seq is 4, expected 3"),
        ("last-entries-dropped", None, "ledger.jsonl kept checkpoint",
         "checkpoint covers 6 entries but the ledger has 4 (entries dropped from the end?)"),
        ("fork", None, "ledger.jsonl kept checkpoint", "(a different history)"),
        ("undeclared-key", _edit_line_with(4, replace={"us": s["intruder"]}), "ledger.jsonl entry 4",
         "not the key declared for 'us'"),
        ("undeclared-agency", _edit_line_with(4, add=(s["third"],)), "ledger.jsonl entry 4",
         "signature by 'third', which is not a declared agency (declared: mx, us)"),
        ("rotated-key-entry", _edit_line_with(4, replace={"mx": s["mx_old"]}), "ledger.jsonl entry 4",
         f"signature by 'mx' is made with key {s['mx_old'].public_hex[:8]}\u2026, which was replaced at entry 2"),
        ("rotated-key-checkpoint", _rotated_checkpoint(world), "ledger.jsonl checkpoint 6",
         f"signature by 'us' is made with key {s['us_old'].public_hex[:8]}\u2026, which was replaced at entry 6"),
        ("cosignature-deleted", _edit_line_with(6, drop=("mx",)), "ledger.jsonl entry 6",
         "key-change entry is not signed by 'mx' (its quorum is mx)"),
    ]  # fmt: skip
    runner_up = json.loads(_read(world.site, "scorecard.json"))["decision"]["runner_up"]
    data = [
        ("scorecard-json-target", _card_edit(lambda c: c["decision"].update(target=runner_up)), "scorecard.json", ""),
        ("scorecard-json-org-removed", _card_edit(lambda c: c["ranking"].pop(1)), "scorecard.json", ""),
        ("scorecard-json-intervals", _card_edit(lambda c: c["ranking"][0].update(lo90=c["ranking"][0]["score"])),
         "scorecard.json", ""),
        ("scorecard-json-scaled", _card_edit(_scale_card), "scorecard.json", ""),
        ("scorecard-csv-target", _csv_edit("scorecard.csv", _swap_first_two), "scorecard.csv", ""),
        ("scorecard-csv-org-removed", _csv_edit("scorecard.csv", _drop_org("org", runner_up)), "scorecard.csv", ""),
        ("scorecard-csv-intervals", _csv_edit("scorecard.csv", _narrow_interval), "scorecard.csv", ""),
        ("scorecard-csv-scaled", _csv_edit("scorecard.csv", _scale_columns(("score",))), "scorecard.csv", ""),
        ("aggregates-org-removed", _csv_edit("aggregates.csv", _drop_org("org", runner_up)), "aggregates.csv", ""),
        ("aggregates-scaled-with-sums", _scaled_with_sums, "aggregates.csv", ""),
        ("figure-index", _edit_figure("index.html"), "index.html", ""),
        ("figure-methodology", _edit_figure("methodology.html"), "methodology.html", ""),
    ]  # fmt: skip
    data = [(n, m, w, says or "differs from the signed copy") for n, m, w, says in data]
    return byte + ledger + data


def _edit_line_with(seq: int, **how):
    def apply(folder: Path) -> None:
        _edit_line(folder, seq, lambda line: _resigned(line, **how))

    return apply


ASTRAL = "\U0001f600"


def _parity(world: World) -> list[tuple]:
    """(name, make) of crafted inputs: the browser must say exactly what the command line says."""
    time6 = json.loads(_lines(world.site)[5])["time"]
    arabic = "".join(chr(0x660 + int(d)) for d in time6[:4]) + time6[4:]
    lines = [
        ("line-space", _line_replace(6, b'{"hash":', b'{"hash": ')),
        ("line-keys-unsorted", lambda f: _edit_line(f, 6, lambda x: re.sub(rb'^\{("hash":"[0-9a-f]{64}"),(.*)\}$', rb"{\2,\1}", x))),
        ("line-seq-float", _line_replace(6, b'"seq":6', b'"seq":6.0')),
        ("line-seq-true", _line_replace(6, b'"seq":6', b'"seq":true')),
        ("line-seq-overflow", _line_replace(6, b'"seq":6', b'"seq":1e400')),
        ("line-seq-zero", _line_replace(6, b'"seq":6', b'"seq":0')),
        ("line-seq-huge", _line_replace(6, b'"seq":6', b'"seq":123456789012345678901234567890')),
        ("line-seq-too-many-digits", _line_replace(6, b'"seq":6', b'"seq":' + b"7" * 5000)),
        ("line-kind-upper", _line_replace(6, b'"kind":"key-change"', b'"kind":"Key-Change"')),
        ("line-kind-quote", _line_replace(6, b'"kind":"key-change"', b'"kind":"it\'s"')),
        ("line-kind-accent", _line_replace(6, b'"kind":"key-change"', '"kind":"señal"'.encode())),
        ("line-kind-invisible", _line_replace(6, b'"kind":"key-change"', '"kind":"key\u200bchange"'.encode())),
        ("line-kind-long", _line_replace(6, b'"kind":"key-change"', b'"kind":"' + b"x" * 60 + b'"')),
        ("line-time-feb-30", _line_replace(6, time6.encode(), ("2025-02-30" + time6[10:]).encode())),
        ("line-time-second-60", _line_replace(6, time6.encode(), (time6[:17] + "60Z").encode())),
        ("line-time-arabic-digits", _line_replace(6, time6.encode(), arabic.encode())),
        ("line-extra-key", _line_replace(6, b'"time":', b'"zzz":1,"time":')),
        ("line-missing-prev", lambda f: _edit_line(f, 6, lambda x: re.sub(rb'"prev":"[0-9a-f]{64}",', b"", x))),
        ("line-quorum-unsorted", _line_replace(4, b'"quorum":["mx","us"]', b'"quorum":["us","mx"]')),
        ("line-signatures-object", lambda f: _edit_line(f, 6, lambda x: re.sub(rb'"signatures":\[.*?\],"time"', b'"signatures":{},"time"', x))),
        ("line-signature-extra-key", _line_replace(6, b'{"agency":"mx",', b'{"agency":"mx","x":1,')),
        ("line-signature-agency-upper", _line_replace(6, b'{"agency":"mx",', b'{"agency":"MX",')),
        ("line-hash-upper", lambda f: _edit_line(f, 6, lambda x: x[:9] + x[9:73].upper() + x[73:])),
        ("line-payload-nan", lambda f: _edit_line(f, 6, lambda x: re.sub(rb'"reason":"[^"]*"', b'"reason":NaN', x))),
        ("line-payload-duplicate-key", _line_replace(6, b'"payload":{"agency":"us",', b'"payload":{"agency":"us","agency":"us",')),
        ("line-payload-escaped-slash", _line_replace(6, b'"reason":"new', b'"reason":"\\/new')),
        ("line-payload-lone-surrogate", _line_replace(6, b'"reason":"new', b'"reason":"\\ud800new')),
        ("line-payload-raw-control", _line_replace(6, b'"reason":"new', b'"reason":"\tnew')),
        ("line-payload-astral-keys", _line_replace(6, b',"reason":"new hardware"}', f',"reason":"new hardware","\uff01":1,"{ASTRAL}":2}}'.encode())),
        ("line-payload-unsorted-astral", _line_replace(6, b',"reason":"new hardware"}', f',"reason":"new hardware","{ASTRAL}":2,"\uff01":1}}'.encode())),
        ("line-float-as-int", _line_replace(1, b'"armed_clash":1.0', b'"armed_clash":1')),
        ("line-float-long", _line_replace(1, b'"armed_clash":1.0', b'"armed_clash":1.00')),
        ("line-float-exponent", _line_replace(1, b'"armed_clash":1.0', b'"armed_clash":1e-05')),
        ("line-float-plain-small", _line_replace(1, b'"armed_clash":1.0', b'"armed_clash":0.00001')),
        ("line-float-big", _line_replace(1, b'"armed_clash":1.0', b'"armed_clash":1e+16')),
        ("line-float-big-plain", _line_replace(1, b'"armed_clash":1.0', b'"armed_clash":1e16')),
        ("line-float-negative-zero", _line_replace(1, b'"armed_clash":1.0', b'"armed_clash":-0.0')),
        ("line-float-tiny", _line_replace(1, b'"armed_clash":1.0', b'"armed_clash":5e-324')),
        ("line-float-digits", _line_replace(1, b'"armed_clash":1.0', b'"armed_clash":0.30000000000000004')),
        ("line-float-digits-long", _line_replace(1, b'"armed_clash":1.0', b'"armed_clash":0.3000000000000000444')),
        ("line-trailing-cr", lambda f: _edit_line(f, 6, lambda x: x + b"\r")),
        ("line-no-final-newline", lambda f: _put(f, "ledger.jsonl", _read(f, "ledger.jsonl")[:-1])),
        ("line-empty", lambda f: _set_lines(f, [*_lines(f)[:2], b"", *_lines(f)[2:]])),
        ("line-bom", lambda f: _put(f, "ledger.jsonl", b"\xef\xbb\xbf" + _read(f, "ledger.jsonl"))),
        ("line-array", lambda f: _set_lines(f, [*_lines(f)[:5], b"[1,2]"])),
        ("ledger-empty", lambda f: _put(f, "ledger.jsonl", b"")),
        ("ledger-missing", _delete("ledger.jsonl")),
    ]  # fmt: skip
    if "á".encode() in _lines(world.site)[0]:
        lines.append(("line-escaped-accent", _line_replace(1, "á".encode(), b"\\u00e1")))
    sidecar = [
        ("sidecar-no-final-newline", _sidecar_edit(lambda d: d[:-1])),
        ("sidecar-not-json", _sidecar_edit(lambda d: b"{" + d)),
        ("sidecar-sizes-decrease", _sidecar_edit(lambda d: b"\n".join([*d.split(b"\n")[:-1][::-1], b""]))),
        ("sidecar-not-canonical", _sidecar_edit(lambda d: d.replace(b'{"note":', b'{"note": ', 1))),
        ("sidecar-extra-key", _sidecar_edit(lambda d: d.replace(b'{"note":', b'{"a":1,"note":', 1))),
        ("sidecar-size-zero", _sidecar_edit(lambda d: d.replace(b'"size":1}', b'"size":0}', 1))),
        ("sidecar-size-claimed", _sidecar_edit(lambda d: d.replace(b'"size":6}', b'"size":7}', 1))),
        ("sidecar-missing", _delete("ledger.jsonl.checkpoints")),
    ]
    checkpoint = [
        ("checkpoint-crlf", lambda f: _put(f, "checkpoint.txt", _read(f, "checkpoint.txt").replace(b"\n", b"\r\n"))),
        ("checkpoint-extension-line", _replace("checkpoint.txt", b"=\n\n", b"=\nextra\n\n")),
        ("checkpoint-size-leading-zero", _replace("checkpoint.txt", b"\n6\n", b"\n06\n")),
        ("checkpoint-no-empty-line", _replace("checkpoint.txt", b"\n\n", b"\n")),
        ("checkpoint-no-dash", _replace("checkpoint.txt", "\u2014 mx".encode(), b"- mx")),
        ("checkpoint-tab", _replace("checkpoint.txt", "\u2014 mx ".encode(), "\u2014 mx\t".encode())),
        ("checkpoint-other-log", _replace("checkpoint.txt", b"vdto.ledger/", b"vdto.ledger/0")),
        ("checkpoint-cosignature-removed", lambda f: _put(f, "checkpoint.txt", re.sub(f"\u2014 {re.escape(WITNESS)} .*\n".encode(), b"", _read(f, "checkpoint.txt")))),
        ("checkpoint-unknown-signer", lambda f: _put(f, "checkpoint.txt", _read(f, "checkpoint.txt") + "\u2014 someone.example AAAAAAAAAAAA\n".encode())),
        ("checkpoint-older", _checkpoint_of_size(4)),
        ("checkpoint-not-utf8", lambda f: _put(f, "checkpoint.txt", b"\xff" + _read(f, "checkpoint.txt"))),
        ("checkpoint-missing", _delete("checkpoint.txt")),
    ]  # fmt: skip

    def inclusion(value):
        return _proof_edit(lambda b: b["entries"][0].update(inclusion=value))

    proof = [
        ("proof-not-json", lambda f: _put(f, "proof.json", _read(f, "proof.json")[:-10])),
        ("proof-version", _proof_edit(lambda b: b.update(vdto_proof=2))),
        ("proof-version-true", _proof_edit(lambda b: b.update(vdto_proof=True))),
        ("proof-seq-text", _proof_edit(lambda b: b["entries"][0].update(seq="3"))),
        ("proof-inclusion-text", inclusion("abc")),
        ("proof-inclusion-number", inclusion(5)),
        ("proof-inclusion-null", inclusion(None)),
        ("proof-inclusion-item-number", inclusion([5])),
        ("proof-inclusion-odd-hex", inclusion(["abc"])),
        ("proof-inclusion-non-ascii", inclusion(["ab\u00e9"])),
        ("proof-inclusion-short-hash", inclusion(["00" * 31])),
        ("proof-inclusion-too-short", _proof_edit(lambda b: b["entries"][0]["inclusion"].pop())),
        ("proof-inclusion-upper", _proof_edit(lambda b: b["entries"][0].update(inclusion=[h.upper() for h in b["entries"][0]["inclusion"]]))),
        ("proof-inclusion-spaced", _proof_edit(lambda b: b["entries"][0].update(inclusion=[" " + h[:2] + " " + h[2:] for h in b["entries"][0]["inclusion"]]))),
        ("proof-no-keys", _proof_edit(lambda b: b.update(keys=[]))),
        ("proof-no-rule", _proof_edit(lambda b: b["keys"].pop(0))),
        ("proof-announcement-as-key", _proof_edit(lambda b: b["keys"].append(b["entries"][0]))),
        ("proof-item-malformed", _proof_edit(lambda b: b["entries"][0].pop("line"))),
        ("proof-checkpoint-number", _proof_edit(lambda b: b.update(checkpoint=5))),
        ("proof-no-site-entry", _proof_edit(lambda b: b["entries"].pop(1))),
        ("proof-duplicate-entry", _proof_edit(lambda b: b["entries"].append(dict(b["entries"][1], seq=4.0)))),
        ("proof-size", _proof_edit(lambda b: b.update(size=5))),
        ("proof-size-float", _proof_edit(lambda b: b.update(size=6.0))),
        ("proof-origin", _proof_edit(lambda b: b.update(origin=b["origin"] + "0"))),
        ("proof-no-entries", _proof_edit(lambda b: b.update(entries=[]))),
        ("proof-entries-object", _proof_edit(lambda b: b.update(entries={}))),
        ("proof-missing", _delete("proof.json")),
    ]  # fmt: skip
    other = [
        ("witnesses-missing", _delete("witnesses.txt")),
        ("content-file-missing", _delete("methodology.html")),
    ]
    return lines + sidecar + checkpoint + proof + other


def _make(world: World, folder: Path, make) -> None:
    shutil.copytree(world.site, folder)
    make(folder)


def _witnesses(folder: Path) -> dict[str, str] | None:
    """witnesses.txt as the page reads it: one verifier key a line (the page's --witness)."""
    path = folder / "witnesses.txt"
    if not path.exists():
        return None
    return dict(parse_vkey(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def cli_verdict(folder: Path, kept: str | None) -> dict[str, Any]:
    """What ``vdto verify FOLDER --witness FOLDER/witnesses.txt [--checkpoint KEPT]`` decides."""
    return dict(_cli_verdict(str(folder), kept))


@functools.lru_cache(maxsize=1024)
def _cli_verdict(folder: str, kept: str | None) -> dict[str, Any]:
    return verify_site(folder, witnesses=_witnesses(Path(folder)), checkpoint=kept).verdict()


@dataclass
class Matrix:
    world: World
    cases: list[Case]
    root: Path  # served over http: cases/<name>/ and the harness pages
    kept: str  # the clean site's checkpoint.txt: what the reader's browser keeps after its first visit


@pytest.fixture(scope="module")
def matrix(world) -> Matrix:
    root = world.root / "served"
    cases_dir = root / "cases"
    cases: list[Case] = [Case("clean", cases_dir / "clean", "tamper", "", "", ("page", "folder"))]
    shutil.copytree(world.site, cases[0].folder)
    for name, make, where, says in _tampers(world):
        folder = cases_dir / name
        if name == "last-entries-dropped":
            _published(world.site, world.truncated_ledger, folder, world.keys, world.witness_key)
        elif name == "fork":
            _published(world.site, world.fork_ledger, folder, world.keys, world.witness_key)
        else:
            _make(world, folder, make)
        cases.append(Case(name, folder, "tamper", where, says))
    for name, make in _parity(world):
        _make(world, cases_dir / name, make)
        cases.append(Case(name, cases_dir / name, "parity"))
    extra = cases_dir / "extra-unsigned-file"
    _make(world, extra, lambda f: _put(f, "notes.txt", "not signed\n"))
    cases.append(Case("extra-unsigned-file", extra, "parity", modes=("folder",)))
    cases.append(
        Case("scorecard-json-target-folder", cases_dir / "scorecard-json-target", "parity", modes=("folder",))
    )
    kept = _read(world.site, "checkpoint.txt").decode("utf-8")
    return Matrix(world, cases, root, kept)


def expected_page_verdicts(m: Matrix, order: list[str], kept: str | None = None) -> list[dict[str, Any]]:
    """The command line's verdict for each page visit in ``order``, with the checkpoint the
    reader's browser keeps from one ok visit to the next (the largest one verified)."""
    by_name = {c.name: c for c in m.cases}
    out = []
    for name in order:
        folder = by_name[name].folder
        verdict = cli_verdict(folder, kept)
        out.append(verdict)
        if verdict["ok"]:
            note = _read(folder, "checkpoint.txt").decode("utf-8")
            if kept is None or _size(note) > _size(kept):
                kept = note
    return out


def _size(note: str) -> int:
    return int(note.split("\n")[1])


# ------------------------------------------------------------------------------------ the command line


def test_the_clean_site_verifies_and_its_page_carries_the_check(matrix):
    m = matrix
    report = verify_site(m.world.site, witnesses=_witnesses(m.world.site))
    assert report.ok, report.problem
    assert (report.entries, report.checkpoint_size, report.site_entry, report.announcement) == (6, 6, 4, 3)
    assert report.signed_by == ("mx", "us") and report.witnessed == (WITNESS,)
    page = _read(m.world.site, "index.html").decode("utf-8")
    assert '<div id="vdto-verify" data-state="pending"></div>' in page
    from importlib import resources

    from vdto.render.pages import script

    code = resources.files("vdto.data.site").joinpath("verify.js").read_text(encoding="utf-8")
    assert str(script(code)) in page  # inline, so index.html's own hash covers it
    assert "index.html" in report.files


def test_every_tamper_fails_on_the_command_line_naming_what(matrix):
    kept = matrix.kept
    for case in matrix.cases:
        if case.group != "tamper":
            continue
        verdict = cli_verdict(case.folder, None if case.name == "clean" else kept)
        if case.name == "clean":
            assert verdict == {"ok": True, "where": "", "problem": ""}
            continue
        assert not verdict["ok"], case.name
        assert verdict["where"] == case.where, (case.name, verdict)
        assert verdict["problem"].startswith(case.where + ": "), (case.name, verdict)
        assert case.says in verdict["problem"], (case.name, verdict)


def test_dropped_entries_are_caught_against_the_witness_and_a_fork_is_a_split_view(matrix):
    w = matrix.world
    truncated = matrix.cases[[c.name for c in matrix.cases].index("last-entries-dropped")].folder
    fork = matrix.cases[[c.name for c in matrix.cases].index("fork")].folder
    # alone, each attacker's site is consistent: a reader without a kept checkpoint cannot tell
    assert cli_verdict(truncated, None)["ok"] and cli_verdict(fork, None)["ok"]
    # the witness's kept checkpoint catches both, as the reader's browser does
    assert "entries dropped from the end" in cli_verdict(truncated, w.kept)["problem"]
    assert "a different history" in cli_verdict(fork, w.kept)["problem"]
    # the witness refuses the fork's checkpoint and writes evidence anyone can check
    with pytest.raises(SplitView) as caught:
        cosign(w.witness, w.fork_note, {"mx": w.signers["mx"].public_hex, "us": w.signers["us"].public_hex})
    assert check_evidence(caught.value.evidence).startswith("split view proven: log vdto.ledger/")


def test_consistent_scaling_passes_recompute_but_not_the_signature(matrix):
    case = next(c for c in matrix.cases if c.name == "aggregates-scaled-with-sums")
    assert recompute_site(case.folder).ok  # the numbers agree with one another...
    assert cli_verdict(case.folder, None)["where"] == "aggregates.csv"  # ...but are not the ones signed


def test_vdto_verify_command_says_the_same(matrix, tmp_path, monkeypatch):
    import typer.testing
    from typer.testing import CliRunner

    from vdto.cli.app import app

    kept = tmp_path / "kept.txt"
    kept.write_text(matrix.kept, encoding="utf-8")
    command = typer.main.get_command(app)  # what CliRunner().invoke(app, ...) builds each time, once
    monkeypatch.setattr(typer.testing, "_get_command", lambda _: command)
    runner = CliRunner()
    for case in matrix.cases:
        if "page" not in case.modes:
            continue
        args = ["verify", str(case.folder)]
        if (case.folder / "witnesses.txt").exists():
            args += ["--witness", str(case.folder / "witnesses.txt")]
        if case.name != "clean":
            args += ["--checkpoint", str(kept)]
        verdict = cli_verdict(case.folder, None if case.name == "clean" else matrix.kept)
        result = runner.invoke(app, args)
        assert result.exit_code == (0 if verdict["ok"] else 1), (case.name, result.output)
        if verdict["ok"]:
            assert "OK" in result.output, (case.name, result.output)
        else:
            assert verdict["problem"] in " ".join(result.output.split()), (case.name, result.output)


# ------------------------------------------------------------------------------------ the browser


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.server.seen.append(urllib.parse.unquote(self.path))
        super().do_GET()


@pytest.fixture(scope="module")
def server(matrix):
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, directory=str(matrix.root))
    )
    httpd.seen = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


HARNESS = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>vdto verify harness</title></head>
<body><pre id="results">running</pre>
<script type="application/json" id="plan">%s</script>
<script>
(async () => {
  const plan = JSON.parse(document.getElementById("plan").textContent);
  const results = [];
  const text = (box, lang) => Array.from(box.querySelectorAll('[data-lang="' + lang + '"]'))
    .map((n) => n.textContent).join(" ");
  async function open(name) {
    const frame = document.createElement("iframe");
    const loaded = new Promise((resolve) => frame.addEventListener("load", resolve, { once: true }));
    frame.src = "cases/" + encodeURIComponent(name) + "/index.html";
    document.body.append(frame);
    await loaded;
    return frame;
  }
  for (const name of plan.pages) {
    const frame = await open(name);
    const out = { case: name, mode: "page" };
    try {
      const api = frame.contentWindow.vdtoVerify;
      await api.done;
      const box = frame.contentDocument.getElementById("vdto-verify");
      out.state = box.getAttribute("data-state");
      out.verdict = JSON.parse(box.getAttribute("data-verdict") || "null");
      out.es = text(box, "es");
      out.en = text(box, "en");
      out.text = box.textContent;
      out.hidden = Array.from(box.querySelectorAll("[data-lang]")).filter((n) => n.hidden).map((n) => n.getAttribute("data-lang"));
    } catch (error) {
      out.error = String(error);
    }
    results.push(out);
    frame.remove();
  }
  if (plan.folders.length) {
    const frame = await open(plan.pages[0]);
    const api = frame.contentWindow.vdtoVerify;
    await api.done;
    for (const name of plan.folders) {
      const out = { case: name, mode: "folder" };
      try {
        const files = {};
        for (const path of plan.files[name]) {
          const response = await fetch("cases/" + encodeURIComponent(name) + "/" + path);
          files[path] = new Uint8Array(await response.arrayBuffer());
        }
        const report = await api.verifySite(api.filesSource(files), { keptFor: () => null });
        out.verdict = { ok: report.ok, where: report.where, problem: report.problem };
      } catch (error) {
        out.error = String(error);
      }
      results.push(out);
    }
    frame.remove();
  }
  document.getElementById("results").textContent = JSON.stringify(results);
})();
</script></body></html>
"""


def _harness(m: Matrix, name: str, pages: list[str], folders: list[Case]) -> str:
    files = {c.name: sorted(p.relative_to(c.folder).as_posix() for p in c.folder.rglob("*") if p.is_file())
             for c in folders}  # fmt: skip
    folder_names = [c.folder.name for c in folders]
    plan = {"pages": pages, "folders": folder_names, "files": {c.folder.name: files[c.name] for c in folders}}
    (m.root / name).write_text(HARNESS % json.dumps(plan).replace("</", "<\\/"), encoding="utf-8")
    return name


def _run_harness(tmp: Path, server, page: str) -> tuple[list[dict], str]:
    url = f"http://127.0.0.1:{server.server_address[1]}/{page}"
    done = chromium(tmp, LOOPBACK_ONLY, "--dump-dom", url)
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="results">(.*?)</pre>', done.stdout, re.S)
    assert found and found.group(1) != "running", (done.stdout[-2000:], done.stderr[-3000:])
    import html

    return json.loads(html.unescape(found.group(1))), done.stderr


def _console(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


@pytest.fixture(scope="module")
def browser(matrix, server, tmp_path_factory):
    """One Chromium run: the clean site first (the reader's browser keeps its checkpoint), then
    every other case's page, then the folder-picker cases."""
    pages = [c.name for c in matrix.cases if "page" in c.modes]
    folders = [c for c in matrix.cases if "folder" in c.modes]
    name = _harness(matrix, "harness.html", pages, folders)
    start = len(server.seen)
    results, stderr = _run_harness(tmp_path_factory.mktemp("chromium"), server, name)
    return pages, folders, results, stderr, server.seen[start:]


@needs_chromium
def test_the_browser_verdict_equals_the_command_line_on_every_case(matrix, browser):
    pages, folders, results, _, _ = browser
    expected = expected_page_verdicts(matrix, pages)
    by_page = [r for r in results if r["mode"] == "page"]
    assert [r["case"] for r in by_page] == pages
    differ = [(name, r.get("verdict") or r, want) for name, r, want in zip(pages, by_page, expected, strict=True)
              if r.get("verdict") != want]  # fmt: skip
    assert differ == [], json.dumps(differ, indent=1, ensure_ascii=False)[:6000]
    for r, want in zip(by_page, expected, strict=True):
        assert r["state"] == ("ok" if want["ok"] else "failed"), r
    tampers = {c.name for c in matrix.cases if c.group == "tamper" and c.name != "clean"}
    assert all(not r["verdict"]["ok"] for r in by_page if r["case"] in tampers)
    by_folder = [r for r in results if r["mode"] == "folder"]
    assert [r["case"] for r in by_folder] == [c.folder.name for c in folders]
    for r, case in zip(by_folder, folders, strict=True):
        assert r.get("verdict") == cli_verdict(case.folder, None), (case.name, r)
    extra = next(r for r in by_folder if r["case"] == "extra-unsigned-file")
    assert extra["verdict"]["problem"] == "notes.txt: not signed (entry 4 does not list it)"


@needs_chromium
def test_the_page_says_what_was_checked_in_both_languages(browser):
    _, _, results, _, _ = browser
    clean = results[0]
    assert clean["case"] == "clean" and clean["state"] == "ok"
    assert clean["hidden"] and set(clean["hidden"]) == {"en"}  # Spanish first, English on the switch
    es, en = clean["es"], clean["en"]
    for words in ("Verificado en este navegador", "6 entradas", "firmado por mx y us", f"testigo {WITNESS}",
                  "anuncio de la ronda 1 (entrada 3)", "8 archivos", "entrada 4"):  # fmt: skip
        assert words in es, (words, es)
    for words in ("Verified in this browser", "6 entries", "signed by mx and us", f"witness {WITNESS}",
                  "announcement of round 1 (entry 3)", "8 files", "entry 4"):  # fmt: skip
        assert words in en, (words, en)
    again = next(r for r in results if r["case"] == "checkpoint-crlf")  # ok, after the clean visit
    assert "Este navegador vio el punto de control de 6 entradas el" in again["es"]
    assert "This browser saw the checkpoint of 6 entries on" in again["en"]
    failed = next(r for r in results if r["case"] == "figure-index")
    assert failed["state"] == "failed"
    assert (
        "La verificación falló en index.html" in failed["es"]
        and "Verification failed at index.html" in failed["en"]
    )
    assert failed["verdict"]["problem"] in failed["text"]  # the technical line itself, after both sentences


@needs_chromium
def test_the_browser_logs_nothing_and_asks_only_for_the_sites_files(matrix, browser):
    pages, _, _, stderr, seen = browser
    assert _console(stderr) == [], _console(stderr)[:10]
    names = {c.folder.name for c in matrix.cases}
    files = (
        set(PROOF_FILES)
        | {p.relative_to(matrix.world.site).as_posix() for p in matrix.world.site.rglob("*")}
        | {"notes.txt"}
    )
    for path in seen:
        if path == "/harness.html":
            continue
        parts = path.split("/", 3)
        assert parts[:2] == ["", "cases"] and parts[2] in names and parts[3] in files, path
    assert "/harness.html" in seen and len(seen) > len(pages) * 6


@needs_chromium
def test_a_second_reader_who_saw_the_attackers_sites_first(matrix, server, tmp_path):
    """A fresh browser shown the cut ledger, then the fork, accepts both (it has nothing to
    compare with), keeps the fork's checkpoint, and then rejects the real site: the two views
    cannot both be true, and whichever a reader saw first makes the other fail."""
    order = ["last-entries-dropped", "fork", "clean"]
    name = _harness(matrix, "harness-second-reader.html", order, [])
    results, stderr = _run_harness(tmp_path, server, name)
    expected = expected_page_verdicts(matrix, order)
    assert [r.get("verdict") for r in results] == expected
    assert [r["ok"] for r in expected] == [True, True, False]
    assert "a different history" in expected[2]["problem"]
    assert _console(stderr) == []


@needs_chromium
def test_opened_from_disk_the_page_offers_the_folder_picker(matrix, tmp_path):
    done = chromium(tmp_path, "--dump-dom", (matrix.world.site / "index.html").as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    box = re.search(r'<div id="vdto-verify"([^>]*)>(.*?)</div>\s*<noscript', done.stdout, re.S)
    assert box, done.stdout[-3000:]
    assert 'data-state="unavailable"' in box.group(1) and "data-verdict" not in box.group(1)
    assert 'type="file"' in box.group(2) and "webkitdirectory" in box.group(2)
    assert "Abierta desde el disco" in box.group(2) and "Opened from disk" in box.group(2)
    assert _console(done.stderr) == []
