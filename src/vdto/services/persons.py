"""Focused deterrence on people, as every shell asks for it: import case files, score cells and
persons, the group audit, the focused-deterrence list and its export, and forgetting.

Rules that live here once:

- **Only the owning agency's analysts.** The shells check the role; every function here works on
  one agency's records and never adds two agencies' together.
- **Every access is audited.** Each function takes an :class:`AuditTrail` and records a
  ``started`` row before it reads anything and its outcome after; a view, a list and an export
  are audited like an import or a deletion. Details name pseudonyms and counts, never a raw
  identifier or a name.
- **The key stays with the agency.** It is used in memory to make pseudonyms (import, forgetting
  by identifier) and never stored; the store keeps its fingerprint so that an import with another
  key is refused.
- **Retention.** A person with no open membership whose last activity (the end of a membership or
  a linked event) is older than the agency's retention period is due for deletion;
  :func:`forget` with ``expired=True`` deletes every such person, audited like a deletion on request.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from vdto.access import audit
from vdto.errors import UnknownNameError, VdtoError
from vdto.files import atomic_write, csv_safe
from vdto.network.bacrim import load_bacrim2020
from vdto.orgs import Registry
from vdto.persons import groups
from vdto.persons.keys import PSEUDONYM, PersonKey
from vdto.persons.records import read_case_files
from vdto.persons.scoring import REGION, PersonScores, Target, entity_of, score_persons
from vdto.persons.scoring import evidence as person_evidence
from vdto.persons.synthetic import CaseFiles, generate
from vdto.scoring.rubric import Rubric
from vdto.services.scoring import score_window
from vdto.store import Store

#: Days a person's records are kept after their last activity unless the agency sets another period.
DEFAULT_RETENTION_DAYS = 5 * 365
#: Persons and cells on the focused-deterrence list unless another number is asked for.
DEFAULT_TOP = 20
EXPORT_FORMATS: tuple[str, ...] = ("csv", "i2")


class AuditTrail(Protocol):
    """Where a shell records who reads or changes person records (the API's audit log)."""

    def started(self, action: str, detail: str) -> None: ...

    def finished(self, outcome: str, detail: str) -> None: ...


class StoreTrail:
    """An audit trail in the store's own audit log (the CLI's and the demo's): a ``started`` row
    and an outcome row per command, by ``actor`` (e.g. ``cli:alice``), path ``persons COMMAND``."""

    def __init__(self, store: Store, actor: str, command: str, agency: str | None) -> None:
        self.store, self.actor, self.command, self.agency = store, actor, command, agency
        self.request_id = uuid.uuid4().hex[:16]
        self.action = "persons"

    def _row(self, outcome: str, detail: str) -> None:
        audit.record(
            self.store, request_id=self.request_id, actor=self.actor, agency=self.store.resolve_agency(self.agency),
            role="analyst", method="CLI", path=f"persons {self.command}", action=self.action, outcome=outcome,
            status=None, detail=detail,
        )  # fmt: skip

    def started(self, action: str, detail: str) -> None:
        self.action = action
        self._row("started", detail)

    def finished(self, outcome: str, detail: str) -> None:
        self._row(outcome, detail)


@contextmanager
def _audited(trail: AuditTrail, action: str, detail: str) -> Iterator[dict[str, str]]:
    """``started`` before the work, then ``ok`` (with the detail the work leaves in the dict) or
    ``failed`` with the error's line."""
    trail.started(action, detail)
    done: dict[str, str] = {"detail": detail}
    try:
        yield done
    except VdtoError as exc:
        trail.finished("failed", exc.line())
        raise
    except BaseException as exc:
        trail.finished("failed", f"internal error ({type(exc).__name__})")
        raise
    trail.finished("ok", done["detail"])


# ------------------------------------------------------------------------------------- import
@dataclass(frozen=True)
class ImportSummary:
    """What an import stored."""

    agency: str
    import_id: int
    counts: dict[str, int]
    keep_identities: bool
    names_given: int
    forgotten_rows: int
    retention_days: int

    def lines(self) -> list[str]:
        c = self.counts
        out = [
            f"imported person records of agency {self.agency} (import {self.import_id}): {c['cells']:,} cells, "
            f"{c['persons']:,} persons ({c['memberships']:,} memberships), {c['links']:,} links to events, "
            f"{c['ties']:,} ties; identifiers pseudonymised with the agency's key"
        ]
        if self.keep_identities:
            out.append(
                "raw identifiers and names were stored, as --keep-identities asked (recorded with the import)"
            )
        elif self.names_given:
            out.append(
                f"{self.names_given:,} names in persons.csv were not stored (only --keep-identities keeps them)"
            )
        if self.forgotten_rows:
            out.append(f"{self.forgotten_rows:,} rows naming forgotten persons were left out")
        out.append(f"retention: {self.retention_days:,} days after a person's last activity")
        return out


def _key_check(store: Store, agency: str, key: PersonKey) -> None:
    known = store.persons.setting(agency, "key_fingerprint")
    if known is not None and known != key.fingerprint:
        raise VdtoError(
            f"this is not the key agency {agency}'s person records were pseudonymised with",
            "",
            "use the agency's key file; a new key would give every person a new pseudonym",
            param="key",
        )


def _check_days(days: int) -> int:
    if not 1 <= days <= 36_500:
        raise VdtoError(
            f"retention_days must be 1 to 36500 (got {days})",
            fix="e.g. 1825 (five years)",
            param="retention_days",
        )
    return days


def import_case_files(
    store: Store,
    folder: str | Path,
    *,
    key: PersonKey,
    trail: AuditTrail,
    agency: str | None = None,
    keep_identities: bool = False,
    retention_days: int | None = None,
) -> ImportSummary:
    """Replace the agency's person records with the case files in ``folder`` (all or nothing).

    ``keep_identities`` stores raw identifiers and names too; the option is recorded with the
    import and in the audit log. Rows naming a person forgotten earlier are left out.
    """
    agency = store.resolve_agency(agency)
    if retention_days is not None:
        _check_days(retention_days)
    detail = f"agency {agency}" + ("; keep_identities" if keep_identities else "")
    with _audited(trail, "persons.import", detail) as done:
        _key_check(store, agency, key)
        records = read_case_files(
            folder, agency=agency, key=key, registry=store.registry(), events=store.persons.event_keys(agency),
            forgotten=store.persons.forgotten(agency),
        )  # fmt: skip
        days = retention_days or int(
            store.persons.setting(agency, "retention_days") or DEFAULT_RETENTION_DAYS
        )
        counts = records.counts()
        frames = {
            "person_cells": records.cells,
            "person_members": records.members,
            "person_links": records.links,
            "person_ties": records.ties,
        }
        if keep_identities:
            frames["person_identities"] = records.identities
        import_id = store.persons.replace(
            agency,
            frames,
            options={"keep_identities": keep_identities, "retention_days": days},
            files_sha256=records.files_sha256,
            counts={**counts, "forgotten_rows": records.forgotten_rows},
            settings={"key_fingerprint": key.fingerprint, "retention_days": str(days)},
            at=_now(),
        )
        done["detail"] = (
            f"agency {agency}; import {import_id}; {counts['persons']} persons, {counts['links']} links"
            + ("; keep_identities" if keep_identities else "")
        )
    return ImportSummary(
        agency, import_id, counts, keep_identities, records.names_given, records.forgotten_rows, days
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ------------------------------------------------------------------------------------ scoring
@dataclass(frozen=True)
class Records:
    """One agency's stored records (canonical frames)."""

    cells: pd.DataFrame
    members: pd.DataFrame
    links: pd.DataFrame
    ties: pd.DataFrame


def load_records(store: Store, agency: str) -> Records:
    """The agency's records, or an error saying to import them first."""
    if not store.persons.has_records(agency):
        raise VdtoError(
            f"agency {agency} has no person records in this store",
            str(store.path),
            "import the agency's case files first (`vdto persons import FOLDER --key FILE`)",
        )
    p = store.persons
    return Records(p.frame("person_cells", agency), p.frame("person_members", agency),
                   p.frame("person_links", agency), p.frame("person_ties", agency))  # fmt: skip


@dataclass(frozen=True)
class Scope:
    """What a person-level question is about: the window, the target and the Monte Carlo."""

    start: date | None = None
    end: date | None = None
    target: str | None = None  # an organization (any name); default: the round's target
    region: str | None = None  # an INEGI state (2 digits) or municipality (5 digits) code
    draws: int = 2000
    seed: int = 7
    rubric: Rubric | None = None


def _target(
    store: Store, registry: Registry, agency: str, scope: Scope, ranking_target: str | None
) -> tuple[Target, str]:
    """The group the persons are ranked within, and how it was chosen. An organization is taken
    as the ranking scores it (:func:`vdto.persons.scoring.entity_of`): a faction named while the
    rubric rolls factions up is its organization, and the answer says so."""
    if scope.target is not None and scope.region is not None:
        raise VdtoError("give a target or a region, not both", fix="drop one of {target} and {region}",
                        param="region", mentions=("target", "region"))  # fmt: skip
    rubric = scope.rubric or Rubric.default()
    if scope.region is not None:
        if not REGION.match(scope.region):
            raise VdtoError(f"{scope.region!r} is not an INEGI code", fix="give a 2-digit state or 5-digit municipality code, e.g. 14 or 14039", param="region")  # fmt: skip
        return Target("region", scope.region, f"region {scope.region}"), "asked"

    def org_target(org: str, how: str) -> tuple[Target, str]:
        entity = entity_of(org, registry, rubric)
        if entity != org:
            how += f"; {org} is a faction, counted with {entity} as the rubric rolls factions up"
        return Target("org", entity, registry.orgs[entity].name if entity in registry.orgs else entity), how

    if scope.target is not None:
        return org_target(registry.require(scope.target), "asked")
    rounds = [r for r in store.rounds.all() if r.status != "closed" and r.target and agency in r.agencies]
    if rounds:
        latest = max(rounds, key=lambda r: r.round_id)
        return org_target(str(latest.target), f"round {latest.round_id}")
    if ranking_target is None:
        raise VdtoError(
            "there is no round target and the ranking names no organization in the window",
            fix="name one with {target}, or a region with {region}",
            param="target",
            mentions=("target", "region"),
        )
    return org_target(ranking_target, "ranking")


@dataclass
class PersonView:
    """Scores of one target's cells and persons, with how the target was chosen."""

    scores: PersonScores
    chosen: str
    agency: str
    meta: dict[str, Any] = field(default_factory=dict)


def _score(store: Store, agency: str, scope: Scope, records: Records, registry: Registry) -> PersonView:
    result = score_window(store, scope.start, scope.end, agency=agency, draws=scope.draws, seed=scope.seed,
                          rubric=scope.rubric)  # fmt: skip
    top = str(result.table["org"].iloc[0]) if len(result.table) else None
    target, chosen = _target(store, registry, agency, scope, top)
    got = score_persons(
        result, records.cells, records.members, records.links, registry, target,
        seed=scope.seed, draws=scope.draws,
    )  # fmt: skip
    meta = {
        **got.meta,
        "agency": agency,
        "store_state": result.meta.get("store_state"),
        "target_chosen_by": chosen,
    }
    return PersonView(got, chosen, agency, meta)


def _scope_detail(agency: str, scope: Scope) -> str:
    what = (
        f"region {scope.region}"
        if scope.region
        else (f"target {scope.target}" if scope.target else "round target")
    )
    return f"agency {agency}; {what}; window {scope.start or '-'} to {scope.end or '-'}; seed {scope.seed}; {scope.draws} draws"


def score(store: Store, scope: Scope, *, trail: AuditTrail, agency: str | None = None) -> PersonView:
    """Scores of the target's cells and persons (see :func:`vdto.persons.scoring.score_persons`)."""
    agency = store.resolve_agency(agency)
    with _audited(trail, "persons.score", _scope_detail(agency, scope)) as done:
        view = _score(store, agency, scope, load_records(store, agency), store.registry())
        done["detail"] += f"; {len(view.scores.persons)} persons, {len(view.scores.cells)} cells scored"
    return view


# -------------------------------------------------------------------------------- group audit
@dataclass
class GroupAudit:
    """The group audit of one target: its cells, people, network structure and succession risk."""

    view: PersonView
    structure: groups.Structure
    cell_ties: pd.DataFrame
    succession: pd.DataFrame
    allies: list[str]
    rivals: list[str]


def group_audit(
    store: Store, scope: Scope, *, trail: AuditTrail, agency: str | None = None, seed: int | None = None
) -> GroupAudit:
    """The cells of the target with their violence and membership, the co-offending network's
    structure (components, brokers, centrality), the cells' ties, who would likely step in for
    each leader, and the organization's alliances and rivalries (BACRIM 2020)."""
    agency = store.resolve_agency(agency)
    with _audited(trail, "persons.audit", _scope_detail(agency, scope)) as done:
        records, registry = load_records(store, agency), store.registry()
        view = _score(store, agency, scope, records, registry)
        cells = set(view.scores.cells["cell"])
        if view.scores.target.kind == "org":
            rubric = scope.rubric or Rubric.default()
            entity = {o: entity_of(o, registry, rubric) for o in records.cells["org_id"].unique()}
            own = records.cells["org_id"].map(entity) == view.scores.target.value
            cells |= set(records.cells.loc[own, "cell"])
        members = records.members[records.members["cell"].isin(cells)]
        people = set(members["person"])
        links = records.links[records.links["person"].isin(people)]
        ties = records.ties[records.ties["person_a"].isin(people) & records.ties["person_b"].isin(people)]
        graph = groups.co_offending_graph(members, ties, links)
        structure = groups.structure(graph, members, seed=scope.seed if seed is None else seed)
        succession = groups.succession(graph, members, view.scores.persons[["person", "score"]])
        allies, rivals = _relations(store, view.scores.target)
        done["detail"] += f"; {len(cells)} cells, {len(people)} persons"
    return GroupAudit(view, structure, groups.cell_ties(graph, members), succession, allies, rivals)


def _relations(store: Store, target: Target) -> tuple[list[str], list[str]]:
    """The target organization's allies and rivals in BACRIM 2020 (group names), when it is one."""
    if target.kind != "org":
        return [], []
    net = load_bacrim2020(registry=store.registry())
    nodes, edges = net.nodes, net.edges
    own = set(nodes.loc[nodes["org_id"] == target.value, "id"])
    name = dict(zip(nodes["id"], nodes["name"], strict=True))
    found: dict[str, set[str]] = {"alliance": set(), "rivalry": set()}
    for rec in edges.itertuples(index=False):
        if rec.type in found and (rec.source in own) != (rec.target in own):
            other = rec.target if rec.source in own else rec.source
            found[rec.type].add(str(name[other]))
    return sorted(found["alliance"]), sorted(found["rivalry"])


# ---------------------------------------------------------------------------------- the list
@dataclass
class FocusedList:
    """The focused-deterrence list: the top cells and persons of the target, with their evidence."""

    view: PersonView
    persons: pd.DataFrame
    cells: pd.DataFrame
    evidence: pd.DataFrame


def focused_list(
    store: Store,
    scope: Scope,
    *,
    trail: AuditTrail,
    agency: str | None = None,
    top: int = DEFAULT_TOP,
    action: str = "persons.list",
) -> FocusedList:
    """The top ``top`` persons and cells of the target and every link behind the listed persons."""
    if top < 1:
        raise VdtoError(f"top must be at least 1 (got {top})", fix="e.g. 20", param="top")
    agency = store.resolve_agency(agency)
    with _audited(trail, action, _scope_detail(agency, scope) + f"; top {top}") as done:
        view = _score(store, agency, scope, load_records(store, agency), store.registry())
        persons = view.scores.persons.head(top)
        cells = view.scores.cells.head(top)
        evidence = person_evidence(view.scores, list(persons["person"]))
        done["detail"] += f"; listed {len(persons)} persons, {len(cells)} cells"
    return FocusedList(
        view, persons.reset_index(drop=True), cells.reset_index(drop=True), evidence.reset_index(drop=True)
    )


def _i2(listing: FocusedList) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The i2 entity and link tables of a list: persons, cells, organizations and events."""
    p, c, e = listing.persons, listing.cells, listing.evidence
    # every "Member of" link needs its cell as an entity, also a listed person's cell outside the top cells
    scored = listing.view.scores.cells
    need = set(e["cell"].astype(str)) - set(c["cell"].astype(str))
    c = pd.concat([c, scored[scored["cell"].astype(str).isin(need)]], ignore_index=True)
    need -= set(c["cell"].astype(str))
    if need:
        c = pd.concat([c, pd.DataFrame({"cell": sorted(need)})], ignore_index=True)
    ents = [
        pd.DataFrame({"Entity ID": p["person"], "Entity Type": "Person", "Label": p["person"], "Organization ID": p["org"],
                      "Role": p["role"], "Score": p["score"], "Lo90": p["lo90"], "Hi90": p["hi90"], "P(rank 1)": p["p_rank1"]}),
        pd.DataFrame({"Entity ID": "cell:" + c["cell"].astype(str), "Entity Type": "Cell", "Label": c["cell"], "Organization ID": c["org"],
                      "Score": c["score"], "Lo90": c["lo90"], "Hi90": c["hi90"], "P(rank 1)": c["p_rank1"]}),
        pd.DataFrame({"Entity ID": "event:" + e["event_id"].drop_duplicates(), "Entity Type": "Event", "Label": e["event_id"].drop_duplicates()}),
    ]  # fmt: skip
    entities = pd.concat(ents, ignore_index=True)
    member = e[["person", "cell"]].drop_duplicates()
    links = pd.concat(
        [
            pd.DataFrame({"From Entity ID": member["person"], "To Entity ID": "cell:" + member["cell"].astype(str),
                          "Link Type": "Member of", "Confidence": ""}),
            pd.DataFrame({"From Entity ID": e["person"], "To Entity ID": "event:" + e["event_id"],
                          "Link Type": e["kind"].str.capitalize(), "Confidence": e["confidence"]}),
        ],
        ignore_index=True,
    )  # fmt: skip
    links.insert(0, "Link ID", [f"L{i + 1}" for i in range(len(links))])
    return entities, links


def export_list(
    store: Store, scope: Scope, out: str | Path, *, trail: AuditTrail, agency: str | None = None,
    format: str = "csv", top: int = DEFAULT_TOP,
) -> list[Path]:  # fmt: skip
    """Write the focused-deterrence list to the folder ``out`` for case management: ``persons.csv``,
    ``cells.csv`` and ``evidence.csv`` (``csv``), or the i2 ``entities.csv`` and ``links.csv`` pair
    (``i2``). Every file carries the provenance columns; nothing is written on an error."""
    if format not in EXPORT_FORMATS:
        raise VdtoError(f"unknown format {format!r}", fix="use csv or i2", param="format")
    files = export_files(store, scope, trail=trail, agency=agency, format=format, top=top)
    return [atomic_write(Path(out) / name, _writer(data), mode=0o600) for name, data in files.items()]


def _writer(data: bytes) -> Callable[[Path], object]:
    return lambda tmp: tmp.write_bytes(data)


def export_files(
    store: Store,
    scope: Scope,
    *,
    trail: AuditTrail,
    agency: str | None = None,
    format: str = "csv",
    top: int = DEFAULT_TOP,
) -> dict[str, bytes]:
    """The export's files as bytes (file name -> content): what :func:`export_list` writes and the
    API zips."""
    if format not in EXPORT_FORMATS:
        raise VdtoError(f"unknown format {format!r}", fix="use csv or i2", param="format")
    listing = focused_list(
        store, scope, trail=trail, agency=agency, top=top, action=f"persons.export.{format}"
    )
    meta = {k: v for k, v in listing.view.meta.items() if v is not None}
    prov = {"vdto_version": meta.get("vdto_version"), "data_sha256": meta.get("data_sha256"),
            "records_sha256": meta.get("records_sha256"), "seed": meta.get("seed"), "draws": meta.get("draws"),
            "window": f"{meta.get('from')} to {meta.get('to')}", "target": meta.get("target"), "agency": meta.get("agency")}  # fmt: skip

    def csv_bytes(frame: pd.DataFrame) -> bytes:
        return csv_safe(frame.assign(**prov)).to_csv(index=False).encode("utf-8-sig")

    if format == "csv":
        return {"persons.csv": csv_bytes(listing.persons), "cells.csv": csv_bytes(listing.cells),
                "evidence.csv": csv_bytes(listing.evidence)}  # fmt: skip
    entities, links = _i2(listing)
    return {"entities.csv": csv_bytes(entities), "links.csv": csv_bytes(links)}


def zipped(files: dict[str, bytes]) -> bytes:
    """The files in one zip (for the API)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


# ---------------------------------------------------------------------------------- forgetting
@dataclass(frozen=True)
class ForgetSummary:
    """What a deletion removed."""

    agency: str
    persons: list[str]
    rows: dict[str, int]

    def line(self) -> str:
        total = sum(self.rows.values())
        who = ", ".join(self.persons[:5]) + (
            f" and {len(self.persons) - 5} more" if len(self.persons) > 5 else ""
        )
        if not self.persons:
            return f"nothing to delete for agency {self.agency}"
        return f"deleted {total:,} rows of {len(self.persons):,} person(s) of agency {self.agency}: {who}"


def forget(
    store: Store,
    *,
    trail: AuditTrail,
    agency: str | None = None,
    pseudonym: str | None = None,
    identifier: str | None = None,
    key: PersonKey | None = None,
    expired: bool = False,
    today: date | None = None,
) -> ForgetSummary:
    """Delete a person's records from every table (by pseudonym, or by identifier with the
    agency's key), or every person past the retention period (``expired``). The person stays on
    the forgotten list (by pseudonym only), so a later import leaves their rows out."""
    agency = store.resolve_agency(agency)
    given = sum(x is not None and x is not False for x in (pseudonym, identifier, expired or None))
    if given != 1:
        raise VdtoError("say whom to forget: one person (by pseudonym or identifier) or the expired records",
                        fix="give one of {pseudonym}, {identifier} with {key}, or {expired}", param="pseudonym",
                        mentions=("pseudonym", "identifier", "key", "expired"))  # fmt: skip
    if identifier is not None:
        if key is None:
            raise VdtoError(
                "an identifier needs the agency's key", fix="give {key}", param="key", mentions=("key",)
            )
        _key_check(store, agency, key)
        pseudonym = key.pseudonym(agency, identifier)
    if pseudonym is not None and not PSEUDONYM.match(pseudonym):
        raise VdtoError(
            "not a pseudonym (p_ and 24 hex digits)",
            fix="copy it from `vdto persons list`",
            param="pseudonym",
        )
    action = "persons.forget.expired" if expired else "persons.forget"
    # the audit log is read by the agency's admins too: it says how many, never who (the
    # forgotten list, which only the person tables' readers see, keeps the pseudonym and time)
    with _audited(
        trail, action, f"agency {agency}; " + ("past retention" if expired else "one person, on request")
    ) as done:
        if expired:
            days = int(store.persons.setting(agency, "retention_days") or DEFAULT_RETENTION_DAYS)
            persons = store.persons.expired(agency, days, today or date.today())
        else:
            assert pseudonym is not None
            if not store.persons.known(agency, pseudonym):
                raise UnknownNameError(
                    f"agency {agency} holds no records of that person",
                    "",
                    "check the pseudonym (or the identifier and key); nothing was deleted",
                    param="pseudonym" if identifier is None else "identifier",
                )
            persons = [pseudonym]
        rows = store.persons.forget(agency, persons, _now()) if persons else {}
        summary = ForgetSummary(agency, persons, rows)
        done["detail"] = f"agency {agency}; deleted {sum(rows.values())} rows of {len(persons)} person(s)"
    return summary


def generate_case_files(
    store: Store, start: date | None = None, end: date | None = None, *, seed: int = 7,
    persons: int | None = None, agency: str | None = None,
) -> CaseFiles:  # fmt: skip
    """Synthetic case files linked to the agency's real events of the window
    (:func:`vdto.persons.synthetic.generate`; its assumptions are documented there)."""
    result = score_window(store, start, end, agency=store.resolve_agency(agency), draws=1, seed=seed)
    return generate(result.events, result.attribution, seed=seed, persons=persons)


def demo(
    db: str | Path, folder: str | Path, start: date, end: date, *, seed: int = 7, top: int = 5
) -> FocusedList:
    """The demo's step: synthetic case files linked to the real events of the window, a fresh key,
    the import, and the focused-deterrence list of the target (audited as actor ``demo``)."""
    from vdto.persons.keys import write_key

    folder = Path(folder)
    key_path = folder / "demo-persons.key"
    key_path.unlink(missing_ok=True)
    key = write_key(key_path)
    with Store(db) as store:
        case = generate_case_files(store, start, end, seed=seed)
        case.write(folder / "case-files")
        import_case_files(
            store, folder / "case-files", key=key, trail=StoreTrail(store, "demo", "import", None)
        )
        return focused_list(
            store,
            Scope(start=start, end=end, seed=seed),
            trail=StoreTrail(store, "demo", "list", None),
            top=top,
        )


def write_key_file(path: str | Path) -> str:
    """Make the agency's key file; returns its fingerprint."""
    from vdto.persons.keys import write_key

    return write_key(path).fingerprint


__all__ = [
    "AuditTrail",
    "FocusedList",
    "ForgetSummary",
    "GroupAudit",
    "ImportSummary",
    "Scope",
    "StoreTrail",
    "export_files",
    "export_list",
    "focused_list",
    "forget",
    "group_audit",
    "import_case_files",
    "load_records",
    "score",
    "zipped",
]
