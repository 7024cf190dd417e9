"""``vdto sign``, ``vdto verify``, ``vdto ledger`` and ``vdto witness``: signing on each agency's
own machine, checking a ledger, a site, a proof or evidence, and witnessing checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from vdto.cli.console import err, out
from vdto.cli.options import KeyOpt, RequestOpt, SigOpt
from vdto.errors import VdtoError

ledger_app = typer.Typer(
    help="The publication ledger: checkpoints, proofs, key changes, witnesses' cosignatures.",
    no_args_is_help=True,
)
witness_app = typer.Typer(
    help="Witnessing a ledger: keep its checkpoints, check them, cosign.", no_args_is_help=True
)

LedgerArg = Annotated[Path, typer.Argument(metavar="LEDGER", help="The ledger file (ledger.jsonl).")]
TrustOpt = Annotated[
    list[Path] | None,
    typer.Option("--trust", help="Agencies' public keys to pin: AGENCY.pub files or a folder of them."),
]
WitnessOpt = Annotated[
    list[Path] | None,
    typer.Option("--witness", help="Witnesses' verifier keys: witness.vkey files or a folder of them."),
]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Write here instead of standard output.")]


def read_json(path: Path, what: str) -> Any:
    """A JSON file given on the command line, or one line naming it (exit 2)."""
    from vdto.publication.witness import read_json as read

    return read(path, what)


def read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise VdtoError(f"{what} not found", str(path), "check the path") from None
    except (OSError, UnicodeDecodeError):
        raise VdtoError(f"cannot read the {what} as text", str(path), "check the path") from None


def read_note(path: Path) -> str:
    """A signed checkpoint given on the command line; a malformed one is bad input naming the file."""
    from vdto.publication.note import Checkpoint, parse_note

    text = read_text(path, "checkpoint")
    try:
        Checkpoint.parse(parse_note(text)[0])
    except VdtoError as error:
        raise VdtoError(
            f"not a signed checkpoint ({error.what})", str(path), "pass a checkpoint vdto wrote"
        ) from None
    return text


def signers(keys: list[Path] | None) -> list:
    from vdto.publication.keys import Signer

    return [Signer.load(k) for k in keys or []]


def signatures(paths: list[Path] | None) -> list[dict]:
    return [read_json(p, "signature file") for p in paths or []]


def trusted(paths: list[Path] | None) -> dict[str, str] | None:
    from vdto.publication.keys import load_trusted

    return load_trusted(paths) if paths else None


def witnesses(paths: list[Path] | None) -> dict[str, str] | None:
    from vdto.publication.witness import load_witness_keys

    return load_witness_keys(list(paths)) if paths else None


def mode(key: list[Path] | None, request: Path | None, sig: list[Path] | None) -> str:
    """How a command that appends to the ledger runs: ``"keys"`` (sign here with --key),
    ``"request"`` (write a signing request) or ``"assemble"`` (append from --request and --sig)."""
    if key and (request or sig):
        raise VdtoError(
            "give either --key (sign here) or --request/--sig (sign elsewhere), not both", "--key"
        )
    if sig and not request:
        raise VdtoError(
            "--sig needs the --request it signs", "--sig", "pass the request file the agencies signed"
        )
    if key:
        return "keys"
    if sig:
        return "assemble"
    if request:
        return "request"
    raise VdtoError("nothing to sign with", "--key",
                    "pass --key FILE (keys on this machine), or --request FILE to write a signing request")  # fmt: skip


def write_request(path: Path, request: dict) -> None:
    from vdto.services.publish import write_request as write

    write(path, request)
    out.print(f"wrote the signing request {path}: {escape(request['summary'])}")
    names = ", ".join(s["agency"] for s in request["signers"] if s["entry"] or s["checkpoint"])
    out.print(
        f"each agency signs it on its own machine: vdto sign {path} --key AGENCY.key  (needed: {names})"
    )


def emit_json(data: Any, path: Path | None) -> None:
    from vdto.publication.ledger import canonical_json

    text = canonical_json(data) + "\n"
    if path is None:
        typer.echo(text, nl=False)
        return
    from vdto.files import atomic_write

    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), mode=0o644)
    out.print(f"wrote {path}")


# ------------------------------------------------------------------------------- sign


def sign_cmd(
    request: Annotated[Path, typer.Argument(metavar="REQUEST", help="The signing request (JSON).")],
    key: Annotated[Path, typer.Option("--key", help="This agency's private key file (AGENCY.key).")],
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Signature file (default: REQUEST with .AGENCY.sig.json).")
    ] = None,
) -> None:
    """Sign a signing request with this agency's own key (the key never leaves this machine).

    Writes a detached signature file (public data only) to send back.

    Example: vdto sign announce-1.request.json --key keys/mx.key
    """
    from vdto.publication.keys import Signer
    from vdto.publication.ledger import check_request, sign_request

    data = read_json(request, "signing request")
    check_request(data, str(request))
    signer = Signer.load(key)
    sig = sign_request(data, signer, str(request))
    target = out_path or request.with_name(request.name.removesuffix(".json") + f".{signer.agency}.sig.json")
    out.print("[bold]You sign:[/bold] " + escape(data["summary"]))
    out.print(f"request {data['sha256']}; log {data['origin']}")
    emit_json(sig, target)


# ------------------------------------------------------------------------------- verify


def _print_ok(lines: list[str]) -> None:
    for line in lines:
        out.print(escape(line))


def _fail(target: Path, problem: str) -> None:
    err.print(f"[bold red]{escape(str(target))}: FAILED[/bold red] {escape(problem)}")
    raise typer.Exit(1)


def verify_cmd(
    target: Annotated[
        Path,
        typer.Argument(
            metavar="TARGET", help="A ledger, a published site folder, a proof bundle or split-view evidence."
        ),
    ],
    trust: TrustOpt = None,
    witness: WitnessOpt = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="A checkpoint kept earlier (by a witness, by you): it must be in."),
    ] = None,
    old: Annotated[
        Path | None, typer.Option("--old", help="With a consistency proof: the older checkpoint.")
    ] = None,
    new: Annotated[
        Path | None, typer.Option("--new", help="With a consistency proof: the newer checkpoint.")
    ] = None,
) -> None:
    """Check a ledger, a published site, a proof bundle or evidence; exit 1 names what failed.

    A ledger: every entry, signature and checkpoint. A site: that, and that every file is the one
    signed. A proof bundle: entries against a checkpoint without the whole log. A consistency
    proof between two checkpoints (--old, --new). Split-view evidence.

    Examples: vdto verify ledger.jsonl --trust keys/ ; vdto verify site/ --checkpoint kept.txt ;
    vdto verify proof.json --trust keys/ ; vdto verify consistency.json --old a.txt --new b.txt
    """
    kept = read_note(checkpoint) if checkpoint else None
    if target.is_dir():
        from vdto.publication.sitecheck import verify_site

        site = verify_site(target, trusted(trust), witnesses=witnesses(witness), checkpoint=kept)
        if not site.ok:
            _fail(target, site.problem)
        wit = ", ".join(site.witnessed) or "no witness known to this check"
        ann = f"; the announcement (entry {site.announcement}) is included" if site.announcement else ""
        _print_ok([f"{target}: OK, {site.entries} entries; checkpoint of {site.checkpoint_size} entries signed by "
                   f"{', '.join(site.signed_by)}, cosigned by {wit}{ann}; {len(site.files)} files are exactly the "
                   f"ones entry {site.site_entry} signed"])  # fmt: skip
        return
    head = target.read_bytes()[:200] if target.is_file() else b""
    if (
        head.startswith(b'{"')
        and b'"vdto_' in target.read_bytes()[:4096]
        and b"\n{" not in target.read_bytes().rstrip(b"\n")
    ):
        _verify_document(target, read_json(target, "file"), trust, witness, kept, old, new)
        return
    from vdto.publication.ledger import verify

    report = verify(target, trusted(trust), witnesses=witnesses(witness), checkpoint=kept)
    if not report.ok:
        _fail(target, report.problem)
    lines = [f"{target}: OK, {report.entries} entries, every link and signature verified; last hash {report.last_hash}",
             f"Merkle root {report.root} ({report.origin})"]  # fmt: skip
    if report.checkpoint_size:
        wit = ", ".join(report.witnessed) or "none known to this check"
        lines.append(
            f"{report.checkpoints} signed checkpoints; the latest covers {report.checkpoint_size} entries; witnesses: {wit}"
        )
    lines += [f"note: {n}" for n in report.notes]
    _print_ok(lines)


def _verify_document(target: Path, doc: Any, trust, witness, kept, old, new) -> None:
    from vdto.publication.ledger import verify_consistency, verify_proof
    from vdto.publication.witness import check_evidence

    if isinstance(doc, dict) and doc.get("vdto_proof") == 1:
        proof = verify_proof(doc, trusted(trust), witnesses=witnesses(witness), checkpoint=kept)
        if not proof.ok:
            _fail(target, proof.problem)
        wit = ", ".join(proof.witnessed) or "no witness known to this check"
        seqs = ", ".join(str(s) for s in sorted(proof.entries))
        _print_ok([f"{target}: OK, entries {seqs} are in the tree of {proof.size} entries signed by "
                   f"{', '.join(proof.signed_by)} (cosigned by {wit})"])  # fmt: skip
        return
    if isinstance(doc, dict) and doc.get("vdto_split_view") == 1:
        _print_ok([check_evidence(doc)])
        return
    if isinstance(doc, dict) and doc.get("vdto_consistency") == 1:
        if old is None or new is None:
            raise VdtoError("a consistency proof is checked between two checkpoints", "--old/--new",
                            "pass --old OLD.txt --new NEW.txt")  # fmt: skip
        a, b = verify_consistency(read_note(old), read_note(new), doc)
        _print_ok([f"{target}: OK, the tree of {b.size} entries extends the tree of {a.size} entries ({a.origin}); "
                   "check the checkpoints' signatures with `vdto verify` on the ledger or a proof bundle"])  # fmt: skip
        return
    raise VdtoError("not a ledger, site, proof bundle, consistency proof or evidence file", str(target),
                    "pass what `vdto ledger prove|consistency` or `vdto witness` wrote")  # fmt: skip


# ------------------------------------------------------------------------------- ledger


@ledger_app.command("checkpoint")
def ledger_checkpoint(
    ledger: LedgerArg,
    key: KeyOpt = None,
    request: RequestOpt = None,
    sig: SigOpt = None,
    agency: Annotated[
        list[str] | None, typer.Option("--agency", help="Agencies that sign (default: all).")
    ] = None,
) -> None:
    """Sign a checkpoint of the ledger as it stands (a ledger written before checkpoints, or to
    sign it again); with no option, print the latest signed checkpoint.

    Example: vdto ledger checkpoint ledger.jsonl --key keys/mx.key --key keys/us.key
    """
    from vdto.publication.ledger import Ledger

    book = Ledger(ledger)
    if not (key or request or sig):
        note = book.latest_checkpoint()
        if note is None:
            raise VdtoError(
                "no signed checkpoint yet", str(ledger), "sign one: vdto ledger checkpoint LEDGER --key ..."
            )
        typer.echo(note, nl=False)
        return
    how = mode(key, request, sig)
    if how == "keys":
        typer.echo(book.sign_checkpoint(signers(key)), nl=False)
    elif how == "request":
        assert request is not None
        write_request(request, book.checkpoint_request(agency or None))
    else:
        assert request is not None
        book.assemble(read_json(request, "signing request"), signatures(sig), str(request))
        typer.echo(book.latest_checkpoint() or "", nl=False)


@ledger_app.command("prove")
def ledger_prove(
    ledger: LedgerArg,
    seq: Annotated[list[int], typer.Option("--seq", help="Entry number to prove (repeat).")],
    size: Annotated[
        int | None, typer.Option("--size", help="The checkpoint's tree size (default: latest).")
    ] = None,
    out_path: OutOpt = None,
) -> None:
    """A proof bundle: entries with their inclusion proofs in a signed checkpoint's tree, for a
    reader to check with `vdto verify BUNDLE` without the whole ledger.

    Example: vdto ledger prove ledger.jsonl --seq 3 --out entry-3.proof.json
    """
    from vdto.publication.ledger import Ledger

    emit_json(Ledger(ledger).proof(seq, size), out_path)


@ledger_app.command("consistency")
def ledger_consistency(
    ledger: LedgerArg,
    old: Annotated[int, typer.Option("--old", help="The older tree size.")],
    new: Annotated[
        int | None, typer.Option("--new", help="The newer tree size (default: the whole ledger).")
    ] = None,
    out_path: OutOpt = None,
) -> None:
    """A consistency proof that the tree of NEW entries extends the tree of OLD entries.

    Example: vdto ledger consistency ledger.jsonl --old 4 --out 4-to-now.json
    """
    from vdto.publication.ledger import Ledger

    emit_json(Ledger(ledger).consistency(old, new), out_path)


@ledger_app.command("rotate")
def ledger_rotate(
    ledger: LedgerArg,
    agency: Annotated[str, typer.Option("--agency", help="The agency whose key changes.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (lost, compromised, scheduled rotation).")],
    new_key: Annotated[
        Path | None, typer.Option("--new-key", help="The new public key (AGENCY.pub).")
    ] = None,
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke the key without a replacement.")] = False,
    key: KeyOpt = None,
    request: RequestOpt = None,
    sig: SigOpt = None,
) -> None:
    """Replace or revoke an agency's key by a signed ledger entry, without starting a new log:
    signed by every other agency (or by the agency's own key when it is alone) and by the new key.

    Example: vdto ledger rotate ledger.jsonl --agency mx --new-key new/mx.pub --reason "key lost"
    --key keys/us.key --key new/mx.key
    """
    from vdto.publication.keys import load_public_key
    from vdto.publication.ledger import KEY_CHANGE, Ledger

    if revoke == (new_key is not None):
        raise VdtoError(
            "say how the key changes", "--new-key", "pass exactly one of --new-key FILE or --revoke"
        )
    payload = {"agency": agency, "key": load_public_key(new_key) if new_key else None, "reason": reason}
    book = Ledger(ledger)
    how = mode(key, request, sig)
    if how == "keys":
        entry = book.append(KEY_CHANGE, payload, signers(key))
    elif how == "request":
        assert request is not None
        write_request(request, book.request(KEY_CHANGE, payload))
        return
    else:
        assert request is not None
        entry = book.assemble(read_json(request, "signing request"), signatures(sig), str(request)) or {}
    what = "revoked" if revoke else "replaced"
    out.print(f"entry {entry.get('seq')}: the key of {agency} is {what}; {escape(reason)}")


@ledger_app.command("assemble")
def ledger_assemble(
    ledger: LedgerArg,
    request: Annotated[Path, typer.Argument(metavar="REQUEST", help="The signing request.")],
    sig: Annotated[list[Path], typer.Option("--sig", help="A detached signature file (repeat per agency).")],
) -> None:
    """Append a signed request's entry (and its checkpoint) from the agencies' signature files.
    Refused, with nothing appended, unless every agency it names signed exactly its bytes.

    Example: vdto ledger assemble ledger.jsonl rotate.request.json --sig rotate.request.us.sig.json
    """
    from vdto.publication.ledger import Ledger

    entry = Ledger(ledger).assemble(read_json(request, "signing request"), signatures(sig), str(request))
    out.print(f"appended entry {entry['seq']} ({entry['kind']})" if entry else "signed the checkpoint")


@ledger_app.command("cosigned")
def ledger_cosigned(
    ledger: LedgerArg,
    note: Annotated[Path, typer.Argument(metavar="NOTE", help="A checkpoint a witness cosigned.")],
    witness: Annotated[list[Path], typer.Option("--witness", help="The witness's witness.vkey.")],
) -> None:
    """Add a witness's cosignature of a checkpoint to the ledger's checkpoints (the published
    scorecard then shows it).

    Example: vdto ledger cosigned ledger.jsonl cosigned.txt --witness news/witness.vkey
    """
    from vdto.publication.ledger import Ledger

    names = Ledger(ledger).add_cosignatures(read_note(note), witnesses(witness) or {})
    out.print("added the cosignature of " + ", ".join(names))


# ------------------------------------------------------------------------------- witness


@witness_app.command("new")
def witness_new(
    name: Annotated[str, typer.Argument(help="The witness's name, e.g. news.example/witness.")],
    folder: Annotated[
        Path, typer.Option("--dir", help="The witness's folder (its key and what it saw).")
    ] = Path("witness"),
) -> None:
    """Create a witness: its key (witness.key, mode 0600) and its verifier key (witness.vkey, to publish).

    Example: vdto witness new news.example/witness --dir witness
    """
    from vdto.publication.witness import new_witness

    key, vkey = new_witness(name, folder)
    out.print(f"wrote {key} (private) and {vkey} (publish it): {vkey.read_text(encoding='utf-8').strip()}")


@witness_app.command("cosign")
def witness_cosign(
    note: Annotated[
        Path, typer.Argument(metavar="CHECKPOINT", help="The new checkpoint (e.g. a site's checkpoint.txt).")
    ],
    trust: Annotated[
        list[Path], typer.Option("--trust", help="The agencies' public keys (.pub files or folder).")
    ],
    folder: Annotated[Path, typer.Option("--dir", help="The witness's folder.")] = Path("witness"),
    proof: Annotated[
        Path | None,
        typer.Option("--proof", help="Consistency proof from the last checkpoint this witness saw."),
    ] = None,
    out_path: OutOpt = None,
    evidence: Annotated[
        Path | None,
        typer.Option("--evidence", help="Where to write split-view evidence (default: in --dir)."),
    ] = None,
) -> None:
    """Check a new checkpoint against the last one this witness saw and cosign it; a split view
    (same size, other root) writes a self-contained evidence file and exits 1.

    Example: vdto witness cosign site/checkpoint.txt --trust site/keys --proof 4-to-7.json --out cosigned.txt
    """
    from vdto.publication.witness import SplitView, cosign, write_evidence

    text = read_note(note)
    doc = read_json(proof, "consistency proof") if proof else None
    try:
        done = cosign(folder, text, trusted(trust) or {}, doc)
    except SplitView as split:
        path = write_evidence(
            evidence or folder / f"split-view-{split.evidence['size']}.json", split.evidence
        )
        err.print(f"[bold red]SPLIT VIEW[/bold red] {escape(split.what)}; evidence written to {path}")
        raise typer.Exit(1) from None
    since = (
        f"extends the {done.previous} entries seen before"
        if done.previous
        else "first checkpoint seen of this log"
    )
    err.print(f"cosigned {done.checkpoint.origin} at {done.checkpoint.size} entries ({since})")
    if out_path is None:
        typer.echo(done.note, nl=False)
    else:
        from vdto.files import atomic_write

        atomic_write(out_path, lambda tmp: tmp.write_text(done.note, encoding="utf-8"), mode=0o644)
        err.print(f"wrote {out_path}; the log adds it with `vdto ledger cosigned`")


def register(app: typer.Typer) -> None:
    """Add the signing, verification, ledger and witness commands to the ``vdto`` app."""
    app.command("sign")(sign_cmd)
    app.command("verify")(verify_cmd)
    app.add_typer(ledger_app, name="ledger")
    app.add_typer(witness_app, name="witness")


__all__ = ["register"]
