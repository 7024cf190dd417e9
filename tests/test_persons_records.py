"""Case-file records: the canonical frames of a tiny golden case file (pseudonyms, names dropped,
ties oriented and summed), every validation rule (one line with file:row:column and a fix, exit 2
through the CLI, nothing stored, never an identifier's value) and hypothesis junk in one cell."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vdto.errors import InputFileError, VdtoError
from vdto.persons.keys import PersonKey, write_key
from vdto.persons.records import CaseFileErrors, _content_free, read_case_files
from vdto.services.persons import import_case_files
from vdto.store import Store
from vdto.store.persons import RECORD_TABLES

from .conftest import assert_one_line_exit_2, run_here

KEY = PersonKey(bytes(range(32)))
AGENCY = "default"
#: A distinctive raw identifier and name: neither may ever appear in an error line.
RAW = "AP-ZQX-7731"
NAME = "Xochiquetzal Quintanilla"


class NullTrail:
    def started(self, action: str, detail: str) -> None: ...

    def finished(self, outcome: str, detail: str) -> None: ...


@pytest.fixture(scope="module")
def event_ids(ucdp_store) -> list[str]:
    with Store(ucdp_store[0], read_only=True) as store:
        ev = store.persons.event_keys(AGENCY)
    assert (ev["source"] == "ucdp-ged").all()
    return sorted(ev["source_id"].astype(str))[:3]


def golden(ids: list[str]) -> dict[str, str]:
    """3 cells, 5 persons (one with two memberships), 4 links to real events, ties both ways."""
    return {
        "cells.csv": "cell,organization,name,region\nC1,CJNG,Plaza Norte,14\nC2,cjng,,14039\nC3,Cártel de Sinaloa,,\n",
        "persons.csv": (
            "person,cell,role,start,end,name\n"
            f"{RAW},C1,leader,2019-01-01,,{NAME}\n"
            "P2,C1,member,2019-02-01,2020-01-31,\n"
            "P2,C2,lieutenant,2020-03-01,,\n"
            "P3,C2,member,2018-05-05,,\n"
            "P4,C3,associate,2020-01-01,2021-12-31,Ana\n"
            "P5,C3,member,2020-06-01,,\n"
        ),
        "links.csv": (
            "person,source,source_id,kind,confidence\n"
            f"{RAW},ucdp-ged,{ids[0]},suspect,0.5\n"
            f"P2,ucdp-ged,{ids[0]},arrested,1\n"
            f" P2 ,ucdp-ged,{ids[1]},Charged,0.25\n"
            f"P4,ucdp-ged,{ids[2]},convicted,0.9\n"
        ),
        "ties.csv": f"person,other,weight\n{RAW},P2,2\nP2,{RAW},1\nP5,P4,\n",
    }


def write_folder(folder: Path, files: dict[str, str | None]) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, text in files.items():
        if text is not None:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


def read(folder: Path, store_db: Path):
    with Store(store_db, read_only=True) as store:
        return read_case_files(folder, agency=AGENCY, key=KEY, registry=store.registry(),
                               events=store.persons.event_keys(AGENCY))  # fmt: skip


def ps(raw: str) -> str:
    return KEY.pseudonym(AGENCY, raw)


# ------------------------------------------------------------------------- canonical frames


def test_golden_canonical_frames(tmp_path, ucdp_store, event_ids):
    rec = read(write_folder(tmp_path / "cf", golden(event_ids)), ucdp_store[0])
    pd.testing.assert_frame_equal(
        rec.cells,
        pd.DataFrame({"cell": ["C1", "C2", "C3"], "org_id": ["cjng", "cjng", "sinaloa"],
                      "name": ["Plaza Norte", None, None], "region": ["14", "14039", None]}, dtype=object),
    )  # fmt: skip
    d = date.fromisoformat
    members = pd.DataFrame(
        {
            "person": [ps(RAW), ps("P2"), ps("P2"), ps("P3"), ps("P4"), ps("P5")],
            "cell": ["C1", "C1", "C2", "C2", "C3", "C3"],
            "role": ["leader", "member", "lieutenant", "member", "associate", "member"],
            "start": [
                d("2019-01-01"),
                d("2019-02-01"),
                d("2020-03-01"),
                d("2018-05-05"),
                d("2020-01-01"),
                d("2020-06-01"),
            ],
            "end": [None, d("2020-01-31"), None, None, d("2021-12-31"), None],
        },
        dtype=object,
    )
    pd.testing.assert_frame_equal(rec.members, members)
    assert rec.members["person"].str.fullmatch(r"p_[0-9a-f]{24}").all()
    links = pd.DataFrame(
        {
            "person": [
                ps(RAW),
                ps("P2"),
                ps("P2"),
                ps("P4"),
            ],  # " P2 " is P2: surrounding spaces do not count
            "source": ["ucdp-ged"] * 4,
            "source_id": [event_ids[0], event_ids[0], event_ids[1], event_ids[2]],
            "kind": ["suspect", "arrested", "charged", "convicted"],
        },
        dtype=object,
    ).assign(confidence=[0.5, 1.0, 0.25, 0.9])
    pd.testing.assert_frame_equal(rec.links, links)
    # ties: oriented (person_a < person_b), both directions summed, empty weight = 1
    want = sorted([(*sorted([ps(RAW), ps("P2")]), 3.0), (*sorted([ps("P4"), ps("P5")]), 1.0)])
    assert list(rec.ties.itertuples(index=False, name=None)) == want
    assert (rec.ties["person_a"] < rec.ties["person_b"]).all()
    # names and raw identifiers are nowhere but in the identities frame
    for frame in (rec.cells, rec.members, rec.links, rec.ties):
        text = frame.astype(str).to_csv()
        for raw in (RAW, NAME, "Ana", "P2,", "P3,"):
            assert raw not in text
    assert "name" not in rec.members and "name" not in rec.links
    ident = dict(zip(rec.identities["raw_id"], rec.identities["person"], strict=True))
    assert ident == {r: ps(r) for r in (RAW, "P2", "P3", "P4", "P5")}
    assert rec.identities.set_index("raw_id")["name"].to_dict() == {
        RAW: NAME,
        "P2": None,
        "P3": None,
        "P4": "Ana",
        "P5": None,
    }
    assert rec.counts() == {"cells": 3, "persons": 5, "memberships": 6, "links": 4, "ties": 2}
    assert rec.names_given == 2 and rec.forgotten_rows == 0
    assert sorted(rec.files_sha256) == ["cells.csv", "links.csv", "persons.csv", "ties.csv"]


def test_optional_ties_and_forgotten(tmp_path, ucdp_store, event_ids):
    files = golden(event_ids)
    rec = read(write_folder(tmp_path / "a", {**files, "ties.csv": None}), ucdp_store[0])
    assert rec.ties.empty and list(rec.ties.columns) == ["person_a", "person_b", "weight"]
    rec = read(write_folder(tmp_path / "b", {**files, "ties.csv": "person,other,weight\n"}), ucdp_store[0])
    assert rec.ties.empty  # a bare header (what the generator writes when nobody co-offends)
    with Store(ucdp_store[0], read_only=True) as store:
        rec = read_case_files(tmp_path / "b", agency=AGENCY, key=KEY, registry=store.registry(),
                              events=store.persons.event_keys(AGENCY), forgotten=frozenset({ps("P2")}))  # fmt: skip
    assert ps("P2") not in set(rec.members["person"]) | set(rec.links["person"]) | set(
        rec.identities["person"]
    )
    assert rec.forgotten_rows == 2 + 2  # two memberships, two links


def test_another_key_or_agency_gives_other_pseudonyms(tmp_path, ucdp_store, event_ids):
    folder = write_folder(tmp_path / "cf", golden(event_ids))
    with Store(ucdp_store[0], read_only=True) as store:
        other = read_case_files(folder, agency=AGENCY, key=PersonKey(bytes(32)), registry=store.registry(),
                                events=store.persons.event_keys(AGENCY))  # fmt: skip
    assert not set(other.members["person"]) & set(read(folder, ucdp_store[0]).members["person"])
    assert KEY.pseudonym("mx", RAW) != KEY.pseudonym("us", RAW)
    assert "fingerprint" in repr(KEY) and bytes(range(32)).hex() not in repr(KEY)


# ------------------------------------------------------------------------- validation rules

# (file, old text, new text) applied to the golden files, the location the error names and words
# of its message; {e0}.. are the golden event ids
# fmt: off
RULES: dict[str, tuple[str | None, str, str | None, str, str]] = {
    "missing file": ("links.csv", "", None, "cf: ", "has no links.csv"),
    "missing column": ("persons.csv", "person,cell,role", "person,cel,role", "persons.csv:1", "missing column 'cell'"),
    "unknown column": ("cells.csv", "name,region", "nombre,region", "cells.csv:1:3", "unknown column 'nombre'"),
    "empty id": ("persons.csv", "P3,C2", " ,C2", "persons.csv:5:1", "person is empty"),
    "unknown organization": ("cells.csv", "Cártel de Sinaloa", "Cártel Inventado", "cells.csv:4:2", "not an organization"),
    "bad region": ("cells.csv", "Plaza Norte,14", "Plaza Norte,Jalisco", "cells.csv:2:4", "not an INEGI code"),
    "region 3 digits": ("cells.csv", "Plaza Norte,14", "Plaza Norte,140", "cells.csv:2:4", "not an INEGI code"),
    "cell twice": ("cells.csv", "C3,Cártel", "C2,Cártel", "cells.csv:4:1", "listed twice"),
    "unknown cell": ("persons.csv", "P3,C2", "P3,C9", "persons.csv:5:2", "not in cells.csv"),
    "bad role": ("persons.csv", "P3,C2,member", "P3,C2,boss", "persons.csv:5:3", "not one of leader"),
    "bad date": ("persons.csv", "2018-05-05", "2018-13-05", "persons.csv:5:4", "not a date"),
    "day-first date": ("persons.csv", "2018-05-05", "05/06/2018", "persons.csv:5:4", "not a date"),
    "bare year": ("persons.csv", "2018-05-05", "2018", "persons.csv:5:4", "not a date"),
    "empty start": ("persons.csv", "2018-05-05", "", "persons.csv:5:4", "start is empty"),
    "bad end": ("persons.csv", "2021-12-31", "someday", "persons.csv:6:5", "not a date"),
    "end before start": ("persons.csv", "2021-12-31", "2019-12-31", "persons.csv:6:5", "before start"),
    "overlapping memberships": ("persons.csv", "2020-03-01", "2020-01-15", "persons.csv:4:4", "overlaps"),
    "overlap with a long membership": (
        "persons.csv", "P5,C3,member,2020-06-01,,",
        "P5,C3,member,2020-06-01,2025-01-01,\nP5,C1,member,2021-06-01,2021-07-01,\nP5,C2,member,2021-08-01,,",
        "persons.csv:8:4", "overlaps another membership of the same person (1 more problem",
    ),
    "link to unknown person": ("links.csv", "P4,ucdp", "P9,ucdp", "links.csv:5:1", "not in persons.csv"),
    "link to unknown event": ("links.csv", "{e2},convicted", "999999999,convicted", "links.csv:5:3", "not an event"),
    "link to unknown source": ("links.csv", "P4,ucdp-ged", "P4,acled", "links.csv:5:3", "not an event"),
    "empty source_id": ("links.csv", "{e2},convicted", ",convicted", "links.csv:5:3", "source_id is empty"),
    "bad kind": ("links.csv", "convicted", "witness", "links.csv:5:4", "not one of suspect"),
    "confidence 0": ("links.csv", "convicted,0.9", "convicted,0", "links.csv:5:5", "not in (0, 1]"),
    "confidence above 1": ("links.csv", "convicted,0.9", "convicted,1.5", "links.csv:5:5", "not in (0, 1]"),
    "confidence text": ("links.csv", "convicted,0.9", "convicted,high", "links.csv:5:5", "not a number"),
    "confidence empty": ("links.csv", "convicted,0.9", "convicted,", "links.csv:5:5", "confidence is empty"),
    "repeated link": ("links.csv", "P4,ucdp-ged,{e2},convicted,0.9\n", "P4,ucdp-ged,{e2},convicted,0.9\nP4,ucdp-ged,{e2},Convicted,0.5\n",
                      "links.csv:6:4", "repeats an earlier row"),
    "tie to self": ("ties.csv", "P5,P4,", "P4,P4,", "ties.csv:4:2", "same person"),
    "tie to unknown person": ("ties.csv", "P5,P4,", "P5,Q7,", "ties.csv:4:2", "not in persons.csv"),
    "tie from unknown person": ("ties.csv", "P5,P4,", "Q7,P4,", "ties.csv:4:1", "not in persons.csv"),
    "weight 0": ("ties.csv", "P5,P4,", "P5,P4,0", "ties.csv:4:3", "not above 0"),
    "negative weight": ("ties.csv", "P5,P4,", "P5,P4,-2", "ties.csv:4:3", "not above 0"),
    "weight text": ("ties.csv", "P5,P4,", "P5,P4,lots", "ties.csv:4:3", "not a number"),
    # each weight is finite, their sum is not: the later row of the pair is named
    "weights adding up to infinity": ("ties.csv", "P5,P4,\n", "P5,P4,1e308\nP4,P5,1e308\n", "ties.csv:5:3",
                                      "weight makes the pair's summed weight infinite"),
    "ragged row": ("persons.csv", "P3,C2,member,2018-05-05,,", "P3,C2,member,2018-05-05,", "persons.csv:5", "fields"),
    "header only persons": ("persons.csv", None, "person,cell,role,start\n", "persons.csv", "no rows"),
    # the identifier's value is withheld: it locates the problem by row and column only
    "empty id in ties": ("ties.csv", f"P2,{RAW},1", "P2,,1", "ties.csv:3:2", "other is empty"),
    "raw id of unknown link": ("links.csv", f"{RAW},ucdp-ged", f"{RAW}-X,ucdp-ged", "links.csv:2:1", "not in persons.csv"),
    "raw id in a bad tie": ("ties.csv", f"{RAW},P2,2", f"{RAW},{RAW},2", "ties.csv:2:2", "same person"),
}
# fmt: on


def broken(ids: list[str], rule: str) -> dict[str, str | None]:
    name, old, new, _, _ = RULES[rule]
    files: dict[str, str | None] = dict(golden(ids))
    fill = {f"e{i}": v for i, v in enumerate(ids)}
    if old is None:
        files[name] = new
    elif new is None:
        files[name] = None
    else:
        old, new = old.format(**fill), new.format(**fill)
        assert old in files[name], (rule, old)  # type: ignore[operator]
        files[name] = files[name].replace(old, new, 1)  # type: ignore[union-attr]
    return files


@pytest.mark.parametrize("rule", sorted(RULES))
def test_rule_one_line_with_location_and_fix(tmp_path, ucdp_store, event_ids, rule):
    folder = write_folder(tmp_path / "cf", broken(event_ids, rule))
    with pytest.raises(VdtoError) as info:
        read(folder, ucdp_store[0])
    _, _, _, where, what = RULES[rule]
    line = info.value.line()
    assert "\n" not in line
    assert where in line and what in line, line
    assert info.value.fix, line
    assert RAW not in line and NAME not in line and "'Q7'" not in line and "'P9'" not in line
    if isinstance(info.value, CaseFileErrors):
        assert info.value.problems and info.value.problems[0].row >= 2


def _snapshot(db: Path) -> dict[str, list]:
    with Store(db, read_only=True) as store:
        return {t: sorted(map(str, store.con.execute(f"SELECT * FROM {t}").fetchall()))
                for t in [*RECORD_TABLES, "person_imports", "person_forgotten", "person_settings"]}  # fmt: skip


def test_rules_through_the_cli_store_nothing(tmp_path, ucdp_store_copy, event_ids):
    """Every rule: exit 2, one line, file:row:column, and the stored records exactly as before."""
    key = tmp_path / "k.key"
    write_key(key)
    db = str(ucdp_store_copy)
    ok = run_here(
        "persons",
        "import",
        str(write_folder(tmp_path / "ok", golden(event_ids))),
        "--key",
        str(key),
        "--db",
        db,
    )
    assert ok.returncode == 0, ok.stderr
    before = _snapshot(ucdp_store_copy)
    assert before["person_members"] and before["person_imports"]
    for rule in sorted(RULES):
        folder = write_folder(tmp_path / "cf", broken(event_ids, rule))
        res = run_here("persons", "import", str(folder), "--key", str(key), "--db", db, "--keep-identities")
        assert_one_line_exit_2(res, RULES[rule][3], RULES[rule][4])
        assert RAW not in res.stderr + res.stdout and NAME not in res.stderr
        assert _snapshot(ucdp_store_copy) == before, rule
    with Store(ucdp_store_copy, read_only=True) as store:
        rows = store.query("SELECT outcome, detail FROM api_audit WHERE action = 'persons.import'")
    assert (rows["outcome"] == "failed").sum() == len(RULES)
    assert not rows["detail"].str.contains(RAW).any()


# ------------------------------------------------------------------------- junk in one cell

COLUMNS = {
    "cells.csv": ["cell", "organization", "name", "region"],
    "persons.csv": ["person", "cell", "role", "start", "end", "name"],
    "links.csv": ["person", "source", "source_id", "kind", "confidence"],
    "ties.csv": ["person", "other", "weight"],
}
WITHHELD = {"person", "other", "name"}


def _with_junk(files: dict[str, str], name: str, row: int, col: str, junk: str) -> dict[str, str]:
    rows = list(csv.DictReader(io.StringIO(files[name])))
    rows[row % len(rows)][col] = junk
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS[name], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return {**files, name: buf.getvalue()}


@pytest.fixture(scope="module")
def junk_store(ucdp_store, event_ids):
    """A store holding the golden records (imported once; each example restores them)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "junk.duckdb"
        shutil.copy(ucdp_store[0], db)
        good = write_folder(Path(tmp) / "good", golden(event_ids))
        with Store(db) as store:
            import_case_files(store, good, key=KEY, trail=NullTrail())
        yield db, good, Path(tmp)


_JUNK = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "0", "-1", "1e400", "nan", "inf", "2021-02-30", "01/02/2021", "NULL", '"', "\n", "=cmd()",
                     "C1", "P2", RAW, "ucdp-ged", "0.5", "leader", "suspect", "14", "99999", "Sinaloa", "ñ" * 70]),
)  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(sorted(COLUMNS)),
    row=st.integers(0, 10),
    col=st.integers(0, 5),
    junk=_JUNK,
)
def test_junk_in_one_cell(junk_store, event_ids, name, row, col, junk):
    db, good, tmp = junk_store
    column = COLUMNS[name][col % len(COLUMNS[name])]
    junk = junk.replace("\x00", "")  # a NUL byte is refused as binary data (tested elsewhere)
    files = _with_junk(golden(event_ids), name, row, column, junk)
    folder = write_folder(tmp / "junk", files)
    before = _snapshot(db)
    with Store(db) as store:
        try:
            summary = import_case_files(store, folder, key=KEY, trail=NullTrail())
        except VdtoError as exc:
            line = exc.line()
            assert "\n" not in line and exc.fix
            if column in WITHHELD or name != "cells.csv":  # no value of a file naming persons
                assert "(value " not in line
            stored = None
        else:
            stored = summary.counts
    if stored is None:
        assert _snapshot(db) == before  # all or nothing
    else:
        after = _snapshot(db)
        assert len(after["person_members"]) == stored["memberships"]
        assert len(after["person_links"]) == stored["links"]
        with Store(db) as store:  # put the golden records back
            import_case_files(store, good, key=KEY, trail=NullTrail())


# ------------------------------------------------------------------------- no file text in errors

_PERSONS_HEADER = "person,cell,role,start,end,name\n"
_ROWS = f"{RAW},C1,leader,2019-01-01,2019-12-31,{NAME}\nP2,C1,member,2019-02-01,2020-01-31,Ana\n"
# (file, its whole text or bytes, the location the line names, words of its message): a file that
# names persons never has any of its text (cell, header cell, line) in an error line
# fmt: off
UNREADABLE: dict[str, tuple[str, str | bytes, str, str]] = {
    "no header row": ("persons.csv", _ROWS, "persons.csv:1", "missing column 'person' (and 3 more) (the first row is not a header row)"),
    "no header row, empty cells": ("persons.csv", f"{RAW},C1,leader,2019-01-01,,\n", "persons.csv:1:6",
                                   "column 6 of the header repeats column 5 (the first row is not a header row)"),
    "swapped columns": ("persons.csv", "cell,person,role,start,end,name\n" + _ROWS, "persons.csv:2:1", "cell is not in cells.csv"),
    "swapped role": ("persons.csv", "person,cell,start,role,end,name\n" + _ROWS, "persons.csv:2:3", "start is not a date"),
    "duplicate header cell": ("persons.csv", f"person,cell,role,start,{NAME},{NAME}\n" + _ROWS, "persons.csv:1:6",
                              "column 6 of the header repeats column 5"),
    "duplicate expected column": ("persons.csv", "person,cell,role,start,end,person\n" + _ROWS, "persons.csv:1:6",
                                  "column 'person' of the header repeats column 1"),
    "unknown column": ("persons.csv", f"person,cell,role,start,end,{NAME}\n" + _ROWS, "persons.csv:1:6",
                       "column 6 of the header is not a column of persons.csv"),
    "binary": ("persons.csv", _PERSONS_HEADER.encode() + RAW.encode() + b"\x00\x01\x02" + NAME.encode(), "persons.csv:2",
               "binary data (a NUL byte at byte 43), not CSV text"),
    "garbled": ("persons.csv", (_PERSONS_HEADER + RAW + ",").encode() + b"\xff\xfe" + NAME.encode(), "persons.csv:2:13",
                "is not valid UTF-8 text"),
    "links without header": ("links.csv", f"{RAW},ucdp-ged,1,suspect,0.5\n", "links.csv:1", "missing column 'person' (and 4 more) (the first"),
    "links swapped": ("links.csv", f"source,person,source_id,kind,confidence\n{RAW},ucdp-ged,1,suspect,0.5\n", "links.csv:2:2",
                      "not in persons.csv"),
    "ties without header": ("ties.csv", f"{RAW},P2,2\n", "ties.csv:1", "missing column 'person' (and 1 more) (the first"),
    "ties unknown column": ("ties.csv", f"person,other,{NAME}\nP2,P3,{RAW}\n", "ties.csv:1:3", "column 3 of the header is not a column"),
}
# fmt: on


def unreadable(ids: list[str], case: str) -> dict[str, str | None]:
    files: dict[str, str | None] = dict(golden(ids))
    files[UNREADABLE[case][0]] = None  # written as given below
    return files


def write_unreadable(folder: Path, ids: list[str], case: str) -> Path:
    write_folder(folder, unreadable(ids, case))
    name, content, _, _ = UNREADABLE[case]
    path = folder / name
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    return folder


def _no_text_of(line: str) -> None:
    for needle in (RAW, NAME, "Xochi", "AP-ZQX", "Ana", "2019-"):
        assert needle not in line, (needle, line)
    assert "\n" not in line and "this header has" not in line and "(value " not in line


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_unreadable_person_file_no_text(tmp_path, ucdp_store, event_ids, case):
    folder = write_unreadable(tmp_path / "cf", event_ids, case)
    with pytest.raises(VdtoError) as info:
        read(folder, ucdp_store[0])
    line = info.value.line()
    _no_text_of(line)
    _, _, where, what = UNREADABLE[case]
    assert where + ":" in line or where + ";" in line or f"{where} " in line, line
    assert what in line, line
    assert info.value.fix
    if isinstance(info.value, CaseFileErrors):  # the values are withheld in memory too
        assert all(p.value == "" for p in info.value.problems)


def test_unreadable_through_the_cli(tmp_path, ucdp_store_copy, event_ids):
    """Exit 2, one line without the file's text, and a failed audit row without it either."""
    key = tmp_path / "k.key"
    write_key(key)
    for case in sorted(UNREADABLE):
        folder = write_unreadable(tmp_path / "cf", event_ids, case)
        res = run_here("persons", "import", str(folder), "--key", str(key), "--db", str(ucdp_store_copy))
        assert_one_line_exit_2(res, UNREADABLE[case][2], UNREADABLE[case][3])
        _no_text_of(res.stderr.strip())
        assert RAW not in res.stdout and NAME not in res.stdout
    with Store(ucdp_store_copy, read_only=True) as store:
        rows = store.query("SELECT outcome, detail FROM api_audit WHERE action = 'persons.import'")
    failed = rows[rows["outcome"] == "failed"]
    assert len(failed) == len(UNREADABLE)
    for detail in failed["detail"]:
        _no_text_of(detail)


@pytest.mark.parametrize(
    "what",
    [
        "not a readable CSV file (CSV parse error: AP-ZQX-7731,Xochiquetzal Quintanilla)",
        "cannot decompress (Not a gzipped file (b'AP'))",
        "column 'AP-ZQX-7731' appears twice in the header",
        "header line is not valid CSV (AP-ZQX-7731)",
        "not valid utf-8 (byte 0xFF at character 12)",
    ],
)
def test_reader_messages_quoting_the_file_are_replaced(tmp_path, what):
    """Whatever read_csv says about a file naming persons, its text is not passed on."""
    path = tmp_path / "persons.csv"
    path.write_text("person,cell,role,start\n", encoding="utf-8")
    err = _content_free(InputFileError(what, f"{path}:2", "a fix naming AP-ZQX-7731"), path, "persons.csv")
    line = err.line()
    assert line.startswith(f"{path}:")
    _no_text_of(line)
    assert "0xFF" not in line  # not even a byte of it


def test_cells_file_may_show_its_values(tmp_path, ucdp_store, event_ids):
    files = golden(event_ids)
    files["cells.csv"] = files["cells.csv"].replace("Cártel de Sinaloa", "Cártel Inventado")
    with pytest.raises(CaseFileErrors) as info:
        read(write_folder(tmp_path / "cf", files), ucdp_store[0])
    assert "(value 'Cártel Inventado')" in info.value.line()


def test_tie_weights_sum_finite(tmp_path, ucdp_store, event_ids):
    """A pair's weights add up to a finite sum: 1e308 twice is refused; once, it is kept."""
    files = golden(event_ids)
    files["ties.csv"] = "person,other,weight\nP5,P4,1e308\nP2,P3,1e308\nP3,P2,1\n"
    rec = read(write_folder(tmp_path / "ok", files), ucdp_store[0])
    assert sorted(rec.ties["weight"]) == [1e308, 1e308]  # 1e308 + 1 is finite
    files["ties.csv"] += "P4,P5,1e308\nP4,P5,1e308\n"
    with pytest.raises(CaseFileErrors) as info:
        read(write_folder(tmp_path / "bad", files), ucdp_store[0])
    line = info.value.line()
    assert "ties.csv:5:3" in line and "infinite" in line and "1e308" not in line, line
    assert len(info.value.problems) == 1  # the row that overflows, not every later one


# ------------------------------------------------------------------------- Unicode identifiers


def test_identifiers_nfc_normalised_and_case_sensitive(tmp_path, ucdp_store, event_ids):
    composed, decomposed = "Jos\u00e9-1", "Jose\u0301-1"
    assert composed != decomposed
    assert KEY.pseudonym(AGENCY, composed) == KEY.pseudonym(AGENCY, f" {decomposed} ")
    assert KEY.pseudonym(AGENCY, "jose-1") != KEY.pseudonym(AGENCY, "JOSE-1")  # case-sensitive
    files = golden(event_ids)
    files["persons.csv"] = files["persons.csv"].replace("P4,C3", f"{composed},C3")
    files["links.csv"] = files["links.csv"].replace("P4,ucdp", f"{decomposed},ucdp")
    files["ties.csv"] = files["ties.csv"].replace("P5,P4,", f"P5,{decomposed},")
    rec = read(write_folder(tmp_path / "cf", files), ucdp_store[0])
    jose = KEY.pseudonym(AGENCY, composed)
    assert jose in set(rec.members["person"]) and jose in set(rec.links["person"])
    assert jose in set(rec.ties["person_a"]) | set(rec.ties["person_b"])
    assert rec.counts()["persons"] == 5
    assert composed in set(rec.identities["raw_id"])  # kept (when asked) in its NFC form
