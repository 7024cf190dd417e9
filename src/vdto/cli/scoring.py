"""``vdto score``, ``vdto rank`` and ``vdto rubric``: scores, the ranking with its target decision,
and the published rubric."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vdto.cli.console import Format, emit, err, out
from vdto.cli.duplicates import PreferOpt
from vdto.cli.options import (
    AgencyOpt,
    DbOpt,
    DrawsOpt,
    FormatOpt,
    FromOpt,
    Options,
    OutOpt,
    QuietOpt,
    RubricOpt,
    ScoreFormat,
    SeedOpt,
    SourceOpt,
    StateOpt,
    ToOpt,
    WideOpt,
    _check_score_format,
    _db,
    _provenance,
    _window_dates,
    _write_frame,
    json_records,
)
from vdto.errors import VdtoError
from vdto.units import share_of

DuplicateRulesOpt = Annotated[
    Path | None,
    typer.Option(
        "--duplicate-rules",
        help="Rules matching one incident reported by two sources (TOML; default: the bundled ones).",
        show_default=False,
    ),
]

rubric_app = typer.Typer(help="The published violence rubric: show, validate, compare.", no_args_is_help=True)


def _progress_bar(draws: int, quiet: bool):
    """A progress bar of Monte Carlo draws on standard error (none for short runs or --quiet)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("Monte Carlo draws"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=True, disable=quiet or draws < 500,
    )  # fmt: skip


#: What a scoring needs: the window, the rubric, the Monte Carlo, the sources, the store, the agency.
SCORING = Options(
    start=(FromOpt, None),
    end=(ToOpt, None),
    rubric=(RubricOpt, None),
    draws=(DrawsOpt, 2000),
    seed=(SeedOpt, 7),
    source=(SourceOpt, None),
    db=(DbOpt, None),
    agency=(AgencyOpt, None),
    state=(StateOpt, None),
    duplicate_rules=(DuplicateRulesOpt, None),
    prefer=(PreferOpt, None),
)


def _rank(*, start, end, rubric, draws, seed, source, db, agency, state, duplicate_rules, prefer, quiet: bool,
          what_if=None):  # fmt: skip
    """The ranking the services give (organizations dismantled by earlier rounds listed apart)."""
    import threading

    from vdto.cli.duplicates import chosen_rules
    from vdto.scoring import load_rubric
    from vdto.services.scoring import rank_window
    from vdto.store import Store

    rub = load_rubric(rubric)
    rules = chosen_rules(duplicate_rules, prefer) if duplicate_rules or prefer else None
    s, e = _window_dates(start, end)
    with Store(_db(db), read_only=True) as store, _progress_bar(draws, quiet) as progress:
        task = progress.add_task("draws", total=draws)
        lock = threading.Lock()

        def advance(n: int) -> None:
            with lock:
                progress.advance(task, n)

        return rank_window(
            store, s, e, rubric=rub, draws=draws, seed=seed, sources=source or None, agency=agency,
            progress=advance, what_if=what_if, state=state, duplicates=rules,
        )  # fmt: skip


@SCORING
def score_cmd(
    by: Annotated[str, typer.Option("--by", help="org, or org and state ('state').")] = "org",
    fmt: ScoreFormat = "table",
    out_path: OutOpt = None,
    quiet: QuietOpt = False,
    wide: WideOpt = False,
    **scoring,
) -> None:
    """Score every organization over a window, with 90% intervals and P(rank 1).

    Example: vdto score --from 2020-01-01 --to 2020-12-31 --draws 2000 --seed 7
    """
    _check_score_format(fmt)
    if by not in ("org", "state"):
        raise VdtoError(f"unknown grouping {by!r}", fix="use org or state", param="by")
    result = _rank(quiet=quiet, **scoring).result
    frame = result.table if by == "org" else result.by_state
    title = f"Violence scores {result.meta['from']} to {result.meta['to']}" + (
        " by state" if by == "state" else ""
    )
    narrow = [
        "org",
        "name",
        *(["state_code"] if by == "state" else []),
        "events",
        "score",
        "lo90",
        "hi90",
        "p_rank1",
    ]
    _write_frame(frame, result.meta, fmt, out_path, title, narrow=None if wide else narrow)
    if fmt == "table" and not quiet and len(result.dismantled):
        emit(result.dismantled, Format.table, title="Dismantled organizations (listed apart, not ranked)")


@SCORING
def rank_cmd(
    what_if: Annotated[
        str | None,
        typer.Option("--what-if", help="ORG:SHARE, e.g. cjng:0.3 = CJNG cuts its violence by 30%."),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Rows to show in the table.")] = 10,
    fmt: ScoreFormat = "table",
    out_path: OutOpt = None,
    quiet: QuietOpt = False,
    wide: WideOpt = False,
    **scoring,
) -> None:
    """Rank organizations with intervals, P(rank 1), margins and the target decision.

    Example: vdto rank --from 2020 --to 2020 --what-if cjng:0.5
    """
    _check_score_format(fmt)
    ranking = _rank(quiet=quiet, what_if=_what_if(what_if), **scoring)
    result, decision, table = ranking.result, ranking.decision, ranking.table
    n_events, moved = ranking.events_to_change_top, ranking.weight_moved
    extra = {
        "decision": decision.as_dict(),
        "manipulation": {
            "events_to_change_top": n_events,
            "weight_moved": moved,
            "events": json_records(ranking.moved_events),
        },
        "rank_probabilities": json_records(result.rank_probs),
        "dismantled": json_records(result.dismantled),
    }
    if ranking.what_if is not None:
        extra["what_if"] = {
            "org": ranking.what_if_org,
            "cut": ranking.what_if_cut,
            "rows": json_records(ranking.what_if),
        }
    if fmt != "table":
        if fmt == "json":
            _write_frame(table, result.meta, fmt, out_path, "", extra)
        else:
            _write_frame(table, result.meta, fmt, out_path, "")
        return
    shown = table.head(top)[
        ["rank", "org", "name", "score", "lo90", "hi90", "p_rank1", "rank_lo90", "rank_hi90", "gap"]
    ]
    emit(shown, Format.table, title=f"Ranking {result.meta['from']} to {result.meta['to']}",
         narrow=["rank", "org", "name", "score", "lo90", "hi90", "p_rank1"], wide=wide)  # fmt: skip
    style = "bold green" if decision.target else "bold yellow"
    out.print(f"[{style}]Target decision:[/{style}] {escape(decision.reason)}")
    if decision.fallback:
        out.print(f"  {escape(decision.fallback)}")
    if len(table) > 1:
        lead = table.iloc[0]
        out.print(
            f"Margin: {escape(lead['name'])} would have to cut its score by {lead['cut_to_lose_first']:.0%} to lose first place."
        )
        if n_events > 0:
            out.print(
                f"Manipulation risk: re-attributing {n_events} of its events (weight {moved:,.1f}) to "
                f"{escape(table.iloc[1]['name'])} would change the top organization."
            )
    if ranking.what_if is not None:
        emit(
            extra_frame(ranking.what_if),
            Format.table,
            title=f"What if {ranking.what_if_org} cut its violence by {ranking.what_if_cut:.0%}",
        )
    out.print(f"[dim]{escape(_provenance(result.meta))}[/dim]")


def _what_if(text: str | None) -> tuple[str, float] | None:
    """``ORG:SHARE`` (``cjng:0.3`` or ``cjng:30%``) as (org, cut)."""
    if not text:
        return None
    org, sep, share = text.partition(":")
    if not sep:
        raise VdtoError(f"{text!r} is not ORG:SHARE", fix="write e.g. cjng:0.3 or cjng:30%", param="cut")
    return org, share_of(share, param="cut", what="a share", example="cjng:0.3 or cjng:30%")


def extra_frame(frame):
    return frame[["rank", "rank_before", "org", "name", "score", "lo90", "hi90", "p_rank1"]].head(8)


@rubric_app.command("show")
def rubric_show(
    rubric: Annotated[str, typer.Argument(help="Rubric file or default-v1.")] = "default-v1",
) -> None:
    """Print a rubric's canonical JSON and its SHA-256.

    Example: vdto rubric show my-rubric.toml
    """
    from vdto.scoring import load_rubric

    r = load_rubric(rubric, param="rubric_file")
    sys.stdout.write(r.canonical_json() + "\n")
    err.print(f"{r.name} v{r.version} sha256:{r.sha256()}")


@rubric_app.command("validate")
def rubric_validate(rubric: Annotated[str, typer.Argument(help="Rubric file to check.")]) -> None:
    """Check a rubric file; an error names the bad key.

    Example: vdto rubric validate my-rubric.toml
    """
    from vdto.scoring import load_rubric

    r = load_rubric(rubric, param="rubric_file")
    out.print(f"{rubric}: valid ({r.name} v{r.version}, sha256:{r.sha256()})")


@rubric_app.command("diff")
def rubric_diff_cmd(
    a: Annotated[str, typer.Argument(help="First rubric (file or default-v1).")],
    b: Annotated[str, typer.Argument(help="Second rubric.")],
    fmt: FormatOpt = Format.table,
) -> None:
    """Show every key whose value differs between two rubrics.

    Example: vdto rubric diff default-v1 examples/my-rubric.toml
    """
    import pandas as pd

    from vdto.scoring import load_rubric, rubric_diff

    ra, rb = load_rubric(a, param="rubric_a"), load_rubric(b, param="rubric_b")
    rows = rubric_diff(ra, rb)
    frame = pd.DataFrame(rows, columns=["key", a, b]).astype(str)
    if frame.empty and fmt == Format.table:
        out.print("the rubrics are the same (sha256 " + ra.sha256()[:16] + ")")
        return
    emit(frame, fmt, title=f"{ra.sha256()[:12]} vs {rb.sha256()[:12]}")


def register(app: typer.Typer) -> None:
    """Add ``score``, ``rank`` and ``rubric`` to the ``vdto`` app."""
    app.command("score")(score_cmd)
    app.command("rank")(rank_cmd)
    app.add_typer(rubric_app, name="rubric")
