"""What a published site's reader sees is what the agencies signed.

A published scorecard site (:func:`vdto.publication.site.write_site`) holds content files (the
pages, the scorecard, its CSV files, the rubric, the agencies' public keys) and, once signed, the
files that prove them: ``ledger.jsonl`` and its checkpoints, ``checkpoint.txt`` (the latest signed
checkpoint, with the witnesses' cosignatures), ``proof.json`` (the inclusion proofs of the site's
entry, the round's announcement and the key entries) and ``witnesses.txt`` (the witnesses'
verifier keys). The ``site`` entry of the ledger carries the SHA-256 of every content file
(:func:`site_payload`), so editing a figure in a page or a number in a data file breaks the
site's own check. :func:`verify_site` is that check on the command line (``vdto verify SITE``);
the page runs the same checks in the reader's browser (``verify.js``), in the same order and with
the same one-line messages.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vdto.errors import VdtoError
from vdto.files import replace_folder
from vdto.publication.ledger import Ledger, canonical_json, checkpoints_path, verify, verify_proof

#: Files that prove a site; every other file of the folder is content and must be signed.
PROOF_FILES: tuple[str, ...] = (
    "ledger.jsonl", "ledger.jsonl.checkpoints", "checkpoint.txt", "proof.json", "witnesses.txt",
)  # fmt: skip
#: The kind of the ledger entry that signs a site's files.
SITE_KIND = "site"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def content_files(folder: str | Path) -> dict[str, str]:
    """Every content file of a site folder (relative POSIX path -> SHA-256 hex), sorted."""
    root = Path(folder)
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return {n: _sha256(root / n) for n in names if n not in PROOF_FILES}


def site_payload(folder: str | Path) -> dict[str, Any]:
    """The payload of the ``site`` entry that signs a site folder's content files."""
    root = Path(folder)
    try:
        card = json.loads((root / "scorecard.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise VdtoError(f"cannot read scorecard.json ({error})", str(root), "write the site first") from None
    rnd = card.get("round") if isinstance(card.get("round"), dict) else {}
    meta = card.get("meta") if isinstance(card.get("meta"), dict) else {}
    return {"files": content_files(root), "round": rnd.get("id"), "agency": meta.get("agency")}


def _site_seq(entries: list[dict[str, Any]], files: dict[str, str]) -> int | None:
    for entry in reversed(entries):
        if entry["kind"] == SITE_KIND and entry["payload"].get("files") == files:
            return int(entry["seq"])
    return None


def _announcement_seq(entries: list[dict[str, Any]], round_id: Any) -> int | None:
    if round_id is None:
        return None
    for entry in reversed(entries):
        if entry["kind"] == "announcement" and entry["payload"].get("round") == round_id:
            return int(entry["seq"])
    return None


def signed_by_ledger(folder: str | Path, ledger_path: str | Path, where: str | Path | None = None,
                     trusted: dict[str, str] | None = None) -> int:  # fmt: skip
    """The ``site`` entry of the ledger that signs exactly the content files of ``folder``.

    Raises
    ------
    VdtoError
        If the ledger does not verify (against ``trusted`` keys when given) or no ``site`` entry
        signs these files.
    """
    ledger = Ledger(ledger_path)
    report = verify(ledger.path, trusted)
    if not report.ok:
        raise VdtoError(f"the ledger does not verify ({report.problem})", str(ledger.path),
                        "publish a ledger that passes `vdto verify`, with the agencies' own keys")  # fmt: skip
    seq = _site_seq(ledger.entries(), site_payload(folder)["files"])
    if seq is None:
        raise VdtoError("no site entry of the ledger signs this site's files; nothing was written",
                        str(where or folder), "sign the site (vdto publish with --key, or --request and --sig)")  # fmt: skip
    return seq


def attach_ledger(
    folder: str | Path,
    ledger_path: str | Path,
    *,
    trusted: dict[str, str] | None = None,
    witness_keys: list[str] | None = None,
) -> list[Path]:
    """Add the proof files to a written site: the ledger and its checkpoints, the latest
    checkpoint, the inclusion proofs of the site entry (which must sign exactly the folder's
    content files), of the round's announcement and of the key entries, and the witnesses'
    verifier keys. The folder is replaced as a whole, so a failure leaves it as it was.

    Raises
    ------
    VdtoError
        If the ledger does not verify, no ``site`` entry signs the folder's files, or no
        checkpoint covers it.
    """
    out, ledger = Path(folder), Ledger(ledger_path)
    report = verify(ledger.path, trusted)
    if not report.ok:
        raise VdtoError(f"the ledger does not verify ({report.problem})", str(ledger.path),
                        "publish a ledger that passes `vdto verify`, with the agencies' own keys")  # fmt: skip
    entries = ledger.entries()
    payload = site_payload(out)
    seq = _site_seq(entries, payload["files"])
    if seq is None:
        raise VdtoError("no site entry of the ledger signs this site's files", str(out),
                        "sign the site (vdto publish with --key, or --request and --sig)")  # fmt: skip
    seqs = [seq] + [s for s in [_announcement_seq(entries, payload["round"])] if s is not None]
    bundle = ledger.proof(sorted(seqs))
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        shutil.copytree(out, tmp, dirs_exist_ok=True)
        shutil.copyfile(ledger.path, tmp / "ledger.jsonl")
        shutil.copyfile(checkpoints_path(ledger.path), tmp / "ledger.jsonl.checkpoints")
        (tmp / "checkpoint.txt").write_text(bundle["checkpoint"], encoding="utf-8")
        (tmp / "proof.json").write_text(canonical_json(bundle) + "\n", encoding="utf-8")
        if witness_keys:
            (tmp / "witnesses.txt").write_text(
                "".join(k.strip() + "\n" for k in witness_keys), encoding="utf-8"
            )
        replace_folder(tmp, out, True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return sorted(p for p in out.rglob("*") if p.is_file())


@dataclass(frozen=True)
class SiteReport:
    """What :func:`verify_site` found: ``ok``; ``where`` (a file, or a file and an entry or
    checkpoint, e.g. ``"ledger.jsonl entry 3"`` or ``"scorecard.json"``); ``problem`` (one
    line, starting with ``where``); and, when it got that far, the ledger's size, the checkpoint's
    size, its signers and witnesses, the site entry and the announcement it proves."""

    ok: bool
    where: str
    problem: str
    entries: int = 0
    checkpoint_size: int | None = None
    signed_by: tuple[str, ...] = ()
    witnessed: tuple[str, ...] = ()
    site_entry: int | None = None
    announcement: int | None = None
    files: dict[str, str] = field(default_factory=dict)

    def verdict(self) -> dict[str, Any]:
        """The verdict as the in-browser check writes it: ``{"ok", "where", "problem"}``."""
        return {"ok": self.ok, "where": self.where, "problem": self.problem}


def _fail(where: str, what: str, **known: Any) -> SiteReport:
    return SiteReport(False, where, f"{where}: {what}", **known)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def verify_site(
    folder: str | Path,
    trusted: dict[str, str] | None = None,
    *,
    witnesses: dict[str, str] | None = None,
    checkpoint: str | None = None,
) -> SiteReport:
    """Check a downloaded site: the ledger, its checkpoints and ``checkpoint.txt``; the proofs
    in ``proof.json``; then every content file against the SHA-256 the ``site`` entry signed.

    ``checkpoint`` is one kept elsewhere (by a witness or from an earlier visit): the ledger
    must contain its tree. Stops at the first problem.

    Examples
    --------
    >>> import tempfile
    >>> verify_site(tempfile.mkdtemp()).problem
    'ledger.jsonl: missing (the site carries no signed record)'
    """
    root = Path(folder)
    if not root.is_dir():
        raise VdtoError("no such folder", str(root), "pass the folder of a published site")
    ledger_file = root / "ledger.jsonl"
    if not ledger_file.is_file():
        return _fail("ledger.jsonl", "missing (the site carries no signed record)")
    cp_text = _read_text(root / "checkpoint.txt")
    if cp_text is None:
        return _fail("checkpoint.txt", "missing or not text")
    report = verify(ledger_file, trusted, witnesses=witnesses, checkpoint=checkpoint)
    if report.ok:
        report = verify(ledger_file, trusted, witnesses=witnesses, checkpoint=cp_text)
        if not report.ok and report.where == "kept checkpoint":
            return _fail("checkpoint.txt", report.problem.split(": ", 1)[1], entries=report.entries)
    if not report.ok:
        return _fail(f"ledger.jsonl {report.where}".strip(), report.problem.split(": ", 1)[-1] if report.where else report.problem,
                     entries=report.entries)  # fmt: skip
    lines = ledger_file.read_bytes().split(b"\n")
    entries = [json.loads(x) for x in lines[:-1]]
    try:
        bundle = json.loads((root / "proof.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _fail("proof.json", "missing or not JSON", entries=report.entries)
    proof = verify_proof(bundle, trusted, witnesses=witnesses, checkpoint=cp_text)
    if not proof.ok:
        return _fail(f"proof.json {proof.where}", proof.problem.split(": ", 1)[-1], entries=report.entries)
    if bundle.get("checkpoint") != cp_text:
        return _fail("proof.json", "its checkpoint is not checkpoint.txt", entries=report.entries)
    for seq in proof.entries:
        if seq > len(entries) or lines[seq - 1].decode("utf-8") != next(
            e["line"] for e in bundle["entries"] if e["seq"] == seq
        ):
            return _fail("proof.json", f"entry {seq} differs from ledger.jsonl", entries=report.entries)
    known: dict[str, Any] = {"entries": report.entries, "checkpoint_size": proof.size,
                             "signed_by": proof.signed_by, "witnessed": proof.witnessed}  # fmt: skip
    sites = [s for s, e in proof.entries.items() if e["kind"] == SITE_KIND]
    if not sites:
        return _fail("proof.json", "proves no site entry (nothing signs the site's files)", **known)
    seq = max(sites)
    signed = proof.entries[seq]["payload"].get("files")
    if not isinstance(signed, dict):
        return _fail(f"ledger.jsonl entry {seq}", "the site entry lists no files", **known)
    present = content_files(root)
    for name in sorted(set(signed) | set(present)):
        if name not in present:
            return _fail(name, "missing (the site entry signed it)", site_entry=seq, **known)
        if name not in signed:
            return _fail(name, f"not signed (entry {seq} does not list it)", site_entry=seq, **known)
        if present[name] != signed[name]:
            return _fail(name, f"differs from the signed copy (SHA-256 {present[name][:12]}…, "
                               f"entry {seq} signed {str(signed[name])[:12]}…)", site_entry=seq, **known)  # fmt: skip
    announced = [s for s, e in proof.entries.items() if e["kind"] == "announcement"]
    return SiteReport(True, "", "", site_entry=seq, announcement=max(announced) if announced else None,
                      files=signed, **known)  # fmt: skip
