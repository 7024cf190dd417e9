"""Mexican states and municipalities: INEGI codes, names, population and polygons.

Data (bundled, see ``vdto/data/real/mx_geo/SOURCE.md``): state polygons and 2010 census counts
(``estatal.json``), 2,457 municipality polygons (``municipios.shp``), the INEGI municipality
catalog (``municipio_names.csv``, Latin-1), older official municipality names
(``municipio_historical_names.csv``, matched like current ones) and CONAPO monthly state
population projections (``pop_states.csv``); CONAPO mid-year population by municipality and sex, 1990-2030
(``vdto/data/real/conapo_municipal``, 2007-2009 filled by linear interpolation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vdto.data import bundled
from vdto.errors import VdtoError
from vdto.names import fold

#: INEGI state codes and the names vdto prints.
STATES: dict[str, str] = {
    "01": "Aguascalientes", "02": "Baja California", "03": "Baja California Sur", "04": "Campeche",
    "05": "Coahuila", "06": "Colima", "07": "Chiapas", "08": "Chihuahua", "09": "Ciudad de México",
    "10": "Durango", "11": "Guanajuato", "12": "Guerrero", "13": "Hidalgo", "14": "Jalisco",
    "15": "Estado de México", "16": "Michoacán", "17": "Morelos", "18": "Nayarit", "19": "Nuevo León",
    "20": "Oaxaca", "21": "Puebla", "22": "Querétaro", "23": "Quintana Roo", "24": "San Luis Potosí",
    "25": "Sinaloa", "26": "Sonora", "27": "Tabasco", "28": "Tamaulipas", "29": "Tlaxcala",
    "30": "Veracruz", "31": "Yucatán", "32": "Zacatecas",
}  # fmt: skip

#: Other names sources use for states (folded on lookup).
_STATE_ALIASES: dict[str, str] = {
    "Distrito Federal": "09", "CDMX": "09", "Mexico City": "09", "DF": "09",
    "México": "15", "Mexico State": "15", "State of Mexico": "15", "Edomex": "15",
    "Coahuila de Zaragoza": "05", "Michoacán de Ocampo": "16", "Veracruz de Ignacio de la Llave": "30",
    "Queretaro de Arteaga": "22",
}  # fmt: skip

#: CONAPO's municipal population: the sexes, the years and the years filled by interpolation.
SEXES: tuple[str, ...] = ("Total", "Males", "Females")
MUNICIPAL_YEARS: tuple[int, int] = (1990, 2030)
FILLED_YEARS: tuple[int, ...] = (2007, 2008, 2009)
_CONAPO_FILES = ("municipio-population1990-2009.csv.bz2", "municipio-population2010-2030.csv.bz2")

_SUFFIX = re.compile(r"\s+(state|municipality|municipio|delegacion|alcaldia)$")
_PREFIX = re.compile(r"^(estado de|municipio de|delegacion|alcaldia)\s+")


def _clean(name: str) -> str:
    key = fold(name)
    key = _SUFFIX.sub("", key)
    return _PREFIX.sub("", key)


def _data() -> Path:
    return bundled("geography")


#: Words INEGI writes in lower case inside a place name ("Acapulco de Juárez").
_LOWER_WORDS = frozenset({"de", "del", "la", "las", "los", "el", "y", "e", "en", "a", "o", "u"})


def official_case(name: str) -> str:
    """An upper-case catalog name in INEGI's capitalisation: every word capitalised except the
    articles, prepositions and conjunctions after the first word (the same as INEGI's homicide
    exports write all 2,377 municipalities they name).

    >>> official_case("ACAPULCO DE JUÁREZ"), official_case("PLAYAS DE ROSARITO")
    ('Acapulco de Juárez', 'Playas de Rosarito')
    >>> official_case("DOLORES HIDALGO CUNA DE LA INDEPENDENCIA NACIONAL"), official_case("EL ORO")
    ('Dolores Hidalgo Cuna de la Independencia Nacional', 'El Oro')
    """
    words = str(name).strip().lower().split(" ")
    return " ".join(
        w if i and w in _LOWER_WORDS else "-".join(p[:1].upper() + p[1:] for p in w.split("-"))
        for i, w in enumerate(words)
    )


@dataclass(frozen=True)
class Geography:
    """Lookups over the bundled INEGI catalog and polygons. Use :func:`geography` (cached)."""

    folder: Path

    @cached_property
    def _state_index(self) -> dict[str, str]:
        index = {_clean(name): code for code, name in STATES.items()}
        index.update({_clean(name): code for name, code in _STATE_ALIASES.items()})
        index.update({code: code for code in STATES} | {str(int(code)): code for code in STATES})
        return index

    @cached_property
    def municipalities(self) -> pd.DataFrame:
        """mun_code, state_code, name: the INEGI catalog (excluding "NO ESPECIFICADO" rows)."""
        raw = pd.read_csv(self.folder / "municipio_names.csv", encoding="latin-1", dtype=str)
        raw = raw.assign(state_code=raw["state_code"].str.strip(), mun_code=raw["mun_code"].str.strip())
        raw = raw[raw["mun_code"].astype(int) < 990]
        state = raw["state_code"].str.zfill(2)
        out = pd.DataFrame(
            {
                "mun_code": state + raw["mun_code"].str.zfill(3),
                "state_code": state,
                "name": raw["MUNICIPIO"].map(official_case),
            }
        )
        return out.reset_index(drop=True)

    @cached_property
    def historical_names(self) -> pd.DataFrame:
        """mun_code, state_code, name, source: older official names of municipalities (the name
        INEGI published with the code in earlier years, e.g. "Batopilas" for 08008, today
        "Batopilas de Manuel Gómez Morín"); built by ``build_historical_names.py`` next to the
        file, see its SOURCE.md."""
        raw = pd.read_csv(self.folder / "municipio_historical_names.csv", dtype=str, keep_default_na=False)
        return pd.DataFrame(
            {
                "mun_code": raw["code"].str.zfill(5),
                "state_code": raw["code"].str.zfill(5).str[:2],
                "name": raw["name"],
                "source": raw["source"],
            }
        )

    @cached_property
    def _mun_index(self) -> dict[tuple[str, str], str]:
        m = self.municipalities
        index = {(s, _clean(n)): c for s, n, c in zip(m["state_code"], m["name"], m["mun_code"], strict=True)}
        older: dict[tuple[str, str], set[str]] = {}
        h = self.historical_names
        for s, n, c in zip(h["state_code"], h["name"], h["mun_code"], strict=True):
            older.setdefault((s, _clean(n)), set()).add(c)
        # a current name always wins; an older name two municipalities once had names neither
        index.update({k: next(iter(c)) for k, c in older.items() if k not in index and len(c) == 1})
        return index

    @cached_property
    def _mun_names(self) -> dict[str, dict[str, str]]:
        """state code -> {folded name: name as INEGI writes it}, current and older names."""
        out: dict[str, dict[str, str]] = {}
        for frame in (self.historical_names, self.municipalities):  # current names last: they win
            for s, n in zip(frame["state_code"], frame["name"], strict=True):
                out.setdefault(s, {})[_clean(n)] = n
        return out

    def nearest_municipalities(self, state_code: str | None, name: str, n: int = 3) -> list[str]:
        """The names (current or older) of ``state_code``'s municipalities closest to ``name``,
        nearest first (accents, case and punctuation folded away); empty without a state.

        >>> geography().nearest_municipalities("08", "Batopylas"), geography().nearest_municipalities("11", "Zelaya")
        (['Batopilas'], ['Celaya'])
        """
        import difflib

        names = self._mun_names.get(str(state_code), {}) if state_code else {}
        close = difflib.get_close_matches(_clean(str(name)), list(names), n=n, cutoff=0.6)
        return [names[c] for c in close]

    def state_code(self, name: str | None) -> str | None:
        """INEGI state code for a state name or code in any common spelling, else None.

        >>> geography().state_code("Guanajuato state"), geography().state_code("Distrito Federal")
        ('11', '09')
        """
        if name is None or (isinstance(name, float) and np.isnan(name)):
            return None
        return self._state_index.get(_clean(str(name)))

    def mun_code(self, state_code: str | None, name: str | None) -> str | None:
        """INEGI municipality code for a municipality name within a state, else None."""
        if not state_code or name is None or (isinstance(name, float) and np.isnan(name)):
            return None
        text = str(name).strip()
        if re.fullmatch(r"\d{5}", text) and text[:2] == state_code:
            return text
        return self._mun_index.get((state_code, _clean(text)))

    def state_codes(self, names: pd.Series) -> pd.Series:
        """:meth:`state_code` for a whole column (each distinct value is looked up once)."""
        text = names.astype("string").fillna("")
        table = {u: (self.state_code(u) if u.strip() else None) for u in text.unique()}
        return pd.Series(text.map(table).to_numpy(dtype=object), index=names.index, dtype=object)

    def mun_codes(self, states: pd.Series, names: pd.Series) -> pd.Series:
        """:meth:`mun_code` for whole columns (each distinct pair is looked up once)."""
        pairs = pd.DataFrame(
            {
                "s": states.to_numpy(dtype=object),
                "m": names.astype("string").fillna("").to_numpy(dtype=object),
            }
        )
        uniq = pairs.drop_duplicates()
        uniq = uniq.assign(
            code=[
                self.mun_code(s, m) if m.strip() else None for s, m in zip(uniq["s"], uniq["m"], strict=True)
            ]
        )
        out = pairs.merge(uniq, on=["s", "m"], how="left")["code"]
        return pd.Series(out.to_numpy(dtype=object), index=names.index, dtype=object).where(
            out.notna().to_numpy(), None
        )

    @cached_property
    def population(self) -> pd.DataFrame:
        """CONAPO monthly population by state: state_code, date, population."""
        pop = pd.read_csv(self.folder / "pop_states.csv", dtype={"state_code": str})
        pop["state_code"] = pop["state_code"].str.zfill(2)
        pop["date"] = pd.to_datetime(pop["date"])
        return pop

    @cached_property
    def municipal_populations(self) -> pd.DataFrame:
        """CONAPO mid-year population by municipality, year (1990-2030) and sex.

        Columns ``mun_code, state_code, year, sex (Total/Males/Females), population, filled``.
        1990-2006 are the CONAPO-COLMEX estimates (2,454 municipalities), 2010-2030 CONAPO's 2010
        projections (2,457). The source leaves 2007-2009 empty: they are filled, per municipality
        and sex, by linear interpolation between 2006 and 2010 (rounded to whole people) and
        marked ``filled``. The three municipalities created between 2006 and 2010 (14125, 23009,
        23010) have no figure before 2010: their people are counted in the municipalities they
        were split from.
        """
        folder = bundled("conapo_municipal")
        early = pd.read_csv(folder / _CONAPO_FILES[0], dtype={"Code": float, "Sex": str})
        late = pd.read_csv(folder / _CONAPO_FILES[1], dtype={"Code": np.int64, "Sex": str})
        both = pd.concat(
            [early[["Code", "Population", "Sex", "Year"]], late[["Code", "Population", "Sex", "Year"]]],
            ignore_index=True,
        )
        both["mun_code"] = both["Code"].astype(np.int64).astype(str).str.zfill(5)
        wide = both.pivot_table(index=["mun_code", "Sex"], columns="Year", values="Population", dropna=False)
        a, b = FILLED_YEARS[0] - 1, FILLED_YEARS[-1] + 1
        for year in FILLED_YEARS:
            wide[year] = np.round(wide[a] + (wide[b] - wide[a]) * (year - a) / (b - a))
        long = wide.stack().rename("population").reset_index()
        long = long.rename(columns={"Sex": "sex", "Year": "year"}).dropna(subset=["population"])
        out = pd.DataFrame(
            {
                "mun_code": long["mun_code"].to_numpy(dtype=object),
                "state_code": long["mun_code"].str[:2].to_numpy(dtype=object),
                "year": long["year"].astype(np.int64).to_numpy(),
                "sex": long["sex"].to_numpy(dtype=object),
                "population": long["population"].astype(np.int64).to_numpy(),
                "filled": long["year"].isin(FILLED_YEARS).to_numpy(),
            }
        )
        return out.sort_values(["year", "sex", "mun_code"], kind="stable").reset_index(drop=True)

    def municipal_population(self, year: int, sex: str = "Total") -> pd.Series:
        """Mid-year population of every municipality in ``year`` (1990-2030), indexed by the
        5-digit code; ``sex`` is Total, Males or Females. 2007-2009 are interpolated (see
        :attr:`municipal_populations`).

        >>> int(geography().municipal_population(2010).sum())
        114255551
        """
        if sex not in SEXES:
            raise VdtoError(f"unknown sex {sex!r}", fix=f"use one of: {', '.join(SEXES)}", param="sex")
        lo, hi = MUNICIPAL_YEARS
        if not lo <= int(year) <= hi:
            raise VdtoError(
                f"no municipal population for {year}", fix=f"use a year from {lo} to {hi}", param="year"
            )
        pop = self.municipal_populations
        part = pop[(pop["year"] == int(year)) & (pop["sex"] == sex)]
        return pd.Series(part["population"].to_numpy(), index=part["mun_code"].to_numpy(), name="population")

    @cached_property
    def _mun_shapes(self) -> tuple[list[str], Any]:
        import shapefile
        import shapely
        from shapely.geometry import shape

        with shapefile.Reader(str(self.folder / "municipios")) as reader:
            codes = [rec[0] for rec in reader.records()]
            geoms = [shape(s.__geo_interface__) for s in reader.shapes()]
        tree = shapely.STRtree(geoms)
        return codes, tree

    def municipality_shapes(self) -> tuple[list[str], list]:
        """Municipality codes and shapely polygons from the bundled shapefile (2,457)."""
        codes, tree = self._mun_shapes
        return codes, list(tree.geometries)

    def locate(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Municipality code containing each point (None where no polygon contains it)."""
        import shapely

        codes, tree = self._mun_shapes
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        out = np.full(lat.shape, None, dtype=object)
        ok = np.isfinite(lat) & np.isfinite(lon)
        if not ok.any():
            return out
        points = shapely.points(lon[ok], lat[ok])
        pt_idx, poly_idx = tree.query(points, predicate="within")
        found = np.full(points.shape, None, dtype=object)
        # a point on a shared border may fall in two polygons: keep the first
        first = np.unique(pt_idx, return_index=True)[1]
        found[pt_idx[first]] = np.asarray(codes, dtype=object)[poly_idx[first]]
        out[ok] = found
        return out

    def near_state(self, lat: np.ndarray, lon: np.ndarray, states: np.ndarray, degrees: float) -> np.ndarray:
        """Whether each point lies within ``degrees`` of a municipality of its ``states`` entry."""
        import shapely

        codes, tree = self._mun_shapes
        lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
        pt, poly = tree.query(shapely.points(lon, lat), predicate="dwithin", distance=degrees)
        state_of = np.array([c[:2] for c in codes], dtype=object)
        hit = state_of[poly] == np.asarray(states, dtype=object)[pt]
        out = np.zeros(len(lat), dtype=bool)
        out[pt[hit]] = True
        return out


@cache
def geography() -> Geography:
    """The bundled geography (loaded lazily, once per process)."""
    return Geography(_data())
