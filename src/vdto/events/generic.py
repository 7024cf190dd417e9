"""Importer for any CSV or Parquet file, driven by a TOML column-mapping file.

An agency's own spreadsheet comes in without code: the mapping says which column holds which
canonical field, how category values translate, which columns count victims of each kind and
where the perpetrator is. See docs/schema.md ("Generic importer") for the full format.

Example mapping::

    source = "fiscalia-gto"
    date_format = "%d/%m/%Y"

    [columns]
    source_id = "folio"
    date = "fecha"
    state = "estado"
    municipality = "municipio"
    category = "tipo"
    deaths = "muertos"
    perpetrator = "grupo"

    [categories]
    "Ejecución" = "homicide"
    "Enfrentamiento" = "armed_clash"

    [victims]
    civilian = "civiles"
    police = "policias"
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections import Counter
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from vdto.errors import ConfigError, InputFileError
from vdto.events.canonical import Batch, check, new_events, resolve_perpetrators
from vdto.events.tabular import (
    ROW,
    Problems,
    blank,
    parse_date,
    parse_number,
    read_csv,
    read_parquet,
)
from vdto.geography import geography
from vdto.orgs import Registry
from vdto.schema import PERPETRATOR_COLUMNS, Category, VictimKind


class Columns(BaseModel):
    """Canonical field -> column name in the file."""

    model_config = ConfigDict(extra="forbid")

    source_id: str
    date: str
    date_end: str | None = None
    state: str | None = None
    municipality: str | None = None
    latitude: str | None = None
    longitude: str | None = None
    category: str | None = None
    deaths: str | None = None
    deaths_low: str | None = None
    deaths_high: str | None = None
    perpetrator: str | None = None
    perpetrator_probability: str | None = None
    torture_display: str | None = None
    reliability: str | None = None
    notes: str | None = None


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
    victims: dict[VictimKind, str] = {}
    perpetrators: Perpetrators = Perpetrators()
    default_category: Category | None = None
    true_values: list[str] = ["1", "true", "yes", "si", "sí", "y", "x"]

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
            try:
                pd.to_datetime(pd.Series(["2000-01-01"]), format=v, errors="coerce")
            except ValueError as exc:
                raise ValueError(f"is not a date format ({exc})") from None
        return v


def load_mapping(path: str | Path) -> tuple[Mapping, str]:
    """Load and validate a mapping TOML; return it and the SHA-256 of its canonical JSON."""
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
    digest = hashlib.sha256(
        json.dumps(mapping.model_dump(mode="json"), sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return mapping, digest


def parse(path: str | Path, registry: Registry, *, mapping: Mapping, mapping_path: str = "mapping") -> Batch:
    """Read a CSV or Parquet file through ``mapping`` into a :class:`Batch`."""
    path = Path(path)
    fmt = mapping.format or ("parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv")
    frame = (
        read_parquet(path)
        if fmt == "parquet"
        else read_csv(path, encoding=mapping.encoding, delimiter=mapping.delimiter)
    )
    cols = mapping.columns
    # Parquet date and timestamp columns are typed: read_parquet gives them as ISO text
    typed_dates = _parquet_date_columns(path) if fmt == "parquet" else set()
    wanted = {k: v for k, v in cols.model_dump().items() if v is not None}
    wanted |= {f"victims.{k.value}": v for k, v in mapping.victims.items()}
    for key, column in wanted.items():
        if column not in frame.columns:
            raise InputFileError(
                f"missing column {column!r} (mapped by columns.{key} in {mapping_path})"
                if "." not in key
                else f"missing column {column!r} (mapped by {key} in {mapping_path})",
                f"{path}:1",
                "fix the column name in the mapping or in the file's header",
            )
    if frame.empty:
        raise InputFileError(
            "file has a header but no rows", str(path), "export the data again with its rows"
        )
    problems = Problems(frame[ROW].to_numpy(), list(frame.columns))
    n = len(frame)

    def number(
        key: str | None, integer: bool, minimum: float | None = 0, required: bool = False
    ) -> np.ndarray | None:
        return (
            None
            if key is None
            else parse_number(frame[key], key, problems, integer=integer, minimum=minimum, required=required)
        )

    def column_of(key: str, integer: bool, required: bool) -> np.ndarray:
        """A mapped numeric column (``number`` of a key that is there)."""
        return parse_number(frame[key], key, problems, integer=integer, minimum=0, required=required)

    def date_format(column: str) -> str | None:
        return None if column in typed_dates else mapping.date_format

    start = parse_date(frame[cols.date], cols.date, problems, fmt=date_format(cols.date))
    end = (
        parse_date(
            frame[cols.date_end], cols.date_end, problems, fmt=date_format(cols.date_end), required=False
        )
        if cols.date_end
        else start
    )
    end = end.where(end.notna(), start)

    if cols.category:
        raw_cat = frame[cols.category].str.strip()
        table = {k.casefold(): v.value for k, v in mapping.categories.items()} | {
            c.value: c.value for c in Category
        }
        category = raw_cat.str.casefold().map(table)
        if mapping.default_category is not None:
            category = category.where(~blank(raw_cat), mapping.default_category.value)
        problems.add(
            category.isna().to_numpy(),
            cols.category,
            raw_cat,
            "is not a known category",
            f"add it under [categories] in {mapping_path} (values: {', '.join(c.value for c in Category)})",
        )
        category = category.to_numpy(dtype=object)
    else:
        assert mapping.default_category is not None  # checked when the mapping was loaded
        category = np.full(n, mapping.default_category.value, dtype=object)

    victims = {f"victims_{k.value}": np.zeros(n) for k in VictimKind}
    for kind, column in mapping.victims.items():
        victims[f"victims_{kind.value}"] = np.nan_to_num(column_of(column, True, required=False))
    total_victims = sum(victims.values())
    if cols.deaths:
        deaths = np.nan_to_num(column_of(cols.deaths, True, required=True))
    else:  # victims count as deaths except for kidnappings and disappearances
        nonfatal = np.isin(category, [Category.KIDNAPPING.value, Category.DISAPPEARANCE.value])
        deaths = np.where(nonfatal, 0, total_victims)
    if not mapping.victims:
        victims["victims_unknown"] = deaths.copy()
    low = number(cols.deaths_low, True)
    high = number(cols.deaths_high, True)
    low = deaths if low is None else np.where(np.isfinite(low), low, deaths)
    high = deaths if high is None else np.where(np.isfinite(high), high, deaths)

    geo = geography()
    state = geo.state_codes(frame[cols.state]) if cols.state else pd.Series([None] * n, dtype=object)
    if cols.state:
        problems.add(
            state.isna().to_numpy() & ~blank(frame[cols.state]),
            cols.state,
            frame[cols.state],
            "is not a Mexican state name or INEGI code",
            "use the state's name (e.g. Guanajuato) or its code 01..32",
        )
    lat = number(cols.latitude, False, None)
    lon = number(cols.longitude, False, None)
    if cols.municipality:
        mun = geo.mun_codes(state, frame[cols.municipality])
        problems.add(
            mun.isna().to_numpy() & ~blank(frame[cols.municipality]) & state.notna().to_numpy(),
            cols.municipality,
            frame[cols.municipality],
            "is not a municipality of that state",
            "use the INEGI name or 5-digit code",
        )
    else:
        mun = pd.Series([None] * n, dtype=object)
    if lat is not None and lon is not None:
        need = (mun.isna() | state.isna()).to_numpy() & np.isfinite(lat) & np.isfinite(lon)
        if need.any():
            found = pd.Series(geo.locate(lat[need], lon[need]), index=np.flatnonzero(need), dtype=object)
            fill_state = state.isna().to_numpy()[need]
            state.iloc[found.index[fill_state]] = found[fill_state].str[:2].to_numpy()
            ok = found.notna().to_numpy() & (found.str[:2].to_numpy() == state.iloc[found.index].to_numpy())
            mun.iloc[found.index[ok]] = found[ok].to_numpy()

    truthy = {v.casefold() for v in mapping.true_values}
    torture = (
        frame[cols.torture_display].str.strip().str.casefold().isin(truthy).to_numpy()
        if cols.torture_display
        else False
    )
    reliability = number(cols.reliability, False, None) if cols.reliability else None
    source_id = frame[cols.source_id].str.strip()
    events = new_events(
        frame[ROW].to_numpy(), mapping.source, source_id,
        date_start=start, date_end=end, country=mapping.country,
        state_code=state.to_numpy(dtype=object), mun_code=mun.to_numpy(dtype=object),
        latitude=lat if lat is not None else np.full(n, np.nan), longitude=lon if lon is not None else np.full(n, np.nan),
        category=category, deaths_best=deaths, deaths_low=low, deaths_high=high, torture_display=torture,
        reliability=np.where(np.isfinite(reliability), reliability, 1.0) if reliability is not None else 1.0,
        notes=frame[cols.notes].to_numpy(dtype=object) if cols.notes else None, **victims,
    )  # fmt: skip

    perps, unresolved = _empty_perps(), Counter[str]()
    if cols.perpetrator:
        raw = _split_perpetrators(frame, source_id, mapping, cols, problems)
        if len(raw):
            perps, unresolved = resolve_perpetrators(raw.assign(source=mapping.source), registry)

    where = {
        "source_id": cols.source_id, "date_start": cols.date, "date_end": cols.date_end or cols.date, "category": cols.category or "category",
        "deaths_best": cols.deaths or "deaths", "deaths_low": cols.deaths_low or cols.deaths or "deaths",
        "deaths_high": cols.deaths_high or cols.deaths or "deaths", "latitude": cols.latitude or "latitude",
        "longitude": cols.longitude or "longitude", "reliability": cols.reliability or "reliability",
        "probability": cols.perpetrator_probability or cols.perpetrator or "perpetrator", "state_code": cols.state or "state",
    }  # fmt: skip
    check(events, perps, problems, where)
    return Batch("csv", mapping.source, events, perps, n, problems, Counter(), unresolved, where=where)


def _parquet_date_columns(path: Path) -> set[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    return {f.name for f in pq.read_schema(path) if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)}


def _empty_perps() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in [ROW, *PERPETRATOR_COLUMNS]})


def _split_perpetrators(
    frame: pd.DataFrame, source_id: pd.Series, mapping: Mapping, cols: Columns, problems: Problems
) -> pd.DataFrame:
    """Turn the perpetrator cell(s) into rows of (ROW, source_id, raw_name, probability)."""
    sep, psep = mapping.perpetrators.separator, mapping.perpetrators.probability_separator
    unknown = {v.casefold() for v in mapping.perpetrators.unknown_values}
    cell_prob = None
    if cols.perpetrator_probability:
        cell_prob = parse_number(
            frame[cols.perpetrator_probability],
            cols.perpetrator_probability,
            problems,
            integer=False,
            minimum=0,
            required=False,
        )
    assert cols.perpetrator is not None  # only called when perpetrators are mapped
    text = frame[cols.perpetrator].fillna("").str.strip()
    # each distinct cell is parsed once (agency files repeat a few dozen values many times)
    parsed_cells = {cell: _parse_cell(cell, sep, psep, unknown) for cell in text.unique()}
    bad = text.map({c: p is None for c, p in parsed_cells.items()}).to_numpy(dtype=bool)
    problems.add(
        bad,
        cols.perpetrator,
        frame[cols.perpetrator],
        "gives probabilities for some names but not others",
        f"write every name as name{psep}probability, or none",
    )
    parts = pd.DataFrame(
        [
            (c, name, np.nan if prob is None else prob, len(p))
            for c, p in parsed_cells.items()
            if p
            for name, prob in p
        ],
        columns=["cell", "raw_name", "share", "k"],
    )
    base = cell_prob if cell_prob is not None else np.ones(len(frame))
    rows = pd.DataFrame(
        {
            ROW: frame[ROW].to_numpy(),
            "source_id": source_id.to_numpy(),
            "cell": text.to_numpy(),
            "base": np.where(np.isfinite(base), base, 1.0),
        }
    )
    out = rows.merge(parts, on="cell", how="inner", sort=False)
    out["probability"] = np.where(out["share"].isna(), out["base"] / out["k"], out["share"])
    return out[[ROW, "source_id", "raw_name", "probability"]]


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
