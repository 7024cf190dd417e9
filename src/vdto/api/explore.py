"""Browsing an agency's own events: the filtered, paginated list, the filters' choices, exports.

Every endpoint takes any token of the agency in the path (``check_agency``: another agency's
token gets 403) and reads that agency's events only. The filters are the same query parameters
everywhere (``from``, ``to``, ``entity``, ``municipality``, ``organization``, ``category``,
``source``), so a download holds exactly the events the list counts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from vdto.api.access import Cache
from vdto.api.deps import Agency, Caller, Context, Ctx, check_agency
from vdto.orgs import Registry
from vdto.services import events as service


async def _hold(request: Request) -> AsyncIterator[None]:
    """Hold the store open for the request's reads (its token, then its answer): see
    :meth:`vdto.api.access.StoreAccess.holding` (async: waiting for the store's next turn takes
    no worker thread). Ends before the answer is sent."""
    async with request.app.state.vdto.access.holding():
        yield


router = APIRouter(tags=["agency"], dependencies=[Depends(_hold, scope="function")])

Sort = Literal["date", "-date", "deaths", "-deaths"]

_TEXT = 200


class EventQuery(BaseModel):
    """The filters, as query parameters (every one optional; none selects every event)."""

    from_: date | None = Field(None, alias="from", description="First start date (included).")
    to: date | None = Field(None, description="Last start date (included).")
    entity: str | None = Field(
        None, max_length=_TEXT, description="A Mexican state: INEGI code (14) or name (Jalisco)."
    )
    municipality: str | None = Field(
        None, max_length=_TEXT, description="An INEGI 5-digit municipality code."
    )
    organization: str | None = Field(
        None,
        max_length=_TEXT,
        description="A registry id (cjng), or any name or alias the registry resolves.",
    )
    category: str | None = Field(None, max_length=_TEXT, description="An event category (armed_clash).")
    source: str | None = Field(None, max_length=_TEXT, description="A source label as stored (ucdp-ged).")

    def filter(self) -> service.EventFilter:
        """The service's filter."""
        return service.EventFilter(
            start=self.from_, end=self.to, entity=self.entity, municipality=self.municipality,
            organization=self.organization, category=self.category, source=self.source,
        )  # fmt: skip


Filters = Annotated[EventQuery, Query()]


class Events(BaseModel):
    """A page of the agency's own events and the totals of everything the filters select."""

    agency: str
    total: int = Field(description="Events the filters select (all pages).")
    deaths: int = Field(description="Deaths (best estimate) of the events the filters select (all pages).")
    offset: int
    limit: int
    sort: str
    filters: dict[str, str] = Field(
        description="The filters as applied: entity as its INEGI code, organization as its registry id."
    )
    events: list[dict[str, Any]] = Field(
        description="Every stored column, plus id, state, municipality, organizations and perpetrators."
    )


class StateChoice(BaseModel):
    code: str
    name: str
    events: int


class OrgChoice(BaseModel):
    id: str
    name: str
    events: int


class ValueChoice(BaseModel):
    value: str
    events: int


class Facets(BaseModel):
    """The choices of each filter, each counted under the other filters."""

    agency: str
    filters: dict[str, str]
    entity: list[StateChoice]
    organization: list[OrgChoice]
    category: list[ValueChoice]
    source: list[ValueChoice]
    first: date | None = Field(description="The agency's first event date.")
    last: date | None = Field(description="The agency's last event date.")


def _cache(request: Request) -> Cache:
    """This server's cache of event answers (its own, made by ``create_app``, so browsing cannot
    push the public scorecard out of the shared one); every entry is tied to the store's version."""
    cache: Cache = request.app.state.events_cache
    return cache


def _registry(ctx: Context, store: Any, version: Any) -> Registry:
    """The store's registry, built once per store version (it reads the seed file and two tables)."""
    return ctx.cache.get_or_compute(("registry",), version, store.registry)


@router.get("/agencies/{agency}/events", response_model=Events, summary="The agency's raw events, filtered")
def agency_events(
    request: Request,
    agency: Agency,
    who: Caller,
    ctx: Ctx,
    filters: Filters,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    sort: Annotated[Sort, Query(description="date (oldest first), -date, deaths or -deaths.")] = "date",
) -> dict:
    """A page of the agency's own events that the filters select, with the number of them and
    their deaths (any of its tokens). No agency reads another's."""
    check_agency(who, agency)
    cache, flt = _cache(request), filters.filter()
    key, version = ("events", agency, flt, offset, limit, sort), ctx.access.version()
    hit = cache.get(key, version)
    if hit is not None:
        return hit
    with ctx.access.read() as store:
        page = service.list_events(
            store, agency, flt, offset, limit, sort, registry=_registry(ctx, store, version)
        )
    return cache.put(key, version, {
        "agency": agency, "total": page.total, "deaths": page.deaths, "offset": offset, "limit": limit,
        "sort": page.sort, "filters": page.filters, "events": page.rows,
    })  # fmt: skip


@router.get(
    "/agencies/{agency}/events/facets", response_model=Facets, summary="The choices of the event filters"
)
def agency_event_facets(request: Request, agency: Agency, who: Caller, ctx: Ctx, filters: Filters) -> dict:
    """The states, organizations, categories and sources of the agency's events, each with how
    many events choosing it would select under the other filters; and the first and last date."""
    check_agency(who, agency)
    cache, flt = _cache(request), filters.filter()
    key, version = ("facets", agency, flt), ctx.access.version()
    hit = cache.get(key, version)
    if hit is not None:
        return hit
    with ctx.access.read() as store:
        found = service.facets(store, agency, flt, registry=_registry(ctx, store, version))
    return cache.put(key, version, {"agency": agency, **found})


_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


@router.get(
    "/agencies/{agency}/events/download",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}, "description": "The file."}
    },
    summary="The filtered events as a file",
)
def agency_events_download(
    agency: Agency,
    who: Caller,
    ctx: Ctx,
    filters: Filters,
    format: Annotated[Literal["csv", "parquet"], Query(description="csv or parquet.")] = "csv",
    sort: Annotated[Sort, Query(description="date (oldest first), -date, deaths or -deaths.")] = "date",
) -> Response:
    """Every event the filters select (not a page) as CSV or Parquet, with the list's columns:
    id, agency, source, source_id, dates, state and municipality (codes and names),
    organizations, category and deaths (best, low, high)."""
    check_agency(who, agency)
    flt = filters.filter()
    version = ctx.access.version()
    with ctx.access.read() as store:
        registry = _registry(ctx, store, version)
        body = service.export_events(store, agency, flt, format, sort, registry=registry)
        name = service.export_name(agency, service.applied_filters(flt, registry), format)
    return Response(
        body, media_type=_TYPES[format], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
