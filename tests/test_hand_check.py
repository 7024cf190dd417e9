"""The top organizations by attributed deaths per year, checked against an independent computation
and against the table published in docs/ucdp-hand-check.md."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from vdto.events.summary import top_orgs_by_year
from vdto.orgs import Registry
from vdto.store import Store

DOC = Path(__file__).parents[1] / "docs" / "ucdp-hand-check.md"


def independent_top(raw: pd.DataFrame, reg: Registry, n: int = 3) -> pd.DataFrame:
    """Attributed deaths by year and organization, row by row in plain Python."""
    totals: dict[tuple[int, str], float] = {}
    for r in raw.itertuples():
        best = r.best
        shared = (r.deaths_civilians + r.deaths_unknown) / 2
        if r.type_of_violence == 3:
            shares = {r.side_a: 1.0}
        elif best == 0:
            shares = {r.side_a: 0.5, r.side_b: 0.5}
        else:
            shares = {r.side_a: (r.deaths_b + shared) / best, r.side_b: (r.deaths_a + shared) / best}
        for side, share in shares.items():
            whole = reg.resolve(side)
            names = [side] if whole.org_id else side.split(", ")
            for name in names:
                org = reg.resolve(name).org_id
                if reg.orgs[org].kind in ("dto", "faction"):
                    key = (int(r.year), org)
                    totals[key] = totals.get(key, 0.0) + best * share / len(names)
    frame = pd.DataFrame([(y, o, d) for (y, o), d in totals.items()], columns=["year", "org", "deaths"])
    frame = frame[frame["deaths"] > 0].sort_values(["year", "deaths", "org"], ascending=[True, False, True])
    frame["rank"] = frame.groupby("year").cumcount() + 1
    return frame[frame["rank"] <= n].reset_index(drop=True)


def test_top_orgs_match_independent_computation(ucdp_store, ucdp_file):
    raw = pd.read_csv(ucdp_file)
    reg = Registry.seed()
    expected = independent_top(raw, reg)
    db, _ = ucdp_store
    with Store(db, read_only=True) as store:
        got = top_orgs_by_year(store, n=3)
    got = got[got["deaths"] > 0].reset_index(drop=True)
    assert list(zip(got["year"], got["org"], strict=True)) == list(
        zip(expected["year"], expected["org"], strict=True)
    )
    assert (got["deaths"] - expected["deaths"]).abs().max() < 1e-6


def test_published_hand_check_table_matches_the_store(ucdp_store):
    """Every row of the table in docs/ucdp-hand-check.md is what vdto computes."""
    rows = re.findall(
        r"^\| (\d{4}) \| (\d) \| `([a-z0-9_]+)` \| [^|]+ \| ([\d,.]+) \|$", DOC.read_text(), re.M
    )
    assert len(rows) >= 60
    db, _ = ucdp_store
    with Store(db, read_only=True) as store:
        got = top_orgs_by_year(store, n=3)
    lookup = {(int(y), int(k)): (o, float(d.replace(",", ""))) for y, k, o, d in rows}
    for r in got.itertuples():
        if (r.year, r.rank) in lookup:
            org, deaths = lookup[(r.year, r.rank)]
            assert org == r.org, (r.year, r.rank)
            assert abs(deaths - r.deaths) < 0.06, (r.year, r.rank)
    assert len(lookup) == len(got[got["deaths"] > 0])
