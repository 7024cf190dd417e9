"""``vdto serve`` (the HTTP API) and ``vdto tokens`` (its tokens and audit trail).

A thin shell over :mod:`vdto.api`. :func:`register` adds both to the main ``vdto`` app.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vdto.cli.console import Format, emit, err, out
from vdto.cli.options import DbOpt, FormatOpt, _db, cli_actor
from vdto.errors import VdtoError

tokens_app = typer.Typer(
    help="API tokens: create (shown once), revoke, list; and the API's audit trail.", no_args_is_help=True
)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(
    db: DbOpt = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (keep loopback behind a proxy).")
    ] = ("127.0.0.1"),
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="The publication ledger announcements go to (and the public reads)."),
    ] = None,
    public_keys: Annotated[
        Path | None,
        typer.Option(
            "--public-keys",
            help="Folder of the agencies' AGENCY.pub: the rule entry of a new ledger declares them, "
            "/public/ledger/verify pins them.",
        ),
    ] = None,
    witnesses: Annotated[
        Path | None,
        typer.Option(
            "--witnesses", help="Folder of the witnesses' *.vkey whose checkpoint cosignatures are accepted."
        ),
    ] = None,
    server_held_keys: Annotated[
        Path | None,
        typer.Option(
            "--server-held-keys",
            help="Off by default (each agency signs on its own machine with `vdto sign`). For a single-agency "
            "deployment only: a folder of AGENCY.key (mode 0600) the server signs announcements and closings "
            "with itself. This keeps private keys on the server: whoever controls it can sign as the agency.",
        ),
    ] = None,
    max_upload_mb: Annotated[
        float, typer.Option("--max-upload-mb", help="Largest upload accepted, in MiB (413 above).")
    ] = 256.0,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            "--proxy-headers",
            help="Trust X-Forwarded-For/-Proto from --forwarded-allow-ips (behind a proxy).",
        ),
    ] = False,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            "--forwarded-allow-ips", help="Proxy addresses whose X-Forwarded-* headers are trusted."
        ),
    ] = "127.0.0.1",
    root_path: Annotated[
        str,
        typer.Option("--root-path", help="URL prefix when the proxy serves the API under a path, e.g. /api."),
    ] = "",
    log_level: Annotated[
        str, typer.Option("--log-level", help="critical, error, warning, info or debug.")
    ] = "info",
) -> None:
    """Serve the workbench at / and the HTTP API (public record, agency endpoints behind tokens) with uvicorn.

    Run one server per store; put a TLS reverse proxy in front of it (docs/api.md).

    The server holds no private key: each agency signs the ledger's signing requests on its own
    machine (`vdto sign`) and sends the signature (docs/api.md).

    Example: vdto serve --db vdto.duckdb --ledger ledger.jsonl --public-keys pubs --witnesses witnesses
    """
    import uvicorn

    from vdto.api.app import create_app

    if port < 0 or port > 65535:
        raise VdtoError(f"port {port} is out of range", "--port", "use 1-65535, e.g. 8000")
    if max_upload_mb <= 0:
        raise VdtoError("the upload limit must be positive", "--max-upload-mb", "e.g. --max-upload-mb 256")
    if log_level not in ("critical", "error", "warning", "info", "debug"):
        raise VdtoError(f"unknown log level {log_level!r}", "--log-level", "use info, warning or debug")
    for option, folder, holding in (
        ("--public-keys", public_keys, "the agencies' AGENCY.pub"),
        ("--witnesses", witnesses, "the witnesses' *.vkey"),
        ("--server-held-keys", server_held_keys, "AGENCY.key and AGENCY.pub"),
    ):
        if folder is not None and not folder.is_dir():
            raise VdtoError("not a folder", str(folder), f"pass {option} the folder holding {holding}")
    if witnesses is not None:
        from vdto.publication.witness import load_witness_keys

        load_witness_keys([witnesses])  # a folder without a valid .vkey fails here, in one line
    app = create_app(
        _db(db), ledger=ledger, public_keys=public_keys, witnesses=witnesses, server_held_keys=server_held_keys,
        max_upload_mb=max_upload_mb,
    )  # fmt: skip
    app.state.vdto.access.ensure()  # a store that cannot be opened fails here, in one line
    if host not in LOOPBACK:
        err.print(
            f"[yellow]listening on {escape(host)} without TLS:[/yellow] tokens travel in clear text; "
            "put a TLS reverse proxy in front (docs/api.md)"
        )
    if server_held_keys is not None:
        err.print(
            "[yellow]--server-held-keys:[/yellow] this server signs with the private keys in "
            f"{escape(str(server_held_keys))}; whoever controls it can sign as those agencies"
        )
    err.print(
        f"vdto workbench on http://{escape(host)}:{port}/ (store {escape(str(_db(db)))}); "
        "API at /docs, OpenAPI at /openapi.json"
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        workers=1,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        root_path=root_path,
        log_level=log_level,
        server_header=False,
    )


def _audit_cli(store, command: str, action: str, detail: str, agency: str | None) -> None:
    import uuid

    from vdto.access import audit

    audit.record(
        store, request_id=uuid.uuid4().hex[:16], actor=cli_actor(), agency=agency, role=None, method="CLI",
        path=command, action=action, outcome="ok", status=None, detail=detail,
    )  # fmt: skip


@tokens_app.command("create")
def tokens_create(
    agency: Annotated[str, typer.Option("--agency", help="The agency the token acts for, e.g. mx.")],
    role: Annotated[str, typer.Option("--role", help="analyst, publisher or admin.")],
    label: Annotated[str, typer.Option("--label", help="Whose token this is.")] = "",
    days: Annotated[int, typer.Option("--days", help="How many days it works (1-366).")] = 90,
    db: DbOpt = None,
) -> None:
    """Create a token and print it once (only its salted hash is stored); it expires after
    ``--days`` (rotate it before then with `vdto tokens rotate`).

    The token alone goes to standard output, so it can be piped to a secret store.

    Example: vdto tokens create --agency mx --role admin --label "mx ops"
    """
    from vdto.access.tokens import create_token
    from vdto.store import Store

    with Store(_db(db)) as store:
        token, info = create_token(store, agency, role, label=label, created_by=cli_actor(), days=days)
        _audit_cli(
            store, "vdto tokens create", "token.create", f"created token {info.token_id} ({role})", agency
        )
    sys.stdout.write(token + "\n")
    err.print(
        f"token {info.token_id}: agency {agency}, role {role}, expires {info.expires_at}. Shown once: store it "
        "now; it cannot be recovered, only revoked."
    )


@tokens_app.command("rotate")
def tokens_rotate(
    token_id: Annotated[
        str, typer.Argument(metavar="TOKEN_ID", help="The token's id (see `vdto tokens list`).")
    ],
    days: Annotated[int, typer.Option("--days", help="How many days the new token works (1-366).")] = 90,
    db: DbOpt = None,
) -> None:
    """Replace a token: a new one with the same agency, role and label, printed once; the old one
    is revoked.

    Example: vdto tokens rotate 3f9a0c2b71de
    """
    from vdto.access.tokens import rotate_token
    from vdto.store import Store

    with Store(_db(db)) as store:
        token, info = rotate_token(store, token_id, rotated_by=cli_actor(), days=days)
        _audit_cli(store, "vdto tokens rotate", "token.rotate", f"rotated token {token_id} to {info.token_id}",
                   info.agency)  # fmt: skip
    sys.stdout.write(token + "\n")
    err.print(f"token {token_id} revoked; new token {info.token_id} ({info.agency}, {info.role}), expires "
              f"{info.expires_at}. Shown once.")  # fmt: skip


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[
        str, typer.Argument(metavar="TOKEN_ID", help="The token's id (see `vdto tokens list`).")
    ],
    db: DbOpt = None,
) -> None:
    """Revoke a token: it stops working at once.

    Example: vdto tokens revoke 3f9a0c2b71de
    """
    from vdto.access.tokens import revoke_token
    from vdto.store import Store

    with Store(_db(db)) as store:
        info = revoke_token(store, token_id, revoked_by=cli_actor())
        _audit_cli(store, "vdto tokens revoke", "token.revoke", f"revoked token {token_id}", info.agency)
    out.print(f"token {token_id} ({info.agency}, {info.role}) revoked")


@tokens_app.command("list")
def tokens_list(
    agency: Annotated[str | None, typer.Option("--agency", help="Only this agency's tokens.")] = None,
    db: DbOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """List tokens (never their secrets): id, agency, role, label, created, revoked.

    Example: vdto tokens list --agency mx
    """
    import pandas as pd

    from vdto.access.tokens import TokenInfo, list_tokens
    from vdto.store import Store

    with Store(_db(db)) as store:
        rows = [t.as_dict() for t in list_tokens(store, agency)]
    emit(pd.DataFrame(rows, columns=list(TokenInfo.__dataclass_fields__)), fmt, title="API tokens")


@tokens_app.command("audit")
def tokens_audit(
    agency: Annotated[str | None, typer.Option("--agency", help="Only this agency's rows.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Newest rows to show.")] = 50,
    verify: Annotated[
        bool, typer.Option("--verify", help="Check the whole log's hash chain (exit 1 if broken).")
    ] = False,
    db: DbOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Show the API's audit trail (newest first), or check that no row was changed or removed.

    Example: vdto tokens audit --agency mx --limit 20
    """
    import pandas as pd

    from vdto.access import audit
    from vdto.store import Store

    if limit < 1:
        raise VdtoError(f"--limit must be at least 1 (got {limit})", "--limit", "e.g. --limit 50")
    with Store(_db(db)) as store:
        if verify:
            ok, bad, problem = audit.verify_chain(store)
            count = store.count("api_audit")
        else:
            rows = [e.as_dict() for e in audit.entries(store, agency=agency, limit=limit)]
    if verify:
        if ok:
            out.print(f"audit log: OK, {count:,} rows, every hash and link verified")
            return
        err.print(f"[bold red]audit log: FAILED[/bold red] at row {bad}: {escape(problem)}")
        raise typer.Exit(1)
    frame = pd.DataFrame(rows)
    if fmt == Format.table and len(frame):
        frame = frame[
            [
                "seq",
                "logged_at",
                "actor",
                "agency",
                "role",
                "method",
                "path",
                "action",
                "outcome",
                "status",
                "detail",
            ]
        ]
    emit(frame, fmt, title="API audit trail")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``tokens`` group to the ``vdto`` app."""
    app.command("serve")(serve)
    app.add_typer(tokens_app, name="tokens")
