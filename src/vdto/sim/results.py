"""Simulation results: long tables, policy comparisons with intervals, charts, Parquet files.

Every result carries the vdto version, the scenario hash, the world hash and the seed. Deaths
are homicides in people (all homicides, the baseline included, comparable with INEGI and
SESNSP counts).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import vdto
from vdto.files import write_parquet
from vdto.sim.engine import KINDS, SOURCES, Outputs
from vdto.sim.params import Scenario
from vdto.sim.world import World


def provenance(scenario: Scenario, world: World) -> dict:
    return {
        "vdto_version": vdto.__version__,
        "scenario": scenario.name,
        "scenario_sha256": scenario.sha256(),
        "world": world.label,
        "world_sha256": world.sha256(),
        "seed": scenario.run.seed,
        "replicates": scenario.run.replicates,
        "months": scenario.run.months,
        "start_year": world.start_year or None,
        "start_month": scenario.enforcement.start_month,
        "unit": "homicides (people) per month",
    }


def long_frame(results: dict[str, Outputs]) -> pd.DataFrame:
    """One row per (policy, replicate, month) with every monthly output."""
    parts = []
    for policy, o in results.items():
        R, T = o.deaths.shape
        frame = pd.DataFrame(
            {
                "policy": policy,
                "replicate": np.repeat(np.arange(R), T),
                "month": np.tile(np.arange(1, T + 1), R),
                "deaths": o.homicides.ravel(),
                **{f"homicides_{k}": o.homicides_source[:, :, j].ravel() for j, k in enumerate(SOURCES)},
                **{f"deaths_{k}": o.deaths_kind[:, :, j].ravel() for j, k in enumerate(KINDS)},
                "members": o.members.ravel(),
                "recruits": o.recruits.ravel(),
                "arrests": o.arrests.ravel(),
                "members_killed": o.members_killed.ravel(),
                "organizations_alive": o.alive.ravel(),
                "splits": o.splits.ravel(),
                "dismantled": o.dismantled.ravel(),
                "revenue": o.revenue.ravel(),
                "target": o.target.ravel(),
                "focal_deaths": o.focal_deaths.ravel(),
                "rival_violence": o.rival_violence.ravel(),
                "violence_mean": o.violence_mean.ravel(),
            }
        )
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def _q(x: np.ndarray) -> tuple[float, float, float]:
    lo, mid, hi = np.nanquantile(x, [0.05, 0.5, 0.95])
    return float(mid), float(lo), float(hi)


def compare_table(
    results: dict[str, Outputs],
    *,
    horizon: int = 36,
    baseline: str = "volume",
    reference: str = "none",
    start_month: int = 12,
) -> pd.DataFrame:
    """Outcomes per policy with 90% intervals over replicates, and paired comparisons.

    Columns (deaths are homicides, in people): deaths by ``horizon`` and over the whole run
    (median and 90% interval), mean deaths per month (``deaths_per_month``, with the 90% interval
    of the replicates' means) and in the last year, members and organizations alive at the end,
    organizations born of splits and dismantled, the share of paired replicates (same seed, so
    the same starting map) in which the policy's deaths by ``horizon`` are below
    ``baseline``'s, and the homicides in the focal organization's plazas in the 12 months after
    the policy starts (``start_month``) relative to ``reference``.
    """
    rows = []
    base = results.get(baseline)
    ref = results.get(reference)
    for policy, o in results.items():
        T = o.deaths.shape[1]
        h = min(horizon, T)
        cum_h = o.deaths[:, :h].sum(axis=1)
        total = o.deaths.sum(axis=1)
        last = o.deaths[:, max(0, T - 12) :].mean(axis=1)
        row: dict[str, object] = {"policy": policy}
        for name, x in (
            (f"deaths_by_{h}", cum_h),
            ("deaths_total", total),
            ("deaths_per_month_last_year", last),
        ):
            row[name], row[f"{name}_lo90"], row[f"{name}_hi90"] = _q(x)
        per_month = o.deaths.mean(axis=1)
        row["deaths_per_month"] = float(per_month.mean())
        row["deaths_per_month_lo90"], row["deaths_per_month_hi90"] = (
            float(v) for v in np.quantile(per_month, [0.05, 0.95])
        )
        row["members_end"] = float(np.mean(o.members[:, -1]))
        row["alive_end"] = float(np.mean(o.alive[:, -1]))
        row["splits_end"] = float(np.mean(o.splits[:, -1]))
        row["dismantled_end"] = float(np.mean(o.dismantled[:, -1]))
        row[f"p_below_{baseline}"] = (
            float(np.mean(cum_h < base.deaths[:, :h].sum(axis=1))) if base is not None else np.nan
        )
        if ref is not None:
            window = slice(start_month, min(start_month + 12, T))
            mine = o.focal_deaths[:, window].sum(axis=1)
            theirs = ref.focal_deaths[:, window].sum(axis=1)
            row["focal_deaths_vs_none"] = float(mine.mean() / max(theirs.mean(), 1e-9))
        rows.append(row)
    return pd.DataFrame(rows)


def monthly_bands(results: dict[str, Outputs]) -> pd.DataFrame:
    """Median and 90% band of monthly homicides (people) per policy and month."""
    parts = []
    for policy, o in results.items():
        lo, mid, hi = np.quantile(o.deaths, [0.05, 0.5, 0.95], axis=0)
        parts.append(pd.DataFrame({"policy": policy, "month": np.arange(1, len(mid) + 1), "median": mid,
                                   "lo90": lo, "hi90": hi, "mean": o.deaths.mean(axis=0)}))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def deaths_chart(results: dict[str, Outputs], meta: dict):
    """Altair chart: monthly homicides per policy, median line and 90% band over replicates."""
    import altair as alt

    bands = monthly_bands(results)
    sub = (
        f"vdto {meta['vdto_version']} · scenario {meta['scenario']} sha256:{meta['scenario_sha256'][:12]} · "
        f"world sha256:{meta['world_sha256'][:12]} · seed {meta['seed']} · {meta['replicates']} replicates"
    )
    base = alt.Chart(bands).encode(
        x=alt.X("month:Q", title="month"), color=alt.Color("policy:N", title="policy")
    )
    band = base.mark_area(opacity=0.15).encode(
        y=alt.Y("lo90:Q", title="homicides per month (people)"), y2="hi90:Q"
    )
    line = base.mark_line(strokeWidth=2).encode(
        y="median:Q", tooltip=["policy", "month", alt.Tooltip("median:Q", format=".1f")]
    )
    return (band + line).properties(
        width=720,
        height=380,
        title=alt.TitleParams(
            "Monthly homicides by policy (median and 90% band over paired replicates)",
            subtitle=sub,
            anchor="start",
        ),
    )


__all__ = ["compare_table", "deaths_chart", "long_frame", "monthly_bands", "provenance", "write_parquet"]
