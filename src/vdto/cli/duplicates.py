"""``vdto events duplicates``: the incidents two sources of one agency's data both report, with
the evidence of each match (a thin shell over :mod:`vdto.events.duplicates`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vdto.cli.console import Format, emit, out
from vdto.cli.options import AgencyOpt, DbOpt, FormatOpt, WideOpt, _db, _window_dates
from vdto.errors import VdtoError

FromOpt = Annotated[
    str | None,
    typer.Option("--from", help="First day (YYYY, YYYY-MM or YYYY-MM-DD; default: the first event)."),
]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last day (default: the last event).")]
RulesOpt = Annotated[
    Path | None,
    typer.Option(
        "--rules", help="Matching rules TOML (default: the bundled default-v1).", show_default=False
    ),
]
MinProbOpt = Annotated[
    float | None,
    typer.Option(
        "--min-probability",
        help="List the pairs from this match probability on (default: the rules' threshold, 0.5).",
        show_default=False,
    ),
]
PreferOpt = Annotated[
    str | None,
    typer.Option(
        "--prefer",
        metavar="SOURCES",
        help="Sources whose copy of a matched incident counts in full, first first, comma-separated "
        "('*' = every other); default: the rules' order.",
        show_default=False,
    ),
]

#: The columns a table shows (CSV and JSON hold them all: both events and every comparison).
NARROW = ["probability", "a_source", "a_id", "b_source", "b_id", "b_date", "b_place", "evidence"]


def duplicates_cmd(
    start: FromOpt = None,
    end: ToOpt = None,
    agency: AgencyOpt = None,
    rules: RulesOpt = None,
    min_probability: MinProbOpt = None,
    prefer: PreferOpt = None,
    db: DbOpt = None,
    fmt: FormatOpt = Format.table,
    wide: WideOpt = False,
) -> None:
    """List the incidents two sources both report, with the evidence of each match.

    Pairs of events from different sources (e.g. UCDP GED and an agency's register), matched one
    to one: both events, each comparison's level and Bayes factor, and the match probability.
    The a copy counts in full in scores, the b copy with 1 - probability (docs/duplicates.md).

    Example: vdto events duplicates --from 2021 --to 2021 --min-probability 0.8
    """
    from vdto.events.duplicates import evidence, find_duplicates
    from vdto.store import Store

    if min_probability is not None and not 0 <= min_probability <= 1:
        raise VdtoError(
            f"min-probability must be between 0 and 1 (got {min_probability:g})",
            fix="use e.g. 0.5",
            param="min_probability",
        )
    chosen = chosen_rules(rules, prefer)
    listed = chosen.threshold if min_probability is None else min_probability
    s, e = _window_dates(start, end)
    with Store(_db(db), read_only=True) as store:
        who = store.resolve_agency(agency)
        events, perps = store.events.window(s or date.min, e or date.max, agency=who)
    found = find_duplicates(events, perps, chosen, min_probability=listed)
    frame = evidence(events, perps, found)
    emit(frame, fmt, title=f"Events two sources both report (agency {who})", narrow=NARROW, wide=wide)
    if fmt != Format.table:
        return
    sources = sorted(set(events["source"].astype(str))) if len(events) else []
    if len(sources) < 2:
        note = f"nothing to match: the window holds {'one source, ' + sources[0] if sources else 'no events'}"
    else:
        meta = found.meta
        note = (
            f"{len(frame)} pair(s) with probability >= {listed:g} · expected events removed "
            f"{meta['duplicate_events_removed']:.1f} (pairs >= {chosen.count_from:g}) · counts first: "
            f"{', '.join(found.order)} · rules {chosen.name} sha256:{meta['duplicate_rules_sha256'][:16]}"
        )
    out.print(f"[dim]{escape(note)}[/dim]")


def chosen_rules(rules: Path | None, prefer: str | None):
    """The matching rules ``--rules`` and ``--prefer`` ask for (the bundled ones by default)."""
    from vdto.events.duplicates import load_rules

    chosen = load_rules(rules)
    if prefer is not None:
        names = [p.strip() for p in prefer.split(",") if p.strip()]
        if not names or len(set(names)) != len(names):
            raise VdtoError(
                f"cannot read the source order {prefer!r}",
                fix="name each source once, most trusted first, e.g. '*,ucdp-ged,acled'",
                param="prefer",
            )
        chosen = chosen.with_prefer(names)
    return chosen


def register(events_app: typer.Typer) -> None:
    """Add ``duplicates`` to the ``vdto events`` group."""
    events_app.command("duplicates")(duplicates_cmd)
