"""The report's charts (Altair): the ranking, the trends and the enforcement package as a network."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vdto.render import fmt
from vdto.services.report.data import TYPE_COLOURS, ReportData
from vdto.services.report.words import money, pct, relabel, say, translate

if TYPE_CHECKING:
    import altair as alt

    from vdto.network.graph import SupplyNetwork
    from vdto.network.package import Package
    from vdto.regional.analysis import RegionalAnalysis

# ---------------------------------------------------------------------------------------------
# charts


def ranking_chart(data: ReportData, top: int = 12, lang: str = "en") -> alt.LayerChart:
    """Expected score with its 90% interval per organization, labelled with P(rank 1); titles in
    ``lang``."""
    import altair as alt

    t = data.ranking.table.head(top).copy()
    t["label"] = t["p_rank1"].map(lambda p: say(lang, "chart_p_rank1", p=fmt.prob(p)))
    lead = data.decision.target or str(t.iloc[0]["org"])
    t["role"] = np.where(t["org"] == lead, "target" if data.decision.target else "leader", "other")
    order = list(t["name"])
    m = data.ranking.meta
    base = alt.Chart(t).encode(y=alt.Y("name:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)))
    colour = alt.Color(
        "role:N",
        title=None,
        scale=alt.Scale(domain=["target", "leader", "other"], range=["#b2182b", "#54278f", "#9e9ac8"]),
        legend=None,
    )
    rule = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("lo90:Q", title=say(lang, "chart_ranking_x")),
        x2="hi90:Q",
        color=colour,
    )
    point = base.mark_point(filled=True, size=90).encode(
        x="score:Q",
        color=colour,
        tooltip=[
            alt.Tooltip("name:N", title=say(lang, "col_org")),
            alt.Tooltip("score:Q", title=say(lang, "col_score"), format=",.1f"),
            alt.Tooltip("lo90:Q", title=say(lang, "chart_low"), format=",.1f"),
            alt.Tooltip("hi90:Q", title=say(lang, "chart_high"), format=",.1f"),
            alt.Tooltip("p_rank1:Q", title=say(lang, "col_p_rank1"), format=".3f"),
        ],
    )
    text = base.mark_text(align="left", dx=8, fontSize=11, color="#333333").encode(x="hi90:Q", text="label:N")
    subtitle = say(lang, "chart_ranking_sub", version=m["vdto_version"], rubric=m["rubric"],
                   rubric_sha=m["rubric_sha256"][:12], data_sha=m["data_sha256"][:12], seed=m["seed"],
                   draws=fmt.num(m["draws"], 0))  # fmt: skip
    return (rule + point + text).properties(
        width=560,
        height=26 * len(t),
        title=alt.TitleParams(
            say(lang, "chart_ranking_title", year=data.year), subtitle=subtitle, anchor="start"
        ),
    )


def trend_chart(data: ReportData, lang: str = "en") -> alt.Chart:
    """Yearly expected score of the leading organizations; titles in ``lang``."""
    import altair as alt

    names = dict(zip(data.ranking.table["org"], data.ranking.table["name"], strict=True))
    t = data.trend.assign(name=data.trend["org"].map(names).fillna(data.trend["org"]))
    return (
        alt.Chart(t)
        .mark_line(point=True)
        .encode(
            x=alt.X("year:O", title=None),
            y=alt.Y("score:Q", title=say(lang, "chart_trend_y")),
            color=alt.Color("name:N", title=say(lang, "col_org"), sort=list(pd.unique(t["name"]))),
            tooltip=[
                alt.Tooltip("name:N", title=say(lang, "col_org")),
                alt.Tooltip("year:O", title=say(lang, "col_year")),
                alt.Tooltip("score:Q", title=say(lang, "col_score"), format=",.1f"),
            ],
        )
        .properties(
            width=620,
            height=300,
            title=alt.TitleParams(say(lang, "chart_trend_title"), anchor="start"),
        )
    )


def network_chart(
    package: Package, net: SupplyNetwork, *, top: int = 24, per_case: int = 4, seed: int = 1, lang: str = "en"
) -> alt.LayerChart:
    """The enforcement package as a network: the target, its cells and the US buyers it supplies
    (the selected cases, the ``top`` buyers and ``top / 2`` distributors with the most revenue at
    stake, and up to ``per_case`` distributors supplied through each of the first cases), placed
    by a seeded spring layout; selected cases ringed in black; titles and node kinds in ``lang``."""
    import altair as alt
    import networkx as nx

    buyers = package.buyers.set_index("id", drop=False)
    # the selected cases, the buyers with most at stake, and for the first cases the distributors
    # they supply (pressuring a wholesaler denies the target what flows on to those too)
    distributors = package.buyers[package.buyers["type"] == "distributor"]
    downstream = [
        d
        for case in package.selected["id"].head(8)
        for d in distributors[distributors["path"].map(lambda p, c=case: c in list(p)[:-1])]["id"].head(
            per_case
        )
    ]
    shown = list(
        dict.fromkeys(
            [
                *package.selected["id"],
                *package.buyers["id"].head(top),
                *distributors["id"].head(top // 2),
                *downstream,
            ]
        )
    )
    graph = nx.Graph()
    for p in buyers.loc[shown, "path"]:
        path = list(p) if isinstance(p, list | tuple | np.ndarray) else [p]
        graph.add_nodes_from(path)
        graph.add_edges_from(itertools.pairwise(path))
    pos = nx.spring_layout(
        graph, seed=seed, iterations=200, k=1.2 / math.sqrt(max(graph.number_of_nodes(), 1))
    )
    info = net.nodes.set_index("id").reindex(list(graph.nodes))
    order = package.selected.set_index("id")["order"]
    nodes = pd.DataFrame(
        {
            "id": list(graph.nodes),
            "x": [float(pos[n][0]) for n in graph.nodes],
            "y": [float(pos[n][1]) for n in graph.nodes],
            "type": info["type"].astype(str).to_numpy(),
            "name": info["name"].astype(str).to_numpy(),
            "region": info["region"].fillna("").astype(str).to_numpy(),
        }
    )
    nodes["revenue_at_stake"] = nodes["id"].map(buyers["revenue_at_stake"]).fillna(0.0)
    nodes["case"] = (
        nodes["id"].map(order).map(lambda x: "" if pd.isna(x) else say(lang, "chart_case", n=int(x)))
    )
    nodes["selected"] = nodes["case"] != ""
    nodes["size"] = np.where(
        nodes["type"] == "organization",
        900.0,
        np.where(
            nodes["type"] == "cell",
            260.0,
            40.0
            + 360.0 * np.sqrt(nodes["revenue_at_stake"] / max(float(nodes["revenue_at_stake"].max()), 1.0)),
        ),
    )
    xy = dict(zip(nodes["id"], zip(nodes["x"], nodes["y"], strict=True), strict=True))
    edges = pd.DataFrame(
        [{"x": xy[a][0], "y": xy[a][1], "x2": xy[b][0], "y2": xy[b][1]} for a, b in graph.edges]
    )
    types = [t for t in TYPE_COLOURS if t in set(nodes["type"])]
    kinds = {t: say(lang, f"node_{t}") for t in TYPE_COLOURS}  # the legend's words, one per kind
    nodes["kind"] = nodes["type"].map(kinds).fillna(nodes["type"])
    axis = alt.Axis(title=None, labels=False, ticks=False, domain=False, grid=False)
    line = (
        alt.Chart(edges)
        .mark_rule(color="#bbbbbb", strokeWidth=0.8)
        .encode(x=alt.X("x:Q", axis=axis), y=alt.Y("y:Q", axis=axis), x2="x2:Q", y2="y2:Q")
    )
    dots = (
        alt.Chart(nodes)
        .mark_circle(opacity=0.95)
        .encode(
            x=alt.X("x:Q", axis=axis),
            y=alt.Y("y:Q", axis=axis),
            size=alt.Size("size:Q", scale=None, legend=None),
            color=alt.Color(
                "kind:N",
                title=say(lang, "chart_node"),
                scale=alt.Scale(domain=[kinds[t] for t in types], range=[TYPE_COLOURS[t] for t in types]),
            ),
            tooltip=[
                alt.Tooltip("name:N", title=say(lang, "chart_node")),
                alt.Tooltip("kind:N", title=say(lang, "col_type")),
                alt.Tooltip("region:N", title=say(lang, "col_region")),
                alt.Tooltip("revenue_at_stake:Q", title=say(lang, "chart_revenue_at_stake"), format=",.0f"),
                alt.Tooltip("case:N", title=say(lang, "chart_selected")),
            ],
        )
    )
    ring = (
        alt.Chart(nodes[nodes["selected"]])
        .mark_point(shape="circle", filled=False, color="black", strokeWidth=1.6)
        .encode(x="x:Q", y="y:Q", size=alt.Size("size:Q", scale=None, legend=None))
    )
    label = (
        alt.Chart(nodes[nodes["type"] == "organization"])
        .mark_text(dy=-22, fontWeight="bold", fontSize=12)
        .encode(x="x:Q", y="y:Q", text="name:N")
    )
    s = package.summary()
    title = say(lang, "chart_network_title", name=package.target_name, cases=s["cases_selected"],
                money=money(s["revenue_denied"]), share=pct(s["denied_share"]))  # fmt: skip
    subtitle = say(lang, "chart_network_sub", shown=len(shown), total=fmt.num(len(package.buyers), 0),
                   guarantee=translate(package.guarantee, lang))  # fmt: skip
    return (line + dots + ring + label).properties(
        width=720,
        height=520,
        title=alt.TitleParams(title, subtitle=subtitle, anchor="start"),
    )


def patterns_chart(ana: RegionalAnalysis, level: str, lang: str = "en") -> alt.Chart:
    """The map of the emerging hot spot patterns of one level (:func:`vdto.regional.maps.pattern_map`),
    its title and provenance in ``lang``."""
    from vdto.regional.maps import pattern_map

    assert ana.emerging is not None
    m = ana.emerging.meta
    # what was counted, in the reader's language (the library says it in English)
    meta = {**m, "value": None, "label": say(lang, "patterns_label", rubric=ana.meta.get("rubric", "")),
            "unit": say(lang, "patterns_unit_rate" if ana.meta.get("value") == "per100k" else "patterns_unit_count")}  # fmt: skip
    title = say(lang, "chart_patterns_title", level=say(lang, f"level_{level}"), period=fmt.period(m, lang))
    return pattern_map(ana.emerging.table, level, title=title, meta=meta, lang=lang)


class _Spec(dict):
    """A Vega-Lite spec already written out (a chart relabelled by :func:`relabel`), which the
    chart writers take as they take a chart."""

    def to_dict(self, *args: Any, **kwargs: Any) -> dict:
        return dict(self)


def _figures(data: ReportData, lang: str = "en") -> dict[str, Any]:
    """The charts, by figure name (those whose data the report has), with their words in ``lang``."""
    from vdto.regional.maps import map_regions
    from vdto.routes.chart import shift_chart

    charts: dict[str, Any] = {
        "ranking": ranking_chart(data, lang=lang),
        "trends": trend_chart(data, lang=lang),
    }
    charts["map-state"] = map_regions(data.states.scores, data.states.hot, lang=lang)
    charts["map-municipality"] = map_regions(data.municipalities.scores, data.municipalities.hot, lang=lang)
    for level, ana in (("state", data.states), ("municipality", data.municipalities)):
        if ana.emerging is not None:
            charts[f"patterns-{level}"] = patterns_chart(ana, level, lang)
    if data.package is not None and data.network is not None:
        charts["network"] = network_chart(
            data.package, data.network, seed=data.seeds.get("network") or 1, lang=lang
        )
    if data.sim is not None:
        # the policy chart is vdto.sim.results'; its English titles are put into the language here
        chart = data.sim.chart()
        charts["policies"] = chart if lang == "en" else _Spec(relabel(chart.to_dict(), lang))
    if data.shift is not None:
        charts["routes"] = shift_chart(data.shift, lang=lang)
    return charts
