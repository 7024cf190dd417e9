"""The organization registry: canonical organizations, aliases, factions, splits and mergers.

The seed registry ships with vdto (``vdto/data/orgs.toml``, see docs/registry.md). Users add
organizations and aliases (``vdto orgs add`` / ``vdto orgs alias`` on the command line); those additions live in
the event store and are layered over the seed. Resolution folds case, accents and punctuation,
so "CJNG", "Jalisco Cartel New Generation" and "Cártel Jalisco Nueva Generación" all resolve to
``cjng``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vdto.data import bundled
from vdto.errors import ConfigError, UnknownNameError
from vdto.names import fold

Kind = Literal["dto", "faction", "state", "civilians", "armed_group", "self_defense", "gang"]
#: Kinds that are scored as drug-trafficking organizations (factions roll up to their parent).
DTO_KINDS: frozenset[str] = frozenset({"dto", "faction"})
#: Kinds whose members count as "dto_member" victims (criminal groups of any size).
CRIMINAL_KINDS: frozenset[str] = frozenset({"dto", "faction", "gang"})

_ID = re.compile(r"^[a-z0-9_]+$")
_TRAILING_PAREN = re.compile(r"\s*\([^()]*\)\s*$")

#: How to find an organization's id, as every unknown-id error says.
LIST_IDS = "list the ids with {list_orgs}"


class Org(BaseModel):
    """One organization (or another actor that appears in event data) in the registry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    kind: Kind
    parent: str | None = None
    aliases: tuple[str, ...] = ()
    status: Literal["active", "dismantled"] = "active"
    dismantled: date | None = None
    founded: int | None = None
    sources: tuple[str, ...] = ()
    note: str = ""

    @field_validator("id")
    @classmethod
    def _id_is_slug(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("must be lowercase letters, digits and '_'")
        return v

    @property
    def is_dto(self) -> bool:
        return self.kind in DTO_KINDS


class Change(BaseModel):
    """A split, merger or rename between organizations, with its (approximate) date."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: Literal["split", "merger", "rename"]
    date: date
    from_: tuple[str, ...] = Field(alias="from")
    to: tuple[str, ...]
    note: str = ""


class _RegistryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org: list[Org]
    change: list[Change] = []


@dataclass(frozen=True)
class Match:
    """How one actor name resolved.

    ``org_id`` is the top-level organization (a faction's parent); ``faction_id`` the registered
    faction if any; ``faction`` the faction text (registered or as the source wrote it).
    ``org_id`` is ``None`` when the name could not be resolved.
    """

    raw_name: str
    org_id: str | None
    faction_id: str | None = None
    faction: str | None = None


class Registry:
    """Organizations and their aliases, with lookups by any alias.

    Examples
    --------
    >>> reg = Registry.seed()
    >>> reg.resolve("Jalisco Cartel New Generation").org_id
    'cjng'
    >>> reg.resolve("Cártel Jalisco Nueva Generación").org_id
    'cjng'
    """

    def __init__(self, orgs: Iterable[Org], changes: Iterable[Change] = (), origin: str = "registry") -> None:
        self.orgs: dict[str, Org] = {}
        self.changes: list[Change] = list(changes)
        self._index: dict[str, str] = {}
        for org in orgs:
            if org.id in self.orgs:
                raise ConfigError(
                    f"organization id {org.id!r} is defined twice",
                    origin,
                    "give each organization one entry",
                )
            self.orgs[org.id] = org
        for org in self.orgs.values():
            self._check(org, origin)
            for name in (org.name, *org.aliases):
                self._index_name(name, org.id, origin)
        for i, ch in enumerate(self.changes):
            for oid in (*ch.from_, *ch.to):
                if oid not in self.orgs:
                    raise ConfigError(
                        f"change {i + 1} names unknown organization {oid!r}",
                        f"{origin}: change",
                        "add the organization or fix the id",
                    )

    def _check(self, org: Org, origin: str) -> None:
        if org.kind == "faction":
            if not org.parent or org.parent not in self.orgs:
                raise ConfigError(
                    f"faction {org.id!r} needs an existing parent (got {org.parent!r})",
                    f"{origin}: org.{org.id}.parent",
                    "set parent to a registered organization id",
                )
            if self.orgs[org.parent].kind == "faction":
                raise ConfigError(
                    f"faction {org.id!r} has a faction as parent",
                    f"{origin}: org.{org.id}.parent",
                    "point parent at the top-level organization",
                )
        elif org.parent:
            raise ConfigError(
                f"{org.id!r} is not a faction but has a parent",
                f"{origin}: org.{org.id}.parent",
                "use kind = 'faction' or remove parent",
            )

    def _index_name(self, name: str, org_id: str, origin: str) -> None:
        key = fold(name)
        if not key:
            raise ConfigError(
                f"empty alias for {org_id!r}",
                f"{origin}: org.{org_id}.aliases",
                "remove the empty alias",
            )
        other = self._index.get(key)
        if other is not None and other != org_id:
            raise ConfigError(
                f"alias {name!r} of {org_id!r} is already a name of {other!r}",
                f"{origin}: org.{org_id}.aliases",
                "an alias may belong to one organization only",
            )
        self._index[key] = org_id

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: str | Path) -> Registry:
        """Load a registry TOML file (the seed's format, see docs/registry.md)."""
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read registry ({exc})", str(path), "check the path") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML ({exc})", str(path), "fix the TOML syntax") from None
        return cls._from_mapping(raw, str(path))

    @classmethod
    def _from_mapping(cls, raw: Mapping, origin: str) -> Registry:
        try:
            parsed = _RegistryFile.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            raise ConfigError(err["msg"], f"{origin}: {key}", "see docs/registry.md for the format") from None
        return cls(parsed.org, parsed.change, origin)

    @classmethod
    def seed(cls) -> Registry:
        """The registry shipped with vdto."""
        text = bundled("registry").read_text(encoding="utf-8")
        return cls._from_mapping(tomllib.loads(text), "vdto/data/orgs.toml")

    def with_additions(self, orgs: Iterable[Org] = (), aliases: Iterable[tuple[str, str]] = ()) -> Registry:
        """A new registry with user organizations and ``(alias, org_id)`` pairs added."""
        merged = dict(self.orgs)
        for org in orgs:
            if org.id in merged:
                raise UnknownNameError(
                    f"organization id {org.id!r} already exists",
                    fix="choose another id or add an alias instead",
                    param="org_id",
                )
            merged[org.id] = org
        extra: dict[str, list[str]] = {}
        for alias, org_id in aliases:
            if org_id not in merged:
                raise UnknownNameError(
                    f"unknown organization id {org_id!r}",
                    fix=LIST_IDS,
                    mentions=("list_orgs",),
                    param="org",
                )
            owner = self.lookup(alias)
            if owner is not None and owner != org_id:
                raise UnknownNameError(
                    f"{alias!r} is already a name of {owner!r} ({self.orgs[owner].name})",
                    fix="an alias may belong to one organization only",
                    param="alias",
                )
            extra.setdefault(org_id, []).append(alias)
        final = [
            o.model_copy(update={"aliases": (*o.aliases, *extra.get(o.id, ()))}) for o in merged.values()
        ]
        return Registry(final, self.changes, "store")

    def with_status(self, dismantled: Mapping[str, date]) -> Registry:
        """A new registry in which the given organizations are dismantled on the given dates."""
        unknown = [o for o in dismantled if o not in self.orgs]
        if unknown:
            raise UnknownNameError(
                f"unknown organization id {unknown[0]!r}",
                fix=LIST_IDS,
                mentions=("list_orgs",),
                param="dismantled",
            )
        final = [
            o.model_copy(update={"status": "dismantled", "dismantled": dismantled[o.id]})
            if o.id in dismantled
            else o
            for o in self.orgs.values()
        ]
        return Registry(final, self.changes, "store")

    # -- lookups ------------------------------------------------------------------------
    def __contains__(self, org_id: object) -> bool:
        return org_id in self.orgs

    def __len__(self) -> int:
        return len(self.orgs)

    def get(self, org_id: str) -> Org:
        try:
            return self.orgs[org_id]
        except KeyError:
            raise UnknownNameError(
                f"unknown organization id {org_id!r}", fix=LIST_IDS, mentions=("list_orgs",), param="org"
            ) from None

    def top(self, org_id: str) -> str:
        """The top-level organization of ``org_id`` (its parent for a faction)."""
        org = self.orgs[org_id]
        return org.parent if org.kind == "faction" and org.parent else org_id

    def lookup(self, name: str) -> str | None:
        """The id whose name or alias folds to the same text as ``name``, or None."""
        return self._index.get(fold(name))

    def _match_entry(self, raw: str, org_id: str) -> Match:
        org = self.orgs[org_id]
        if org.kind == "faction":
            return Match(raw, org.parent, org.id, org.name)
        return Match(raw, org.id)

    def resolve(self, name: str) -> Match:
        """Resolve one actor name.

        Tries, in order: the whole name; the name without trailing parentheses ("Sinaloa Cartel
        (Mexico)"); "Parent - Faction" (the parent resolves, the faction is kept, registered or
        not); "Short: Long" (either part). An unresolved name gives ``Match(name, None)``.
        """
        raw = name.strip()
        candidates = [raw]
        stripped = raw
        while _TRAILING_PAREN.search(stripped):
            stripped = _TRAILING_PAREN.sub("", stripped)
            candidates.append(stripped)
        for cand in candidates:
            hit = self.lookup(cand)
            if hit:
                return self._match_entry(raw, hit)
        for cand in candidates:
            if " - " in cand:
                left, right = (p.strip() for p in cand.split(" - ", 1))
                parent = self.lookup(left)
                if parent:
                    top = self.top(parent)
                    faction_text = re.sub(r"\s+faction$", "", right, flags=re.IGNORECASE).strip()
                    fid = self.lookup(faction_text)
                    if fid and self.orgs[fid].kind == "faction" and self.orgs[fid].parent == top:
                        return Match(raw, top, fid, self.orgs[fid].name)
                    return Match(raw, top, None, faction_text or None)
            if ":" in cand:
                for part in cand.split(":"):
                    hit = self.lookup(part)
                    if hit:
                        return self._match_entry(raw, hit)
        return Match(raw, None)

    def resolve_list(self, text: str, sep: str = ", ") -> list[Match]:
        """Resolve a field that may name several actors ("Gulf Cartel, La Familia, Sinaloa Cartel").

        The whole text is tried first (some names contain the separator); otherwise each part
        separately.
        """
        whole = self.resolve(text)
        if whole.org_id is not None or sep not in text:
            return [whole]
        return [self.resolve(part) for part in text.split(sep) if part.strip()]

    def require(self, name: str) -> str:
        """The id for ``name`` (an id or any alias), or an :class:`UnknownNameError`."""
        if name in self.orgs:
            return name
        match = self.resolve(name)
        if match.org_id is None:
            raise UnknownNameError(
                f"unknown organization {name!r}",
                "",
                LIST_IDS + ", or register the name with {register}",
                mentions=("list_orgs", "register"),
            )
        return match.faction_id or match.org_id

    def successors(self, org_id: str) -> list[tuple[Change, str]]:
        """Organizations that split from or merged out of ``org_id``, with the change."""
        return [(ch, to) for ch in self.changes if org_id in ch.from_ for to in ch.to]

    def predecessors(self, org_id: str) -> list[tuple[Change, str]]:
        """Organizations ``org_id`` split from or merged from, with the change."""
        return [(ch, fr) for ch in self.changes if org_id in ch.to for fr in ch.from_]

    def to_frame(self) -> pd.DataFrame:
        """One row per organization."""
        rows = [
            {
                "id": o.id,
                "name": o.name,
                "kind": o.kind,
                "parent": o.parent,
                "status": o.status,
                "dismantled": o.dismantled,
                "aliases": len(o.aliases),
                "is_dto": o.is_dto,
            }
            for o in self.orgs.values()
        ]
        return pd.DataFrame(rows)
