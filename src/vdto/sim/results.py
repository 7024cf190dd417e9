"""Simulation results: long tables, policy comparisons with intervals, charts, Parquet files.

Every result carries the vdto version, the scenario hash, the world hash and the seed. Deaths
are homicides in people (all homicides, the baseline included, comparable with INEGI and
SESNSP counts) in every world the simulator builds: on the synthetic grid of the ``small``
scenario too (people of a made-up world, organized-crime killings only, no baseline). Files
written before the simulator counted people hold model units of violence; their provenance has
no :data:`PEOPLE` unit (:func:`counts_people`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import vdto
from vdto.files import write_parquet
from vdto.sim.engine import KINDS, SOURCES, Outputs
from vdto.sim.params import Scenario
from vdto.sim.world import World

#: The provenance ``unit`` of a run whose deaths are homicides counted in people.
PEOPLE = "homicides (people) per month"


def counts_people(meta: dict) -> bool:
    """Whether a run's deaths are homicides in people (its provenance's ``unit`` says so); else
    they are model units of violence (a file written before the simulator counted people).

    >>> counts_people({"unit": PEOPLE}), counts_people({})
    (True, False)
    """
    return meta.get("unit") == PEOPLE


def deaths_words(meta: dict) -> str:
    """What a run's deaths are, for a title or a sentence.

    >>> deaths_words({"unit": PEOPLE}), deaths_words({})
    ('homicides (people)', 'model units of violence')
    """
    return "homicides (people)" if counts_people(meta) else "model units of violence"


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
        "unit": PEOPLE,
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
    """Altair chart of monthly deaths per policy, in two parts that each stay readable.

    Above, one median line per policy on one axis (the legend's colours are the lines'); below,
    one small panel per policy with its median and 90% band over replicates, each panel on its
    own y axis so a policy with many more deaths does not flatten the others. The x axis runs
    from month 1 to the run's last month; a dashed rule marks where the policies start (the
    scenario's ``start_month``, after the warm-up). Deaths are homicides in people, or model
    units of violence where the provenance does not say people (:func:`counts_people`).
    """
    import altair as alt

    from vdto.render.fmt import num

    bands = monthly_bands(results)
    policies = list(results)
    months = int(bands["month"].max())
    what = "homicides per month (people)" if counts_people(meta) else "violence per month (model units)"
    sub = (
        f"vdto {meta.get('vdto_version', '?')} · scenario {meta.get('scenario', '?')} "
        f"sha256:{str(meta.get('scenario_sha256', ''))[:12]} · world sha256:{str(meta.get('world_sha256', ''))[:12]} · "
        f"seed {meta.get('seed', '?')} · {meta.get('replicates', '?')} replicates"
    )
    x = alt.X(
        "month:Q",
        title="month of the run",
        scale=alt.Scale(domain=[1, months], nice=False, zero=False),
        axis=alt.Axis(tickMinStep=1),
    )
    scale = alt.Scale(domain=policies, scheme="tableau10")
    tooltip = [
        alt.Tooltip("policy:N"),
        alt.Tooltip("month:Q"),
        alt.Tooltip("median:Q", title="median", format=",.0f"),
        alt.Tooltip("lo90:Q", title="5%", format=",.0f"),
        alt.Tooltip("hi90:Q", title="95%", format=",.0f"),
    ]
    start = meta.get("start_month")
    marks: list = []
    if start is not None and 0 < int(start) < months:
        at = int(start) + 0.5  # between the last month of the warm-up and the policies' first
        label = f"policies start: month {num(int(start) + 1, 0)} (months 1-{num(int(start), 0)}: warm-up)"
        rule = alt.Chart().mark_rule(color="#444", strokeDash=[5, 3]).encode(x=alt.datum(at))
        text = (
            alt.Chart()
            .mark_text(align="left", baseline="top", dx=4, dy=4, color="#444", fontSize=11)
            .encode(x=alt.datum(at), y=alt.value(0), text=alt.datum(label))
        )
        marks = [rule, text]
    lines = (
        alt.Chart()
        .mark_line(strokeWidth=2.5)
        .encode(
            x=x,
            y=alt.Y("median:Q", title=f"{what}, median", scale=alt.Scale(zero=False)),
            color=alt.Color("policy:N", title="policy", scale=scale, sort=policies),
            tooltip=tooltip,
        )
    )
    top = alt.layer(lines, *marks, data=bands).properties(
        width=720,
        height=300,
        title=alt.TitleParams(
            f"{what[0].upper()}{what[1:]} by policy: median over paired replicates",
            subtitle=sub,
            anchor="start",
        ),
    )
    panel_colour = alt.Color("policy:N", scale=scale, sort=policies, legend=None)
    band = (
        alt.Chart()
        .mark_area(opacity=0.3)
        .encode(x=x, y=alt.Y("lo90:Q", title=what), y2="hi90:Q", color=panel_colour, tooltip=tooltip)
    )
    mid = alt.Chart().mark_line(strokeWidth=1.5).encode(x=x, y="median:Q", color=panel_colour)
    panels = (
        alt.layer(band, mid, *marks[:1], data=bands)
        .properties(width=220, height=120)
        .facet(
            facet=alt.Facet("policy:N", sort=policies, title=None, header=alt.Header(labelFontWeight="bold")),
            columns=3,
            title=alt.TitleParams(
                "Each policy: median and 90% band over replicates (each panel on its own y axis)",
                anchor="start",
                fontSize=12,
            ),
        )
        .resolve_scale(y="independent")
    )
    # one colour per policy everywhere; the legend is the lines' (the panels are named instead)
    return (
        alt.vconcat(top, panels, spacing=24).resolve_scale(color="shared").resolve_legend(color="independent")
    )


__all__ = [
    "PEOPLE",
    "compare_table",
    "counts_people",
    "deaths_chart",
    "deaths_words",
    "long_frame",
    "monthly_bands",
    "provenance",
    "write_parquet",
]
