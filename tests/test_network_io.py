"""Supply-network files: the CSV edge list (and node file) with every bad-input case located by
file:row:column, GraphML and GEXF round trips, the link-chart CSV pair, and the real BACRIM 2020
alliance and rivalry network checked against an independent count of its files."""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vdto.errors import InputFileError, RowErrors, VdtoError
from vdto.network import formats
from vdto.network.bacrim import bundled_folder, load_bacrim2020
from vdto.network.checks import canonical, check_network
from vdto.network.csvfiles import read_edges_csv
from vdto.network.formats import read_gexf, read_graphml, write_gexf, write_graphml, write_link_chart
from vdto.network.graph import EdgeType, NodeType, SupplyNetwork
from vdto.orgs import Registry

DATA = Path(__file__).parent / "data" / "network"
EDGES, NODES, INLINE = DATA / "edges.csv", DATA / "nodes.csv", DATA / "edges_inline.csv"


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def planted(tmp_path: Path, source: Path, row: int, text: str | None, name: str | None = None) -> Path:
    """A copy of ``source`` with file row ``row`` (the header is row 1) replaced by ``text``
    (appended when ``row`` is past the end)."""
    out = lines(source)
    if row > len(out):
        out.append(text)
    else:
        out[row - 1] = text
    path = tmp_path / (name or source.name)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def set_cell(source: Path, row: int, column: str, value: str) -> str:
    """Row ``row`` of ``source`` with one cell changed (the fixtures have no quoted commas)."""
    header = lines(source)[0].split(",")
    cells = lines(source)[row - 1].split(",")
    cells[header.index(column)] = value
    return ",".join(cells)


def col(source: Path, column: str) -> int:
    return lines(source)[0].split(",").index(column) + 1


def assert_located(exc: VdtoError, path: Path, row: int, column: int | None, *needles: str) -> None:
    text = str(exc)
    assert "\n" not in text
    where = f"{path}:{row}" + (f":{column}" if column is not None else "")
    assert text.startswith(where + ":"), text
    for needle in needles:
        assert needle in text, text


def frames_equal(a: SupplyNetwork, b: SupplyNetwork) -> None:
    a, b = canonical(a), canonical(b)
    pd.testing.assert_frame_equal(a.nodes, b.nodes)
    pd.testing.assert_frame_equal(a.edges, b.edges)


# -- reading good files -------------------------------------------------------------------
def test_read_edges_with_node_file():
    net = read_edges_csv(EDGES, NODES)
    assert len(net.nodes) == len(lines(NODES)) - 1 == 12
    assert len(net.edges) == len(lines(EDGES)) - 1 == 16
    nodes = net.nodes.set_index("id")
    # names without org_id resolved through the registry; given org_ids kept
    assert nodes.loc["cjng", "org_id"] == "cjng"
    assert nodes.loc["cuinis", "org_id"] == "los_cuinis"
    assert nodes.loc["sinaloa", "org_id"] == "sinaloa"
    assert nodes.loc["cjng_tij", "org_id"] == "cjng"
    assert nodes.loc["w_la", "org_id"] is None
    assert nodes.loc["w_la", "price"] == 21000 and nodes.loc["w_la", "cost"] == 400
    assert math.isnan(nodes.loc["d_tuc", "cost"]) and math.isnan(nodes.loc["port_sy", "price"])
    assert set(net.nodes["type"]) == {t.value for t in NodeType}

    edges = net.edges
    first = edges.iloc[0]
    assert (first.source, first.target, first.type) == ("cjng", "cjng_tij", "supplies")
    assert (first.volume, first.share, first.confidence) == (1200, 0.8, 0.9)
    assert first.start == pd.Timestamp("2019-01-01") and pd.isna(first.end)
    row4 = edges.iloc[2]
    assert math.isnan(row4.share) and row4.end == pd.Timestamp("2021-06-30")
    assert edges.iloc[5].confidence == 1.0  # empty confidence means 1
    # "sinaloa,cjng,rivalry" is stored from the smaller id to the larger
    riv = edges[edges["type"] == "rivalry"]
    assert [tuple(r) for r in riv[["source", "target", "weight"]].to_numpy()] == [
        ("cjng", "sinaloa", 7.0),
        ("cjng_tij", "sin_cul", 2.0),
    ]
    assert str(edges["start"].dtype) == "datetime64[ns]"
    assert net.meta["source"] == "edges.csv" and len(net.meta["nodes_sha256"]) == 64
    check_network(net)


def test_read_edges_with_inline_nodes():
    net = read_edges_csv(INLINE)
    nodes = net.nodes.set_index("id")
    assert list(net.nodes["id"]) == ["gulf", "gulf_rey", "port_hid", "w_hou", "d_dal", "d_atl", "zetas"]
    assert nodes.loc["gulf", "name"] == "Cártel del Golfo" and nodes.loc["gulf", "org_id"] == "gulf"
    assert nodes.loc["gulf_rey", "type"] == "cell" and nodes.loc["gulf_rey", "org_id"] == "gulf"
    assert nodes.loc["zetas", "org_id"] == "zetas" and nodes.loc["zetas", "region"] == "Tamaulipas"
    # a node named on no row gets its id as name; a region given on a later row is used
    assert nodes.loc["d_atl", "type"] == "distributor" and nodes.loc["d_atl", "region"] == "Georgia"
    assert nodes.loc["w_hou", "name"] == "Houston wholesaler"
    assert len(net.edges) == 7
    assert tuple(net.edges.iloc[-1][["source", "target", "type"]]) == ("gulf", "zetas", "rivalry")


def test_node_file_and_inline_columns_together(tmp_path):
    # the node file defines everything; inline columns that agree are fine, ones that differ are not
    header = lines(EDGES)[0] + ",source_type,target_type"
    body = [line + ",," for line in lines(EDGES)[1:]]
    body[0] = lines(EDGES)[1] + ",organization,cell"
    path = tmp_path / "both.csv"
    path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    assert len(read_edges_csv(path, NODES).nodes) == 12
    body[0] = lines(EDGES)[1] + ",organization,wholesaler"
    path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    with pytest.raises(RowErrors) as err:
        read_edges_csv(path, NODES)
    assert_located(err.value, path, 2, header.split(",").index("target_type") + 1, "nodes.csv row 5")


# -- bad input: one planted problem, its exact row ------------------------------------------
EDGE_CASES = {
    # name: (row, column, new cell value, words in the message)
    "dangling target": (5, "target", "nowhere", ["'nowhere' is not a defined node", "add the node to nodes.csv"]),
    "dangling source": (9, "source", "w_sf", ["'w_sf' is not a defined node"]),
    "unknown edge type": (3, "type", "sells", ["is not an edge type", "use one of supplies, alliance, rivalry"]),
    "empty edge type": (4, "type", "", ["type is empty"]),
    "negative volume": (6, "volume", "-5", ["volume is negative", "'-5'"]),
    "volume not a number": (6, "volume", "lots", ["volume is not a number"]),
    "share above 1": (8, "share", "1.5", ["share is outside 0..1"]),
    "negative share": (7, "share", "-0.25", ["share is outside 0..1"]),
    "confidence above 1": (10, "confidence", "2", ["confidence is outside 0..1"]),
    "negative weight": (14, "weight", "-1", ["weight is negative"]),
    "distributor supplies wholesaler": (9, "source", "d_den", ["breaks the supply rules", "a distributor may supply: distributor"]),
    "city supplies cell": (7, "target", "cjng_tij", ["breaks the supply rules", "city 'port_sy'"]),
    "organization supplies organization": (2, "target", "sinaloa", ["breaks the supply rules"]),
    "alliance with a wholesaler": (15, "target", "w_la", ["ties join organizations and cells only"]),
    "edge to itself": (12, "target", "w_phx", ["also the source"]),
    "bad date": (2, "start", "2019-13-45", ["start is not a date", "YYYY-MM-DD"]),
    "end before start": (4, "end", "2018-12-31", ["end is before start (2019-01-01)"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_bad_edge_row_is_located(tmp_path, case):
    row, column, value, needles = EDGE_CASES[case]
    path = planted(tmp_path, EDGES, row, set_cell(EDGES, row, column, value))
    with pytest.raises(RowErrors) as err:
        read_edges_csv(path, NODES)
    assert isinstance(err.value, VdtoError)
    problem_cols = {(p.row, p.column_name) for p in err.value.problems}
    assert len(err.value.problems) == 1, err.value.problems
    reported = err.value.problems[0]
    assert reported.row == row
    # a problem with the node pair is reported on the type column, others on the cell itself
    expected_col = "type" if "rules" in needles[0] or "ties join" in needles[0] else column
    if "also the source" in needles[0]:
        expected_col = "target"
    assert problem_cols == {(row, expected_col)}
    assert_located(err.value, path, row, col(EDGES, expected_col), *needles)


NODE_CASES = {
    "unknown node type": (4, "type", "cartel", ["type is not a node type", "use one of organization"]),
    "empty node type": (9, "type", "", ["type is empty"]),
    "duplicate node id": (9, "id", "cjng", ["'cjng' repeats the node id of row 2"]),
    "unknown org_id": (5, "org_id", "no_such_org", ["org_id is not a registry id", "register the organization"]),
    "unresolved organization name": (4, "name", "Los Nuevos Ficticios", ["organization 'Los Nuevos Ficticios' is not in the registry", "register the name"]),
    "negative price": (11, "price", "-3", ["price is negative"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(NODE_CASES))
def test_bad_node_row_is_located(tmp_path, case):
    row, column, value, needles = NODE_CASES[case]
    path = planted(tmp_path, NODES, row, set_cell(NODES, row, column, value))
    with pytest.raises(RowErrors) as err:
        read_edges_csv(EDGES, path)
    assert [(p.row, p.column_name) for p in err.value.problems] == [(row, column)]
    assert_located(err.value, path, row, col(NODES, column), *needles)


def test_unresolved_inline_organization_names_its_row(tmp_path):
    path = planted(tmp_path, INLINE, 7, set_cell(INLINE, 7, "source_name", "Los Nuevos Ficticios"))
    with pytest.raises(RowErrors) as err:
        read_edges_csv(path)
    assert_located(
        err.value, path, 7, col(INLINE, "source_name"), "is not in the registry", "register the name"
    )


def test_unresolved_organization_without_name_points_at_its_id(tmp_path):
    # "zetas" resolves by its id; "mystery" (no name) does not: the id's cell is named
    text = set_cell(INLINE, 7, "source", "mystery")
    text = ",".join(c if i != col(INLINE, "source_name") - 1 else "" for i, c in enumerate(text.split(",")))
    path = planted(tmp_path, INLINE, 7, text)
    path = planted(tmp_path, path, 8, set_cell(path, 8, "target", "mystery"))
    with pytest.raises(RowErrors) as err:
        read_edges_csv(path)
    assert_located(err.value, path, 7, col(INLINE, "source"), "'mystery' is not in the registry")


def test_inline_dangling_and_conflicting_types(tmp_path):
    # d_atl's only type is removed: its edge dangles
    path = planted(tmp_path, INLINE, 6, set_cell(INLINE, 6, "target_type", ""))
    with pytest.raises(RowErrors) as err:
        read_edges_csv(path)
    assert_located(err.value, path, 6, col(INLINE, "target"), "'d_atl' is not a defined node", "target_type")
    # w_hou is a wholesaler on rows 4-6 and a distributor on row 7
    path = planted(tmp_path, INLINE, 7, set_cell(INLINE, 7, "target_type", "distributor"))
    with pytest.raises(RowErrors) as err:
        read_edges_csv(path)
    assert_located(err.value, path, 7, col(INLINE, "target_type"), "but row 4 gives 'wholesaler'")
    # an unknown inline type is reported once, on its row, not again as a dangling node
    path = planted(tmp_path, INLINE, 6, set_cell(INLINE, 6, "target_type", "retailer"))
    with pytest.raises(RowErrors) as err:
        read_edges_csv(path)
    assert [(p.row, p.column_name) for p in err.value.problems] == [(6, "target_type")]


def test_supply_cycle_is_detected_and_named(tmp_path):
    path = tmp_path / "cycle.csv"
    path.write_text(
        "source,target,type,source_type,target_type\n"
        "w1,d1,supplies,wholesaler,distributor\n"
        "d1,d2,supplies,distributor,distributor\n"
        "d2,d3,supplies,distributor,distributor\n"
        "w1,d3,supplies,wholesaler,distributor\n"
        "d3,d1,supplies,distributor,distributor\n",
        encoding="utf-8",
    )
    with pytest.raises(RowErrors) as err:
        read_edges_csv(path)
    assert len(err.value.problems) == 1
    assert_located(err.value, path, 3, 2, "closes a supply cycle: d1 -> d2 -> d3 -> d1", "remove or reverse")
    # the same edges without the closing one are fine; a wholesaler pair both ways is a cycle too
    good = tmp_path / "acyclic.csv"
    good.write_text("\n".join(lines(path)[:-1]) + "\n", encoding="utf-8")
    assert len(read_edges_csv(good).edges) == 4
    path = planted(tmp_path, EDGES, 18, "w_phx,w_la,supplies,10,,,,,", name="two_way.csv")
    path = planted(tmp_path, path, 19, "w_la,w_phx,supplies,10,,,,,")
    with pytest.raises(RowErrors) as err:
        read_edges_csv(path, NODES)
    assert_located(err.value, path, 18, col(EDGES, "target"), "w_phx -> w_la -> w_phx")


def test_repeated_edge_and_tie_in_both_directions(tmp_path):
    path = planted(tmp_path, EDGES, 18, "cjng,sinaloa,rivalry,,,,7,,")
    with pytest.raises(RowErrors) as err:
        read_edges_csv(path, NODES)
    assert_located(err.value, path, 18, col(EDGES, "type"), "repeats row 14")
    # a second supplies edge between the same pair with other dates is a different edge
    path = planted(tmp_path, EDGES, 18, "cjng,cjng_tij,supplies,800,,,,2017-01-01,2018-12-31")
    assert len(read_edges_csv(path, NODES).edges) == 17


def test_every_problem_is_collected(tmp_path):
    path = planted(tmp_path, EDGES, 3, set_cell(EDGES, 3, "volume", "-1"))
    path = planted(tmp_path, path, 10, set_cell(EDGES, 10, "type", "buys"))
    path = planted(tmp_path, path, 12, set_cell(EDGES, 12, "target", "ghost"))
    with pytest.raises(RowErrors) as err:
        read_edges_csv(path, NODES)
    assert [(p.row, p.column_name) for p in err.value.problems] == [
        (3, "volume"),
        (10, "type"),
        (12, "target"),
    ]
    assert "(2 more problems in this file)" in str(err.value)


def test_file_level_problems(tmp_path):
    path = tmp_path / "typo.csv"
    path.write_text(lines(EDGES)[0].replace("volume", "volumne") + "\n" + lines(EDGES)[1] + "\n")
    with pytest.raises(InputFileError) as err:
        read_edges_csv(path, NODES)
    assert_located(err.value, path, 1, None, "unknown column 'volumne'")
    with pytest.raises(InputFileError) as err:
        read_edges_csv(EDGES)  # no node file and no type columns
    assert_located(err.value, EDGES, 1, None, "no node types")
    missing = tmp_path / "missing.csv"
    missing.write_text("source,type\na,supplies\n")
    with pytest.raises(InputFileError, match="missing column 'target'"):
        read_edges_csv(missing, NODES)
    with pytest.raises(InputFileError, match="file not found"):
        read_edges_csv(tmp_path / "nope.csv", NODES)


FRACTION = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    st.sampled_from([0.0, 1.0, -0.0, 1.0000001, -1e-9]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(column=st.sampled_from(["share", "confidence"]), value=FRACTION, row=st.integers(2, 17))
def test_fractions_outside_zero_one_are_rejected_on_their_row(tmp_path, column, value, row):
    path = planted(tmp_path, EDGES, row, set_cell(EDGES, row, column, repr(value)))
    if 0 <= value <= 1:
        net = read_edges_csv(path, NODES)
        assert net.edges[column].iloc[row - 2] == value
    else:
        with pytest.raises(RowErrors) as err:
            read_edges_csv(path, NODES)
        assert_located(err.value, path, row, col(EDGES, column), "is outside 0..1")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=12).filter(
        lambda s: "," not in s and '"' not in s
    ),
    row=st.integers(2, 17),
)
def test_any_edge_type_text_is_accepted_or_located(tmp_path, text, row):
    path = planted(tmp_path, EDGES, row, set_cell(EDGES, row, "type", text))
    try:
        net = read_edges_csv(path, NODES)
    except VdtoError as exc:
        assert "\n" not in str(exc)
        assert str(exc).startswith(f"{path}:{row}:")
    else:  # only a real edge type (any case, any spaces) that keeps the rules passes
        assert text.strip().lower() in {t.value for t in EdgeType}
        assert net.edges["type"].iloc[row - 2] == text.strip().lower()


# -- GraphML / GEXF round trips -------------------------------------------------------------
def full_network() -> SupplyNetwork:
    """Every node and edge type, NaNs, dates, parallel edges and ties written the wrong way."""
    nodes = pd.DataFrame(
        {
            "id": ["org_a", "org_b", "cell_a", "port", "whole", "dist1", "dist2"],
            "type": [
                "organization",
                "organization",
                "cell",
                "city",
                "wholesaler",
                "distributor",
                "distributor",
            ],
            "name": ["Cártel de Sinaloa", "CJNG", 'Célula <Norte> & "Sur"', None, "Whole Co", "D1", "D2"],
            "org_id": ["sinaloa", "cjng", "sinaloa", None, None, None, None],
            "region": ["Sinaloa", "Jalisco", None, "Texas", "Texas", "Ohio", None],
            "price": [np.nan, np.nan, np.nan, np.nan, 21000.5, 1 / 3, np.nan],
            "cost": [np.nan, np.nan, np.nan, np.nan, 10.0, np.nan, 0.0],
        }
    )
    edges = pd.DataFrame(
        {
            "source": ["org_a", "cell_a", "port", "whole", "whole", "dist1", "org_b", "cell_a", "org_b", "whole"],
            "target": ["cell_a", "port", "whole", "dist1", "dist2", "dist2", "org_a", "org_b", "cell_a", "dist1"],
            "type": ["supplies", "supplies", "supplies", "supplies", "supplies", "supplies", "rivalry", "alliance", "rivalry", "supplies"],
            "volume": [1000.0, 900.0, 850.0, 400.0, 300.0, 0.1, np.nan, np.nan, np.nan, 50.0],
            "share": [1.0, np.nan, 0.5, 0.25, np.nan, 1.0, np.nan, np.nan, np.nan, np.nan],
            "confidence": [0.9, 1.0, 0.7, 0.55, 1.0, 0.0, 1.0, 0.8, 0.5, 1.0],
            "weight": [np.nan] * 6 + [7.0, 2.0, np.nan, np.nan],
            "start": pd.to_datetime(["2019-01-01", None, "2020-02-29", None, None, None, "2018-05-01", None, None, "2015-01-01"]),
            "end": pd.to_datetime([None, "2021-12-31", None, None, None, None, None, None, None, "2016-12-31"]),
        }
    )  # fmt: skip
    return SupplyNetwork.from_frames(nodes, edges, {"seed": 7, "note": "hand-built"})


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_round_trip_every_type(tmp_path, fmt):
    net = full_network()
    check_network(net)
    write, read = (write_graphml, read_graphml) if fmt == "graphml" else (write_gexf, read_gexf)
    path = write(net, tmp_path / f"net.{fmt}")
    back = read(path)
    frames_equal(net, back)
    # parallel edges survive: whole -> dist1 twice, cell_a/org_b as alliance and rivalry
    pairs = canonical(back).edges.groupby(["source", "target"]).size()
    assert pairs[("whole", "dist1")] == 2 and pairs[("cell_a", "org_b")] == 2
    # ties are stored once, from the smaller id to the larger
    g = nx.read_graphml(path, force_multigraph=True) if fmt == "graphml" else nx.read_gexf(path)
    assert g.number_of_edges() == len(net.edges)
    assert g.has_edge("org_a", "org_b") and not g.has_edge("org_b", "org_a")
    if fmt == "graphml":
        assert back.meta == net.meta
    # NaN attributes are left out, not written as "nan"
    text = path.read_text(encoding="utf-8").lower()
    assert ">nan<" not in text and '"nan"' not in text


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_round_trip_fixture_and_bacrim(tmp_path, fmt):
    write, read = (write_graphml, read_graphml) if fmt == "graphml" else (write_gexf, read_gexf)
    for i, net in enumerate([read_edges_csv(EDGES, NODES), read_edges_csv(INLINE), load_bacrim2020()]):
        back = read(write(net, tmp_path / f"n{i}.{fmt}"))
        frames_equal(net, back)


def test_graph_files_are_checked_like_csv(tmp_path):
    net = full_network()
    net.edges.loc[len(net.edges)] = ["dist2", "dist1", "supplies", 1.0, np.nan, 1.0, np.nan, pd.NaT, pd.NaT]
    g = formats.to_networkx(net)
    path = tmp_path / "cycle.graphml"
    nx.write_graphml(g, path)
    with pytest.raises(InputFileError, match="closes a supply cycle: dist1 -> dist2 -> dist1"):
        read_graphml(path)
    with pytest.raises(VdtoError, match="supply cycle"):
        check_network(net)
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><graph>", encoding="utf-8")
    with pytest.raises(InputFileError, match="not a readable GraphML file"):
        read_graphml(bad)
    g = formats.to_networkx(full_network())
    g.nodes["port"]["type"] = "harbour"
    nx.write_graphml(g, path)
    with pytest.raises(InputFileError) as err:
        read_graphml(path)
    assert str(err.value).startswith(f"{path}: node 'port': type is not a node type")


def test_writers_are_atomic(tmp_path, monkeypatch):
    path = write_graphml(full_network(), tmp_path / "net.graphml")
    before = path.read_bytes()

    def broken(*args, **kwargs):
        Path(args[1]).write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(nx, "write_graphml", broken)
    with pytest.raises(OSError, match="disk full"):
        write_graphml(read_edges_csv(EDGES, NODES), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.graphml"]


# -- link chart -----------------------------------------------------------------------------
def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_link_chart_pair(tmp_path):
    net = full_network()
    ent_path, link_path = write_link_chart(net, tmp_path / "chart")
    assert path_bytes_start(ent_path) == b"\xef\xbb\xbf"
    entities, links = read_rows(ent_path), read_rows(link_path)
    assert list(entities[0]) == list(formats.ENTITY_COLUMNS)
    assert list(links[0]) == list(formats.LINK_COLUMNS)
    assert len(entities) == len(net.nodes) and len(links) == len(net.edges)
    ids = [e["Entity ID"] for e in entities]
    assert len(set(ids)) == len(ids) and set(ids) == set(net.nodes["id"])
    assert [x["Link ID"] for x in links] == [f"L{i}" for i in range(1, len(net.edges) + 1)]
    assert all(x["From Entity ID"] in ids and x["To Entity ID"] in ids for x in links)
    by_id = {x["Link ID"]: x for x in links}
    assert by_id["L1"]["Volume"] == "1000" and by_id["L1"]["Start Date"] == "2019-01-01"
    assert by_id["L1"]["Direction"] == "directed" and by_id["L1"]["Label"] == "supplies 1,000/yr"
    assert by_id["L2"]["End Date"] == "2021-12-31" and by_id["L2"]["Share"] == ""
    # the rivalry written org_b -> org_a comes out once, from the smaller id
    assert (by_id["L7"]["From Entity ID"], by_id["L7"]["To Entity ID"]) == ("org_a", "org_b")
    assert by_id["L7"]["Direction"] == "none" and by_id["L7"]["Weight"] == "7"
    ent = {e["Entity ID"]: e for e in entities}
    assert ent["cell_a"]["Label"] == 'Célula <Norte> & "Sur"' and ent["port"]["Label"] == "port"
    assert ent["whole"]["Entity Type"] == "Wholesaler" and ent["dist1"]["Price"] == repr(1 / 3)
    # links per entity agree with the frames
    assert sum(x["From Entity ID"] == "whole" for x in links) == 3


def path_bytes_start(path: Path) -> bytes:
    return path.read_bytes()[:3]


# -- BACRIM 2020 ----------------------------------------------------------------------------
def independent_ties(name: str) -> dict[frozenset, set[str]]:
    """Undirected pairs of a BACRIM tie file, counted with the csv module alone."""
    pairs: dict[frozenset, set[str]] = {}
    with open(bundled_folder() / name, encoding="utf-8-sig", newline="") as fh:
        for rec in csv.DictReader(fh):
            pairs.setdefault(frozenset((rec["Node"], rec["RNode"])), set()).add(rec["weight"])
    return pairs


def test_bacrim_network():
    net = load_bacrim2020()
    with open(bundled_folder() / "BACRIM2020_Nodes.csv", encoding="utf-8-sig", newline="") as fh:
        groups = {r["Node"]: r for r in csv.DictReader(fh)}
    assert len(net.nodes) == len(groups) == 150
    assert set(net.nodes["id"]) == set(groups)
    reg = Registry.seed()
    assert net.nodes["org_id"].notna().all()
    assert set(net.nodes["org_id"]) <= set(reg.orgs)
    for rec in net.nodes.itertuples():
        match = reg.resolve(groups[rec.id]["Group"])
        assert match.org_id == rec.org_id
        assert rec.type == ("cell" if match.faction_id else "organization")
        assert rec.region == groups[rec.id]["State"]
    chapitos = net.nodes[net.nodes["name"] == "Los Chapitos"].iloc[0]
    assert (chapitos.type, chapitos.org_id) == ("cell", "sinaloa")

    alliances, rivals = (
        independent_ties("BACRIM2020_Alliances.csv"),
        independent_ties("BACRIM2020_Rivals.csv"),
    )
    stats = net.stats()
    assert stats["edges_alliance"] == len(alliances) == net.meta["counts"]["alliance"]["ties"]
    assert stats["edges_rivalry"] == len(rivals) == net.meta["counts"]["rivalry"]["ties"]
    assert all(len(w) == 1 for w in (*alliances.values(), *rivals.values()))  # directions agree
    for kind, pairs in (("alliance", alliances), ("rivalry", rivals)):
        got = {
            frozenset((s, t)): w
            for s, t, w in net.ties(EdgeType(kind))[["source", "target", "weight"]].to_numpy()
        }
        assert got == {p: float(next(iter(w))) for p, w in pairs.items()}
    # a known tie: CJNG and Los Cuinis, allied in 6 states (first rows of the alliance file)
    ids = {r["Group"]: n for n, r in groups.items()}
    cjng, cuinis = ids["Cártel Jalisco Nueva Generación (CJNG)"], ids["Los Cuinis"]
    tie = net.edges[(net.edges["source"] == min(cjng, cuinis)) & (net.edges["target"] == max(cjng, cuinis))]
    assert [(t, w) for t, w in tie[["type", "weight"]].to_numpy()] == [("alliance", 6.0)]
    # ties only, between organizations and cells; pairs both allied and rival keep both edges
    assert (net.edges["source"] < net.edges["target"]).all()
    both = set(alliances) & set(rivals)
    assert len(both) > 0
    per_pair = net.edges.groupby(["source", "target"]).size()
    assert all(per_pair[tuple(sorted(p))] == 2 for p in both)
    check_network(net)


def copy_bacrim(tmp_path: Path) -> Path:
    folder = tmp_path / "bacrim"
    shutil.copytree(bundled_folder(), folder)
    return folder


def test_bacrim_directions_that_disagree_are_reported(tmp_path):
    folder = copy_bacrim(tmp_path)
    path = folder / "BACRIM2020_Alliances.csv"
    raw = path.read_bytes().decode("utf-8")
    assert raw.startswith("\ufeff")
    rows = raw.split("\r\n") if "\r\n" in raw else raw.split("\n")
    assert rows[2].startswith("R10089,") and rows[2].endswith(",6")
    rows[2] = rows[2][:-1] + "5"
    path.write_bytes(("\r\n" if "\r\n" in raw else "\n").join(rows).encode("utf-8"))
    with pytest.raises(InputFileError) as err:
        load_bacrim2020(folder)
    assert "alliance N10025 - N10096 disagree in weight (row 2 weight 6, row 3 weight 5)" in str(err.value)


def test_bacrim_unknown_group_names_its_row(tmp_path):
    folder = copy_bacrim(tmp_path)
    path = folder / "BACRIM2020_Nodes.csv"
    text = path.read_text(encoding="utf-8-sig").replace("Banda de El Perro,", "Los Nuevos Ficticios,", 1)
    path.write_text(text, encoding="utf-8-sig")
    with pytest.raises(InputFileError) as err:
        load_bacrim2020(folder)
    assert_located(
        err.value, path, 3, 2, "'Los Nuevos Ficticios' does not resolve", "register it as an organization"
    )
