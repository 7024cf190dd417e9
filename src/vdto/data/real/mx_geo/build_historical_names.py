"""Build ``municipio_historical_names.csv``: older official names of Mexican municipalities.

INEGI's homicide exports of 1990-2015 (``vdto/data/real/inegi_homicidios``, byte-identical to
the files in ``inegi_homicidios_municipal`` of the raw data) name every municipality with its
code as INEGI published it that year. Every (code, name) pair whose name differs from the name
in the current catalog (``municipio_names.csv``), once accents, case and punctuation are folded
away, is an older official name: "Batopilas" for 08008, today "Batopilas de Manuel Gómez
Morín". CONAPO's municipal population (``vdto/data/real/conapo_municipal``) carries codes but no
names; it is used to check that every code of the table is one CONAPO counts.

Run from the repository root (it reads only files in the package, or the raw folder given)::

    uv run python src/vdto/data/real/mx_geo/build_historical_names.py
    uv run python src/vdto/data/real/mx_geo/build_historical_names.py --inegi /work/shared/data/raw/inegi_homicidios_municipal

The output is sorted and has no time stamp: running it again gives the same bytes.
"""

from __future__ import annotations

import argparse
import bz2
import csv
import io
import re
import sys
from pathlib import Path

import pandas as pd

from vdto.data import bundled
from vdto.files import csv_safe
from vdto.geography import _clean, geography

HERE = Path(__file__).resolve().parent
OUT = HERE / "municipio_historical_names.csv"
_CODE = re.compile(r"^\s*(\d{2}) (\d{3})\s*$")
_YEAR = re.compile(r"((?:19|20)\d\d)\.csv(\.bz2)?$")


def _text(path: Path) -> str:
    raw = bz2.decompress(path.read_bytes()) if path.suffix == ".bz2" else path.read_bytes()
    return raw.decode("latin-1")


def inegi_names(folder: Path) -> pd.DataFrame:
    """Every (code, name, year) of INEGI's yearly homicide exports in ``folder``."""
    rows = []
    for path in sorted(folder.iterdir()):
        year = _YEAR.search(path.name)
        if not year:
            continue
        for cells in csv.reader(io.StringIO(_text(path), newline="")):
            code = _CODE.match(cells[0]) if len(cells) > 1 else None
            if code:
                rows.append((code.group(1) + code.group(2), cells[1].strip(), int(year.group(1))))
    return pd.DataFrame(rows, columns=["code", "name", "year"])


def conapo_codes() -> set[str]:
    """The municipality codes of CONAPO's population files (1990-2030)."""
    return set(geography().municipal_populations["mun_code"].unique())


def build(folder: Path) -> pd.DataFrame:
    """The table of older names: code, name (as INEGI wrote it), source (files and years)."""
    names = inegi_names(folder)
    current = geography().municipalities.set_index("mun_code")
    known = names[names["code"].isin(current.index)]
    now = known["code"].map(current["name"])
    older = known[[_clean(a) != _clean(b) for a, b in zip(known["name"], now, strict=True)]]
    # a name that is some other municipality's current name in the same state is no alias
    taken = {(s, _clean(n)) for s, n in zip(current["state_code"], current["name"], strict=True)}
    older = older[
        [(c[:2], _clean(n)) not in taken for c, n in zip(older["code"], older["name"], strict=True)]
    ]
    spans = older.groupby(["code", "name"], as_index=False)["year"].agg(["min", "max"])
    spans["source"] = [
        f"INEGI defunciones por homicidio {lo}" if lo == hi else f"INEGI defunciones por homicidio {lo}-{hi}"
        for lo, hi in zip(spans["min"], spans["max"], strict=True)
    ]
    return spans[["code", "name", "source"]].sort_values(["code", "name"]).reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inegi", type=Path, default=bundled("inegi"), help="folder of INEGI's yearly files")
    ap.add_argument("--out", type=Path, default=OUT, help="where to write the table")
    args = ap.parse_args(argv)
    table = build(args.inegi)
    missing = sorted(set(table["code"]) - conapo_codes())
    if missing:
        print(f"codes CONAPO does not count: {', '.join(missing)}", file=sys.stderr)
    csv_safe(table).to_csv(args.out, index=False, encoding="utf-8", lineterminator="\n")
    print(f"{len(table)} older names of {table['code'].nunique()} municipalities -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
