"""The data vdto ships, found by name: one locator for every bundled file.

Real data (each folder with its ``SOURCE.md``) and configuration (the registry, the rubric, the
scenarios, the corridor network, the public site's assets) live under ``vdto/data``;
:func:`bundled` names them so no other module spells a path inside the package.

Examples
--------
>>> bundled("ucdp").name
'ged_mexico_1989_2023.csv.gz'
>>> bundled("scenario", "small").name
'small.toml'
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: Bundled files and folders by name (paths inside ``vdto/data``); ``{}`` takes the variant.
FILES: dict[str, tuple[str, ...]] = {
    "ucdp": ("real", "ucdp_ged", "ged_mexico_1989_2023.csv.gz"),
    "sesnsp": ("real", "sesnsp", "db_victimas_delitos_ent_long.csv.bz2"),
    "inegi": ("real", "inegi_homicidios"),
    "conapo_municipal": ("real", "conapo_municipal"),
    "geography": ("real", "mx_geo"),
    "bacrim2020": ("real", "bacrim2020"),
    "captures": ("real", "interventions", "captures_2007_2015.csv"),
    "registry": ("orgs.toml",),
    "rubric": ("rubrics", "{}.toml"),
    "scenario": ("scenarios", "{}.toml"),
    "corridors": ("routes", "corridors.toml"),
    "duplicates": ("rules", "duplicates.toml"),
    "site": ("site", "{}"),
    "workbench": ("workbench",),
}


def bundled(name: str, variant: str | None = None) -> Path:
    """The path of a bundled file or folder (see :data:`FILES`); ``variant`` fills its ``{}``."""
    if name not in FILES:
        raise KeyError(f"no bundled data named {name!r} (known: {', '.join(FILES)})")
    parts = FILES[name]
    if any("{}" in p for p in parts):
        if variant is None:
            raise KeyError(f"bundled data {name!r} needs a variant")
        parts = tuple(p.replace("{}", variant) for p in parts)
    return Path(str(resources.files("vdto.data").joinpath(*parts)))


def scenario_names() -> tuple[str, ...]:
    """The bundled simulation scenarios (``default``, ``small``, ...)."""
    folder = Path(str(resources.files("vdto.data").joinpath("scenarios")))
    return tuple(sorted(p.stem for p in folder.glob("*.toml")))
