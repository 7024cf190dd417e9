"""The map's endpoints: the bundled borders (public) and an agency's region figures (its token).

- ``GET /public/geography/{level}``: the states' or municipalities' borders as GeoJSON, simplified
  for a browser (public geography, no token), with a strong ETag;
- ``GET /agencies/{agency}/regions``: every region's events, deaths, score, rate and Gi* hot-spot
  class from the agency's own events (:func:`vdto.services.regions.region_map`, the analysis of
  ``vdto hotspots``);
- ``GET /agencies/{agency}/regions/{code}``: one region's organizations and a page of the
  agency's own events in it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import date
from functools import cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from vdto.api.access import Cache
from vdto.api.deps import Agency, Caller, Context, Ctx, check_agency
from vdto.api.views import records

#: Tags per route: the geography is public, the rest the agency's.
router = APIRouter()

Level = Literal["state", "municipality"]
From = Annotated[
    date | None, Query(alias="from", description="First day (default: the rubric's window before `to`).")
]
To = Annotated[date | None, Query(alias="to", description="Last day (default: the agency's last event).")]

GEOJSON = "application/geo+json"


# ------------------------------------------------------------------------------------ models


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class RegionFigures(_Out):
    """One region's figures over the window, from the agency's own events."""

    code: str = Field(description="INEGI code: two digits a state, five a municipality.")
    name: str | None = Field(description="The region's name (municipalities as 'Name, State').")
    events: int = Field(description="Events placed in the region.")
    deaths: float = Field(description="Their deaths (best estimate).")
    score: float = Field(description="Violence score, in score points (the rubric's, decayed).")
    rate: float | None = Field(description="Score per 100,000 people; null without a population figure.")
    hotspot: str = Field(description="Gi* class: hot spot, cold spot, not significant, or not tested.")
    gi_z: float | None = Field(description="Gi* z-score.")
    gi_p: float | None = Field(description="Gi* pseudo p-value (total randomisation).")
    top_org: str | None = Field(description="The organization with the largest share of the score.")
    top_org_name: str | None
    top_org_share: float | None


class RegionMapAnswer(_Out):
    """Every region of a level over one window (a map's data)."""

    agency: str
    level: Level
    from_: date = Field(alias="from")
    to: date
    meta: dict[str, Any] = Field(description="Provenance: rubric, data hash, seed, permutations, alpha.")
    regions: list[RegionFigures]


class RegionOrg(_Out):
    """An organization's part of a region's score."""

    org: str
    name: str
    events: float = Field(description="Expected events (perpetrator probabilities summed).")
    points: float = Field(description="Expected score points.")
    share: float = Field(description="Share of the region's attributed points (0 to 1).")


class RegionDetail(_Out):
    """One region: its figures, organizations and a page of the agency's events in it."""

    agency: str
    level: Level
    from_: date = Field(alias="from")
    to: date
    region: RegionFigures
    orgs: list[RegionOrg]
    total: int = Field(description="The agency's events in the region and window.")
    offset: int
    limit: int
    events: list[dict[str, Any]]


# ------------------------------------------------------------------------------------ geography


@cache
def geography_body(level: str) -> tuple[bytes, bytes, str]:
    """The GeoJSON of ``level`` as compact UTF-8, the same gzipped, and its strong ETag (built
    once per process)."""
    from vdto.services.regions import region_geometry

    body = json.dumps(region_geometry(level), ensure_ascii=False, separators=(",", ":")).encode()
    return body, gzip.compress(body, compresslevel=6, mtime=0), hashlib.sha256(body).hexdigest()[:32]


@router.get(
    "/public/geography/{level}",
    tags=["public"],
    summary="The borders of the states or municipalities",
    response_class=Response,
    responses={
        200: {
            "content": {GEOJSON: {"schema": {"type": "object"}}},
            "description": "A GeoJSON FeatureCollection.",
        },
        304: {"description": "Not modified (the ETag matched)."},
    },
)
def public_geography(
    request: Request, level: Annotated[Level, Path(description="state (32) or municipality (2,457).")]
) -> Response:
    """The bundled INEGI borders of every state or municipality as a GeoJSON FeatureCollection,
    simplified for a browser (features: ``id`` and ``properties.code`` the INEGI code,
    ``properties.name``, ``properties.state``). Public geography: no token. Gzipped when the
    client accepts it; ``If-None-Match`` with the ETag answers 304."""
    body, zipped, digest = geography_body(level)
    gz = "gzip" in request.headers.get("accept-encoding", "").lower()
    etag = f'"{digest}{"-gz" if gz else ""}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}
    # If-None-Match compares weakly (RFC 9110): W/"x" matches "x"
    wanted = {t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")}
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers=headers)
    if gz:
        return Response(zipped, media_type=GEOJSON, headers={**headers, "Content-Encoding": "gzip"})
    return Response(body, media_type=GEOJSON, headers=headers)


# ------------------------------------------------------------------------------------ agency


def _cache(request: Request) -> Cache:
    """This server's cache of region analyses (its own, made by ``create_app``: windows any
    signed-in user can vary cannot push the public scorecard out of the shared one)."""
    cache: Cache = request.app.state.regions_cache
    return cache


def _map(request: Request, ctx: Context, agency: str, level: str, start: date | None, end: date | None):
    """The agency's region map over the window, from the cache while the store is unchanged."""
    from vdto.services.regions import check_window, region_map

    check_window(start, end)  # a bad window fails before any work
    key = ("agency-regions", agency, level, start, end)

    def compute():
        with ctx.access.read() as store:
            return region_map(store, start, end, level=level, agency=agency)

    return _cache(request).get_or_compute(key, ctx.access.version(), compute)


@router.get(
    "/agencies/{agency}/regions",
    response_model=RegionMapAnswer,
    summary="The agency's figures by region",
    tags=["agency"],
)
def agency_regions(
    request: Request,
    agency: Agency,
    who: Caller,
    ctx: Ctx,
    level: Annotated[Level, Query(description="state or municipality.")] = "state",
    start: From = None,
    end: To = None,
) -> dict:
    """Every state or municipality over the window, from the agency's own events only: events,
    deaths, score (score points), rate (per 100,000 people) and Gi* hot-spot class with its z and
    p (the analysis of ``vdto hotspots``: 999 permutations, seed 1, alpha 0.05)."""
    check_agency(who, agency)
    found = _map(request, ctx, agency, level, start, end)
    return {"agency": agency, "level": level, "from": found.meta["from"], "to": found.meta["to"],
            "meta": found.meta, "regions": records(found.table.round(6))}  # fmt: skip


@router.get(
    "/agencies/{agency}/regions/{code}",
    response_model=RegionDetail,
    summary="One region of the agency's map",
    tags=["agency"],
)
def agency_region(
    request: Request,
    agency: Agency,
    who: Caller,
    ctx: Ctx,
    code: Annotated[str, Path(max_length=16, description="INEGI code: 2 digits a state, 5 a municipality.")],
    start: From = None,
    end: To = None,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict:
    """One region's figures, its organizations (share of its score) and a page of the agency's
    own events in it over the window, latest first, each with its perpetrator candidates."""
    from vdto.services.regions import region_events, region_level

    check_agency(who, agency)
    level = region_level(code)
    found = _map(request, ctx, agency, level, start, end)
    first, last = date.fromisoformat(found.meta["from"]), date.fromisoformat(found.meta["to"])
    with ctx.access.read() as store:
        total, page = region_events(store, code, first, last, agency=agency, offset=offset, limit=limit)
    orgs = found.orgs[found.orgs["region_code"] == code]
    return {
        "agency": agency, "level": level, "from": first, "to": last, "region": found.row(code),
        "orgs": records(orgs[["org", "name", "events", "points", "share"]]), "total": total, "offset": offset,
        "limit": limit, "events": page,
    }  # fmt: skip
