"""The canonical event schema: defined once, used by every importer, the store and the docs.

An *event* is one violent incident (or one report of it). Importers turn their source's rows
into a frame with exactly the columns of :data:`EVENT_FIELDS`, plus a second frame of
perpetrator candidates with the columns of :data:`PERPETRATOR_FIELDS`. docs/schema.md is
generated from these definitions (``vdto schema --markdown``), and a test keeps them in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """What kind of event it is (one per event)."""

    HOMICIDE = "homicide"
    MASSACRE = "massacre"
    ATTACK_SECURITY_FORCES = "attack_security_forces"
    ATTACK_OFFICIAL = "attack_official"
    ATTACK_JOURNALIST = "attack_journalist"
    KIDNAPPING = "kidnapping"
    DISAPPEARANCE = "disappearance"
    TORTURE_DISPLAY = "torture_display"
    ATTACK_CIVILIANS = "attack_civilians"
    ARMED_CLASH = "armed_clash"


CATEGORY_HELP: dict[Category, str] = {
    Category.HOMICIDE: "one or more killings not covered by a more specific category",
    Category.MASSACRE: "a single event with many victims killed together (source's own label)",
    Category.ATTACK_SECURITY_FORCES: "attack on police, military or National Guard",
    Category.ATTACK_OFFICIAL: "attack on a public official or election candidate",
    Category.ATTACK_JOURNALIST: "attack on a journalist or media worker",
    Category.KIDNAPPING: "kidnapping or abduction (victims need not die)",
    Category.DISAPPEARANCE: "forced disappearance or clandestine grave",
    Category.TORTURE_DISPLAY: "torture, mutilation or public display of bodies",
    Category.ATTACK_CIVILIANS: "one-sided violence against civilians",
    Category.ARMED_CLASH: "armed clash between organized groups or with the state",
}


class VictimKind(StrEnum):
    """Who the victims were."""

    CIVILIAN = "civilian"
    POLICE = "police"
    MILITARY = "military"
    OFFICIAL = "official"
    JOURNALIST = "journalist"
    DTO_MEMBER = "dto_member"
    UNKNOWN = "unknown"


VICTIM_HELP: dict[VictimKind, str] = {
    VictimKind.CIVILIAN: "bystanders and other non-combatants",
    VictimKind.POLICE: "municipal, state or federal police",
    VictimKind.MILITARY: "army, navy, National Guard",
    VictimKind.OFFICIAL: "public officials and election candidates",
    VictimKind.JOURNALIST: "journalists and media workers",
    VictimKind.DTO_MEMBER: "members of a drug-trafficking organization or other criminal group",
    VictimKind.UNKNOWN: "victims whose kind the source does not give",
}

VICTIM_COLUMNS: tuple[str, ...] = tuple(f"victims_{k.value}" for k in VictimKind)


@dataclass(frozen=True)
class Field:
    """One column of the canonical schema."""

    name: str
    dtype: str  # DuckDB type
    unit: str
    required: bool
    description: str
    allowed: str = ""


EVENT_FIELDS: tuple[Field, ...] = (
    Field(
        "source",
        "VARCHAR",
        "-",
        True,
        "data source label, e.g. `ucdp-ged`, `acled`, an agency's name",
    ),
    Field(
        "source_id",
        "VARCHAR",
        "-",
        True,
        "the source's own identifier; (source, source_id) is unique",
    ),
    Field("date_start", "DATE", "day", True, "first day the event may have happened"),
    Field(
        "date_end",
        "DATE",
        "day",
        True,
        "last day (= date_start when the day is known)",
        ">= date_start",
    ),
    Field("country", "VARCHAR", "-", True, "ISO 3166-1 alpha-3 code", "e.g. `MEX`"),
    Field("state_code", "VARCHAR", "-", False, "INEGI two-digit state code", "`01` … `32`"),
    Field(
        "mun_code",
        "VARCHAR",
        "-",
        False,
        "INEGI five-digit municipality code (state + municipality)",
        "e.g. `14039`; its first two digits equal state_code",
    ),
    Field("latitude", "DOUBLE", "degrees (WGS84)", False, "where it happened", "-90 … 90"),
    Field("longitude", "DOUBLE", "degrees (WGS84)", False, "where it happened", "-180 … 180"),
    Field(
        "location_precision",
        "TINYINT",
        "UCDP where_prec scale",
        False,
        "1 exact place … 7 country or worse (ACLED's geo_precision 1, 2, 3 stored as 1, 2, 4)",
        "1 … 7",
    ),
    Field(
        "category",
        "VARCHAR",
        "-",
        True,
        "what kind of event",
        ", ".join(f"`{c.value}`" for c in Category),
    ),
    Field("deaths_best", "INTEGER", "people killed", True, "best estimate of deaths", ">= 0"),
    Field(
        "deaths_low",
        "INTEGER",
        "people killed",
        True,
        "lowest credible estimate",
        "0 … deaths_best",
    ),
    Field(
        "deaths_high",
        "INTEGER",
        "people killed",
        True,
        "highest credible estimate",
        ">= deaths_best",
    ),
    *(
        Field(
            f"victims_{k.value}",
            "INTEGER",
            "people",
            True,
            f"victims who were {VICTIM_HELP[k]}",
            ">= 0",
        )
        for k in VictimKind
    ),
    Field(
        "torture_display",
        "BOOLEAN",
        "-",
        True,
        "victims were tortured or bodies publicly displayed",
    ),
    Field(
        "reliability",
        "DOUBLE",
        "probability",
        True,
        "how far the source is trusted (1 = fully)",
        "0 … 1",
    ),
    Field("notes", "VARCHAR", "-", False, "free text from the source"),
)

PERPETRATOR_FIELDS: tuple[Field, ...] = (
    Field("source", "VARCHAR", "-", True, "as in the event"),
    Field("source_id", "VARCHAR", "-", True, "as in the event"),
    Field("raw_name", "VARCHAR", "-", True, "the name exactly as the source gave it"),
    Field(
        "org_id",
        "VARCHAR",
        "-",
        False,
        "registry id of the organization (factions: the parent); empty when the registry cannot resolve the name",
    ),
    Field(
        "faction_id",
        "VARCHAR",
        "-",
        False,
        "registry id of the faction, when the name is a registered faction",
    ),
    Field("faction", "VARCHAR", "-", False, "faction text the source gave (registered or not)"),
    Field(
        "probability",
        "DOUBLE",
        "probability",
        True,
        "chance this organization did it; per event these sum to at most 1, the rest is *unknown*",
        "0 < p <= 1",
    ),
)

EVENT_COLUMNS: tuple[str, ...] = tuple(f.name for f in EVENT_FIELDS)
PERPETRATOR_COLUMNS: tuple[str, ...] = tuple(f.name for f in PERPETRATOR_FIELDS)

#: Tolerance when checking that perpetrator probabilities sum to at most 1.
PROBABILITY_TOLERANCE = 1e-9


def _table(fields: tuple[Field, ...]) -> list[str]:
    rows = [
        "| column | type | unit | required | meaning | allowed values |",
        "|---|---|---|---|---|---|",
    ]
    for f in fields:
        rows.append(
            f"| `{f.name}` | {f.dtype} | {f.unit} | {'yes' if f.required else 'no'} | {f.description} | {f.allowed} |"
        )
    return rows


def schema_markdown() -> str:
    """The schema tables of docs/schema.md, generated from the definitions above."""
    lines = [
        "### Events",
        "",
        *_table(EVENT_FIELDS),
        "",
        "### Perpetrators",
        "",
        *_table(PERPETRATOR_FIELDS),
    ]
    lines += ["", "### Categories", "", "| value | meaning |", "|---|---|"]
    lines += [f"| `{c.value}` | {CATEGORY_HELP[c]} |" for c in Category]
    lines += ["", "### Victim kinds", "", "| value | meaning |", "|---|---|"]
    lines += [f"| `{k.value}` | {VICTIM_HELP[k]} |" for k in VictimKind]
    return "\n".join(lines) + "\n"
