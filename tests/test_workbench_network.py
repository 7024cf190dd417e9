"""The workbench's network view: the target's bounded subnetwork through the API (who may read it,
what it holds, its GEXF and i2 files) and drawn in a real browser."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter

import httpx
import networkx as nx
import pandas as pd
import pytest

# the rig's fixtures (wb_data, browser, page) come from the tests.workbench plugin (tests/conftest.py):
# importing them here would make a second session browser when another workbench file runs in the
# same process
from tests.workbench import Server, WorkbenchData, data_with, sign_in
from vdto.network.bacrim import load_bacrim2020
from vdto.network.checks import orient_ties
from vdto.network.graph import SupplyNetwork
from vdto.network.synthetic import generate
from vdto.store import Store


@pytest.fixture(scope="module")
def net_data(wb_data, tmp_path_factory) -> WorkbenchData:
    """The workbench store with a small synthetic supply network (seed 1) in it."""

    def fill(store, _folder) -> None:
        net = generate(seed=1, organizations=20, wholesalers=200, distributors=2000)
        net.save(store, {"generator": "vdto.network.synthetic", "seed": 1})

    return data_with(wb_data, tmp_path_factory.mktemp("wb-network"), fill)


@pytest.fixture
def server(net_data, tmp_path):
    s = Server(net_data, tmp_path)
    yield s
    s.stop()


def get(
    server: Server, path: str, who: tuple[str, str] | None = ("mx", "analyst"), **params
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {server.token(*who)}"} if who else {}
    return httpx.get(server.url + path, params=params, headers=headers, timeout=120)


def joined(server: Server) -> tuple[SupplyNetwork, nx.MultiGraph]:
    """The whole network the view draws from (the store's and BACRIM 2020's), as an undirected graph."""
    with Store(server.db, read_only=True) as store:
        own = SupplyNetwork.load(store)
        bacrim = load_bacrim2020(registry=store.registry())
    nodes = pd.concat([own.nodes, bacrim.nodes], ignore_index=True)
    edges = pd.concat([own.edges, bacrim.edges], ignore_index=True)
    g = nx.MultiGraph()
    g.add_nodes_from(nodes["id"])
    g.add_edges_from(zip(edges["source"], edges["target"], strict=True))
    return SupplyNetwork.from_frames(nodes, edges), g


def one_line(res: httpx.Response, *needles: str) -> str:
    detail = res.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail, detail
    for needle in needles:
        assert needle in detail, detail
    return detail


# -------------------------------------------------------------------------------------- API


@pytest.mark.parametrize("hops", [1, 2])
def test_the_subnetwork_holds_the_target_and_only_nodes_within_hops(server, hops):
    res = get(server, "/agencies/mx/network", target="CJNG", hops=hops, limit=1000)
    assert res.status_code == 200, res.text
    data = res.json()
    assert data["target"] == "cjng" and data["hops"] == hops and data["chosen"] == "given"
    assert data["sources"] == ["store", "bacrim2020"] and "synthetic" in data["synthetic"]
    net, g = joined(server)
    own = net.nodes[net.nodes["type"].isin(["organization", "cell"]) & (net.nodes["org_id"] == "cjng")]["id"]
    assert {"org:cjng"} <= set(own)
    dist = nx.multi_source_dijkstra_path_length(g, set(own), cutoff=hops)
    got = {n["id"]: n["hop"] for n in data["nodes"]}
    assert data["cut"] == "" and data["found_nodes"] == len(dist)
    assert got == dist  # the target's nodes (hop 0) and every node within hops, nothing else
    kinds = Counter(n["kind"] for n in data["nodes"])
    assert kinds["wholesaler"] > 0 and kinds["organization"] > 1
    # every edge between the nodes kept, of every kind
    inside = net.edges[net.edges["source"].isin(got) & net.edges["target"].isin(got)]
    assert len(data["edges"]) == len(inside) == data["found_edges"]
    assert {e["kind"] for e in data["edges"]} == {"supplies", "alliance", "rivalry"}
    assert all(e["source"] in got and e["target"] in got for e in data["edges"])


def test_the_subnetwork_is_bounded_and_says_what_was_cut(server):
    data = get(server, "/agencies/mx/network", target="cjng", hops=2, limit=40).json()
    assert len(data["nodes"]) == 40 and data["found_nodes"] > 40
    assert data["cut"].startswith(
        f"{data['found_nodes'] - 40:,} of {data['found_nodes']:,} nodes within 2 hops"
    )
    hops = [n["hop"] for n in data["nodes"]]
    assert {n["id"] for n in data["nodes"] if n["hop"] == 0} >= {"org:cjng"}
    kept = {n["id"] for n in data["nodes"]}
    assert all(e["source"] in kept and e["target"] in kept for e in data["edges"])
    # the nearest go in first: a node two hops away only when every node one hop away is in
    one_hop = get(server, "/agencies/mx/network", target="cjng", hops=1, limit=1000).json()["found_nodes"]
    assert (max(hops) == 2) == (one_hop < 40)


def test_gexf_export_is_exactly_the_subnetwork(server, tmp_path):
    params = {"target": "cjng", "hops": 2, "limit": 120}
    data = get(server, "/agencies/mx/network", **params).json()
    res = get(server, "/agencies/mx/network/export", format="gexf", **params)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"].startswith("application/gexf+xml")
    assert 'filename="network-cjng-hops2.gexf"' in res.headers["content-disposition"]
    path = tmp_path / "sub.gexf"
    path.write_bytes(res.content)
    g = nx.read_gexf(path)
    assert set(g.nodes) == {n["id"] for n in data["nodes"]}
    assert {n: g.nodes[n]["type"] for n in g.nodes} == {n["id"]: n["kind"] for n in data["nodes"]}
    edges = Counter((u, v, d["edge_type"]) for u, v, d in g.edges(data=True))
    assert edges == Counter((e["source"], e["target"], e["kind"]) for e in data["edges"])


def test_i2_export_is_the_entity_and_link_pair_of_the_subnetwork(server):
    params = {"target": "Cártel Jalisco Nueva Generación", "hops": 1}
    data = get(server, "/agencies/us/network", ("us", "publisher"), **params).json()
    res = get(server, "/agencies/us/network/export", ("us", "publisher"), format="i2", **params)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(res.content)) as zf:
        assert sorted(zf.namelist()) == ["entities.csv", "links.csv"]
        entities = list(csv.DictReader(io.StringIO(zf.read("entities.csv").decode("utf-8-sig"))))
        links = list(csv.DictReader(io.StringIO(zf.read("links.csv").decode("utf-8-sig"))))
    assert {r["Entity ID"]: r["Entity Type"].lower() for r in entities} == {
        n["id"]: n["kind"] for n in data["nodes"]
    }
    assert Counter(
        (r["From Entity ID"], r["To Entity ID"], r["Link Type"].lower()) for r in links
    ) == Counter((e["source"], e["target"], e["kind"]) for e in data["edges"])


def test_edges_are_those_of_the_store_with_their_attributes(server):
    data = get(server, "/agencies/mx/network", target="cjng", hops=1, limit=1000).json()
    net, _ = joined(server)
    frame = orient_ties(net.edges)
    supplies = {(e["source"], e["target"]): e for e in data["edges"] if e["kind"] == "supplies"}
    rows = frame[frame["type"] == "supplies"].set_index(["source", "target"])
    for (s, t), e in list(supplies.items())[:20]:
        assert e["attributes"]["volume"] == pytest.approx(float(rows.loc[(s, t), "volume"]))
    cjng = next(n for n in data["nodes"] if n["id"] == "org:cjng")
    assert cjng["kind"] == "organization" and cjng["hop"] == 0 and cjng["attributes"]["org_id"] == "cjng"


def test_another_agencys_token_is_refused(server):
    for path in ("/agencies/us/network", "/agencies/us/network/export"):
        for who in (("mx", "analyst"), ("mx", "admin"), ("zz", "publisher")):
            res = get(server, path, who, target="cjng", format="gexf")
            assert res.status_code == 403, res.text
            one_line(res, f"agency {who[0]!r} cannot act for agency 'us'")
        assert get(server, path, None, target="cjng", format="gexf").status_code == 401
    # any role of the agency reads and exports
    for role in ("analyst", "publisher", "admin"):
        assert (
            get(server, "/agencies/us/network/export", ("us", role), target="cjng", format="gexf").status_code
            == 200
        )


@pytest.mark.parametrize(
    ("params", "status", "start", "words"),
    [
        ({"target": "cjgn"}, 404, "target: unknown organization 'cjgn'", ("try", "cjng")),
        ({"target": "Sinaloa Cartl"}, 404, "target: unknown organization", ("sinaloa",)),
        ({"target": "cjng", "hops": 3}, 422, "query.hops", ()),
        ({"target": "cjng", "limit": 5}, 422, "query.limit", ()),
        ({"target": "cjng", "format": "pdf"}, 422, "query.format", ()),
    ],
)
def test_bad_requests_get_one_line_naming_the_parameter(server, params, status, start, words):
    path = "/agencies/mx/network/export" if "format" in params else "/agencies/mx/network"
    res = get(server, path, **params)
    assert res.status_code == status, res.text
    assert one_line(res, *words).startswith(start)


def test_without_a_target_the_agencys_top_ranked_organization_is_shown(server):
    res = get(server, "/agencies/mx/network")
    assert res.status_code == 200, res.text
    data = res.json()
    assert data["chosen"] == "ranking" and data["target"] in {o["id"] for o in data["organizations"]}
    assert any(n["hop"] == 0 for n in data["nodes"])


# ---------------------------------------------------------------------------------- browser


def test_the_network_is_drawn_and_its_gexf_downloads(server, page, tmp_path):
    sign_in(page, server, "mx", "publisher", view="network", lang="en", target="cjng", hops="1")
    assert page.locator("#view h1").inner_text() == "Package and network"
    assert page.get_by_test_id("data-of").inner_text() == "Data of agency mx"
    data = get(server, "/agencies/mx/network", target="cjng", hops=1).json()
    count = page.get_by_test_id("node-count")
    assert count.get_attribute("data-nodes") == str(len(data["nodes"]))
    assert count.get_attribute("data-edges") == str(len(data["edges"]))
    assert page.get_by_test_id("graph").get_attribute("data-drawn") == str(len(data["nodes"]))
    assert page.locator("[data-testid=graph] canvas").count() > 0  # cytoscape drew it
    assert "org:cjng" in page.get_by_test_id("node-details").inner_text()  # the target, until a click
    with page.expect_download() as done:
        page.get_by_test_id("export-gexf").click()
    download = done.value
    assert download.suggested_filename == "network-cjng-hops1.gexf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    g = nx.read_gexf(path)
    assert set(g.nodes) == {n["id"] for n in data["nodes"]} and g.number_of_edges() == len(data["edges"])
    # another target from the select, two hops
    page.get_by_test_id("network-target").select_option("sinaloa")
    page.get_by_test_id("network-hops").select_option("2")
    page.get_by_test_id("network-apply").click()
    page.wait_for_function(
        "() => (document.querySelector('#view[data-ready] [data-testid=network-summary]') || {}).textContent"
        "?.includes('(sinaloa)')"
    )
    assert "(sinaloa) within 2" in page.get_by_test_id("network-summary").inner_text()
    assert int(page.get_by_test_id("node-count").get_attribute("data-nodes") or 0) <= 300
