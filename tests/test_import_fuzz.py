"""Mangled files thrown at the ACLED and generic importers.

Whatever the bytes, an import either succeeds or raises a :class:`VdtoError` whose message is one
line, and a failed import leaves the store as it was (or creates none).
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from vdto.errors import VdtoError
from vdto.events import acled, generic
from vdto.events.ingest import import_events
from vdto.store import Store

pytestmark = pytest.mark.slow  # end-to-end runs; still part of the default suite and CI

DATA = Path(__file__).parent / "data"
ACLED = DATA / "acled_sample.csv"
AGENCY = DATA / "agency_sample.csv"
MAPPING = DATA / "agency_mapping.toml"

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- mutations of a valid file's bytes ----------------------------------------------------


def _records(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def _write(records: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(records)
    return out.getvalue().encode("utf-8")


@st.composite
def truncated(draw, data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data) - 1))]


@st.composite
def header_column_dropped(draw, data: bytes) -> bytes:
    """One name removed from the header only: the rows keep all their cells."""
    head, rest = data.split(b"\n", 1)
    names = head.split(b",")
    del names[draw(st.integers(0, len(names) - 1))]
    return b",".join(names) + b"\n" + rest


@st.composite
def column_dropped(draw, data: bytes) -> bytes:
    """One column removed from the header and from every row."""
    records = _records(data)
    i = draw(st.integers(0, len(records[0]) - 1))
    return _write([r[:i] + r[i + 1 :] for r in records])


CELL_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["", " ", "-1", "1.5", "NaN", "inf", "0", "x", "1e3", "2023-02-30", "31/12/2023", '"', ",", "\n"]
    ),
)


@st.composite
def cell_replaced(draw, data: bytes) -> bytes:
    """One cell (header included) replaced by random text, quoted as CSV requires."""
    records = _records(data)
    r = draw(st.integers(0, len(records) - 1))
    c = draw(st.integers(0, len(records[r]) - 1))
    records[r][c] = draw(CELL_TEXT)
    return _write(records)


@st.composite
def bytes_inserted(draw, data: bytes) -> bytes:
    """Random bytes (NUL, invalid UTF-8, quotes, line breaks...) inserted anywhere."""
    chunk = draw(
        st.one_of(
            st.binary(min_size=1, max_size=8),
            st.sampled_from(
                [b"\x00", b"\xff", b"\xc3", b"\xe2\x82", b'"', b"\n", b"\r", b",", b"\xef\xbb\xbf"]
            ),
        )
    )
    at = draw(st.integers(0, len(data)))
    return data[:at] + chunk + data[at:]


@st.composite
def delimiter_swapped(draw, data: bytes) -> bytes:
    """Commas turned into another delimiter in the whole file, the header only, or one line."""
    new = draw(st.sampled_from([b";", b"\t", b"|", b" "]))
    lines = data.split(b"\n")
    where = draw(st.sampled_from(["all", "header", "line"]))
    if where == "all":
        return data.replace(b",", new)
    i = 0 if where == "header" else draw(st.integers(1, len(lines) - 2))
    lines[i] = lines[i].replace(b",", new)
    return b"\n".join(lines)


@st.composite
def emptied(draw, data: bytes) -> bytes:
    return draw(st.sampled_from([b"", b"\n", b"   \r\n", data.split(b"\n", 1)[0] + b"\n"]))


MUTATIONS = {
    "truncate": truncated,
    "drop-header-column": header_column_dropped,
    "drop-column": column_dropped,
    "replace-cell": cell_replaced,
    "insert-bytes": bytes_inserted,
    "swap-delimiter": delimiter_swapped,
    "empty": emptied,
}

# -- stores -------------------------------------------------------------------------------


def _import_acled(db: Path, path: Path):
    return import_events(db, "acled", path, acled.parse)


def _import_generic(db: Path, path: Path):
    spec, digest = generic.load_mapping(MAPPING)
    return import_events(
        db, "csv", path, generic.parse, mapping=spec, mapping_path=str(MAPPING), mapping_sha256=digest
    )


IMPORTERS = {"acled": (_import_acled, ACLED), "generic": (_import_generic, AGENCY)}


@pytest.fixture(scope="module")
def populated(tmp_path_factory) -> dict[str, Path]:
    """For each importer, a store holding one good import of its sample (copy before writing)."""
    stores = {}
    for name, (run, sample) in IMPORTERS.items():
        db = tmp_path_factory.mktemp(name) / "good.duckdb"
        run(db, sample)
        stores[name] = db
    return stores


def counts(db: Path) -> tuple[int, int, int]:
    with Store(db, read_only=True) as store:
        return store.count("events"), store.count("perpetrators"), store.count("imports")


def check_import(run, data: bytes, suffix: str, populated_db: Path | None) -> None:
    """Import ``data``; it succeeds, or fails with a one-line VdtoError and leaves the store as it was."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"mangled{suffix}"
        path.write_bytes(data)
        db = Path(tmp) / "store.duckdb"
        if populated_db is not None:
            shutil.copy(populated_db, db)
            before = counts(db)
        try:
            run(db, path)
        except VdtoError as exc:
            text = str(exc)
            assert text
            assert "\n" not in text and "\r" not in text, text
            if populated_db is None:
                assert not db.exists()
            else:
                assert counts(db) == before
            return
        # it was accepted: the import is recorded and nothing was lost
        events, perps, imports = counts(db)
        if populated_db is not None:
            assert imports == before[2] + 1
            assert events >= before[0]
            assert perps >= before[1]
        else:
            assert imports == 1
        with Store(db, read_only=True) as store:
            over = store.query(
                "SELECT source, source_id FROM perpetrators GROUP BY ALL HAVING sum(probability) > 1 + 1e-9"
            )
        assert over.empty


# -- the properties -----------------------------------------------------------------------


def cr_in_header_line(data: bytes) -> bool:
    """A carriage return inside the first line (old Mac line endings)."""
    return b"\r" in data.split(b"\n", 1)[0].rstrip(b"\r")


@pytest.mark.parametrize("mutation", list(MUTATIONS))
@pytest.mark.parametrize("importer", list(IMPORTERS))
@FUZZ
@given(data=st.data())
def test_mangled_file_fails_cleanly_or_imports(populated, importer, mutation, data):
    run, sample = IMPORTERS[importer]
    mangled = data.draw(MUTATIONS[mutation](sample.read_bytes()), label="file")
    into_populated = data.draw(st.booleans(), label="populated store")
    check_import(run, mangled, ".csv", populated[importer] if into_populated else None)


@pytest.fixture(scope="module")
def agency_parquet(tmp_path_factory) -> bytes:
    import pandas as pd

    path = tmp_path_factory.mktemp("parquet") / "agency.parquet"
    frame = pd.read_csv(AGENCY, dtype=str, keep_default_na=False)
    frame.to_parquet(path, index=False, compression=None)  # uncompressed: the strings are in the bytes
    return path.read_bytes()


@settings(FUZZ, report_multiple_bugs=False)
@given(
    how=st.sampled_from(["truncate", "overwrite", "insert"]),
    at=st.one_of(st.integers(0, 10**6), st.sampled_from(["Valtierrilla", "fiscal", "CJNG", "PAR1"])),
    chunk=st.binary(min_size=1, max_size=16),
    into_populated=st.booleans(),
)
@example(how="overwrite", at="Valtierrilla", chunk=b"\xff\xfe\xfd", into_populated=True)
def test_mangled_parquet_fails_cleanly_or_imports(populated, agency_parquet, how, at, chunk, into_populated):
    """``at`` is a byte offset, or a text whose first occurrence in the file is hit."""
    raw = agency_parquet
    pos = max(raw.find(at.encode()), 0) if isinstance(at, str) else at % len(raw)
    if how == "truncate":
        mangled = raw[:pos]
    else:
        mangled = raw[:pos] + chunk + raw[pos + (len(chunk) if how == "overwrite" else 0) :]
    check_import(_import_generic, mangled, ".parquet", populated["generic"] if into_populated else None)


def test_the_unmangled_samples_import(populated):
    """The properties above start from files that do import."""
    assert counts(populated["acled"]) == (17, 19, 1)
    assert counts(populated["generic"]) == (12, 11, 1)


# -- inputs that once escaped as errors other than VdtoError ----------------------------------


def attempt(run, data: bytes, tmp_path: Path) -> None:
    """Import ``data`` into a new store; a VdtoError is fine, any other exception is not."""
    path = tmp_path / "mangled.csv"
    path.write_bytes(data)
    try:
        run(tmp_path / "t.duckdb", path)
    except VdtoError as exc:
        assert "\n" not in str(exc)


@pytest.mark.parametrize("where", ["before-header", "inside-header", "cr-line-endings"])
@pytest.mark.parametrize("importer", list(IMPORTERS))
def test_carriage_return_in_header_line(tmp_path, importer, where):
    run, sample = IMPORTERS[importer]
    raw = sample.read_bytes()
    data = {
        "before-header": b"\r" + raw,
        "inside-header": raw.replace(b",", b",\r", 1),
        "cr-line-endings": raw.replace(b"\n", b"\r"),
    }[where]
    assert cr_in_header_line(data)
    attempt(run, data, tmp_path)


def test_long_field_in_a_ragged_file(tmp_path):
    raw = ACLED.read_bytes()
    data = raw.replace(b"On 14 January", b"x" * 200_000 + b'",",On 14', 1)
    attempt(_import_acled, data, tmp_path)


# -- the mapping language: expressions, sums and numbers no mapping author meant ----------------

LANGUAGE = settings(FUZZ, max_examples=15)
GOOD_MAPPING = MAPPING.read_text(encoding="utf-8")
HEADER_NAMES = AGENCY.read_bytes().split(b"\n", 1)[0].decode().split(",")

SQL_PIECES = st.sampled_from(
    [
        "muertos", "civiles", "TRY_CAST(muertos AS INTEGER)", "CAST(muertos AS INTEGER)", "CAST(tipo AS INTEGER)",
        "muertoz", '"muertos"', "'3'", "3.5", "-1", "NULL", "1e10", "(SELECT 1)", "read_csv('/etc/passwd')",
        "sum(civiles)", "row_number() OVER ()", ";", "--", "/*", "*", "?", "$1", "(", ")", ",", "+", "||", "AS x",
        "coalesce(", "nullif(muertos, '0')", "random()", "now()", "current_setting('threads')", "getenv('HOME')",
        "CASE WHEN muertos = '1' THEN 2 END", "DROP TABLE events", "unnest([1, 2])", "list_sum([1, 2])",
        "\\", '"', "'", "\n", "\x00",
    ]
)  # fmt: skip


def _with(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def _toml_string(value: str) -> str:
    """``value`` as a TOML basic string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\x00", "\\u0000")
    return f'"{escaped}"'


def check_mapping(mapping_text: str, data: bytes, populated_db: Path | None) -> None:
    """Load the mapping and import the sample's ``data`` with it: one-line VdtoError or success,
    a failed import leaving the store as it was."""
    with tempfile.TemporaryDirectory() as tmp:
        mapping = Path(tmp) / "mapping.toml"
        mapping.write_text(mapping_text, encoding="utf-8")

        def run(db: Path, path: Path):
            spec, digest = generic.load_mapping(mapping)
            return import_events(db, "csv", path, generic.parse, mapping=spec, mapping_path=str(mapping),
                                 mapping_sha256=digest)  # fmt: skip

        check_import(run, data, ".csv", populated_db)


@LANGUAGE
@given(pieces=st.lists(st.one_of(SQL_PIECES, st.text(max_size=12)), min_size=1, max_size=5),
       into_populated=st.booleans())  # fmt: skip
@example(pieces=["(SELECT 1)"], into_populated=True)
@example(pieces=["muertos", ";", "DROP TABLE events"], into_populated=True)
def test_random_expressions_fail_cleanly_or_import(populated, pieces, into_populated):
    sql = " ".join(pieces)
    text = _with(GOOD_MAPPING, 'deaths = "muertos"', f"deaths = {{ sql = {_toml_string(sql)} }}")
    check_mapping(text, AGENCY.read_bytes(), populated["generic"] if into_populated else None)


@LANGUAGE
@given(columns=st.lists(st.one_of(st.sampled_from(HEADER_NAMES), st.text(max_size=10)), min_size=1, max_size=4),
       into_populated=st.booleans())  # fmt: skip
def test_sums_of_unknown_columns_fail_cleanly_or_import(populated, columns, into_populated):
    listed = ", ".join(_toml_string(c) for c in columns)
    text = _with(GOOD_MAPPING, 'police = "policias"', f"police = [{listed}]")
    check_mapping(text, AGENCY.read_bytes(), populated["generic"] if into_populated else None)


SPELLINGS = ["3.0", "3.5", "016", " 2 ", "1e3", "1e400", "-0", "+1", "1_000", "0x10", "NA", "nan", "inf", "٣", "３",
             "1,5", ".5", "5.", "", " ", "s/d"]  # fmt: skip
NUMBERISH = st.one_of(
    st.sampled_from(SPELLINGS),
    st.from_regex(r"[ +\-]?[0-9]{0,3}[.,]?[0-9]{0,2}([eE][+\-]?[0-9]{1,3})?", fullmatch=True),
)


@LANGUAGE
@given(cells=st.lists(NUMBERISH, min_size=3, max_size=3), row=st.integers(1, 12),
       markers=st.sampled_from(["", 'missing = ["NA", "s/d"]\n']), into_populated=st.booleans())  # fmt: skip
def test_numbers_in_any_spelling_fail_cleanly_or_import(populated, cells, row, markers, into_populated):
    records = _records(AGENCY.read_bytes())
    for column, cell in zip(("muertos", "civiles", "policias"), cells, strict=True):
        records[row][records[0].index(column)] = cell
    check_mapping(markers + GOOD_MAPPING, _write(records), populated["generic"] if into_populated else None)
