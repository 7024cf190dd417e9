"""Importer for any CSV or Parquet file, driven by a TOML column-mapping file.

An agency's own spreadsheet comes in without code: the mapping says which column (or sum of
columns, or SQL expression) holds which canonical field, how category values translate, which
columns count victims of each kind and where the perpetrator is. See docs/schema.md ("Generic
importer") for the full format.

Example mapping::

    source = "fiscalia-chih"
    date_format = "%d/%m/%Y"
    missing = ["NA", "s/d"]

    [columns]
    source_id = "folio"
    date = "fecha"
    state = "cve_ent"
    municipality = { state = "cve_ent", code = "cve_mun" }
    category = "tipo"
    deaths = { sql = "coalesce(TRY_CAST(muertos_h AS INTEGER), 0) + coalesce(TRY_CAST(muertos_m AS INTEGER), 0)" }
    perpetrator = "grupo"

    [categories]
    "Ejecución" = "homicide"

    [victims]
    police = ["pol_federal", "pol_estatal", "pol_ministerial", "pol_municipal"]
    military = ["ejercito", "marina"]

DuckDB reads the file and does the work (casts, sums, expressions, lookups, dates) in one
in-memory database that may read no file but the one imported; names, categories and
perpetrator cells are resolved in Python once per distinct value, and only the rows with a
problem are brought back to Python to be reported.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import math
import os
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, field_validator

from vdto.errors import ConfigError, InputFileError
from vdto.events.canonical import Batch, check
from vdto.events.tabular import INT_MAX, ROW, Problems, parse_date, read_csv
from vdto.geography import STATES, geography
from vdto.orgs import Registry
from vdto.schema import PERPETRATOR_COLUMNS, VICTIM_COLUMNS, Category, VictimKind

# -- the mapping ----------------------------------------------------------------------------


class Expr(BaseModel):
    """A DuckDB SQL expression over the file's columns: ``{ sql = "..." }`` in the mapping."""

    model_config = ConfigDict(extra="forbid")

    sql: str


class MunicipalityCode(BaseModel):
    """A municipality given by INEGI's codes in two columns: ``{ state = "cve_ent", code =
    "cve_mun" }`` (state 1-32, municipality 1-999, in any numeric spelling)."""

    model_config = ConfigDict(extra="forbid")

    state: str
    code: str


def _form(kinds: tuple[str, ...]) -> Callable[[Any], Any]:
    """A check of a column source's TOML shape that says what is allowed."""
    allowed = ["a column name", *(["a list of column names (summed)"] if "sum" in kinds else [])]
    allowed += ['{ sql = "..." }'] + (['{ state = "...", code = "..." }'] if "code" in kinds else [])

    def shape(value: Any) -> Any:
        if isinstance(value, str):
            return value
        if isinstance(value, list) and "sum" in kinds:
            if not value or not all(isinstance(v, str) for v in value):
                raise ValueError("must list one or more column names")
            twice = [v for v in value if value.count(v) > 1]
            if twice:
                raise ValueError(f"lists the column {twice[0]!r} twice")
            return value
        if isinstance(value, dict):
            if set(value) == {"sql"} and isinstance(value["sql"], str):
                return value
            if (
                "code" in kinds
                and set(value) == {"state", "code"}
                and all(isinstance(v, str) for v in value.values())
            ):
                return value
        raise ValueError("must be " + ", ".join(allowed[:-1]) + " or " + allowed[-1])

    return shape


SourceField = Annotated[str | Expr, BeforeValidator(_form(()))]
CountField = Annotated[str | list[str] | Expr, BeforeValidator(_form(("sum",)))]
PlaceField = Annotated[str | Expr | MunicipalityCode, BeforeValidator(_form(("code",)))]


class Columns(BaseModel):
    """Canonical field -> where it is in the file: a column, a sum of columns (counts), an SQL
    expression, or (municipality) INEGI's state and municipality codes in two columns."""

    model_config = ConfigDict(extra="forbid")

    source_id: SourceField
    date: SourceField
    date_end: SourceField | None = None
    state: SourceField | None = None
    municipality: PlaceField | None = None
    latitude: SourceField | None = None
    longitude: SourceField | None = None
    category: SourceField | None = None
    deaths: CountField | None = None
    deaths_low: CountField | None = None
    deaths_high: CountField | None = None
    perpetrator: SourceField | None = None
    perpetrator_probability: SourceField | None = None
    torture_display: SourceField | None = None
    reliability: SourceField | None = None
    notes: SourceField | None = None
    revision: SourceField | None = None


class Perpetrators(BaseModel):
    model_config = ConfigDict(extra="forbid")

    separator: str = ";"
    probability_separator: str = ":"
    unknown_values: list[str] = ["", "unknown", "desconocido", "n/d", "nd", "sin dato"]


class Mapping(BaseModel):
    """A generic-importer mapping file (TOML)."""

    model_config = ConfigDict(extra="forbid")

    source: str
    format: Literal["csv", "parquet"] | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    date_format: str | None = None
    country: str = "MEX"
    columns: Columns
    categories: dict[str, Category] = {}
    victims: dict[VictimKind, CountField] = {}
    perpetrators: Perpetrators = Perpetrators()
    default_category: Category | None = None
    true_values: list[str] = ["1", "true", "yes", "si", "sí", "y", "x"]
    #: cell values that mean "no value", besides blank cells (compared after trimming, exactly)
    missing: list[str] = []

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v.strip()

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, v: str) -> str:
        if len(v) != 1 or v == '"' or not (v == "\t" or (v.isascii() and v.isprintable())):
            raise ValueError("must be one ASCII character other than a quote (e.g. ',' ';' or '\\t')")
        return v

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, v: str | None) -> str | None:
        if v is not None:
            if "\x00" in v:
                raise ValueError("must not contain a NUL character")
            try:
                pd.to_datetime(pd.Series(["2000-01-01"]), format=v, errors="coerce")
            except ValueError as exc:
                raise ValueError(f"is not a date format ({exc})") from None
        return v

    @field_validator("missing")
    @classmethod
    def _missing(cls, v: list[str]) -> list[str]:
        for marker in v:
            if marker != marker.strip() or "\x00" in marker:
                raise ValueError(
                    f"markers are compared after trimming: write {marker.strip()!r}, not {marker!r}"
                )
        return v

    def sources(self) -> Iterator[tuple[str, str | list[str] | Expr | MunicipalityCode]]:
        """Every mapped field as (mapping key, source): ``columns.deaths``, ``victims.police``."""
        for name, value in self.columns:
            if value is not None:
                yield f"columns.{name}", value
        for kind, value in self.victims.items():
            yield f"victims.{kind.value}", value

    def expressions(self) -> Iterator[tuple[str, Expr]]:
        """Every SQL expression of the mapping with its key."""
        for key, value in self.sources():
            if isinstance(value, Expr):
                yield key, value


def load_mapping(path: str | Path) -> tuple[Mapping, str]:
    """Load and validate a mapping TOML; return it and the SHA-256 of its canonical JSON.

    Every SQL expression is checked here, before any file is opened: it must be one scalar
    expression (no second statement, no subquery, no table function, nothing that reads a file,
    a setting, the clock or random numbers). Its columns are checked against the file's header
    when the file is read (:func:`parse`).
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("mapping file not found", str(path), "check the path of the mapping") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read mapping ({exc})", str(path), "save it as UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML ({exc})", str(path), "fix the TOML syntax") from None
    try:
        mapping = Mapping.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"] if p != "[key]")  # "[key]": pydantic marks a bad dict key
        raise ConfigError(
            f"{err['msg']} (got {err.get('input')!r})" if err["type"] != "missing" else err["msg"],
            f"{path}: {key}",
            "see docs/schema.md for the mapping format",
        ) from None
    if mapping.columns.category is None and mapping.default_category is None:
        raise ConfigError(
            "no category column and no default_category",
            f"{path}: columns.category",
            "map a category column or set default_category",
        )
    check_expressions(mapping, str(path))
    return mapping, _digest(mapping)


def _digest(mapping: Mapping) -> str:
    """SHA-256 of the mapping's canonical JSON; keys added since the first mapping format are
    left out while they hold their defaults, so an older mapping keeps its digest."""
    dumped = mapping.model_dump(mode="json")
    if not dumped["missing"]:
        del dumped["missing"]
    if dumped["columns"]["revision"] is None:
        del dumped["columns"]["revision"]
    return hashlib.sha256(json.dumps(dumped, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# -- SQL expressions: what they may contain ---------------------------------------------------

#: Functions an expression may not call although DuckDB lists them as scalar: they read the
#: session, settings, the clock or random numbers (an import must not depend on when or where
#: it runs), sleep, or return several rows.
_DENIED_FUNCTIONS = frozenset(
    {
        "current_setting", "getvariable", "current_query", "current_query_id", "in_search_path",
        "current_database", "current_catalog", "current_schema", "current_schemas", "current_user",
        "current_role", "session_user", "user", "version", "pg_sleep", "nextval", "currval",
        "setseed", "random", "gen_random_uuid", "uuid", "uuidv4", "uuidv7", "now", "today",
        "current_date", "current_time", "current_timestamp", "current_localtime",
        "current_localtimestamp", "localtime", "localtimestamp", "get_current_time",
        "get_current_timestamp", "transaction_timestamp", "unnest", "regexp_split_to_table",
        "generate_subscripts", "json_group_array", "json_group_object", "json_group_structure",
        "variant_group_array", "geomean", "geometric_mean", "wavg", "weighted_avg",
        "json_execute_serialized_sql", "json_deserialize_sql", "enum_range", "enum_range_boundary",
    }
)  # fmt: skip
#: Names that read as a column but are the clock or the session unless the file has such a column.
_SPECIAL_NAMES = frozenset(
    {"current_date", "current_time", "current_timestamp", "localtime", "localtimestamp", "current_user",
     "user", "session_user", "current_role", "current_catalog", "current_schema"}
)  # fmt: skip
#: Physical operators a one-value-per-row expression may plan into.
_PLAN_OPERATORS = frozenset(
    {"PROJECTION", "SEQ_SCAN", "SEQ_SCAN ", "TABLE_SCAN", "EMPTY_RESULT", "DUMMY_SCAN"}
)
_EXPRESSION_FIX = "write one DuckDB SQL expression over the row's own columns (see docs/schema.md)"


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return '"' + (text if len(text) <= limit else text[: limit - 1] + "…") + '"'


@contextmanager
def _sandbox(path: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB that may read no file but ``path`` (none when None), loads no
    extension and cannot be reconfigured."""
    con = duckdb.connect(
        ":memory:", config={"autoload_known_extensions": False, "autoinstall_known_extensions": False}
    )
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET arrow_large_buffer_size = true")  # large strings: pandas takes them as they are
        if path is not None:
            con.execute(f"SET allowed_paths = [{_lit(path)}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        yield con
    finally:
        con.close()


@cache
def _function_types() -> dict[str, frozenset[str]]:
    with _sandbox() as con:
        rows = con.execute(
            "SELECT lower(function_name), list(DISTINCT function_type) FROM duckdb_functions() GROUP BY 1"
        ).fetchall()
    return {name: frozenset(kinds) for name, kinds in rows}


class _Refused(Exception):
    """An expression is not allowed: what is wrong and the part of it at fault."""

    def __init__(self, what: str, fix: str = _EXPRESSION_FIX) -> None:
        super().__init__(what)
        self.what, self.fix = what, fix


def _syntax_tree(con: duckdb.DuckDBPyConnection, sql: str) -> dict:
    """The parsed ``SELECT <sql>`` (DuckDB's own parser), refused unless it is one expression."""
    if "\x00" in sql:
        raise _Refused("contains a NUL character")
    try:
        tokens = duckdb.tokenize(sql)
    except (duckdb.Error, RuntimeError, ValueError) as exc:
        raise _Refused(f"is not valid SQL ({str(exc).splitlines()[0]}): {_quote(sql)}") from None
    text = sql.encode("utf-8")  # the tokenizer counts bytes
    for pos, kind in tokens:
        rest = text[pos:].decode("utf-8", errors="replace")
        if kind == duckdb.token_type.comment:
            raise _Refused(f"contains a comment ({_quote(rest)})", "remove the comment")
        if kind == duckdb.token_type.operator and rest.startswith(";"):
            raise _Refused(
                f"must be one expression, not several statements: {_quote(rest)}",
                "remove the ';' and what follows it",
            )
    parsed = _one(con.execute("SELECT json_serialize_sql(?)", ["SELECT " + sql]))
    tree: dict[str, Any] = json.loads(parsed[0]) if parsed else {"error": True, "error_message": "empty"}
    if tree.get("error"):
        message = str(tree.get("error_message", "")).splitlines()[0] if tree.get("error_message") else ""
        raise _Refused(f"is not a valid SQL expression ({message}): {_quote(sql)}")
    statements: list[dict[str, Any]] = tree["statements"]
    node: dict[str, Any] = statements[0]["node"] if len(statements) == 1 else {}
    if node.get("type") != "SELECT_NODE":
        raise _Refused(f"must be one expression: {_quote(sql)}")
    extra = [
        what
        for what, present in (
            ("a FROM clause", node["from_table"].get("type") != "EMPTY"),
            ("a WHERE clause", node.get("where_clause") is not None),
            ("GROUP BY", bool(node.get("group_expressions"))),
            ("HAVING", node.get("having") is not None),
            ("QUALIFY", node.get("qualify") is not None),
            ("DISTINCT, ORDER BY or LIMIT", bool(node.get("modifiers"))),
            ("a WITH clause", bool(node.get("cte_map", {}).get("map"))),
            ("several values", len(node["select_list"]) != 1),
            ("a SAMPLE clause", node.get("sample") is not None),
        )
        if present
    ]
    if extra:
        raise _Refused(f"must be one expression, but it has {extra[0]}: {_quote(sql)}")
    item = node["select_list"][0]
    if item.get("alias"):
        raise _Refused(f"must be one expression without a name (AS {item['alias']}): {_quote(sql)}")
    return item


def _part(sql: str, node: dict) -> str:
    """The text of ``sql`` a parse-tree node stands for (the parser counts bytes)."""
    text = sql.encode("utf-8")
    start = int(node.get("query_location", -1)) - len("SELECT ")
    if not 0 <= start < len(text):
        return _quote(sql)
    length = int(node.get("query_location_length") or 0)
    part = text[start : start + length] if length > 0 else text[start:]
    return _quote(part.decode("utf-8", errors="replace"))


def _walk(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _column_refs(item: dict) -> list[tuple[str, dict]]:
    """The column names an expression's tree refers to (lambda parameters included)."""
    return [
        (n["column_names"][0], n)
        for n in _walk(item)
        if n.get("class") == "COLUMN_REF" and n.get("column_names")
    ]


def _refuse_unsafe(sql: str, item: dict, header: list[str] | None = None) -> None:
    """Refuse subqueries, table functions, aggregates, window functions, ``*``, parameters and
    the functions of :data:`_DENIED_FUNCTIONS` anywhere in an expression's tree."""
    types = _function_types()
    columns = {h.casefold() for h in header or []}
    for node in _walk(item):
        kind = node.get("class")
        if kind == "SUBQUERY" or node.get("type") == "SELECT_NODE" or "subquery" in node:
            raise _Refused(
                f"contains a subquery {_part(sql, node)}", "compute the value from the row's own columns"
            )
        if kind == "WINDOW":
            raise _Refused(
                f"uses the window function {node.get('function_name')}() {_part(sql, node)}",
                "an expression computes one value from one row",
            )
        if kind == "STAR":
            raise _Refused(f"uses '*' {_part(sql, node)}", "name the columns")
        if kind == "PARAMETER":
            raise _Refused(f"has a parameter {_part(sql, node)}", "write the value itself")
        if kind == "COLUMN_REF" and node.get("column_names"):
            name = node["column_names"][0]
            if name.casefold() in _SPECIAL_NAMES and name.casefold() not in columns:
                raise _Refused(
                    f"reads {name} {_part(sql, node)}: an import must not depend on when or by whom it runs",
                    "use the file's own columns",
                )
        if kind == "FUNCTION":
            name = str(node.get("function_name", "")).casefold()
            found = types.get(name, frozenset())
            if name in _DENIED_FUNCTIONS:
                raise _Refused(
                    f"calls {name}() {_part(sql, node)}, which is not allowed in a mapping",
                    "an expression may use the row's columns and scalar functions only",
                )
            if found and not found & {"scalar", "macro"}:
                if found & {"table", "table_macro", "pragma"}:
                    raise _Refused(
                        f"calls the table function {name}() {_part(sql, node)}: an expression reads only the "
                        "row's cells, never another file or table",
                        "use the row's own columns",
                    )
                raise _Refused(
                    f"calls {name}() {_part(sql, node)}, which combines several rows",
                    "an expression computes one value from one row (no sum(), count(), ...)",
                )


def _expression_problem(con: duckdb.DuckDBPyConnection, sql: str) -> _Refused | None:
    try:
        _refuse_unsafe(sql, _syntax_tree(con, sql))
    except _Refused as refused:
        return refused
    return None


def check_expressions(mapping: Mapping, where: str) -> None:
    """Check the mapping's SQL expressions without any file (see :func:`load_mapping`); an error
    names ``where: <mapping key>``."""
    expressions = list(mapping.expressions())
    if not expressions:
        return
    with _sandbox() as con:
        for key, expr in expressions:
            refused = _expression_problem(con, expr.sql)
            if refused is not None:
                raise ConfigError(f"the expression {refused.what}", f"{where}: {key}", refused.fix)


# -- reading the file -------------------------------------------------------------------------

#: What Python's ``str.strip()`` removes (DuckDB's ``trim`` removes spaces only).
_WS = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
_WS_CLASS = "[" + "".join(f"\\x{{{ord(ch):x}}}" for ch in _WS) + "]"
#: A number in any plain spelling: 16, 16.0, 016, +3, .5, 1e3.
_NUMBER = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
_PARQUET_SUFFIXES = (".parquet", ".pq")
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zstd")
_DATE_TYPES = ("DATE", "TIMESTAMP")
_HEAD = 1 << 20


def _lit(text: str) -> str:
    """An SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    """An SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Table:
    """The file as DuckDB holds it: table ``raw`` with columns ``__c0 ..`` and view ``base``
    (``__row``, the internal columns and the header's names for expressions)."""

    con: duckdb.DuckDBPyConnection
    path: Path
    header: list[str]
    types: list[str]
    first_row: int
    n: int = 0

    def internal(self, name: str) -> str:
        return f"__c{self.header.index(name)}"

    def kind(self, name: str) -> str:
        return self.types[self.header.index(name)]


def _header_line(path: Path, delimiter: str) -> list[str] | None:
    """The header of a plain UTF-8 CSV that DuckDB can read as the old reader would, or None
    (then the file goes through :func:`vdto.events.tabular.read_csv`, which says what is wrong
    with it or reads it)."""
    if path.suffix.lower() in _COMPRESSED or not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEAD)
    except OSError:
        return None
    if b"\x00" in head[:65536] or b"\n" not in head:
        return None
    head = head.removeprefix(b"\xef\xbb\xbf")
    try:
        first = head.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
        names = [h.strip() for h in next(csv.reader([first], delimiter=delimiter))]
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return None
    if "\r" in first or len(names) < 2 or len(set(names)) != len(names) or not all(names):
        return None
    return names


def _open(
    path: Path, fmt: str, mapping: Mapping, con: duckdb.DuckDBPyConnection, validate: Callable[[_Table], None]
) -> _Table:
    """Read the file into ``con``; ``validate`` sees the header before any row is read (where
    the file's header can be read on its own)."""
    if fmt == "parquet":
        return _open_parquet(path, con, validate)
    enc = mapping.encoding.lower().replace("_", "-")
    names = _header_line(path, mapping.delimiter) if enc in ("utf-8", "utf8") else None
    if names is not None:
        table = _Table(con, path, names, ["VARCHAR"] * len(names), first_row=2)
        _describe(table)
        validate(table)
        columns = ", ".join(f"{_lit(f'__c{i}')}: 'VARCHAR'" for i in range(len(names)))
        try:
            con.execute(
                f"CREATE TABLE raw AS SELECT * FROM read_csv({_lit(os.path.abspath(path))}, columns = {{{columns}}}, "
                f"header = true, delim = {_lit(mapping.delimiter)}, quote = '\"', escape = '\"', "
                "auto_detect = false, strict_mode = true, null_padding = false, encoding = 'utf-8', "
                "compression = 'none')"
            )
            table.n = _count(con)
            return table
        except duckdb.Error:
            # the reader below says what is wrong, or reads it
            con.execute("DROP TABLE IF EXISTS raw; DROP VIEW IF EXISTS named_hdr; DROP TABLE IF EXISTS hdr")
    frame = read_csv(path, encoding=mapping.encoding, delimiter=mapping.delimiter)
    header = [c for c in frame.columns if c != ROW]
    frame = frame.drop(columns=[ROW])
    frame.columns = [f"__c{i}" for i in range(len(header))]
    table = _Table(con, path, header, ["VARCHAR"] * len(header), first_row=2)
    _describe(table)
    validate(table)
    con.register("__frame", frame)
    con.execute("CREATE TABLE raw AS SELECT * FROM __frame")
    con.unregister("__frame")
    table.n = _count(con)
    return table


def _open_parquet(path: Path, con: duckdb.DuckDBPyConnection, validate: Callable[[_Table], None]) -> _Table:
    if not path.exists():
        raise InputFileError("file not found", str(path), "check the path")
    if path.is_dir():
        raise InputFileError("is a folder, not a file", str(path), "pass a file")
    source = f"read_parquet({_lit(os.path.abspath(path))})"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as exc:
        raise InputFileError(
            f"not a readable Parquet file ({_first_line(exc)})",
            str(path),
            "check the file, or import it as CSV",
        ) from None
    header = [str(r[0]) for r in described]
    table = _Table(con, path, header, [str(r[1]).upper() for r in described], first_row=1)
    _describe(table)
    validate(table)
    picks = ", ".join(f"{_ident(h)} AS __c{i}" for i, h in enumerate(header))
    try:
        con.execute(f"CREATE TABLE raw AS SELECT {picks} FROM {source}")
        for i, kind in enumerate(table.types):
            if kind == "BLOB":  # text stored as bytes: it must be UTF-8
                con.execute(f"SELECT count(decode(__c{i})) FROM raw").fetchall()
    except duckdb.Error as exc:
        raise InputFileError(
            f"not a readable Parquet file, or a column cannot be read as text ({_first_line(exc)})",
            str(path),
            "check the file, and store text columns as UTF-8 strings",
        ) from None
    table.n = _count(con)
    return table


def _describe(table: _Table) -> None:
    """Create the empty table ``hdr`` (the header and its types) and the view ``named_hdr`` with
    the header's names, against which expressions are bound before any row is read."""
    cols = ", ".join(f"__c{i} {kind}" for i, kind in enumerate(table.types))
    table.con.execute(f"CREATE TABLE hdr ({cols})")
    table.con.execute(f"CREATE VIEW named_hdr AS SELECT {_aliases(table)} FROM hdr")


def _aliases(table: _Table) -> str:
    """``__c0 AS "name", ...`` for the header names an expression can use (unique ignoring case)."""
    folded = Counter(h.casefold() for h in table.header)
    named = [
        f"__c{i} AS {_ident(h)}"
        for i, h in enumerate(table.header)
        if h and folded[h.casefold()] == 1 and not h.casefold().startswith("__")
    ]
    return ", ".join(named) if named else "NULL AS __none"


def _count(con: duckdb.DuckDBPyConnection) -> int:
    row = _one(con.execute("SELECT count(*) FROM raw"))
    return int(row[0]) if row else 0


def _one(result: duckdb.DuckDBPyConnection) -> tuple | None:
    """The first row of a result, reading it to the end (DuckDB wants every result finished)."""
    rows = result.fetchall()
    return rows[0] if rows else None


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(exc).__name__


# -- checking the mapping against the file's header --------------------------------------------


def _validate(table: _Table, mapping: Mapping, mapping_path: str) -> dict[str, str]:
    """Check every mapped column is in the header and bind every expression against it (before
    any row is read); return each expression's DuckDB type by mapping key."""
    path = table.path
    for key, source in mapping.sources():
        for column in _columns_of(source):
            if column not in table.header:
                near = difflib.get_close_matches(column, table.header, n=3, cutoff=0.5)
                hint = f" (nearest in the header: {', '.join(repr(c) for c in near)})" if near else ""
                raise InputFileError(
                    f"missing column {column!r} (mapped by {key} in {mapping_path})",
                    f"{path}:1",
                    f"fix the column name in the mapping or in the file's header{hint}",
                )
    types: dict[str, str] = {}
    for key, expr in mapping.expressions():
        types[key] = _bind(table, expr.sql, key, mapping_path)
    return types


def _columns_of(source: object) -> list[str]:
    if isinstance(source, str):
        return [source]
    if isinstance(source, list):
        return list(source)
    if isinstance(source, MunicipalityCode):
        return [source.state, source.code]
    return []


def _bind(table: _Table, sql: str, key: str, mapping_path: str) -> str:
    """Bind ``sql`` against the header (no rows): its type, or a ConfigError naming ``key``."""
    con, where = table.con, f"{mapping_path}: {key}"
    try:
        item = _syntax_tree(con, sql)
        _refuse_unsafe(sql, item, table.header)
    except _Refused as refused:
        raise ConfigError(f"the expression {refused.what}", where, refused.fix) from None
    try:
        described = con.execute(f"DESCRIBE SELECT ({sql}) AS v FROM named_hdr").fetchall()
        plan = con.execute(f"EXPLAIN (FORMAT json) SELECT ({sql}) AS v FROM named_hdr").fetchall()
    except duckdb.Error as exc:
        header = {h.casefold() for h in table.header}
        for name, node in _column_refs(item):
            if name.casefold() not in header and "column" in str(exc).casefold():
                near = difflib.get_close_matches(name, table.header, n=3, cutoff=0.5)
                hint = f"nearest: {', '.join(repr(c) for c in near)}" if near else "check the header"
                raise ConfigError(
                    f"the expression names a column the file does not have, {_part(sql, node)}",
                    where,
                    f'use one of the file\'s columns ({hint}); quote names with spaces as "name"',
                ) from None
        raise ConfigError(f"the expression does not fit the file ({_first_line(exc)}): {_quote(sql)}", where,
                          _EXPRESSION_FIX) from None  # fmt: skip
    operators: set[str] = set()
    for _, text in plan:
        for node in _walk(json.loads(text)):
            if "name" in node:
                operators.add(str(node["name"]).strip())
    if not operators <= _PLAN_OPERATORS:
        raise ConfigError(
            f"the expression does not compute one value per row (it plans to {', '.join(sorted(operators - _PLAN_OPERATORS))}): {_quote(sql)}",
            where,
            _EXPRESSION_FIX,
        )
    return str(described[0][1]).upper()


# -- Python lookups of distinct values ---------------------------------------------------------


def _whole(text: str | None) -> int | None:
    """The whole number a cell spells ("16", "16.0", " 016 ", "1.6e1"), else None."""
    if text is None or not re.fullmatch(_NUMBER, text):
        return None
    value = float(text)
    return int(value) if math.isfinite(value) and value == int(value) else None


def _state_of(text: str | None) -> str | None:
    """INEGI state code of a cell: a code in any numeric spelling, or a name."""
    if text is None:
        return None
    n = _whole(text)
    if n is not None:
        return f"{n:02d}" if 1 <= n <= 32 else None
    return geography().state_code(text)


@cache
def _known_codes() -> frozenset[str]:
    geo = geography()
    return frozenset(geo.municipalities["mun_code"]) | frozenset(geo.historical_names["mun_code"])


def _where_is(ks: str | None, km: str | None, kfs: str | None, kfc: str | None, *, has_state: bool) -> tuple:
    """State and municipality of one distinct combination of the cells that place a row: the
    state cell ``ks``, the municipality cell ``km`` (a name or a code), and the state and
    municipality codes ``kfs``/``kfc`` of ``municipality = { state, code }``.

    Returns (state_code, mun_code, bad state, bad municipality, bad code-form state, bad
    code-form municipality).
    """
    state = _state_of(ks)
    bad_state = has_state and ks is not None and state is None
    mun, bad_mun = None, False
    if km is not None:
        n = _whole(km)
        if n is not None:  # an INEGI code: 5 digits (4 when the leading zero was lost), or 1-3 in the state
            code = f"{n:05d}" if n >= 1000 else (f"{state}{n:03d}" if state and n >= 1 else None)
            ok = code is not None and code in _known_codes() and (state is None or code[:2] == state)
            mun, bad_mun = (code, False) if ok else (None, state is not None or n >= 1000)
        elif state is not None:
            mun = geography().mun_code(state, km)
            bad_mun = mun is None
    bad_fstate = bad_fcode = False
    if kfs is not None or kfc is not None:
        s, c = _whole(kfs), _whole(kfc)
        fstate = f"{s:02d}" if s is not None and 1 <= s <= 32 else None
        bad_fstate = kfs is not None and fstate is None
        fcode = f"{fstate}{c:03d}" if fstate and c is not None and 1 <= c <= 999 else None
        wrong = fcode is None or fcode not in _known_codes() or (state is not None and fcode[:2] != state)
        if kfc is not None and fstate is not None and wrong:
            bad_fcode, fcode = True, None
        mun = mun or fcode
        state = state or fstate
    if state is None and mun is not None:
        state = mun[:2]
    return state, mun, bad_state, bad_mun, bad_fstate, bad_fcode


def _mun_fix(key: tuple[str, str]) -> str:
    """The fix for a municipality name that does not resolve: the nearest names of its state."""
    state, name = key
    near = geography().nearest_municipalities(state, name) if state and name else []
    if near:
        return (
            f"use the INEGI name or 5-digit code (nearest in {STATES.get(state, state)}: {', '.join(near)})"
        )
    return "use the INEGI name or 5-digit code"


# -- the importer -----------------------------------------------------------------------------


@dataclass
class _Cell:
    """One source of text in the file: a column, or an expression. In the query's layer ``m``:
    ``r<i>`` as read, ``t<i>`` trimmed (NULL when blank or a missing marker), ``n<i>``/``b<i>``
    as a finite number / whether blank, ``df<i>`` the date DuckDB parsed."""

    i: int
    raw: str  # SQL over ``base`` giving the cell as text
    label: str  # how problems name it: the file's column, or the mapping key of an expression
    date: str | None = None  # SQL over ``base`` giving a DATE (typed sources)
    stamp: str | None = None  # SQL over ``base`` giving epoch seconds (typed sources)
    needs: set[str] = field(default_factory=set)  # which of t, n, df layer m computes

    def col(self, what: str) -> str:
        if what in ("t", "n", "df"):
            self.needs.add(what)
        return f"m.{what}{self.i}"

    @property
    def r(self) -> str:
        return f"m.r{self.i}"

    @property
    def shown(self) -> str:
        """SQL for the cell as a report shows it."""
        return f"coalesce(m.r{self.i}, '')"


@dataclass
class _Check:
    """A row problem: where ``flag`` holds, report ``value`` (SQL over ``ev e JOIN m``)."""

    flag: str
    label: str
    value: str
    message: str
    fix: str
    fix_by: str | None = None  # SQL giving a key for ``fixes``: one fix text per key
    fixes: Callable[[tuple[str, str]], str] | None = None


@dataclass
class _Lookup:
    """The distinct values of ``keys`` (SQL over ``m``, raw cells) resolved in Python by
    ``resolve`` (a frame of keys k0.., None for NULL -> the answers, columns ``out``), stored as
    table ``lk_<name>`` keyed by the cells with NULL written as ''."""

    keys: list[str]
    resolve: Callable[..., tuple]
    out: dict[str, str]  # the answers' columns and their DuckDB types

    def join(self, name: str) -> str:
        on = " AND ".join(f"lk_{name}.k{j} = coalesce({k}, '')" for j, k in enumerate(self.keys))
        return f"LEFT JOIN lk_{name} ON {on}"


def _trim(text: str) -> str:
    """SQL: ``text`` without the leading and trailing whitespace Python's ``str.strip()`` removes
    (DuckDB's ``trim`` with a set of characters is slow; most cells need no trimming at all)."""
    ends = f"regexp_matches({text}, {_lit(f'^{_WS_CLASS}|{_WS_CLASS}$')})"
    return f"CASE WHEN {ends} THEN regexp_replace({text}, {_lit(f'^{_WS_CLASS}+|{_WS_CLASS}+$')}, '', 'g') ELSE {text} END"


def _clean(raw: str, markers: list[str]) -> str:
    """SQL: the trimmed text, NULL when blank or a missing marker."""
    trimmed = _trim(raw)
    blanks = ", ".join(_lit(m) for m in ["", *markers])
    return f"(CASE WHEN {trimmed} IN ({blanks}) THEN NULL ELSE {trimmed} END)"


def _finite(text: str) -> str:
    cast = f"TRY_CAST({text} AS DOUBLE)"
    return f"(CASE WHEN isfinite({cast}) THEN {cast} END)"


def _py_clean(cell: object, markers: frozenset[str]) -> str | None:
    """A cell as the importer sees it: trimmed, None when blank or a missing marker."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return None
    text = str(cell).strip()
    return None if not text or text in markers else text


_NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "UTINYINT",
                  "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT")  # fmt: skip
_ISO_DAY = "[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}"


class _Import:
    """One run of the generic importer over a file DuckDB holds (:class:`_Table`)."""

    def __init__(self, table: _Table, mapping: Mapping, mapping_path: str, registry: Registry,
                 kinds: dict[str, str]) -> None:  # fmt: skip
        self.table, self.mapping, self.mapping_path = table, mapping, mapping_path
        self.registry, self.kinds, self.con = registry, kinds, table.con
        self.markers = frozenset(mapping.missing)
        self.cells: dict[tuple[str, str], _Cell] = {}
        self.fast_dates: dict[int, str] = {}  # cell -> SQL over ``c`` for the DATE DuckDB parses
        self.select: list[str] = []
        self.checks: list[_Check] = []
        self.lookups: dict[str, _Lookup] = {}
        self.perp_parts: list[tuple[str, str, float, int]] = []
        self.counts: dict[
            str, dict[Any, int]
        ] = {}  # lookup -> distinct key (one key: the key itself) -> rows

    # -- sources of values ----------------------------------------------------------------

    def cell(self, key: str, source: str | Expr) -> _Cell:
        memo = ("col", source) if isinstance(source, str) else ("sql", key)
        if memo in self.cells:
            return self.cells[memo]
        if isinstance(source, str):
            col, kind, label = self.table.internal(source), self.table.kind(source), source
        else:
            col, kind, label = f"({source.sql})", self.kinds[key], key
        typed_date = kind.startswith(_DATE_TYPES)
        number = kind.startswith(_NUMERIC_TYPES)
        raw = (f"CAST(CAST({col} AS DATE) AS VARCHAR)" if typed_date
               else f"decode({col})" if kind == "BLOB" else f"CAST({col} AS VARCHAR)")  # fmt: skip
        cell = _Cell(
            len(self.cells), raw, label,
            date=f"CAST({col} AS DATE)" if typed_date else None,
            stamp=f"epoch({col})" if typed_date else (f"CAST({col} AS DOUBLE)" if number else None),
        )  # fmt: skip
        self.cells[memo] = cell
        return cell

    def problem(self, flag: str, label: str, value: str, message: str, fix: str, **kw: Any) -> None:
        """Declare a row problem: where ``flag`` (SQL over the joined row) holds, report ``value``."""
        self.checks.append(_Check(flag, label, value, message, fix, **kw))

    def _masks(self) -> list[str]:
        """The checks' flags packed into BIGINT bit masks ``__p0 ..`` (62 checks each): one
        column of the result instead of one per check."""
        groups = [self.checks[i : i + 62] for i in range(0, len(self.checks), 62)]
        return [
            " | ".join(f"(coalesce({c.flag}, false)::BIGINT << {j})" for j, c in enumerate(group))
            + f" AS __p{g}"
            for g, group in enumerate(groups)
        ]

    def _bit(self, k: int) -> str:
        """SQL over ``ev e``: whether check ``k`` holds."""
        return f"((e.__p{k // 62} >> {k % 62}) & 1 = 1)"

    def lookup(
        self, name: str, cells: list[_Cell | None], resolve: Callable[..., tuple], out: dict[str, str]
    ) -> str:
        """Resolve the distinct raw values of ``cells`` in Python (``resolve(*cells)`` -> the
        ``out`` answers); return the name of the table to join."""
        self.lookups[name] = _Lookup([c.r if c is not None else "NULL" for c in cells], resolve, out)
        return f"lk_{name}"

    def counted(self, c: _Cell, *, integer: bool, minimum: float | None, required: bool) -> str:
        """The cell as a number (NULL when blank), with the checks of
        :func:`vdto.events.tabular.parse_number` (same messages)."""
        col, n, b = c.label, c.col("n"), f"m.b{c.i}"
        self.problem(f"NOT {b} AND {n} IS NULL", col, c.shown, "is not a number",
                     f"write {col} as a plain number (e.g. 3)")  # fmt: skip
        if required:
            self.problem(b, col, c.shown, "is empty", f"fill in {col}")
        if integer:
            self.problem(f"abs({n}) > {INT_MAX}", col, c.shown, f"is too large (above {INT_MAX:,})",
                         f"check {col}: counts are whole numbers up to {INT_MAX:,}")  # fmt: skip
            self.problem(f"{n} <> round({n})", col, c.shown, "is not a whole number",
                         f"write {col} as a whole number")  # fmt: skip
        if minimum is not None:
            self.problem(f"{n} < {minimum:g}", col, c.shown, f"is below {minimum:g}",
                         f"{col} must be at least {minimum:g}")  # fmt: skip
        return n

    def count(self, key: str, source: str | list[str] | Expr, required: bool) -> str:
        """SQL for a count (a column, an expression, or the sum of several columns)."""
        if not isinstance(source, list):
            return self.counted(self.cell(key, source), integer=True, minimum=0, required=required)
        cells = [self.cell(key, column) for column in source]
        parts = [self.counted(c, integer=True, minimum=0, required=False) for c in cells]
        all_blank = " AND ".join(f"m.b{c.i}" for c in cells)
        total = f"(CASE WHEN {all_blank} THEN NULL ELSE {' + '.join(f'coalesce({p}, 0)' for p in parts)} END)"
        if required:
            self.problem(all_blank, key, "''", "is empty", f"fill in at least one of {', '.join(source)}")
        self.problem(f"{total} > {INT_MAX}", key, f"CAST({total} AS VARCHAR)", f"is too large (above {INT_MAX:,})",
                     f"check {', '.join(source)}: counts are whole numbers up to {INT_MAX:,}")  # fmt: skip
        return total

    def plain_number(self, key: str, source: str | Expr, minimum: float | None) -> str:
        return self.counted(self.cell(key, source), integer=False, minimum=minimum, required=False)

    def date(self, key: str, source: str | Expr, required: bool) -> str:
        """SQL for a date: DuckDB parses what it can (typed columns, ISO days, date_format), the
        rest is parsed in Python once per distinct value, as :func:`tabular.parse_date` does."""
        c = self.cell(key, source)
        fmt = None if c.date is not None else self.mapping.date_format
        if c.date is not None:
            value, blank = f"m.d{c.i}", f"{c.r} IS NULL"
        else:
            self.fast_dates[c.i] = self._fast_date(f"r{c.i}", fmt)
            df = c.col("df")
            table = f"lk_date{c.i}"
            if f"date{c.i}" not in self.lookups:
                days = _python_dates(fmt, self.markers)
                self.lookups[f"date{c.i}"] = _Lookup(
                    [f"CASE WHEN {df} IS NULL THEN {c.r} END"], days, {"d": "DATE", "blank": "BOOLEAN"}
                )
            value = f"coalesce({df}, {table}.d)"
            blank = f"(CASE WHEN {df} IS NOT NULL THEN false ELSE coalesce({table}.blank, true) END)"
        self.problem(f"NOT {blank} AND {value} IS NULL", c.label, c.shown, "is not a date",
                     f"write dates as {fmt or 'YYYY-MM-DD'} (or set date_format in the mapping)")  # fmt: skip
        if required:
            self.problem(blank, c.label, c.shown, "is empty", f"fill in {c.label}")
        return value

    def _not_marker(self, r: str) -> str:
        return f" AND {r} NOT IN ({', '.join(_lit(m) for m in sorted(self.markers))})" if self.markers else ""

    def _fast_date(self, r: str, fmt: str | None) -> str:
        """SQL: the DATE DuckDB reads from a raw cell as the old parser would, else NULL."""
        if fmt is None:
            parsed = f"CASE WHEN regexp_full_match({r}, {_lit(_ISO_DAY)}){self._not_marker(r)} THEN TRY_CAST({r} AS DATE) END"
        elif "%z" in fmt or "%Z" in fmt or not _duckdb_format(fmt):
            return "NULL::DATE"  # offsets keep their local day in Python; DuckDB would move it to UTC
        else:
            parsed = f"CASE WHEN {r} IS NOT NULL{self._not_marker(r)} THEN CAST(TRY_STRPTIME({r}, {_lit(fmt)}) AS DATE) END"
        return f"CASE WHEN ({parsed}) BETWEEN DATE '1000-01-01' AND DATE '9999-12-31' THEN ({parsed}) END"

    # -- fields ---------------------------------------------------------------------------

    def build(self) -> dict[str, str]:
        """Declare every value and check; return ``where`` (canonical field -> how problems
        name its source)."""
        mapping, cols = self.mapping, self.mapping.columns
        start = self.date("columns.date", cols.date, True)
        end = self.date("columns.date_end", cols.date_end, False) if cols.date_end is not None else None
        end = f"coalesce({end}, {start})" if end else start
        # TIMESTAMP: pandas takes the microseconds as they are
        self.select += [f"CAST({start} AS TIMESTAMP) AS date_start", f"CAST({end} AS TIMESTAMP) AS date_end"]
        category = self._category()
        self.select.append(f"{category} AS category")

        victims = dict.fromkeys(VICTIM_COLUMNS, "0")
        for kind, source in mapping.victims.items():
            victims[f"victims_{kind.value}"] = (
                f"coalesce({self.count(f'victims.{kind.value}', source, False)}, 0)"
            )
        if cols.deaths is not None:
            deaths = f"coalesce({self.count('columns.deaths', cols.deaths, True)}, 0)"
        else:  # victims count as deaths except for kidnappings and disappearances
            total = " + ".join(f"({v})" for v in victims.values())
            nonfatal = ", ".join(_lit(c.value) for c in (Category.KIDNAPPING, Category.DISAPPEARANCE))
            deaths = f"CASE WHEN ({category}) IN ({nonfatal}) THEN 0 ELSE {total} END"
        if not mapping.victims:
            victims["victims_unknown"] = deaths
        self.select.append(f"CAST({deaths} AS DOUBLE) AS deaths_best")
        for key in ("deaths_low", "deaths_high"):
            source = getattr(cols, key)
            bound = self.count(f"columns.{key}", source, False) if source is not None else None
            self.select.append(
                f"CAST(coalesce({bound}, {deaths}) AS DOUBLE) AS {key}"
                if bound
                else f"CAST({deaths} AS DOUBLE) AS {key}"
            )
        self.select += [f"CAST({v} AS DOUBLE) AS {k}" for k, v in victims.items()]

        self._place()
        for key in ("latitude", "longitude"):
            source = getattr(cols, key)
            self.select.append(
                f"{self.plain_number(f'columns.{key}', source, None) if source is not None else 'NULL::DOUBLE'} AS {key}"
            )
        self._torture()
        if cols.reliability is not None:
            self.select.append(
                f"coalesce({self.plain_number('columns.reliability', cols.reliability, None)}, 1.0::DOUBLE) AS reliability"
            )
        else:
            self.select.append("1.0::DOUBLE AS reliability")
        if cols.notes is not None:
            c = self.cell("columns.notes", cols.notes)
            self.select.append(f"CASE WHEN {c.col('t')} IS NULL THEN '' ELSE {c.r} END AS notes")
        else:
            self.select.append("NULL::VARCHAR AS notes")
        c = self.cell("columns.source_id", cols.source_id)
        self.select.append(f"coalesce({c.col('t')}, '') AS source_id")
        self._perpetrator()
        if cols.revision is not None:
            self.select.append(f"{self._revision(self.cell('columns.revision', cols.revision))} AS revision")
        return self._where()

    def _category(self) -> str:
        mapping, source = self.mapping, self.mapping.columns.category
        if source is None:
            assert mapping.default_category is not None  # checked when the mapping was loaded
            return _lit(mapping.default_category.value)
        c = self.cell("columns.category", source)
        table = {k.casefold(): v.value for k, v in mapping.categories.items()} | {
            x.value: x.value for x in Category
        }
        markers = self.markers

        def resolve(cell: object) -> tuple:
            text = _py_clean(cell, markers)
            return (table.get(text.casefold()) if text else None, text is None)

        lk = self.lookup("cat", [c], resolve, {"category": "VARCHAR", "blank": "BOOLEAN"})
        default = _lit(mapping.default_category.value) if mapping.default_category is not None else "NULL"
        category = f"(CASE WHEN coalesce({lk}.blank, true) THEN {default} ELSE {lk}.category END)"
        self.problem(
            f"{category} IS NULL", c.label, _trim(c.shown), "is not a known category",
            f"add it under [categories] in {self.mapping_path} (values: {', '.join(x.value for x in Category)})",
        )  # fmt: skip
        return category

    def _place(self) -> None:
        cols = self.mapping.columns
        state = self.cell("columns.state", cols.state) if cols.state is not None else None
        form = cols.municipality if isinstance(cols.municipality, MunicipalityCode) else None
        mun = (self.cell("columns.municipality", cols.municipality)
               if cols.municipality is not None and not isinstance(cols.municipality, MunicipalityCode) else None)  # fmt: skip
        fs = self.cell("columns.municipality", form.state) if form else None
        fc = self.cell("columns.municipality", form.code) if form else None
        if state is None and mun is None and form is None:
            self.select += ["NULL::VARCHAR AS state_code", "NULL::VARCHAR AS mun_code"]
            return
        markers, has_state = self.markers, state is not None

        def resolve(*cells: object) -> tuple:
            return _where_is(*(_py_clean(x, markers) for x in cells), has_state=has_state)

        out = {
            "state_code": "VARCHAR",
            "mun_code": "VARCHAR",
            "bs": "BOOLEAN",
            "bm": "BOOLEAN",
            "bfs": "BOOLEAN",
            "bfc": "BOOLEAN",
        }
        lk = self.lookup("place", [state, mun, fs, fc], resolve, out)
        self.select += [f"{lk}.state_code AS state_code", f"{lk}.mun_code AS mun_code"]
        if state is not None:
            self.problem(f"{lk}.bs", state.label, state.shown, "is not a Mexican state name or INEGI code",
                         "use the state's name (e.g. Guanajuato) or its code 01..32")  # fmt: skip
        if mun is not None:
            self.problem(f"{lk}.bm", mun.label, mun.shown, "is not a municipality of that state",
                         "use the INEGI name or 5-digit code", fix_by=f"coalesce(e.state_code, '') || '|' || {mun.shown}",
                         fixes=_mun_fix)  # fmt: skip
        if fs is not None and fc is not None:
            if state is None or state.i != fs.i:
                self.problem(f"{lk}.bfs", fs.label, fs.shown, "is not an INEGI state code",
                             "write the state's INEGI code, 1 to 32 (e.g. 8 or 08 for Chihuahua)")  # fmt: skip
            self.problem(f"{lk}.bfc", fc.label, fc.shown, "is not a municipality of that state",
                         "write the municipality's INEGI code within its state, 1 to 999 (e.g. 8 for Batopilas, Chihuahua)")  # fmt: skip

    def _torture(self) -> None:
        source = self.mapping.columns.torture_display
        if source is None:
            self.select.append("false AS torture_display")
            return
        c = self.cell("columns.torture_display", source)
        truthy, markers = {t.casefold() for t in self.mapping.true_values}, self.markers

        def resolve(cell: object) -> tuple:
            text = _py_clean(cell, markers)
            return (text is not None and text.casefold() in truthy,)

        lk = self.lookup("tor", [c], resolve, {"t": "BOOLEAN"})
        self.select.append(f"coalesce({lk}.t, false) AS torture_display")

    def _perpetrator(self) -> None:
        cols = self.mapping.columns
        if cols.perpetrator is None:
            return
        c = self.cell("columns.perpetrator", cols.perpetrator)
        p, markers = self.mapping.perpetrators, self.markers
        unknown = {v.casefold() for v in p.unknown_values}
        parts: list[tuple[str, str, float, int]] = []

        def resolve(cell: object) -> tuple:
            parsed = _parse_cell(
                _py_clean(cell, markers) or "", p.separator, p.probability_separator, unknown
            )
            key = "" if cell is None else str(cell)
            names = parsed or []
            parts.extend((key, name, np.nan if prob is None else prob, len(names)) for name, prob in names)
            return (parsed is None,)

        lk = self.lookup("perp", [c], resolve, {"bad": "BOOLEAN"})
        self.perp_parts = parts  # filled when the lookup runs
        self.select.append(f"coalesce({c.r}, '') AS __perp")
        psep = p.probability_separator
        self.problem(f"{lk}.bad", c.label, c.shown, "gives probabilities for some names but not others",
                     f"write every name as name{psep}probability, or none")  # fmt: skip
        if cols.perpetrator_probability is not None:
            value = self.plain_number("columns.perpetrator_probability", cols.perpetrator_probability, 0)
            self.select.append(f"coalesce({value}, 1.0::DOUBLE) AS __pbase")
        else:
            self.select.append("1.0::DOUBLE AS __pbase")

    def _revision(self, c: _Cell) -> str:
        """Epoch seconds or the number as written: typed columns by type, text columns as numbers
        when every cell is one, else as dates and times."""
        if c.stamp is not None:
            return f"CASE WHEN {c.r} IS NOT NULL AND isfinite(m.s{c.i}) THEN m.s{c.i} END"
        probe = _one(
            self.con.execute(
                f"SELECT bool_or(v IS NOT NULL AND NOT regexp_full_match(v, {_lit(_NUMBER)})) FROM "
                f"(SELECT {_clean(c.raw, self.mapping.missing)} AS v FROM base)"
            )
        )
        if not (probe and probe[0]):
            n = c.col("n")
            self.problem(f"NOT m.b{c.i} AND {n} IS NULL", c.label, c.shown, "is not a number",
                         f"write {c.label} as a plain number (e.g. 3)")  # fmt: skip
            return n
        t, fmt = c.col("t"), self.mapping.date_format
        parsed = f"epoch(TRY_CAST({t} AS TIMESTAMPTZ))"
        if fmt and _duckdb_format(fmt):
            parsed = f"coalesce({parsed}, epoch(TRY_STRPTIME({t}, {_lit(fmt)})))"
        self.problem(f"{t} IS NOT NULL AND {parsed} IS NULL", c.label, c.shown, "is not a number or a date",
                     f"write {c.label} as a number, or as a date and time YYYY-MM-DD HH:MM:SS (all cells alike)")  # fmt: skip
        return parsed

    def _where(self) -> dict[str, str]:
        cols = self.mapping.columns

        def label(key: str, default: str) -> str:
            source = getattr(cols, key)
            if source is None:
                return default
            return source if isinstance(source, str) else f"columns.{key}"

        form = cols.municipality if isinstance(cols.municipality, MunicipalityCode) else None
        deaths = label("deaths", "deaths")
        where = {
            "source_id": label("source_id", "source_id"), "date_start": label("date", "date"),
            "date_end": label("date_end", label("date", "date")), "category": label("category", "category"),
            "deaths_best": deaths, "deaths_low": label("deaths_low", deaths), "deaths_high": label("deaths_high", deaths),
            "latitude": label("latitude", "latitude"), "longitude": label("longitude", "longitude"),
            "reliability": label("reliability", "reliability"),
            "probability": label("perpetrator_probability", label("perpetrator", "perpetrator")),
            "state_code": label("state", form.state if form else "state"),
        }  # fmt: skip
        if cols.revision is not None:
            where["revision"] = label("revision", "revision")
        return where

    # -- running it -----------------------------------------------------------------------

    def _layers(self) -> str:
        """``WITH c, m``: the cells as read (and typed dates), then as trimmed text, numbers and
        DuckDB-parsed dates where the query needs them."""
        cells = list(self.cells.values())
        c = ["__row"] + [f"{x.raw} AS r{x.i}" for x in cells]
        c += [f"{x.date} AS d{x.i}" for x in cells if x.date is not None]
        c += [f"{x.stamp} AS s{x.i}" for x in cells if x.stamp is not None]
        m = ["*"]
        for x in cells:
            r = f"r{x.i}"
            if "t" in x.needs:
                m.append(f"{_clean(r, self.mapping.missing)} AS t{x.i}")
            if "n" in x.needs:  # most cells are plain numbers: only the others are trimmed
                # DuckDB reads what Python's float() reads, and also 1_000, which is no number here
                fast = f"TRY_CAST({r} AS DOUBLE) IS NOT NULL AND NOT contains({r}, '_'){self._not_marker(r)}"
                slow = _clean(r, self.mapping.missing)
                m.append(f"CASE WHEN {fast} THEN {_finite(r)} "
                         f"ELSE (CASE WHEN regexp_full_match({slow}, {_lit(_NUMBER)}) THEN {_finite(slow)} END) END AS n{x.i}")  # fmt: skip
                m.append(f"CASE WHEN {fast} THEN false ELSE {slow} IS NULL END AS b{x.i}")
        m += [f"{sql} AS df{i}" for i, sql in self.fast_dates.items()]
        return f"WITH c AS (SELECT {', '.join(c)} FROM base), m AS (SELECT {', '.join(m)} FROM c) "

    def _resolve_lookups(self) -> None:
        """One scan for the distinct keys of every lookup; each is resolved in Python."""
        if not self.lookups:
            return
        items = list(self.lookups.items())
        # NULL and '' are one key (the tables are joined on the cells with NULL written as '')
        cols = [f"coalesce({key}, '') AS g_{name}_{j}" for name, lk in items for j, key in enumerate(lk.keys)]
        sets = ", ".join(
            "(" + ", ".join(f"g_{name}_{j}" for j in range(len(lk.keys))) + ")" for name, lk in items
        )
        grouped = ", ".join(f"GROUPING(g_{name}_0) AS in_{name}" for name, _ in items)
        keys = ", ".join(f"g_{name}_{j}" for name, lk in items for j in range(len(lk.keys)))
        found = self._arrow(
            f"{self._layers()} SELECT {keys}, {grouped}, count(*) AS rows FROM (SELECT {', '.join(cols)} FROM m) "
            f"GROUP BY GROUPING SETS ({sets})"
        ).to_pylist()
        for name, lk in items:
            width = len(lk.keys)
            mine = [row for row in found if row[f"in_{name}"] == 0]
            distinct = [tuple(row[f"g_{name}_{j}"] for j in range(width)) for row in mine]
            self.counts[name] = {
                key[0] if width == 1 else key: row["rows"] for key, row in zip(distinct, mine, strict=True)
            }
            rows = [(*key, *lk.resolve(*key)) for key in distinct]
            frame = pd.DataFrame(rows, columns=[*(f"k{j}" for j in range(width)), *lk.out], dtype=object)
            typed = [f"CAST(k{j} AS VARCHAR) AS k{j}" for j in range(width)]
            typed += [f"CAST({col} AS {kind}) AS {col}" for col, kind in lk.out.items()]
            self.con.register("__lookup", frame)
            self.con.execute(f"CREATE TABLE lk_{name} AS SELECT {', '.join(typed)} FROM __lookup")
            self.con.unregister("__lookup")

    def _arrow(self, sql: str) -> Any:
        try:
            return self.con.sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            raise self._failure(exc) from None

    def _failure(self, exc: duckdb.Error) -> InputFileError:
        """The error for a query that failed on the file's rows: an expression that fails on a
        row (named by its first such row), or the file itself."""
        path = self.table.path
        for (kind, key), c in self.cells.items():
            if kind != "sql":
                continue
            lo, hi = self.table.first_row, self.table.first_row + self.table.n - 1

            def fails(a: int, b: int, raw: str = c.raw) -> str | None:
                try:
                    self.con.execute(
                        f"SELECT count({raw}) FROM base WHERE __row BETWEEN {a} AND {b}"
                    ).fetchall()
                except duckdb.Error as err:
                    return _first_line(err)
                return None

            message = fails(lo, hi)
            if message is None:
                continue
            while lo < hi:  # the first row it fails on
                mid = (lo + hi) // 2
                if fails(lo, mid) is not None:
                    hi = mid
                else:
                    lo = mid + 1
            message = fails(lo, lo) or message
            return InputFileError(
                f"the expression of {key} in {self.mapping_path} fails on this row ({message})",
                f"{path}:{lo}",
                "use TRY_CAST or coalesce in the expression so that a bad cell becomes a row problem, or fix the cell",
            )
        return InputFileError(
            f"cannot be imported ({_first_line(exc)})", str(path), "check the file and the mapping"
        )

    def run(self) -> Batch:
        where = self.build()
        self._resolve_lookups()
        joins = " ".join(lk.join(name) for name, lk in self.lookups.items())
        constants = f"{_lit(self.mapping.source)} AS source, {_lit(self.mapping.country)} AS country"
        values = ", ".join([*self.select, *self._masks()])
        ev = self._arrow(  # the constants are added after the sort, which need not move them
            f"SELECT {constants}, * FROM ({self._layers()} SELECT m.__row, {values} FROM m {joins} ORDER BY m.__row)"
        )
        self.con.register("ev", ev)
        n, first = self.table.n, self.table.first_row
        problems = Problems(np.arange(first, first + n), list(self.table.header))
        self._report(ev, problems)
        self.con.execute("DROP VIEW base; DROP TABLE raw")  # the file's cells are not needed any more
        events = self._events(ev)
        self._locate(events)
        perps, unresolved = self._perpetrators()
        return Batch(
            "csv", self.mapping.source, events, perps, n, problems, Counter(), unresolved, where=where
        )

    def _report(self, ev: Any, problems: Problems) -> None:
        """Add the rows each check flags, with their values, in the order of the checks."""
        masks = [np.bitwise_or.reduce(ev[f"__p{g}"].to_numpy()) for g in range((len(self.checks) + 61) // 62)]
        raised = [(k, c) for k, c in enumerate(self.checks) if (int(masks[k // 62]) >> (k % 62)) & 1]
        if not raised:
            return
        values = ", ".join(
            f"{self._bit(k)} AS f{j}, CAST({c.value} AS VARCHAR) AS x{j}" for j, (k, c) in enumerate(raised)
        )
        keyed = "".join(f", {c.fix_by} AS y{j}" for j, (_, c) in enumerate(raised) if c.fix_by)
        any_mask = " OR ".join(f"__p{g} <> 0" for g in range(len(masks)))
        flagged = self._arrow(
            f"{self._layers()} SELECT e.__row, {values}{keyed} FROM (SELECT * FROM ev WHERE {any_mask}) e "
            "JOIN m USING (__row) ORDER BY e.__row"
        ).to_pandas()
        for j, (_, c) in enumerate(raised):
            part = flagged[flagged[f"f{j}"].to_numpy(dtype=bool)]
            rows = part["__row"].to_numpy(dtype=np.int64)
            shown = part[f"x{j}"].astype(object).where(part[f"x{j}"].notna(), "").to_numpy(dtype=object)
            if c.fix_by is None or c.fixes is None:
                problems.items.append((rows, c.label, shown, c.message, c.fix))
                continue
            keys = part[f"y{j}"].astype(object).where(part[f"y{j}"].notna(), "|").to_numpy(dtype=object)
            for key in pd.unique(keys):
                same = keys == key
                state, _, name = str(key).partition("|")
                problems.items.append(
                    (rows[same], c.label, shown[same], c.message, c.fixes((state, name.strip())))
                )

    def _events(self, ev: Any) -> pd.DataFrame:
        """The canonical event frame (file order) from the query's result."""
        n = ev.num_rows
        names = ["__row", "source", "source_id", "date_start", "date_end", "country", "state_code", "mun_code",
                 "latitude", "longitude", "category", "deaths_best", "deaths_low", "deaths_high", *VICTIM_COLUMNS,
                 "torture_display", "reliability", "notes"]  # fmt: skip
        if self.mapping.columns.revision is not None:
            names.append("revision")
        # one block per column: numbers without gaps are not copied
        frame = ev.select(names).to_pandas(split_blocks=True).rename(columns={"__row": ROW})
        frame.insert(
            10,
            "location_precision",
            pd.arrays.IntegerArray(np.zeros(n, dtype=np.int8), np.ones(n, dtype=bool)),
        )
        return frame

    def _locate(self, events: pd.DataFrame) -> None:
        """Place rows whose names do not resolve by their coordinates: a point fills an unknown
        state, and gives the municipality when it lies in the row's state."""
        cols = self.mapping.columns
        if cols.latitude is None or cols.longitude is None:
            return
        lat, lon = events["latitude"].to_numpy(dtype=float), events["longitude"].to_numpy(dtype=float)
        state = events["state_code"].to_numpy(dtype=object, na_value=None).copy()
        mun = events["mun_code"].to_numpy(dtype=object, na_value=None).copy()
        need = (pd.isna(mun) | pd.isna(state)) & np.isfinite(lat) & np.isfinite(lon)
        if not need.any():
            return
        for i, code in zip(np.flatnonzero(need), geography().locate(lat[need], lon[need]), strict=True):
            if code is None:
                continue
            if state[i] is None:
                state[i] = code[:2]
            if code[:2] == state[i]:
                mun[i] = code
        events["state_code"] = pd.array(state, dtype="str")
        events["mun_code"] = pd.array(mun, dtype="str")

    def _perpetrators(self) -> tuple[pd.DataFrame, Counter]:
        """The perpetrator rows: each distinct cell's names resolved once, joined to the rows."""
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in [ROW, *PERPETRATOR_COLUMNS]})
        if self.mapping.columns.perpetrator is None or not self.perp_parts:
            return empty, Counter()
        resolved = {name: self.registry.resolve(name) for name in {p[1] for p in self.perp_parts}}
        # per cell and actor: explicit shares add up; names without one share the cell's probability
        rows: dict[tuple[str, str], list] = {}
        for cell, name, prob, k in self.perp_parts:
            m = resolved[name]
            row = rows.setdefault(
                (cell, m.raw_name), [cell, m.raw_name, m.org_id, m.faction_id, m.faction, None, 0.0]
            )
            if math.isnan(prob):
                row[6] += 1.0 / k
            else:
                row[5] = (row[5] or 0.0) + prob
        table = pd.DataFrame(list(rows.values()), columns=["cell", "part", "org_id", "faction_id", "faction", "share", "frac"],
                             dtype=object)  # fmt: skip
        self.con.register("__perps", table)
        self.con.execute(
            "CREATE TABLE perps AS SELECT CAST(cell AS VARCHAR) AS cell, CAST(part AS VARCHAR) AS part, "
            "CAST(org_id AS VARCHAR) AS org_id, CAST(faction_id AS VARCHAR) AS faction_id, "
            "CAST(faction AS VARCHAR) AS faction, CAST(share AS DOUBLE) AS share, CAST(frac AS DOUBLE) AS frac FROM __perps"
        )
        frame = self._arrow(
            f"SELECT e.__row AS {ROW}, {_lit(self.mapping.source)} AS source, e.source_id, p.part AS raw_name, "
            "p.org_id, p.faction_id, p.faction, coalesce(p.share, e.__pbase * p.frac) AS probability "
            "FROM ev e JOIN perps p ON p.cell = e.__perp"
        ).to_pandas()
        seen = self.counts.get("perp", {})
        unresolved: Counter = Counter()
        for (cell, part), row in rows.items():
            if row[2] is None:
                unresolved[part] += seen.get(cell, 0)
        return frame, unresolved


def _python_dates(fmt: str | None, markers: frozenset[str]) -> Callable[[object], tuple]:
    """Parse one raw date cell DuckDB did not read, as :func:`tabular.parse_date` does."""

    def resolve(cell: object) -> tuple:
        text = _py_clean(cell, markers)
        if text is None:
            return (None, True)
        parsed = parse_date(
            pd.Series([text], dtype=object), "d", Problems(np.arange(1), ["d"]), fmt=fmt, required=False
        )
        day = parsed.iloc[0]
        return (None if pd.isna(day) else day.strftime("%Y-%m-%d"), False)

    return resolve


@cache
def _duckdb_format(fmt: str) -> bool:
    """Whether DuckDB's strptime understands ``fmt`` (else Python parses every date)."""
    with _sandbox() as con:
        try:
            con.execute("SELECT TRY_STRPTIME('2000-01-01', ?)", [fmt]).fetchall()
        except duckdb.Error:
            return False
    return True


def parse(path: str | Path, registry: Registry, *, mapping: Mapping, mapping_path: str = "mapping") -> Batch:
    """Read a CSV or Parquet file through ``mapping`` into a :class:`Batch`.

    The mapping's expressions are checked, and bound against the file's header, before any row
    is read; DuckDB then reads the file (in a database that may read no other file) and computes
    every value and every check, and only the rows with problems come back to Python to be
    reported, located by row (the header is row 1 of a CSV; a Parquet file's first record is
    row 1) and column.
    """
    path = Path(path)
    fmt = mapping.format or ("parquet" if path.suffix.lower() in _PARQUET_SUFFIXES else "csv")
    check_expressions(mapping, mapping_path)
    kinds: dict[str, str] = {}

    def validate(table: _Table) -> None:
        kinds.update(_validate(table, mapping, mapping_path))

    with _sandbox(os.path.abspath(path)) as con:
        table = _open(path, fmt, mapping, con, validate)
        if table.n == 0:
            raise InputFileError(
                "file has a header but no rows", str(path), "export the data again with its rows"
            )
        con.execute(
            f"CREATE VIEW base AS SELECT rowid + {table.first_row} AS __row, *, {_aliases(table)} FROM raw"
        )
        batch = _Import(table, mapping, mapping_path, registry, kinds).run()
    # DuckDB's memory is given back before the checks every importer shares
    check(batch.events, batch.perpetrators, batch.problems, batch.where)
    return batch


def _parse_cell(cell: str, sep: str, psep: str, unknown: set[str]) -> list[tuple[str, float | None]] | None:
    """Names and explicit shares in one perpetrator cell; None when only some names have a share."""
    if cell.casefold() in unknown:
        return []
    parsed, unknown_share = [], False
    for part in [p.strip() for p in cell.split(sep)] if sep else [cell]:
        name, prob = part, None
        if psep and psep in part:
            head, _, tail = part.rpartition(psep)
            try:
                prob = float(tail)
                name = head.strip()
            except ValueError:
                prob = None
        if not name or name.casefold() in unknown:
            # "desconocido:0.4": that share stays unknown, no perpetrator row
            unknown_share |= prob is not None
            continue
        parsed.append((name, prob))
    given = [p for _, p in parsed if p is not None]
    if parsed and (given or unknown_share) and len(given) != len(parsed):
        return None
    return parsed
