"""Person-level endpoints: focused deterrence on people, for the analysts of the owning agency only.

- ``POST /agencies/{agency}/persons/imports``: the agency's case files (multipart: ``cells``,
  ``persons``, ``links``, optional ``ties``, and ``key``, the agency's key file, used in memory
  and never stored), replacing its person records.
- ``POST /agencies/{agency}/persons/scores``: the target's cells and persons scored.
- ``POST /agencies/{agency}/persons/audit``: the group audit.
- ``POST /agencies/{agency}/persons/list``: the focused-deterrence list with its evidence.
- ``POST /agencies/{agency}/persons/export``: the list as a zip (``csv`` or ``i2``).
- ``POST /agencies/{agency}/persons/forget``: delete a person's records (by pseudonym, or by
  identifier with the key), or every record past retention.

A library error answers as every endpoint's does (the app's handler: its status and one line).
Every one is a POST, even those that only read, so that: each is audited as a write (a
``started`` row once authorised, before anything is read, and its outcome), refusals included;
no pseudonym or identifier travels in a URL (where server logs keep it); and no cache keeps an
answer. Only an ``analyst`` token of ``agency`` passes; every other role, and every token of
another agency, gets 403. Nothing here is public, and no public endpoint reads these records.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from datetime import date
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import ClientDisconnect

from vdto.api.deps import (
    Agency,
    ApiError,
    Caller,
    Ctx,
    check_agency,
    check_role,
    set_action,
    spell,
    start_write,
    status_of,
)
from vdto.api.uploads import receive_form
from vdto.api.views import records
from vdto.errors import InputFileError, RowErrors, VdtoError
from vdto.persons.scoring import REGION_PATTERN

router = APIRouter(tags=["persons"])

_FILES = {"cells", "persons", "links", "ties"}
#: the key file is read as a form field: kept in memory, never written to the server's disk
_FIELDS = frozenset({"key"})
_KEY = re.compile(r"^[0-9a-f]{64}$")


class _ApiTrail:
    """The API's audit trail for a person endpoint: the ``started`` row is written by the endpoint
    (before the store is opened); the outcome row by the audit middleware, with this detail."""

    def __init__(self, request: Request) -> None:
        self.state = request.scope.setdefault("state", {})

    def started(self, action: str, detail: str) -> None:
        self.state["action"] = action

    def finished(self, outcome: str, detail: str) -> None:
        if outcome == "ok":
            self.state["audit_detail"] = detail


def _guard(request: Request, ctx, who, agency: str, action: str) -> _ApiTrail:
    set_action(request, action)
    check_agency(who, agency)
    check_role(who, "analyst", "person-level records")
    start_write(request, ctx, who, action)
    return _ApiTrail(request)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ScopeIn(_In):
    """The window, the target (an organization, or a region) and the Monte Carlo."""

    from_: date | None = Field(None, alias="from", description="First day (default: the rubric's window).")
    to: date | None = Field(None, description="Last day (default: the agency's last event).")
    target: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="An organization (any name); default: the round's target.",
    )
    region: str | None = Field(
        None, pattern=REGION_PATTERN, description="An INEGI state or municipality code."
    )
    draws: int = Field(2000, ge=1, le=10000)
    seed: int = Field(7, ge=0, le=2**32 - 1)

    def scope(self):
        from vdto.services.persons import Scope

        return Scope(
            start=self.from_,
            end=self.to,
            target=self.target,
            region=self.region,
            draws=self.draws,
            seed=self.seed,
        )


class ListIn(ScopeIn):
    top: int = Field(20, ge=1, le=1000, description="How many persons and cells.")


class ExportIn(ListIn):
    format: Literal["csv", "i2"] = Field(
        "csv", description="csv (persons, cells, evidence) or i2 (entities, links)."
    )


class ForgetIn(_In):
    """Whom to forget: one of ``pseudonym``, ``identifier`` (with ``key``, hex) or ``expired``."""

    pseudonym: str | None = Field(None, pattern=r"^p_[0-9a-f]{24}$")
    identifier: str | None = Field(None, min_length=1, max_length=200)
    key: str | None = Field(
        None, pattern=r"^[0-9a-fA-F]{64}$", description="The agency's key (with identifier)."
    )
    expired: bool = False

    @field_validator("key")
    @classmethod
    def _lower(cls, v: str | None) -> str | None:
        return v.lower() if v else v


def _scores_answer(view) -> dict[str, Any]:
    s = view.scores
    return {
        "agency": view.agency,
        "target": {
            "kind": s.target.kind,
            "value": s.target.value,
            "label": s.target.label,
            "chosen_by": view.chosen,
        },
        "meta": view.meta,
        "threshold": s.threshold,
        "decisions": s.decisions,
        "excluded_links": s.excluded,
        "cells": records(s.cells),
        "persons": records(s.persons),
    }


def _binary(text: str) -> dict[str, str]:
    return {"type": "string", "format": "binary", "description": text}


_CASE_FILES_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["cells", "persons", "links", "key"],
                    "properties": {
                        "cells": _binary("cells.csv: cell, organization[, name, region] (docs/persons.md)."),
                        "persons": _binary("persons.csv: person, cell, role, start[, end, name]."),
                        "links": _binary("links.csv: person, source, source_id, kind, confidence."),
                        "ties": _binary("ties.csv (optional): person, other[, weight]."),
                        "key": _binary(
                            "The agency's key file (`vdto persons key`); read in memory, never stored."
                        ),
                    },
                }
            }
        },
    }
}


@router.post(
    "/agencies/{agency}/persons/imports",
    status_code=201,
    summary="Import the agency's case files",
    openapi_extra=_CASE_FILES_BODY,
)
async def persons_import(
    request: Request,
    agency: Agency,
    who: Caller,
    ctx: Ctx,
    keep_identities: Annotated[
        bool, Query(description="Also store raw identifiers and names (recorded).")
    ] = False,
    retention_days: Annotated[
        int | None, Query(ge=1, le=36500, description="Days kept after last activity.")
    ] = None,
) -> dict:
    """Replace the agency's person records with its case files (multipart form: ``cells``,
    ``persons``, ``links``, optional ``ties``, and ``key``, the agency's key file). All or nothing;
    identifiers become pseudonyms with the key, which is never stored."""
    trail = await run_in_threadpool(_guard, request, ctx, who, agency, "persons.import")
    folder = FsPath(tempfile.mkdtemp(prefix="vdto-persons-"))
    try:
        try:
            files, fields = await receive_form(
                request.headers.get("content-type"), request.stream(), folder, files=_FILES, fields=_FIELDS
            )
        except ClientDisconnect:
            raise ApiError(
                400, "the client went away before the upload was complete; nothing was imported"
            ) from None
        missing = [n for n in ("cells", "persons", "links", "key") if n not in files and n not in fields]
        if missing:
            raise ApiError(
                422,
                f"the form has no '{missing[0]}' part; send cells, persons, links (ties optional) and key",
            )
        key = _key(fields.pop("key"))
        return await run_in_threadpool(
            _import, ctx, agency, files, key, folder, trail, keep_identities, retention_days
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _key(text: str):
    """The agency's key from the key file's text (what ``vdto persons key`` wrote), in memory."""
    from vdto.persons.keys import PersonKey

    value = text.strip().lower()
    if not _KEY.match(value):
        raise ApiError(
            422, "key: not a person key (expected 64 hex digits); send the file `vdto persons key` wrote"
        )
    return PersonKey(bytes.fromhex(value))


def _import(ctx, agency, files, key, folder, trail, keep_identities, retention_days) -> dict:
    from vdto.persons.records import CaseFileErrors
    from vdto.services.persons import import_case_files

    case = folder / "case"
    case.mkdir()
    for name in ("cells", "persons", "links", "ties"):
        if name in files:
            os.replace(files[name], case / f"{name}.csv")
    try:
        with ctx.access.write() as store:
            summary = import_case_files(store, case, key=key, trail=trail, agency=agency,
                                        keep_identities=keep_identities, retention_days=retention_days)  # fmt: skip
    except VdtoError as exc:
        # the server's temporary folder is no business of the client's: a file is named as sent
        line = exc.line(spell)
        for place, shown in ((case, "the upload"), (folder, "the upload")):
            line = line.replace(str(place) + os.sep, "").replace(str(place), shown)
        # a case file that cannot be read or has bad rows is a bad upload (422), as for events
        status = 422 if isinstance(exc, CaseFileErrors | RowErrors | InputFileError) else status_of(exc)
        raise ApiError(status, line) from None
    return {"agency": summary.agency, "import_id": summary.import_id, "counts": summary.counts,
            "keep_identities": summary.keep_identities, "names_not_stored": 0 if summary.keep_identities else summary.names_given,
            "forgotten_rows": summary.forgotten_rows, "retention_days": summary.retention_days, "lines": summary.lines()}  # fmt: skip


@router.post("/agencies/{agency}/persons/scores", summary="Score the target's cells and persons")
def persons_scores(body: ScopeIn, agency: Agency, who: Caller, ctx: Ctx, request: Request) -> dict:
    """The target's cells and persons: expected score (rubric points), 90% interval, P(rank 1)
    within the target and whether the top one can be named. Audited; nothing is stored."""
    from vdto.services.persons import score

    trail = _guard(request, ctx, who, agency, "persons.score")
    with ctx.access.read() as store:
        view = score(store, body.scope(), trail=trail, agency=agency)
    return _scores_answer(view)


@router.post("/agencies/{agency}/persons/audit", summary="The group audit of the target")
def persons_audit(body: ScopeIn, agency: Agency, who: Caller, ctx: Ctx, request: Request) -> dict:
    """The target's cells with their violence and membership, the co-offending network's
    components, brokers and centrality, the ties between cells, the organization's alliances and
    rivalries (BACRIM 2020), and who would likely step in for each leader. Audited."""
    from vdto.services.persons import group_audit

    trail = _guard(request, ctx, who, agency, "persons.audit")
    with ctx.access.read() as store:
        ga = group_audit(store, body.scope(), trail=trail, agency=agency)
    st = ga.structure
    return {
        **_scores_answer(ga.view),
        "components": records(st.components),
        "people": records(st.people),
        "brokers": records(st.brokers),
        "betweenness_method": st.betweenness_method,
        "cell_ties": records(ga.cell_ties),
        "succession": records(ga.succession),
        "allies": ga.allies,
        "rivals": ga.rivals,
    }


@router.post("/agencies/{agency}/persons/list", summary="The focused-deterrence list")
def persons_list(body: ListIn, agency: Agency, who: Caller, ctx: Ctx, request: Request) -> dict:
    """The top cells and persons of the target, with every link of evidence behind the listed
    persons (event, date, weight, attribution probability, kind, confidence). Audited."""
    from vdto.services.persons import focused_list

    trail = _guard(request, ctx, who, agency, "persons.list")
    with ctx.access.read() as store:
        listing = focused_list(store, body.scope(), trail=trail, agency=agency, top=body.top)
    answer = _scores_answer(listing.view)
    answer.update(
        cells=records(listing.cells), persons=records(listing.persons), evidence=records(listing.evidence)
    )
    return answer


@router.post(
    "/agencies/{agency}/persons/export",
    summary="The focused-deterrence list for case management (zip)",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "The files, zipped."}},
)
def persons_export(body: ExportIn, agency: Agency, who: Caller, ctx: Ctx, request: Request) -> Response:
    """The list as files for case management, zipped: ``persons.csv``, ``cells.csv`` and
    ``evidence.csv`` (``csv``) or the i2 ``entities.csv`` and ``links.csv`` pair. Audited."""
    from vdto.services.persons import export_files, zipped

    trail = _guard(request, ctx, who, agency, f"persons.export.{body.format}")
    with ctx.access.read() as store:
        files = export_files(
            store, body.scope(), trail=trail, agency=agency, format=body.format, top=body.top
        )
    return Response(
        zipped(files),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="persons-{agency}-{body.format}.zip"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/agencies/{agency}/persons/forget", summary="Delete a person's records")
def persons_forget(body: ForgetIn, agency: Agency, who: Caller, ctx: Ctx, request: Request) -> dict:
    """Delete one person's records from every table (by ``pseudonym``, or by ``identifier`` with
    the agency's ``key``, used in memory only), or every person past the retention period
    (``expired``). The deletion is audited; the person stays on the forgotten list by pseudonym."""
    from vdto.persons.keys import PersonKey
    from vdto.services.persons import forget

    trail = _guard(request, ctx, who, agency, "persons.forget.expired" if body.expired else "persons.forget")
    key = PersonKey(bytes.fromhex(body.key)) if body.key else None
    with ctx.access.write() as store:
        summary = forget(store, trail=trail, agency=agency, pseudonym=body.pseudonym, identifier=body.identifier,
                         key=key, expired=body.expired)  # fmt: skip
    return {
        "agency": summary.agency,
        "persons": summary.persons,
        "rows": summary.rows,
        "line": summary.line(),
    }
