"""The same incident reported by two sources: probabilistic matching across sources.

One agency's data may hold the same killing twice: once from UCDP GED, once from its own
register (or from ACLED). :func:`find_duplicates` scores every candidate pair of events from
different sources with a Fellegi-Sunter model (Fellegi & Sunter 1969) whose m and u
probabilities are fixed in a TOML file (:class:`DuplicateRules`, bundled as
``vdto/data/rules/duplicates.toml``), run by Splink's DuckDB backend without any training,
so the same data and rules always give the same probabilities.

- **Candidate pairs** (blocking): same agency (the frames hold one agency's window), different
  sources, the same state (or both without one), date ranges at most ``date.window_days`` apart.
- **Evidence**: five comparisons (date, place, deaths, category, perpetrators), each with levels;
  a level's Bayes factor is ``m / u``, a level on a missing field is neutral (factor 1).
- **Probability**: ``log2 odds = log2(prior / (1 - prior)) + sum of log2 Bayes factors``.
- **One-to-one**: an event is matched to at most one event of each other source: pairs are
  taken greedily by probability (highest first; ties by the smaller date distance, then the
  sources and ids in order).
- **Which copy counts**: the copy from the source earlier in ``prefer`` counts in full; the
  other survives with probability ``1 - p`` (``prod(1 - p)`` when it matches several events of
  preferred sources), for pairs with ``p >= count_from``. Scores weigh each event by its
  survival (see :func:`vdto.scoring.engine.score`), so a duplicate counts once in expectation
  and the Monte Carlo samples whether it is one.

docs/duplicates.md explains every parameter and reports the measured precision and recall.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vdto.data import bundled
from vdto.errors import ConfigError
from vdto.schema import Category
from vdto.tomlfile import first_problem

DOCS = "docs/duplicates.md"
#: The comparisons, in the order the evidence lists them.
COMPARISONS: tuple[str, ...] = ("date", "place", "deaths", "category", "perpetrators")
#: What ``prefer`` writes for every source it does not name.
OTHERS = "*"
_EARTH_KM = 6371.0088


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Strict):
    """One level of a comparison: ``m`` = P(level | same incident), ``u`` = P(level | not)."""

    m: float = Field(gt=0, le=1)
    u: float = Field(gt=0, le=1)

    @property
    def bayes_factor(self) -> float:
        return self.m / self.u


def _level(m: float, u: float) -> Any:
    return Field(default_factory=lambda: Level(m=m, u=u))


class _Comparison(_Strict):
    """A comparison: its levels (fields of type :class:`Level`, in order) sum to 1 in m and in u."""

    def levels(self) -> dict[str, Level]:
        return {k: v for k, v in self if isinstance(v, Level)}

    @model_validator(mode="after")
    def _sums(self) -> Self:
        for which in ("m", "u"):
            total = sum(getattr(lv, which) for lv in self.levels().values())
            if abs(total - 1.0) > 1e-6:
                raise ValueError(
                    f"the levels' {which} probabilities sum to {total:g}, not 1 ({', '.join(self.levels())})"
                )
        return self


class DateRules(_Comparison):
    window_days: int = Field(3, ge=0, le=366)
    same_day: Level = _level(0.60, 0.14)
    within_1_day: Level = _level(0.25, 0.29)
    ranges_overlap: Level = _level(0.10, 0.10)
    other: Level = _level(0.05, 0.47)


class PlaceRules(_Comparison):
    max_point_precision: int = Field(3, ge=1, le=7)
    near_km: float = Field(25.0, gt=0)
    same_municipality: Level = _level(0.80, 0.12)
    near: Level = _level(0.12, 0.18)
    other: Level = _level(0.08, 0.70)


class DeathRules(_Comparison):
    close_deaths: int = Field(1, ge=0)
    close_share: float = Field(0.25, ge=0, le=1)
    equal: Level = _level(0.60, 0.35)
    close: Level = _level(0.30, 0.25)
    other: Level = _level(0.10, 0.40)


_LETHAL = [
    "homicide",
    "massacre",
    "armed_clash",
    "attack_civilians",
    "attack_security_forces",
    "attack_official",
    "attack_journalist",
    "torture_display",
]


class CategoryRules(_Comparison):
    groups: tuple[tuple[str, ...], ...] = (tuple(_LETHAL), ("kidnapping", "disappearance"))
    same: Level = _level(0.50, 0.45)
    compatible: Level = _level(0.45, 0.40)
    other: Level = _level(0.05, 0.15)

    @model_validator(mode="after")
    def _known(self) -> Self:
        known = {c.value for c in Category}
        seen: set[str] = set()
        for group in self.groups:
            for cat in group:
                if cat not in known:
                    raise ValueError(
                        f"unknown category {cat!r} in groups (known: {', '.join(sorted(known))})"
                    )
                if cat in seen:
                    raise ValueError(f"category {cat!r} is in two groups")
                seen.add(cat)
        return self


class PerpetratorRules(_Comparison):
    overlap: Level = _level(0.70, 0.30)
    other: Level = _level(0.30, 0.70)


class DuplicateRules(_Strict):
    """The matching rules (see ``vdto/data/rules/duplicates.toml`` and docs/duplicates.md).

    Examples
    --------
    >>> r = DuplicateRules.default()
    >>> r.name, r.prior, r.date.window_days, r.prefer
    ('default-v1', 0.1, 3, ('*', 'ucdp-ged', 'acled'))
    >>> r.reversed().prefer
    ('acled', 'ucdp-ged', '*')
    >>> round(r.place.same_municipality.bayes_factor, 3)
    6.667
    """

    name: str = "default-v1"
    version: int = Field(1, ge=1)
    description: str = "Cross-source duplicates: date, place, deaths, category and perpetrators"
    prior: float = Field(0.1, gt=0, lt=1)
    threshold: float = Field(0.5, gt=0, le=1)
    count_from: float = Field(0.2, gt=0, le=1)
    prefer: tuple[str, ...] = (OTHERS, "ucdp-ged", "acled")
    date: DateRules = DateRules()
    place: PlaceRules = PlaceRules()
    deaths: DeathRules = DeathRules()
    category: CategoryRules = CategoryRules()
    perpetrators: PerpetratorRules = PerpetratorRules()

    @model_validator(mode="after")
    def _prefer(self) -> Self:
        if any(not p.strip() for p in self.prefer):
            raise ValueError("prefer holds an empty source name")
        if len(set(self.prefer)) != len(self.prefer):
            raise ValueError("prefer names a source twice")
        return self

    def canonical_json(self) -> str:
        """The rules as canonical JSON: sorted keys, no whitespace (what the hash covers)."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def reversed(self) -> DuplicateRules:
        """The same rules with ``prefer`` reversed (the sensitivity check of docs/duplicates.md)."""
        return self.model_copy(update={"prefer": tuple(reversed(self.prefer))})

    def with_prefer(self, prefer: list[str] | tuple[str, ...]) -> DuplicateRules:
        """The same rules with another ``prefer`` order (validated)."""
        return DuplicateRules.model_validate({**self.model_dump(), "prefer": tuple(prefer)})

    def order(self, sources: list[str] | set[str]) -> list[str]:
        """Every source of ``sources`` from the most to the least preferred (``*`` expanded to the
        sources not named, alphabetically; without ``*`` they come last)."""
        named = [p for p in self.prefer if p != OTHERS]
        rest = sorted(set(sources) - set(named))
        prefer = self.prefer if OTHERS in self.prefer else (*self.prefer, OTHERS)
        out: list[str] = []
        for p in prefer:
            out.extend(rest if p == OTHERS else [p])
        return out

    @classmethod
    def default(cls) -> DuplicateRules:
        """The bundled rules (``default-v1``)."""
        return load_rules(None)


def load_rules(path: str | Path | None = None, param: str = "rules") -> DuplicateRules:
    """Load and validate a rules TOML file (``None`` or ``"default"`` for the bundled one).

    Every error is one line naming the file and the key, e.g.
    ``my.toml: date.window_days: Input should be greater than or equal to 0 (got -1); ...``.
    """
    if path is None or str(path) == "default":
        origin, text = "default", bundled("duplicates").read_text(encoding="utf-8")
    else:
        origin = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                "rules file not found", origin, "check the path given as {" + param + "}", mentions=(param,)
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the rules ({exc})", origin, "save it as UTF-8 text") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML ({exc})", origin, "fix the TOML syntax") from None
    try:
        return DuplicateRules.model_validate(raw)
    except ValidationError as exc:
        key, what = first_problem(exc)
        raise ConfigError(what, f"{origin}: {key}", f"see {DOCS} for the keys and their ranges") from None


# ------------------------------------------------------------------------------- the matching


@dataclass
class Duplicates:
    """What :func:`find_duplicates` found.

    ``pairs``: the one-to-one pairs (highest probability first), one row each: ``a`` and ``b``
    (row numbers of the events frame: ``a`` is the copy of the preferred source, which counts in
    full; ``b`` survives with ``1 - probability``), ``probability``, ``match_weight`` (log2 odds),
    ``days`` (days between the start dates), ``counted`` (``probability >= count_from``) and, per
    comparison, ``{name}_level`` and ``{name}_bf`` (its Bayes factor). ``survival``: per event, the
    probability that it is no duplicate of an event of a preferred source (1 for most).
    """

    pairs: pd.DataFrame
    survival: np.ndarray
    rules: DuplicateRules
    order: list[str]
    meta: dict = field(default_factory=dict)


def _pair_columns() -> list[str]:
    cols = ["a", "b", "probability", "match_weight", "days", "counted"]
    for c in COMPARISONS:
        cols += [f"{c}_level", f"{c}_bf"]
    return cols


def _records(events: pd.DataFrame, perps: pd.DataFrame, rules: DuplicateRules) -> pd.DataFrame:
    """One row per event with what the comparisons read (dates as day numbers)."""
    import pyarrow as pa

    n = len(events)
    day = np.datetime64("1970-01-01", "D")
    ds = (pd.to_datetime(events["date_start"]).to_numpy().astype("datetime64[D]") - day).astype(np.int64)
    de_raw = events["date_end"] if "date_end" in events else events["date_start"]
    de = (
        pd.to_datetime(de_raw.fillna(events["date_start"])).to_numpy().astype("datetime64[D]") - day
    ).astype(np.int64)
    state = events["state_code"] if "state_code" in events else pd.Series([None] * n)
    mun = events["mun_code"] if "mun_code" in events else pd.Series([None] * n)
    prec = (
        pd.to_numeric(events["location_precision"], errors="coerce").to_numpy(dtype=float)
        if "location_precision" in events
        else np.full(n, np.nan)
    )
    lat = pd.to_numeric(events.get("latitude", pd.Series(np.nan, index=events.index)), errors="coerce")
    lon = pd.to_numeric(events.get("longitude", pd.Series(np.nan, index=events.index)), errors="coerce")
    imprecise = np.isfinite(prec) & (prec > rules.place.max_point_precision)
    lat_v = np.where(imprecise, np.nan, lat.to_numpy(dtype=float))
    lon_v = np.where(imprecise | ~np.isfinite(lat_v), np.nan, lon.to_numpy(dtype=float))
    lat_v = np.where(np.isfinite(lon_v), lat_v, np.nan)
    group = {cat: i for i, g in enumerate(rules.category.groups) for cat in g}
    category = events["category"].astype(object).where(events["category"].notna(), None)
    cat_group = [group.get(c, -1 - i) if isinstance(c, str) else None for i, c in enumerate(category)]

    key = events["source"].astype(str) + "\x1f" + events["source_id"].astype(str)
    orgs: dict[str, list[str]] = {}
    if perps is not None and len(perps):
        known = perps[perps["org_id"].notna()]
        pkey = known["source"].astype(str) + "\x1f" + known["source_id"].astype(str)
        for k, org in zip(pkey.to_numpy(), known["org_id"].astype(str).to_numpy(), strict=True):
            orgs.setdefault(k, []).append(org)
    org_lists = [sorted(set(orgs.get(k, []))) for k in key.to_numpy()]

    def text(values: pd.Series) -> list[str | None]:
        return [v if isinstance(v, str) and v else None for v in values.astype(object)]

    deaths = pd.to_numeric(events["deaths_best"], errors="coerce").to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "unique_id": np.arange(n, dtype=np.int64),
            "source": events["source"].astype(str).to_numpy(dtype=object),
            "block": [s if s else "--" for s in text(state)],
            "ds": ds,
            "de": np.maximum(de, ds),
            "mun": pd.array(text(mun), dtype=pd.ArrowDtype(pa.string())),
            "lat": lat_v,
            "lon": lon_v,
            "deaths": deaths,
            "category": pd.array(list(category), dtype=pd.ArrowDtype(pa.string())),
            "cat_group": pd.array(cat_group, dtype="Int64"),
            "orgs": pd.array(org_lists, dtype=pd.ArrowDtype(pa.list_(pa.string()))),
        }
    )


def _km(a: str, b: str) -> str:
    """Great-circle distance in km between the points of ``a`` and ``b`` (haversine), as SQL."""
    return (
        f"2 * {_EARTH_KM} * asin(sqrt(pow(sin(radians(lat_{b} - lat_{a}) / 2), 2) + "
        f"cos(radians(lat_{a})) * cos(radians(lat_{b})) * pow(sin(radians(lon_{b} - lon_{a}) / 2), 2)))"
    )


def _conditions(rules: DuplicateRules) -> dict[str, tuple[str | None, dict[str, str | None]]]:
    """Each comparison's missing-value condition and levels, as SQL on the pair (``_l``/``_r``);
    None: no missing level, or the ELSE level."""
    p, k = rules.place, rules.deaths
    day = "ds_l = de_l AND ds_r = de_r"
    return {
        "date": (
            "ds_l IS NULL OR ds_r IS NULL",
            {
                "same_day": f"{day} AND ds_l = ds_r",
                "within_1_day": f"{day} AND abs(ds_l - ds_r) <= 1",
                "ranges_overlap": "ds_l <= de_r AND ds_r <= de_l",
                "other": None,
            },
        ),
        "place": (
            "(mun_l IS NULL OR mun_r IS NULL) AND (lat_l IS NULL OR lat_r IS NULL)",
            {
                "same_municipality": "mun_l = mun_r",
                "near": f"lat_l IS NOT NULL AND lat_r IS NOT NULL AND {_km('l', 'r')} <= {float(p.near_km)!r}",
                "other": None,
            },
        ),
        "deaths": (
            "deaths_l IS NULL OR deaths_r IS NULL",
            {
                "equal": "deaths_l = deaths_r",
                "close": f"abs(deaths_l - deaths_r) <= greatest({int(k.close_deaths)}, "
                f"{float(k.close_share)!r} * greatest(deaths_l, deaths_r))",
                "other": None,
            },
        ),
        "category": (
            "category_l IS NULL OR category_r IS NULL",
            {"same": "category_l = category_r", "compatible": "cat_group_l = cat_group_r", "other": None},
        ),
        "perpetrators": (
            "len(orgs_l) = 0 OR len(orgs_r) = 0",
            {"overlap": "len(list_intersect(orgs_l, orgs_r)) > 0", "other": None},
        ),
    }


def _splink_settings(rules: DuplicateRules) -> dict[str, Any]:
    """The Splink settings of ``rules``: fixed m/u, no training."""
    comparisons = []
    for name, (null, levels) in _conditions(rules).items():
        values = getattr(rules, name).levels()
        out: list[dict[str, Any]] = []
        if null is not None:
            out.append({"sql_condition": null, "label_for_charts": "missing", "is_null_level": True})
        for label, cond in levels.items():
            lv = values[label]
            out.append(
                {
                    "sql_condition": cond or "ELSE",
                    "label_for_charts": label,
                    "m_probability": lv.m,
                    "u_probability": lv.u,
                }
            )
        comparisons.append(
            {"output_column_name": name, "comparison_description": name, "comparison_levels": out}
        )
    w = int(rules.date.window_days)
    blocking = f"l.source <> r.source AND l.block = r.block AND l.ds <= r.de + {w} AND r.ds <= l.de + {w}"
    return {
        "link_type": "dedupe_only",
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": [blocking],
        "probability_two_random_records_match": rules.prior,
        "retain_matching_columns": True,  # the comparison vectors (gamma_*) come with them
        "retain_intermediate_calculation_columns": True,
    }


def _score_pairs(records: pd.DataFrame, rules: DuplicateRules, floor: float) -> pd.DataFrame:
    """Every candidate pair with ``probability >= floor``: ids, probability, weight, levels."""
    from splink import DuckDBAPI, Linker, SettingsCreator

    settings = SettingsCreator(**_splink_settings(rules))
    db = DuckDBAPI()
    linker = Linker(db.register(records), settings, log_level=logging.WARNING)
    found = linker.inference.predict(threshold_match_probability=floor).as_pandas_dataframe()
    out = pd.DataFrame(
        {
            "l": found["unique_id_l"].to_numpy(dtype=np.int64),
            "r": found["unique_id_r"].to_numpy(dtype=np.int64),
            "probability": found["match_probability"].to_numpy(dtype=float),
            "match_weight": found["match_weight"].to_numpy(dtype=float),
        }
    )
    for name, (_, levels) in _conditions(rules).items():
        labels = list(levels)
        gamma = found[f"gamma_{name}"].to_numpy(dtype=np.int64)
        # Splink numbers a comparison's levels from the first (len - 1) down to 0; missing is -1
        names = np.array(["missing", *reversed(labels)], dtype=object)
        out[f"{name}_level"] = names[np.clip(gamma, -1, len(labels) - 1) + 1]
    return out


def _one_to_one(pairs: pd.DataFrame, source: np.ndarray, ids: np.ndarray) -> pd.DataFrame:
    """Greedy one-to-one: highest probability first (ties: fewer days apart, then the
    preferred copy's source and id, then the other's); an event keeps at most one partner of
    each other source."""
    if pairs.empty:
        return pairs
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    order = np.lexsort(
        (ids[b], source[b], ids[a], source[a], pairs["days"].to_numpy(), -pairs["probability"].to_numpy())
    )
    taken: set[tuple[int, str]] = set()
    keep = []
    for i in order:
        ka, kb = (int(a[i]), str(source[b[i]])), (int(b[i]), str(source[a[i]]))
        if ka in taken or kb in taken:
            continue
        taken.update((ka, kb))
        keep.append(i)
    return pairs.iloc[keep].reset_index(drop=True)


def find_duplicates(
    events: pd.DataFrame,
    perps: pd.DataFrame | None,
    rules: DuplicateRules | None = None,
    *,
    min_probability: float | None = None,
) -> Duplicates:
    """Match one agency's events across sources (see the module docstring).

    ``events`` and ``perps`` are canonical frames (what :meth:`EventRepository.window` returns).
    ``pairs`` lists the one-to-one pairs from ``min_probability`` on (default: from the lower of
    ``rules.count_from`` and ``rules.threshold``); survival only ever uses pairs from
    ``rules.count_from`` on, whatever is listed. Events of a single source are never matched:
    their survival is 1.

    Examples
    --------
    >>> import pandas as pd
    >>> from datetime import date
    >>> ev = pd.DataFrame({"source": ["ucdp-ged", "fge"], "source_id": ["1", "A-7"],
    ...     "date_start": [date(2021, 5, 2), date(2021, 5, 3)], "date_end": [date(2021, 5, 2), date(2021, 5, 3)],
    ...     "state_code": ["11", "11"], "mun_code": ["11007", "11007"], "category": ["armed_clash", "homicide"],
    ...     "deaths_best": [3, 3]})
    >>> pp = pd.DataFrame({"source": ["ucdp-ged", "fge"], "source_id": ["1", "A-7"], "org_id": ["cjng", "cjng"]})
    >>> dup = find_duplicates(ev, pp)
    >>> dup.pairs[["a", "b", "date_level", "place_level", "perpetrators_level"]].to_dict("records")
    [{'a': 1, 'b': 0, 'date_level': 'within_1_day', 'place_level': 'same_municipality', 'perpetrators_level': 'overlap'}]
    >>> round(float(dup.pairs["probability"].iloc[0]), 3), dup.survival.round(3).tolist()
    (0.742, [0.258, 1.0])
    """
    rules = rules or DuplicateRules.default()
    events = events.reset_index(drop=True)
    floor = min(rules.count_from, rules.threshold if min_probability is None else min_probability)
    sources = sorted(pd.unique(events["source"].astype(str))) if len(events) else []
    order = [s for s in rules.order(sources) if s in set(sources)]
    survival = np.ones(len(events))
    pairs = pd.DataFrame(columns=_pair_columns())
    if len(sources) > 1:
        found = _score_pairs(_records(events, perps, rules), rules, floor)
        source = events["source"].astype(str).to_numpy(dtype=object)
        ids = events["source_id"].astype(str).to_numpy(dtype=object)
        rank = {s: i for i, s in enumerate(order)}
        l_first = np.array(
            [rank[source[i]] < rank[source[j]] for i, j in zip(found["l"], found["r"], strict=True)],
            dtype=bool,
        )
        a = np.where(l_first, found["l"], found["r"]).astype(np.int64)
        b = np.where(l_first, found["r"], found["l"]).astype(np.int64)
        starts = pd.to_datetime(events["date_start"]).to_numpy().astype("datetime64[D]")
        found = found.assign(a=a, b=b, days=np.abs((starts[a] - starts[b]).astype(np.int64)))
        for name in COMPARISONS:
            values = {k: v.bayes_factor for k, v in getattr(rules, name).levels().items()}
            found[f"{name}_bf"] = (
                found[f"{name}_level"].map(lambda lv, v=values: v.get(lv, 1.0)).astype(float)
            )
        found["counted"] = found["probability"] >= rules.count_from
        pairs = _one_to_one(found[_pair_columns()], source, ids)
        counted = pairs[pairs["counted"]]
        np.multiply.at(
            survival, counted["b"].to_numpy(dtype=np.int64), 1.0 - counted["probability"].to_numpy(float)
        )
        if min_probability is not None:
            pairs = pairs[pairs["probability"] >= min_probability].reset_index(drop=True)
    meta = {
        "duplicate_rules": rules.name,
        "duplicate_rules_sha256": rules.sha256(),
        "duplicate_prefer": ",".join(order),
        "duplicate_pairs": int((pairs["probability"] >= rules.threshold).sum()) if len(pairs) else 0,
        "duplicate_events_removed": float(np.sum(1.0 - survival)),
    }
    return Duplicates(pairs, survival, rules, order, meta)


def log_odds(pairs: pd.DataFrame, rules: DuplicateRules) -> np.ndarray:
    """Each pair's log2 odds recomputed from its evidence: prior log-odds + sum of log2 Bayes
    factors (equal to Splink's ``match_weight``; a check that the evidence shown is the whole story)."""
    total = np.full(len(pairs), math.log2(rules.prior / (1 - rules.prior)))
    for name in COMPARISONS:
        total += np.log2(pairs[f"{name}_bf"].to_numpy(dtype=float))
    return total


def evidence(events: pd.DataFrame, perps: pd.DataFrame | None, found: Duplicates) -> pd.DataFrame:
    """The pairs of ``found`` as a reader checks them: both events side by side (``a_*`` the copy
    that counts in full, ``b_*`` the one that survives with ``1 - probability``), each comparison's
    level and Bayes factor, and the probability.
    """
    from vdto.geography import STATES

    events = events.reset_index(drop=True)
    pairs = found.pairs
    names: dict[str, str] = {}
    if perps is not None and len(perps):
        key = perps["source"].astype(str) + ":" + perps["source_id"].astype(str)
        label = perps["raw_name"].astype(str) if "raw_name" in perps else perps["org_id"].astype(str)
        for k, group in label.groupby(key.to_numpy(), sort=False):
            names[str(k)] = "; ".join(sorted(set(group)))

    def side(idx: np.ndarray, p: str) -> dict[str, Any]:
        ev = events.iloc[idx]
        start = pd.to_datetime(ev["date_start"]).dt.strftime("%Y-%m-%d")
        end_col = ev["date_end"] if "date_end" in ev else ev["date_start"]
        end = pd.to_datetime(end_col.fillna(ev["date_start"])).dt.strftime("%Y-%m-%d")
        date = np.where(start.to_numpy() == end.to_numpy(), start, start + ".." + end)
        state = ev["state_code"] if "state_code" in ev else pd.Series([None] * len(ev), index=ev.index)
        mun = ev["mun_code"] if "mun_code" in ev else pd.Series([None] * len(ev), index=ev.index)
        place = [
            f"{STATES.get(s, '(not located)') if isinstance(s, str) else '(not located)'}"
            + (f" {m}" if isinstance(m, str) and m else "")
            for s, m in zip(state.astype(object), mun.astype(object), strict=True)
        ]
        key = ev["source"].astype(str) + ":" + ev["source_id"].astype(str)
        return {
            f"{p}_source": ev["source"].astype(str).to_numpy(),
            f"{p}_id": ev["source_id"].astype(str).to_numpy(),
            f"{p}_date": date,
            f"{p}_place": place,
            f"{p}_deaths": pd.to_numeric(ev["deaths_best"], errors="coerce").to_numpy(),
            f"{p}_category": ev["category"].astype(str).to_numpy(),
            f"{p}_perpetrators": [names.get(k, "") for k in key],
        }

    a, b = pairs["a"].to_numpy(dtype=np.int64), pairs["b"].to_numpy(dtype=np.int64)
    cols: dict[str, Any] = {"probability": pairs["probability"].to_numpy(dtype=float)}
    cols.update(side(a, "a"))
    cols.update(side(b, "b"))
    cols["b_survival"] = found.survival[b] if len(b) else np.zeros(0)
    for name in COMPARISONS:
        cols[f"{name}_level"] = pairs[f"{name}_level"].to_numpy()
        cols[f"{name}_bf"] = pairs[f"{name}_bf"].to_numpy(dtype=float)
    cols["evidence"] = [
        ", ".join(f"{name} {row[f'{name}_level']} x{row[f'{name}_bf']:.2g}" for name in COMPARISONS)
        for row in pairs.to_dict("records")
    ]
    return pd.DataFrame(cols)


__all__ = [
    "COMPARISONS",
    "DuplicateRules",
    "Duplicates",
    "evidence",
    "find_duplicates",
    "load_rules",
    "log_odds",
]
