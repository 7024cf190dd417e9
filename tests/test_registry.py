"""The organization registry: aliases across sources and languages, factions, splits, user edits."""

from __future__ import annotations

import pandas as pd
import pytest

from vdto.errors import ConfigError, UnknownNameError
from vdto.orgs import Org, Registry
from vdto.store import Store

from .conftest import run_here


@pytest.fixture(scope="module")
def reg() -> Registry:
    return Registry.seed()


@pytest.mark.parametrize(
    "name",
    [
        "CJNG",
        "Jalisco Cartel New Generation",
        "Cártel Jalisco Nueva Generación",
        "cartel jalisco nueva generacion",
        "  CJNG  ",
    ],
)
def test_cjng_aliases_are_one_organization(reg, name):
    assert reg.resolve(name).org_id == "cjng"


@pytest.mark.parametrize(
    ("name", "org"),
    [
        ("Sinaloa Cartel", "sinaloa"),
        ("Cártel de Sinaloa", "sinaloa"),
        ("Gulf Cartel", "gulf"),
        ("Cártel del Golfo", "gulf"),
        ("Los Zetas", "zetas"),
        ("Juarez Cartel", "juarez"),
        ("Cártel de Juárez", "juarez"),
    ],
)
def test_english_and_spanish_names(reg, name, org):
    assert reg.resolve(name).org_id == org


def test_registered_faction_rolls_up_to_parent(reg):
    m = reg.resolve("Sinaloa Cartel - Los Chapitos")
    assert m.org_id == "sinaloa"
    assert m.faction_id is not None and reg.get(m.faction_id).kind == "faction"
    assert reg.top(m.faction_id) == "sinaloa"


def test_unregistered_faction_keeps_its_text(reg):
    m = reg.resolve("Sinaloa Cartel - Los Inventados faction")
    assert (m.org_id, m.faction_id, m.faction) == ("sinaloa", None, "Los Inventados")


def test_split_from_gulf_is_recorded_with_date(reg):
    splits = [(ch.date.year, to) for ch, to in reg.successors("gulf") if ch.kind == "split"]
    assert (2010, "zetas") in splits
    assert any(fr == "gulf" for _, fr in reg.predecessors("zetas"))


def test_every_bacrim_group_resolves(reg, tmp_path):
    from vdto.data import bundled

    nodes = pd.read_csv(bundled("bacrim2020") / "BACRIM2020_Nodes.csv", encoding="utf-8-sig")
    assert len(nodes) == 150
    unresolved = [g for g in nodes["Group"] if reg.resolve(g.strip()).org_id is None]
    assert unresolved == []


def test_state_and_civilians_are_not_dtos(reg):
    gov = reg.get(reg.require("Government of Mexico"))
    assert gov.kind == "state" and not gov.is_dto
    assert reg.get(reg.require("Civilians")).kind == "civilians"
    assert reg.get("cjng").is_dto


def test_unknown_name(reg):
    assert reg.resolve("Cártel de Ningún Lugar").org_id is None
    with pytest.raises(UnknownNameError, match=r"register the name with Store\.add_org"):
        reg.require("Cártel de Ningún Lugar")


def test_alias_clash_is_refused(reg):
    with pytest.raises(ConfigError, match="already a name of"):
        Registry([*reg.orgs.values(), Org(id="fake", name="Fake", kind="dto", aliases=("CJNG",))])


def test_faction_needs_a_parent():
    with pytest.raises(ConfigError, match="parent"):
        Registry([Org(id="a", name="A", kind="faction")])


def test_bad_registry_file_names_the_key(tmp_path):
    path = tmp_path / "orgs.toml"
    path.write_text('[[org]]\nid = "x"\nname = "X"\nkind = "cartel"\n')
    with pytest.raises(ConfigError) as info:
        Registry.from_toml(path)
    assert "org.0.kind" in str(info.value)


def test_user_alias_resolves_earlier_unresolved_events(tmp_path):
    db = tmp_path / "t.duckdb"
    csv = tmp_path / "a.csv"
    csv.write_text("id,date,group,deaths\n1,2020-01-02,Los Nuevos Ficticios,2\n2,2020-01-03,CJNG,1\n")
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        'source = "test"\ndefault_category = "homicide"\n[columns]\nsource_id = "id"\ndate = "date"\n'
        'perpetrator = "group"\ndeaths = "deaths"\n'
    )
    res = run_here("import", "csv", str(csv), "--mapping", str(mapping), "--db", str(db))
    assert res.returncode == 0, res.stderr
    assert "Los Nuevos Ficticios" in res.stdout and "vdto orgs add" in res.stdout
    with Store(db, read_only=True) as store:
        assert store.events.unresolved_names()["raw_name"].tolist() == ["Los Nuevos Ficticios"]
    res = run_here("orgs", "add", "nuevos", "Los Nuevos", "--db", str(db))
    assert res.returncode == 0, res.stderr
    res = run_here("orgs", "alias", "Los Nuevos Ficticios", "nuevos", "--db", str(db))
    assert res.returncode == 0, res.stderr
    with Store(db, read_only=True) as store:
        assert len(store.events.unresolved_names()) == 0
        assert store.query("SELECT org_id FROM perpetrators WHERE source_id = '1'")["org_id"].tolist() == [
            "nuevos"
        ]
        assert store.registry().resolve("los nuevos ficticios").org_id == "nuevos"
    res = run_here("orgs", "resolve", "Los Nuevos Ficticios", "--db", str(db), "--format", "json")
    assert '"org_id": "nuevos"' in res.stdout


def test_cli_alias_clash_is_one_line_exit_2(tmp_path):
    db = tmp_path / "t.duckdb"
    Store(db).close()
    res = run_here("orgs", "alias", "CJNG", "sinaloa", "--db", str(db))
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "Traceback" not in res.stderr
    assert "'CJNG' is already a name of 'cjng'" in res.stderr
