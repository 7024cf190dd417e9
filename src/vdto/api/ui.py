"""The analyst's workbench: the web interface ``vdto serve`` shows at ``/``.

One HTML page (:file:`render/templates/workbench/index.html`) and the scripts, styles and
translations under :file:`vdto/data/workbench`, all shipped in the package: the page loads nothing
from another host, and its Content-Security-Policy forbids it. Every number the page shows comes
from the API's own endpoints, called with the analyst's token (the same service functions as the
CLI), so the audit log records what the interface does as it records any other client.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

import vdto
from vdto.api.deps import ApiError
from vdto.data import bundled
from vdto.render.pages import render

router = APIRouter(include_in_schema=False)

#: The views in the order of the navigation: (name, needs a token).
VIEWS: tuple[tuple[str, bool], ...] = (
    ("events", True),
    ("ranking", True),
    ("agencies", True),
    ("regions", True),
    ("rounds", True),
    ("network", True),
    ("persons", True),
    ("simulations", True),
    ("public", False),
)
LANGUAGES = ("es", "en")

#: Nothing leaves the machine: scripts, styles, images and calls go to this server only.
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_TYPES = {".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".png": "image/png",
          ".svg": "image/svg+xml", ".md": "text/markdown"}  # fmt: skip


def _root() -> Path:
    return bundled("workbench")


@cache
def assets() -> dict[str, Path]:
    """Every file the page may load, by its path under ``/ui/`` (nothing else is served)."""
    root = _root()
    return {
        p.relative_to(root).as_posix(): p
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix != ".py"
    }


@cache
def stamp() -> str:
    """A digest of every shipped file, added to the assets' addresses (``?v=``) so a browser
    never runs the scripts of an older version against a newer page."""
    digest = hashlib.sha256()
    for name, path in assets().items():
        digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


@cache
def translations() -> dict[str, dict[str, str]]:
    """The interface's words, ``{"es": {...}, "en": {...}}``, merged from ``i18n/*.json``.

    Each view keeps its own file; a key defined twice, or missing in one language, is a bug the
    tests catch (:func:`translation_problems`).
    """
    out: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for path in sorted((_root() / "i18n").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for lang in LANGUAGES:
            out[lang].update(data.get(lang, {}))
    return out


def translation_problems() -> list[str]:
    """Keys defined in two files, or in one language only (an empty list when all is well)."""
    problems = []
    seen: dict[str, str] = {}
    for path in sorted((_root() / "i18n").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        langs = {lang: set(data.get(lang, {})) for lang in LANGUAGES}
        for lang in LANGUAGES:
            for key in sorted(langs[lang] - set.intersection(*langs.values())):
                problems.append(f"{path.name}: {key} has no translation in every language (has {lang})")
        for key in sorted(langs["en"]):
            if key in seen and seen[key] != path.name:
                problems.append(f"{path.name}: {key} is also defined in {seen[key]}")
            seen[key] = path.name
    return problems


def view_scripts() -> list[str]:
    """The view scripts that exist, in navigation order."""
    have = assets()
    return [f"views/{name}.js" for name, _ in VIEWS if f"views/{name}.js" in have]


def vendor_scripts() -> list[str]:
    """The libraries under ``vendor/`` a view needs, loaded before the views (``vendor/*/*.js``)."""
    return sorted(p for p in assets() if p.startswith("vendor/") and p.endswith(".js"))


@router.get("/", response_class=HTMLResponse)
def page(lang: Annotated[Literal["es", "en"], Query(description="The language.")] = "es") -> HTMLResponse:
    """The workbench page (Spanish by default; ``?lang=en`` for English)."""
    html = render(
        "workbench/index.html",
        lang=lang,
        version=vdto.__version__,
        views=[{"name": n, "token": t} for n, t in VIEWS if f"views/{n}.js" in assets()],
        scripts=view_scripts(),
        vendor=vendor_scripts(),
        vendor_css=sorted(p for p in assets() if p.startswith("vendor/") and p.endswith(".css")),
        styles=[f"views/{n}.css" for n, _ in VIEWS if f"views/{n}.css" in assets()],
        words=translations(),
        stamp=stamp(),
    )
    return HTMLResponse(html, headers={**HEADERS, "Cache-Control": "no-store"})


@router.get("/ui/{path:path}")
def asset(path: str) -> Response:
    """A file of the workbench (scripts, styles, the map library); only files shipped in the package."""
    found = assets().get(path)
    if found is None:
        raise ApiError(404, f"no workbench file {path!r}")
    kind = _TYPES.get(found.suffix) or mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    return Response(found.read_bytes(), media_type=kind, headers={**HEADERS, "Cache-Control": "max-age=3600"})
