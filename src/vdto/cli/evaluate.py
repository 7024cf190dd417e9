"""``vdto evaluate``: what interventions did to homicides where they happened, around them and
where the same organization was (a thin shell over :mod:`vdto.services.evaluation`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from vdto.cli.console import emit, out
from vdto.cli.options import DbOpt, _db, _write_frame
from vdto.errors import VdtoError


class EvalFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def _window(text: str) -> tuple[int, int]:
    try:
        a, b = (int(x) for x in text.replace(" ", "").split(".."))
    except ValueError:
        raise VdtoError(f"cannot read the window {text!r}", fix="write it as A..B, e.g. 0..11",
                        param="effect_window") from None  # fmt: skip
    return a, b


def evaluate_cmd(
    interventions: Annotated[
        Path | None,
        typer.Argument(
            help="Interventions CSV (default: the bundled leader captures and killings 2007-2015)."
        ),
    ] = None,
    panel: Annotated[
        str, typer.Option("--panel", help="inegi (1990-2015), sesnsp (2015-) or events (the store's).")
    ] = "inegi",
    level: Annotated[
        str | None, typer.Option("--level", help="municipality or state (default: the panel's finest).")
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            help="Kinds of intervention to evaluate (repeat; default: leader capture and leader killed).",
        ),
    ] = None,
    outcome: Annotated[
        str, typer.Option("--outcome", help="rate (per 100,000 people per month) or count.")
    ] = "rate",
    pre: Annotated[int, typer.Option("--pre", help="Months before the intervention to estimate.")] = 12,
    post: Annotated[int, typer.Option("--post", help="Months after the intervention to estimate.")] = 24,
    window: Annotated[
        str, typer.Option("--window", help="Event months pooled into one effect, A..B.")
    ] = "0..11",
    base: Annotated[
        str, typer.Option("--base", help="Compare with the pre-period's mean (pre) or month -1 (last).")
    ] = "pre",
    confidence: Annotated[
        float, typer.Option("--confidence", help="Confidence level of the intervals.")
    ] = 0.9,
    placebos: Annotated[int, typer.Option("--placebos", help="Placebo-date draws (0: none).")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the placebo dates.")] = 0,
    synth: Annotated[
        int | None,
        typer.Option("--synth", help="Add a synthetic control of the intervention on this file row."),
    ] = None,
    donors: Annotated[
        int, typer.Option("--donors", min=2, help="Donor units of the synthetic control.")
    ] = 40,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Event-study chart (.png, .svg or .html).")
    ] = None,
    fmt: Annotated[EvalFormat, typer.Option("--format", "-f", help="Output format.")] = EvalFormat.table,
    out_path: Annotated[Path | None, typer.Option("--out", help="Write the event-study table here.")] = None,
    db: DbOpt = None,
    agency: Annotated[
        str | None, typer.Option("--agency", help="Agency whose events make the events panel.")
    ] = None,
) -> None:
    """Estimate what interventions did to homicides: a staggered event study (Callaway-Sant'Anna)
    where they happened, in bordering municipalities and where the same organization was, with
    placebo dates and, for one case, a synthetic control.

    Example: vdto evaluate --panel inegi --synth 5 --chart evaluation.png
    """
    from vdto.data import bundled
    from vdto.evaluation.evaluate import Settings
    from vdto.evaluation.interventions import LEADER_KINDS
    from vdto.services.evaluation import run_evaluation

    if fmt == EvalFormat.parquet and out_path is None:
        raise VdtoError("parquet output needs a file", "--format parquet", "add --out evaluation.parquet")
    if out_path is not None and fmt == EvalFormat.table:
        raise VdtoError(
            "a table is for the terminal", "--out", "use --format csv, json or parquet with --out"
        )
    settings = Settings(outcome=outcome, pre=pre, post=post, window=_window(window), confidence=confidence,
                        placebo_draws=placebos, seed=seed, base=base)  # fmt: skip
    path = interventions if interventions is not None else bundled("captures")
    kinds = (
        tuple(k.strip().lower() for k in kind) if kind else (LEADER_KINDS if interventions is None else None)
    )
    run = run_evaluation(path, panel=panel, level=level, kinds=kinds, settings=settings,
                         db=_db(db) if panel == "events" else None, agency=agency, synth_row=synth,
                         donors=donors)  # fmt: skip
    ev = run.evaluation
    meta = {**ev.meta, "placebo_draws": placebos}
    if chart is not None:
        from vdto.render.charts import event_study_chart, save_chart

        save_chart(event_study_chart(ev.table, y_title=ev.meta["unit"],
                                     title=f"Event study: {ev.meta['panel']}"), chart)  # fmt: skip
    if fmt != EvalFormat.table:
        extra = {"pooled": ev.pooled.to_dict("records")}
        if run.synth is not None:
            extra["synthetic_control"] = {"row": synth, "effect": run.synth.effect, "percent": run.synth.percent,
                                          "p_value": run.synth.p_value, "rank": run.synth.rank,
                                          "donors": len(run.synth.placebos)}  # fmt: skip
        _write_frame(ev.table, meta, fmt.value, out_path, "", extra)
        return
    pooled = ev.pooled.copy()
    shown = pooled[["design", "treated", "controls", "baseline", "estimate", "lo", "hi", "percent", "percent_lo",
                    "percent_hi"]].rename(columns={"estimate": "effect"})  # fmt: skip
    shown["interval"] = [f"{a:+.2f} to {b:+.2f}" for a, b in zip(shown["lo"], shown["hi"], strict=True)]
    shown["percent"] = [f"{p:+.0f}% ({a:+.0f}% to {b:+.0f}%)" for p, a, b in
                        zip(shown["percent"], shown["percent_lo"], shown["percent_hi"], strict=True)]  # fmt: skip
    shown["baseline"] = shown["baseline"].map(lambda x: f"{x:.2f}")
    shown["effect"] = shown["effect"].map(lambda x: f"{x:+.2f}")
    a, b = settings.window
    emit(shown[["design", "treated", "controls", "baseline", "effect", "interval", "percent"]],
         title=f"Effect over months {a} to {b} after the intervention ({ev.meta['unit']}; "
               f"{confidence:.0%} intervals)")  # fmt: skip
    first = pooled.iloc[0]
    if "placebo_p" in pooled and placebos:
        out.print(f"Placebo dates ({placebos} draws): mean effect {first['placebo_mean']:+.2f}; "
                  f"randomization p = {first['placebo_p']:.3f}")  # fmt: skip
    if run.synth is not None:
        sc = run.synth
        out.print(f"Synthetic control of row {synth}: {sc.effect:+.2f} ({sc.percent:+.0f}%) a month after it; "
                  f"pre-period RMSPE {sc.rmspe_pre:.2f}; placebo in space: rank {sc.rank} of "
                  f"{len(sc.placebos) + 1}, p = {sc.p_value:.3f}")  # fmt: skip
    out.print(f"[dim]{escape(_line(meta))}[/dim]")


def _line(meta: dict) -> str:
    return (f"vdto {meta['vdto_version']}; panel {meta['panel_sha256'][:12]}; interventions "
            f"{meta['interventions_sha256'][:12]}; settings {meta['settings_sha256'][:12]}; seed {meta['seed']}")  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``vdto evaluate`` to the main app."""
    app.command("evaluate")(evaluate_cmd)
