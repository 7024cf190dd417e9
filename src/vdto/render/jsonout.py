"""Frames and values as plain JSON: the one serialiser of vdto's published and reported files.

* :func:`plain`: one value as a JSON value (NaN, infinity and missing -> ``None``, NumPy scalars
  -> Python numbers, dates -> ISO text, arrays and tuples -> lists);
* :func:`records`: a data frame as JSON-ready rows (what ``scorecard.json`` and ``report.json``
  hold), optionally with floats rounded;
* :func:`default`: the ``default=`` of :func:`json.dumps` for the values above;
* :func:`script_json`: JSON that is safe inside an HTML ``<script>`` element.

Dates are written as ISO 8601: a date as ``2023-01-01``, a date and time (a ``Timestamp``)
to the millisecond, ``2023-01-01T00:00:00.000``, as pandas' ``to_json`` writes them.

Examples
--------
>>> import numpy as np, pandas as pd
>>> records(pd.DataFrame({"a": [1.23456789, np.nan], "b": [np.int64(3), 4], "c": [["x"], ()]}), digits=3)
[{'a': 1.235, 'b': 3, 'c': ['x']}, {'a': None, 'b': 4, 'c': []}]
>>> script_json({"name": "</script><b>"})
'{"name":"\\\\u003c/script>\\\\u003cb>"}'
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np


def plain(x: Any, digits: int | None = None) -> Any:
    """``x`` as a plain JSON value; floats rounded to ``digits`` decimals when given.

    Anything else (a string, ``None``, an object JSON cannot hold) is returned as it is.
    """
    if x is None or isinstance(x, str | bool):
        return x
    if isinstance(x, np.generic):
        if isinstance(x, np.datetime64):
            return None if np.isnat(x) else plain(x.astype("datetime64[ms]").item())
        if isinstance(x, np.timedelta64):
            return None if np.isnat(x) else str(x)
        x = x.item()
        if isinstance(x, str | bool):
            return x
    if isinstance(x, float):
        if not math.isfinite(x):
            return None
        return round(x, digits) if digits is not None else x
    if isinstance(x, int):
        return x
    if isinstance(x, datetime):
        if x != x:  # pd.NaT is a datetime that is not equal to itself
            return None
        return x.isoformat(timespec="milliseconds")
    if isinstance(x, date):
        return x.isoformat()
    if isinstance(x, timedelta):
        return x.isoformat() if hasattr(x, "isoformat") else str(x)
    if isinstance(x, list | tuple | np.ndarray):
        return [plain(v, digits) for v in x]
    if isinstance(x, Mapping):
        return {str(k): plain(v, digits) for k, v in x.items()}
    if _is_na(x):
        return None
    return x


def _is_na(x: Any) -> bool:
    try:
        import pandas as pd

        return x is pd.NA or x is pd.NaT
    except ImportError:  # pragma: no cover - pandas is a dependency
        return False


def utc_stamp(value: Any) -> str | None:
    """A date as ``2023-01-01``, a date and time as UTC to the second (``2023-01-01T12:00:00Z``);
    missing stays None (how the HTTP API writes times)."""
    if value is None or isinstance(value, str):
        return value
    if _is_na(value) or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _utc_times(frame):
    """``frame`` with every date-time column as :func:`utc_stamp` text (a column holding only
    midnights as plain dates)."""
    import pandas as pd

    frame = frame.copy()
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            values = frame[col]
            known = values.dropna()
            dates_only = bool((known == known.dt.normalize()).all())
            as_text = (lambda v: v.date().isoformat()) if dates_only else utc_stamp
            frame[col] = values.map(lambda v, f=as_text: None if pd.isna(v) else f(v))
    return frame


def records(frame, *, digits: int | None = None, utc: bool = False) -> list[dict[str, Any]]:
    """The rows of a data frame as JSON-ready dicts (column name -> :func:`plain` value).

    ``digits`` rounds every float (``scorecard.json`` keeps 6 decimals, ``report.json`` 10);
    ``utc`` writes date-time columns as :func:`utc_stamp` does (the HTTP API's times).
    """
    if utc:
        frame = _utc_times(frame)
    columns = [str(c) for c in frame.columns]
    return [
        {c: plain(v, digits) for c, v in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def default(x: Any) -> Any:
    """For ``json.dumps(..., default=default)``: NumPy values, dates, arrays as :func:`plain` does;
    any other object as its ``str``."""
    value = plain(x)
    return str(x) if value is x else value


def script_json(obj: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON (UTF-8 characters as they are, no NaN) that cannot end the ``<script>``
    element it is put in: every ``<`` is written ``\\u003c``, which means the same in JSON."""
    text = json.dumps(
        obj, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys, allow_nan=False, default=default
    )
    return text.replace("<", "\\u003c")


__all__ = ["default", "plain", "records", "script_json", "utc_stamp"]
