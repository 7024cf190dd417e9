"""The ranking year by year: the table published in docs/ranking-by-year.md."""

from __future__ import annotations

from datetime import date

import pandas as pd

from vdto.scoring.decision import decide
from vdto.scoring.engine import DEFAULT_DRAWS, DEFAULT_SEED, score
from vdto.scoring.rubric import Rubric
from vdto.store import Store


def yearly_ranking(
    store: Store,
    years: range,
    *,
    rubric: Rubric | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    sources: list[str] | None = None,
) -> pd.DataFrame:
    """For each calendar year: the two leading organizations, their intervals, P(rank 1), the decision."""
    rows = []
    for year in years:
        res = score(
            store,
            date(year, 1, 1),
            date(year, 12, 31),
            rubric=rubric,
            draws=draws,
            seed=seed,
            sources=sources,
        )
        t = res.table
        decision = decide(res)
        first = t.iloc[0]
        second = t.iloc[1] if len(t) > 1 else None
        rows.append(
            {
                "year": year,
                "events": res.meta["events"],
                "first": first["org"],
                "score": first["score"],
                "lo90": first["lo90"],
                "hi90": first["hi90"],
                "p_rank1": first["p_rank1"],
                "second": second["org"] if second is not None else None,
                "second_score": second["score"] if second is not None else None,
                "second_lo90": second["lo90"] if second is not None else None,
                "second_hi90": second["hi90"] if second is not None else None,
                "second_p_rank1": second["p_rank1"] if second is not None else None,
                "target": decision.target,
                "data_sha256": res.meta["data_sha256"],
            }
        )
    return pd.DataFrame(rows)


def markdown_rows(table: pd.DataFrame) -> list[str]:
    """The table as Markdown rows, in the layout of docs/ranking-by-year.md."""
    out = []
    for r in table.itertuples():
        out.append(
            f"| {r.year} | {r.events:,} | `{r.first}` | {r.score:,.1f} | {r.lo90:,.1f}–{r.hi90:,.1f} | {r.p_rank1:.3f} "
            f"| `{r.second}` | {r.second_score:,.1f} | {r.second_lo90:,.1f}–{r.second_hi90:,.1f} | {r.second_p_rank1:.3f} "
            f"| {'`' + r.target + '`' if isinstance(r.target, str) else 'none'} |"
        )
    return out
