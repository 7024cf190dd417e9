"""HTML pages from Jinja2 templates: one environment for every page vdto writes.

The templates are in ``vdto/render/templates`` (shipped in the wheel): ``base.html`` (the
head every page shares), ``report.html`` (the analyst's report), ``scorecard/index.html`` and
``scorecard/methodology.html`` (the public site), and ``macros.html`` (tables, text in two
languages). Conventions:

* every value put in a page is escaped as :func:`html.escape` does (``<``, ``>``, ``&``, ``"``
  and ``'``), and ``None`` prints as nothing; only :class:`~markupsafe.Markup` passes as it is
  (markup built by the templates themselves, an SVG from vl-convert);
* an undefined name is an error (``StrictUndefined``), not an empty string;
* the :mod:`vdto.render.fmt` formatters are filters (``{{ x|num(0) }}``, ``{{ x|pct("es") }}``),
  so that a missing number always prints "—";
* ``|json_script`` puts an object in a ``<script type="application/json">`` element,
  ``|script`` and ``|style`` put trusted JavaScript and CSS in ``<script>`` and ``<style>``.

Examples
--------
>>> from markupsafe import Markup
>>> env = environment()
>>> env.from_string("<p title='{{ t }}'>{{ x|num }} {{ y|pct('es') }}</p>").render(t="it's", x=None, y=0.5)
"<p title='it&#x27;s'>— 50.0\\xa0%</p>"
"""

from __future__ import annotations

import html
import re
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from vdto.render import fmt
from vdto.render.jsonout import script_json


def _finalize(value: Any) -> Any:
    """Every ``{{ value }}``: markup as it is, ``None`` as nothing, the rest escaped."""
    if hasattr(value, "__html__"):
        return value
    if value is None:
        return Markup("")
    return Markup(html.escape(str(value), quote=True))


def script(text: str) -> Markup:
    """Trusted JavaScript for a ``<script>`` element: ``</script`` is written ``<\\/script``,
    which means the same in a string or a regular expression, so it cannot end the element."""
    return Markup(re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE))


def style(text: str) -> Markup:
    """Trusted CSS for a ``<style>`` element (refused if it could end the element)."""
    if re.search(r"</style", text, re.IGNORECASE):
        raise ValueError("a style sheet may not contain '</style'")
    return Markup(text)


def asset(name: str) -> str:
    """The text of a file beside the templates (a style sheet, a script), not a template."""
    return resources.files("vdto.render").joinpath("templates", name).read_text(encoding="utf-8")


def backticks(text: Any) -> Markup:
    """Plain text, escaped, with each ```code``` span as ``<code>code</code>``."""
    escaped = html.escape("" if text is None else str(text), quote=True)
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))


def upfirst(text: Any) -> str:
    """The text with its first letter in upper case (the rest as it is)."""
    text = "" if text is None else str(text)
    return text[:1].upper() + text[1:]


@cache
def environment() -> Environment:
    """The Jinja2 environment of vdto's pages (see the module's conventions)."""
    env = Environment(
        loader=PackageLoader("vdto.render", "templates"),
        autoescape=select_autoescape(["html"], default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters.update(fmt.FILTERS)
    env.filters.update(
        json_script=lambda obj, sort_keys=False: Markup(script_json(obj, sort_keys=sort_keys)),
        script=script,
        style=style,
        backticks=backticks,
        upfirst=upfirst,
    )
    env.globals.update(asset=asset, MISSING=fmt.MISSING)
    return env


def render(template_name: str, /, **context: Any) -> str:
    """The page ``template_name`` (e.g. ``"report.html"``) rendered with ``context``."""
    return environment().get_template(template_name).render(**context)


__all__ = ["asset", "backticks", "environment", "render", "script", "style", "upfirst"]
