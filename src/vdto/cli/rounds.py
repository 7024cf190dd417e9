"""``vdto keys``, ``vdto round``, ``vdto rankings``, ``vdto publish``, ``vdto verify`` and
``vdto recompute``: two rankers, rounds, the signed ledger and the public scorecard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vdto.cli.console import Format, emit, emit_json, err, out
from vdto.cli.options import (
    AgencyOpt,
    DbOpt,
    DrawsOpt,
    FormatOpt,
    FromOpt,
    KeyOpt,
    LedgerOpt,
    RequestOpt,
    RubricOpt,
    SeedOpt,
    SigOpt,
    StateOpt,
    ToOpt,
    _date,
    _db,
    _window_dates,
    json_records,
)
from vdto.errors import VdtoError

keys_app = typer.Typer(help="Signing keys of the ranking agencies (Ed25519).", no_args_is_help=True)
round_app = typer.Typer(
    help="Rounds: open (score, decide) -> announce (publish) -> status -> close.", no_args_is_help=True
)
rankings_app = typer.Typer(help="Two independent rankers: compare their rankings.", no_args_is_help=True)


@keys_app.command("new")
def keys_new(
    agency: Annotated[str, typer.Argument(help="Agency name, e.g. mx or us.")],
    folder: Annotated[Path, typer.Option("--dir", help="Folder for AGENCY.key and AGENCY.pub.")] = Path(
        "keys"
    ),
) -> None:
    """Create an agency's signing key pair (the private key file is mode 0600 and never printed).

    Example: vdto keys new mx --dir keys
    """
    from vdto.publication.keys import load_public_key, new_keypair, repository_warning

    private, public = new_keypair(agency, folder)  # makes the folder, mode 0700
    out.print(
        f"wrote {private} (private, mode 0600: keep it secret) and {public} (public: {load_public_key(public)})"
    )
    warning = repository_warning(private)
    if warning is not None:
        typer.echo(warning, err=True)


def _signers(keys: list[Path] | None):
    from vdto.publication.keys import Signer

    return [Signer.load(k) for k in keys or []]


def _rubric_map(items: list[str] | None) -> dict:
    from vdto.scoring import load_rubric

    out_map = {}
    for item in items or []:
        agency, sep, path = item.partition("=")
        if not sep:
            raise VdtoError(
                f"{item!r} is not AGENCY=FILE", "--rubric", "write e.g. --rubric us=us-rubric.toml"
            )
        out_map[agency] = load_rubric(path)
    return out_map


RubricMapOpt = Annotated[
    list[str] | None, typer.Option("--rubric", help="An agency's rubric: AGENCY=FILE (default: default-v1).")
]


@round_app.command("open")
def round_open(
    start: FromOpt = None,
    end: ToOpt = None,
    agencies: Annotated[
        str, typer.Option("--agencies", help="Comma-separated agencies; the first leads.")
    ] = "default",
    rubric: RubricMapOpt = None,
    single_ranker: Annotated[
        bool,
        typer.Option("--single-ranker", help="Do not require the agencies to agree (the first decides)."),
    ] = False,
    draws: DrawsOpt = 2000,
    seed: SeedOpt = 7,
    db: DbOpt = None,
) -> None:
    """Open a round: score each agency's data, apply the target rule, record decision and evidence.

    Example: vdto round open --from 2020 --to 2020 --agencies mx,us
    """
    from vdto.publication.rounds import dissents, open_round
    from vdto.store import Store

    s, e = _window_dates(start, end)
    if s is None or e is None:
        raise VdtoError("a round needs a window", "--from/--to", "give both, e.g. --from 2020 --to 2020")
    names = [a.strip() for a in agencies.split(",") if a.strip()]
    with Store(_db(db)) as store:
        rnd = open_round(
            store,
            s,
            e,
            names,
            rubrics=_rubric_map(rubric),
            require_agreement=not single_ranker,
            draws=draws,
            seed=seed,
        )
        dis = dissents(store, rnd.round_id)
    style = "bold green" if rnd.target else "bold yellow"
    out.print(
        f"round {rnd.round_id} opened for {rnd.window_from} to {rnd.window_to} ({', '.join(rnd.agencies)})"
    )
    out.print(
        f"[{style}]decision:[/{style}] "
        + escape(rnd.target or "no target")
        + " — "
        + escape(rnd.decision["reason"])
    )
    for d in dis["detail"]:
        out.print("  dissent recorded: " + escape(d))


@round_app.command("announce")
def round_announce(
    round_id: Annotated[int, typer.Argument(metavar="ROUND")],
    ledger: Annotated[Path, typer.Option("--ledger", help="The publication ledger (created if missing).")],
    key: KeyOpt = None,
    request: RequestOpt = None,
    sig: SigOpt = None,
    pub: Annotated[
        list[Path] | None,
        typer.Option("--pub", help="With --request on a new ledger: every agency's AGENCY.pub."),
    ] = None,
    db: DbOpt = None,
) -> None:
    """Announce a round's target: its scorecards signed into the ledger by every agency of the round.

    Keys on this machine: vdto round announce 1 --ledger ledger.jsonl --key keys/mx.key --key keys/us.key.
    Keys on two machines: vdto round announce 1 --ledger ledger.jsonl --request r1.json (each agency runs
    vdto sign r1.json --key AGENCY.key), then vdto round announce 1 --ledger ledger.jsonl --request r1.json
    --sig r1.mx.sig.json --sig r1.us.sig.json.
    """
    from vdto.cli.ledger import mode, read_json, signatures, trusted, write_request
    from vdto.publication.rounds import announce_round, announce_signed, announcement_request
    from vdto.store import Store

    how = mode(key, request, sig)
    with Store(_db(db)) as store:
        if how == "keys":
            rnd = announce_round(store, round_id, ledger, _signers(key))
        elif how == "request":
            assert request is not None
            write_request(request, announcement_request(store, round_id, ledger, trusted(pub)))
            return
        else:
            assert request is not None
            req = read_json(request, "signing request")
            rnd = announce_signed(store, round_id, ledger, req, signatures(sig))
            if rnd.announced_at is None:
                out.print("the ledger is started (its rule entry); now request the announcement: "
                          f"vdto round announce {round_id} --ledger {ledger} --request NEW.json")  # fmt: skip
                return
    out.print(f"round {rnd.round_id} announced: target {rnd.target}; ledger entry {rnd.ledger_hash}")


@round_app.command("close")
def round_close(
    round_id: Annotated[int, typer.Argument(metavar="ROUND")],
    dismantled: Annotated[bool, typer.Option("--dismantled", help="The target was dismantled.")] = False,
    withdrawn: Annotated[
        bool, typer.Option("--withdrawn", help="The round is withdrawn (give --reason).")
    ] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (required when withdrawn).")] = "",
    on: Annotated[str | None, typer.Option("--on", help="Date of the outcome (default today).")] = None,
    ledger: LedgerOpt = None,
    key: KeyOpt = None,
    request: RequestOpt = None,
    sig: SigOpt = None,
    db: DbOpt = None,
) -> None:
    """Close a round as dismantled (the target leaves later rankings) or withdrawn.

    Example: vdto round close 1 --dismantled --ledger ledger.jsonl --key keys/mx.key --key keys/us.key
    (or --request close-1.json, then --request close-1.json --sig ... as for announce)
    """
    from vdto.publication.rounds import close_round, close_signed, closing_request
    from vdto.store import Store

    if sig and request:
        from vdto.cli.ledger import read_json, signatures

        with Store(_db(db)) as store:
            rnd = close_signed(store, round_id, _ledger_needed(ledger), read_json(request, "signing request"),
                               signatures(sig))  # fmt: skip
        out.print(f"round {rnd.round_id} closed: {rnd.outcome}")
        return
    if dismantled == withdrawn:
        raise VdtoError(
            "say how the round ends", "vdto round close", "pass exactly one of --dismantled or --withdrawn"
        )
    outcome = "dismantled" if dismantled else "withdrawn"
    with Store(_db(db)) as store:
        if request is not None:
            from vdto.cli.ledger import write_request

            write_request(request, closing_request(store, round_id, outcome, reason, _ledger_needed(ledger),
                                                   on=_date(on, "--on")))  # fmt: skip
            return
        rnd = close_round(
            store,
            round_id,
            outcome,
            reason,
            on=_date(on, "--on"),
            ledger_path=ledger,
            signers=_signers(key),
        )
    out.print(
        f"round {rnd.round_id} closed: {rnd.outcome}"
        + (f" ({rnd.target} leaves later rankings)" if dismantled else f" — {rnd.reason}")
    )


def _ledger_needed(ledger: Path | None) -> Path:
    if ledger is None:
        raise VdtoError("a signing request needs the ledger", "--ledger", "pass --ledger ledger.jsonl")
    return ledger


@round_app.command("status")
def round_status(
    round_id: Annotated[
        int | None, typer.Argument(metavar="[ROUND]", help="Default: the latest round.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="End of monitoring (default: last event).")
    ] = None,
    db: DbOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """A round's state and, once announced, violence since the announcement against before it.

    Example: vdto round status 1
    """
    import pandas as pd

    from vdto.publication.rounds import counterfactual, dissents, get_round, monitor
    from vdto.store import Store

    with Store(_db(db), read_only=True) as store:
        rnd = get_round(store, round_id)
        dis = dissents(store, rnd.round_id)
        when = _date(as_of, "--as-of")
        watch = monitor(store, rnd.round_id, as_of=when) if rnd.announced_at else pd.DataFrame()
        against = counterfactual(store, rnd.round_id, as_of=when) if rnd.announced_at else pd.DataFrame()
        package = _package_line(store, rnd.target) if rnd.target else ""
    if fmt != Format.table:
        emit(
            watch
            if len(watch)
            else pd.DataFrame([{"round": rnd.round_id, "status": rnd.status, "target": rnd.target}]),
            fmt,
        )
        return
    out.print(
        f"round {rnd.round_id}: [bold]{rnd.status}[/bold], window {rnd.window_from} to {rnd.window_to}, "
        f"agencies {', '.join(rnd.agencies)}, target {rnd.target or 'none'}"
    )
    out.print("decision: " + escape(rnd.decision["reason"]))
    for d in dis["detail"]:
        out.print("dissent: " + escape(d))
    if rnd.outcome:
        out.print(f"closed {rnd.closed_at:%Y-%m-%d}: {rnd.outcome} {escape(rnd.reason or '')}")
    if len(against):
        shown = against.assign(
            change=[f"{e:+.1f} ({lo:+.1f} to {hi:+.1f})" if e == e else "no months after yet"
                    for e, lo, hi in zip(against["effect"], against["lo"], against["hi"], strict=True)],
            percent=against["percent"].map(lambda x: f"{x:+.0f}%" if x == x else ""),
        )[["agency", "group", "states", "months_after", "change", "percent"]]  # fmt: skip
        emit(shown, Format.table,
             title=f"Event deaths per state and month since the announcement ({against.attrs['announced']}) against "
                   "the states where neither the target nor its rivals operate (event study, 90% intervals)")  # fmt: skip
    if len(watch):
        emit(
            watch,
            Format.table,
            title=f"Descriptive only (it credits the round with every national trend): violence before "
            f"{watch.attrs['before']} and after {watch.attrs['after']} the announcement",
        )
    if rnd.target:
        out.print(escape(package))


def _package_line(store, target: str | None) -> str:
    """One line on the US enforcement package against the round's target."""
    from vdto.services.package import buyers_line

    line = buyers_line(store, target)
    if not store.network.exists():
        return line + " (vdto network import | generate)"
    return line + f" (see `vdto network package --target {target}`)" if "supplies" in line else line


@round_app.command("list")
def round_list(db: DbOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Every round with its status, window, target and outcome.

    Example: vdto round list --format csv
    """
    from vdto.publication.rounds import list_rounds
    from vdto.store import Store

    with Store(_db(db), read_only=True) as store:
        emit(list_rounds(store), fmt, title="Rounds")


@rankings_app.command("compare")
def rankings_compare(
    a: Annotated[str, typer.Argument(help="First agency.")],
    b: Annotated[str, typer.Argument(help="Second agency.")],
    start: FromOpt = None,
    end: ToOpt = None,
    rubric: RubricMapOpt = None,
    draws: DrawsOpt = 2000,
    seed: SeedOpt = 7,
    db: DbOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Compare two agencies' rankings: Kendall's tau, top-1 agreement, the events behind differences.

    Example: vdto rankings compare mx us --from 2020 --to 2020
    """
    from vdto.publication.agreement import compare
    from vdto.store import Store

    s, e = _window_dates(start, end)
    if s is None or e is None:
        raise VdtoError("a comparison needs a window", "--from/--to", "give both, e.g. --from 2020 --to 2020")
    with Store(_db(db), read_only=True) as store:
        c = compare(store, a, b, s, e, rubrics=_rubric_map(rubric), draws=draws, seed=seed)
    if fmt == Format.json:
        emit_json(
            {
                "a": a, "b": b, "kendall_tau": c.tau, "p_value": c.p_value, "top1_agree": c.top1_agree,
                "targets": {a: c.targets[0], b: c.targets[1]}, "table": json_records(c.table), "drivers": json_records(c.drivers),
            }
        )  # fmt: skip
        return
    if fmt == Format.csv:
        emit(c.table, fmt)
        return
    emit(c.table.head(12), Format.table, title=f"{a} vs {b}, {s} to {e}")
    out.print(
        f"Kendall's tau {c.tau:.3f} (p = {c.p_value:.3g}); top organization: {'same' if c.top1_agree else 'different'}; "
        f"targets: {a} {c.targets[0] or 'none'}, {b} {c.targets[1] or 'none'}"
    )
    if len(c.drivers):
        emit(
            c.drivers,
            Format.table,
            title="Events behind the differences (largest first, per organization ranked differently)",
        )


def publish_cmd(
    out_dir: Annotated[Path, typer.Argument(metavar="OUT_DIR", help="Folder for the static site.")],
    round_id: Annotated[
        int | None, typer.Option("--round", help="Publish this round (its window and lead agency).")
    ] = None,
    start: FromOpt = None,
    end: ToOpt = None,
    agency: AgencyOpt = None,
    rubric: RubricOpt = None,
    ledger: LedgerOpt = None,
    key: KeyOpt = None,
    request: RequestOpt = None,
    sig: SigOpt = None,
    keys_dir: Annotated[
        Path | None, typer.Option("--keys", help="Folder of the agencies' .pub files to publish.")
    ] = None,
    witnesses_dir: Annotated[
        Path | None, typer.Option("--witnesses", help="Folder of the witnesses' .vkey files to publish.")
    ] = None,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh", help="Only renew the proofs of a signed site (new checkpoints, cosignatures)."
        ),
    ] = False,
    min_count: Annotated[int, typer.Option("--min-count", help="Suppress event counts below this.")] = 3,
    draws: DrawsOpt = 2000,
    seed: SeedOpt = 7,
    state: StateOpt = None,
    db: DbOpt = None,
) -> None:
    """Write the public scorecard site, signed into the ledger with its proofs (opens offline).

    A static bilingual site (HTML, JSON, CSV, rubric); with --ledger every file is signed into
    the ledger and the site carries the proofs its page checks in the reader's browser.

    Example: vdto publish site --round 1 --ledger ledger.jsonl --key keys/mx.key --key keys/us.key --keys keys
    (on two machines: --request site.request.json, each agency runs vdto sign, then
    vdto publish site --ledger ledger.jsonl --request site.request.json --sig ... --keys keys)
    """
    from vdto.services.publish import finish_site, publish_scorecard, refresh_site
    from vdto.store import Store

    if refresh:
        files = refresh_site(out_dir, _ledger_needed(ledger), keys_dir=keys_dir, witnesses_dir=witnesses_dir)
        out.print(
            f"renewed the proofs of {out_dir} ({len(files)} files); check it with `vdto verify {out_dir}`"
        )
        return
    if sig:
        from vdto.cli.ledger import read_json, signatures

        if request is None or ledger is None:
            raise VdtoError("--sig needs the --request it signs and the --ledger", "--sig",
                            "pass --ledger ledger.jsonl --request site.request.json")  # fmt: skip
        files = finish_site(out_dir, ledger, read_json(request, "signing request"), signatures(sig),
                            keys_dir=keys_dir, witnesses_dir=witnesses_dir)  # fmt: skip
        out.print(f"signed the site: {len(files)} files in {out_dir}; check it with `vdto verify {out_dir}`")
        return
    if ledger is not None and not key and request is None:
        raise VdtoError("a site published with a ledger is signed", "--ledger",
                        "pass --key (keys here) or --request FILE (keys on the agencies' machines)")  # fmt: skip
    s, e = _window_dates(start, end)
    with Store(_db(db), read_only=True) as store:
        files = publish_scorecard(
            store, out_dir, ledger=ledger, signers=_signers(key) if ledger is not None else None, keys_dir=keys_dir,
            witnesses_dir=witnesses_dir, request_out=request if ledger is not None else None, round_id=round_id,
            start=s, end=e, agency=agency, rubric=rubric, min_count=min_count, draws=draws, seed=seed, state=state,
        )  # fmt: skip
    if request is not None and ledger is not None:
        out.print(f"wrote the site to {out_dir} (not signed yet) and the signing request {request}; each agency runs "
                  f"vdto sign {request} --key AGENCY.key")  # fmt: skip
        return
    out.print(
        f"wrote {len(files)} files to {out_dir}; open {out_dir / 'index.html'} in a browser (works offline)"
    )


def recompute_cmd(
    site: Annotated[Path, typer.Argument(metavar="OUT_DIR", help="A published scorecard folder.")],
) -> None:
    """Recompute the published scores from the published aggregates and rubric; exit 1 on a mismatch.

    Example: vdto recompute site
    """
    from vdto.publication.site import recompute_site

    report = recompute_site(site)
    if report.ok:
        out.print(report.message)
        return
    err.print("[bold red]MISMATCH[/bold red] " + escape(report.message))
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the rounds, ledger and publication commands to the ``vdto`` app."""
    app.add_typer(keys_app, name="keys")
    app.add_typer(round_app, name="round")
    app.add_typer(rankings_app, name="rankings")
    app.command("publish")(publish_cmd)
    app.command("recompute")(recompute_cmd)
