"""The public scorecard as a static web site that opens offline, and its independent recomputation.

:func:`write_site` turns a scorecard (:func:`vdto.publication.scorecard.build_scorecard`) and its public
aggregates (:func:`vdto.publication.scorecard.public_aggregates`) into a folder that anyone can open from disk
or serve as static files: ``index.html`` (Spanish first, English on the switch), a methodology
page, the machine-readable files behind every number (``scorecard.json``, ``scorecard.csv``,
``aggregates.csv``, ``rubric.json``), and optionally the signed ledger and the agencies' public
keys. Nothing on the pages is fetched from the network: styles, script, data and charts (SVG
drawn here) are inline.

:func:`recompute_site` is what a journalist runs on a downloaded site (``vdto recompute .``): it
recomputes every published expected score from ``aggregates.csv`` and ``rubric.json`` and checks
the rubric's hash.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from vdto.errors import VdtoError
from vdto.publication.scorecard import RANKING_COLUMNS, SENSITIVE_FIELDS

#: Files of a published site (besides ``keys/``); the first is what marks a folder as a vdto site.
SITE_FILES: tuple[str, ...] = (
    "scorecard.json",
    "index.html",
    "methodology.html",
    "scorecard.csv",
    "aggregates.csv",
    "rubric.json",
    "ledger.jsonl",
)

#: Relative tolerance of :func:`recompute_site` (published scores are rounded to 6 decimals, so an
#: absolute difference up to 1e-6 is accepted as well).
REL_TOL = 1e-6

_AGENCY = re.compile(r"^[a-z0-9_-]{1,32}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_JSON_BLOCK = re.compile(r'<script type="application/json"[^>]*>(.*?)</script>', re.S)

_MONTHS = {
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}

#: Line colours of the trend chart (Okabe-Ito, readable by most colour-blind readers) and dashes.
_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999")
_DASHES = ("", "6 3", "2 3", "8 3 2 3", "", "6 3", "2 3", "8 3 2 3")


# ------------------------------------------------------------------------------ small helpers


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _bi(es: str, en: str, tag: str = "span", cls: str = "") -> str:
    """The same text in both languages; Spanish shows until the switch says otherwise.

    ``es`` and ``en`` are HTML (escape plain text before passing it).
    """
    klass = f' class="{cls}"' if cls else ""
    return f'<{tag} data-lang="es"{klass}>{es}</{tag}><{tag} data-lang="en"{klass} hidden>{en}</{tag}>'


def _svg_bi(es: str, en: str, **attrs: Any) -> str:
    """An SVG ``<text>`` per language (plain text, escaped here)."""
    a = " ".join(f'{k.rstrip("_").replace("_", "-")}="{_esc(v)}"' for k, v in attrs.items())
    return f'<text data-lang="es" {a}>{_esc(es)}</text><text data-lang="en" {a} hidden>{_esc(en)}</text>'


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _num(x: Any, digits: int = 1) -> str:
    return f"{x:,.{digits}f}" if _finite(x) else "—"


def _prob(x: Any) -> str:
    return f"{x:.3f}" if _finite(x) else "—"


def _pct(x: Any, lang: str) -> str:
    if not _finite(x):
        return "—"
    return f"{100 * x:,.1f}\u00a0%" if lang == "es" else f"{100 * x:,.1f}%"


def _rise(x: Any, lang: str) -> str:
    """How much a score must grow to reach first place: "+80.2 %" below doubling, "×3.2" above."""
    if not _finite(x):
        return "—"
    return f"+{_pct(x, lang)}" if x < 1 else f"×{1 + x:,.1f}"


def _date_text(iso: Any, lang: str) -> str:
    try:
        d = date.fromisoformat(str(iso))
    except ValueError:
        return _esc(iso)
    month = _MONTHS[lang][d.month - 1]
    return f"{d.day} de {month} de {d.year}" if lang == "es" else f"{d.day} {month} {d.year}"


def _period(meta: dict, lang: str) -> str:
    a, b = _date_text(meta.get("from"), lang), _date_text(meta.get("to"), lang)
    return f"del {a} al {b}" if lang == "es" else f"{a} to {b}"


def canonical_json(obj: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 characters as they are (the form every hash is over)."""
    try:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise VdtoError(
            f"the scorecard is not plain JSON ({error})",
            "scorecard",
            "build it with vdto.publication.scorecard.build_scorecard (no NaN, no objects)",
        ) from error


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _names(card: dict) -> dict[str, str]:
    names = {r.get("org"): r.get("name") for r in card.get("dismantled") or [] if r.get("org")}
    names.update({r.get("org"): r.get("name") for r in card.get("ranking") or [] if r.get("org")})
    return {k: v or k for k, v in names.items()}


def _nice_step(span: float, ticks: int = 5) -> float:
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / ticks
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _axis_max(top: float, ticks: int = 5) -> tuple[float, float]:
    step = _nice_step(top, ticks)
    return step * max(1, math.ceil(top / step)), step


# --------------------------------------------------------------------------------------- charts


def _interval_chart(ranking: list[dict], target: str | None, limit: int = 12) -> str:
    """Expected score (dot) and 90% interval (bar) of the leading organizations, as SVG."""
    rows = [r for r in ranking[:limit] if _finite(r.get("score"))]
    if not rows:
        return ""
    left, right, top, row_h = 250, 30, 30, 24
    width = 1000
    height = top + row_h * len(rows) + 34
    hi = max(max(r.get("hi90") or 0, r.get("score") or 0) for r in rows)
    xmax, step = _axis_max(hi if hi > 0 else 1.0)

    def x(v: float) -> float:
        return left + (width - left - right) * (v / xmax)

    out = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="interval-title" class="chart">',
        '<title id="interval-title">90% intervals / intervalos de 90 %</title>',
    ]
    tick = 0.0
    while tick <= xmax + 1e-9:
        out.append(
            f'<line class="grid" x1="{x(tick):.1f}" y1="{top - 8}" x2="{x(tick):.1f}" y2="{height - 30}"/>'
        )
        out.append(
            f'<text class="tick" x="{x(tick):.1f}" y="{height - 14}" text-anchor="middle">{_num(tick, 0)}</text>'
        )
        tick += step
    out.append(
        _svg_bi(
            "Puntuación (punto) e intervalo de 90 % (barra)",
            "Score (dot) and 90% interval (bar)",
            x=left,
            y=14,
        )
    )
    for i, r in enumerate(rows):
        y = top + row_h * i + row_h / 2
        colour = "#a3261b" if r.get("org") == target else "#0b5d7a"
        lo, hi90 = r.get("lo90"), r.get("hi90")
        out.append(f'<text x="{left - 10}" y="{y + 4:.1f}" text-anchor="end">{_esc(r.get("name"))}</text>')
        if _finite(lo) and _finite(hi90):
            out.append(
                f'<line x1="{x(lo):.1f}" y1="{y:.1f}" x2="{x(hi90):.1f}" y2="{y:.1f}" '
                f'stroke="{colour}" stroke-width="6" stroke-opacity="0.35" stroke-linecap="round"/>'
            )
        out.append(
            f'<circle cx="{x(r["score"]):.1f}" cy="{y:.1f}" r="5" fill="{colour}">'
            f"<title>{_esc(r.get('name'))}: {_num(r['score'])} ({_num(lo)} – {_num(hi90)})</title></circle>"
        )
    out.append(f'<line class="axis" x1="{left}" y1="{height - 30}" x2="{width - right}" y2="{height - 30}"/>')
    out.append("</svg>")
    return "".join(out)


def _trend_chart(trend: list[dict], names: dict[str, str]) -> str:
    """Expected score by calendar year of each organization, as an SVG line chart."""
    points = [t for t in trend if _finite(t.get("score")) and _finite(t.get("year"))]
    if not points:
        return ""
    orgs: list[str] = []
    for t in points:
        if t["org"] not in orgs:
            orgs.append(t["org"])
    years = sorted({int(t["year"]) for t in points})
    width, height = 1000, 360
    left, right, top, bottom = 70, 290, 20, 40
    ymax, step = _axis_max(max(t["score"] for t in points) or 1.0)
    y0, y1 = top, height - bottom

    def x(year: int) -> float:
        if len(years) == 1:
            return left + (width - left - right) / 2
        return left + (width - left - right) * (year - years[0]) / (years[-1] - years[0])

    def y(v: float) -> float:
        return y1 - (y1 - y0) * (v / ymax)

    out = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="trend-title" class="chart">',
        '<title id="trend-title">Score by year / puntuación por año</title>',
    ]
    tick = 0.0
    while tick <= ymax + 1e-9:
        out.append(
            f'<line class="grid" x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}"/>'
        )
        out.append(
            f'<text class="tick" x="{left - 8}" y="{y(tick) + 4:.1f}" text-anchor="end">{_num(tick, 0)}</text>'
        )
        tick += step
    for yr in years:
        out.append(f'<text class="tick" x="{x(yr):.1f}" y="{y1 + 18}" text-anchor="middle">{yr}</text>')
    out.append(f'<line class="axis" x1="{left}" y1="{y1}" x2="{width - right}" y2="{y1}"/>')
    out.append(f'<line class="axis" x1="{left}" y1="{y0}" x2="{left}" y2="{y1}"/>')
    for i, org in enumerate(orgs):
        colour, dash = _COLOURS[i % len(_COLOURS)], _DASHES[i % len(_DASHES)]
        series = sorted((int(t["year"]), float(t["score"])) for t in points if t["org"] == org)
        path = " ".join(f"{'M' if j == 0 else 'L'}{x(yr):.1f},{y(v):.1f}" for j, (yr, v) in enumerate(series))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.5"{dash_attr} data-org="{_esc(org)}"/>'
        )
        name = _esc(names.get(org, org))
        for yr, v in series:
            out.append(
                f'<circle cx="{x(yr):.1f}" cy="{y(v):.1f}" r="3.5" fill="{colour}">'
                f"<title>{name} {yr}: {_num(v)}</title></circle>"
            )
        ly = top + 10 + 22 * i
        lx = width - right + 20
        out.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 30}" y2="{ly}" stroke="{colour}" stroke-width="2.5"{dash_attr}/>'
        )
        out.append(f'<text x="{lx + 38}" y="{ly + 4}">{name}</text>')
    out.append("</svg>")
    return "".join(out)


# ------------------------------------------------------------------------------------ sections


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _decision_html(card: dict) -> str:
    d = card.get("decision") or {}
    ranking = card.get("ranking") or []
    names = _names(card)
    by_org = {r.get("org"): r for r in ranking}
    threshold = d.get("threshold")
    thr = f"{threshold:g}" if _finite(threshold) else "—"
    target = d.get("target")
    runner = d.get("runner_up")
    runner_row = by_org.get(runner, {})
    runner_name = _esc(names.get(runner, runner)) if runner else None
    reason_en = _esc(d.get("reason") or "")
    fallback_en = _esc(d.get("fallback") or "")
    fallback_en = re.sub(r"`([^`]+)`", r"<code>\1</code>", fallback_en)
    if target:
        name = _esc(d.get("target_name") or names.get(target, target))
        verdict = _bi(
            f'Objetivo: <span class="who">{name}</span>',
            f'Target: <span class="who">{name}</span>',
        )
        es = (
            f"Según la regla publicada, {name} es el siguiente objetivo de la aplicación concentrada de la "
            f"ley: su probabilidad de ser la organización más violenta es {_prob(d.get('p_rank1'))}, igual "
            f"o mayor que el umbral de {thr}."
        )
        if runner_name:
            es += (
                f" Le sigue {runner_name}, con una probabilidad de {_prob(runner_row.get('p_rank1'))} de ser "
                f"la más violenta."
            )
        en = f"{_capital(reason_en)}."
        cls = "decision has-target"
    else:
        verdict = _bi("Sin objetivo confiable", "No confident target")
        if ranking:
            lead = ranking[0]
            lead_name = _esc(lead.get("name"))
            es = (
                f"La regla no nombra objetivo: la organización con la puntuación más alta, {lead_name}, "
                f"tiene una probabilidad de {_prob(d.get('p_rank1'))} de ser la más violenta, menor que el "
                f"umbral de {thr}."
            )
            close = _finite(runner_row.get("hi90")) and _finite(lead.get("lo90"))
            close = close and runner_row["hi90"] >= lead["lo90"]
            if runner_name and close:
                es += (
                    f" La segunda, {runner_name} (probabilidad {_prob(runner_row.get('p_rank1'))}), está a su "
                    f"alcance: su intervalo de 90 % ({_num(runner_row.get('lo90'))} – {_num(runner_row.get('hi90'))}) "
                    f"se traslapa con el de la primera ({_num(lead.get('lo90'))} – {_num(lead.get('hi90'))})."
                )
            elif runner_name:
                es += f" La segunda es {runner_name} (probabilidad {_prob(runner_row.get('p_rank1'))})."
        else:
            es = "La regla no nombra objetivo: ninguna organización tiene eventos atribuidos en el periodo."
        es += (
            " Se aplica el respaldo regional: concentrar la aplicación de la ley en las regiones donde la "
            'violencia es más alta (véase la <a href="#sec-states">tabla por estado</a>).'
        )
        en = f"{_capital(reason_en)}."
        if fallback_en:
            en += f" {_capital(fallback_en)}."
        cls = "decision"
    original = (
        f'<p class="original" data-lang="es">Motivo, en el texto original en inglés de vdto: '
        f"<q>{reason_en}</q></p>"
    )
    return (
        f'<div class="{cls}" id="decision" data-target="{_esc(target or "")}">'
        f'<p class="verdict">{verdict}</p>'
        f"{_bi(es, en, tag='p')}"
        f"{original}"
        "</div>"
    )


def _ranking_html(card: dict) -> str:
    ranking = card.get("ranking") or []
    meta = card.get("meta") or {}
    target = (card.get("decision") or {}).get("target")
    min_count = meta.get("min_count", 3)
    head = "".join(
        f'<th{" class=num" if num else ""} scope="col">{_bi(es, en)}</th>'
        for es, en, num in (
            ("Lugar", "Rank", True),
            ("Organización", "Organization", False),
            ("Puntuación", "Score", True),
            ("Intervalo de 90&nbsp;%", "90% interval", True),
            ("P(1.er&nbsp;lugar)", "P(rank&nbsp;1)", True),
            ("Eventos esperados", "Expected events", True),
            ("Margen", "Margin", False),
        )
    )
    rows = []
    for r in ranking:
        if r.get("rank") == 1:
            margin = _bi(
                f"−{_pct(r.get('cut_to_lose_first'), 'es')} para perder el 1.er lugar",
                f"−{_pct(r.get('cut_to_lose_first'), 'en')} to lose first place",
            )
        else:
            margin = _bi(
                f"{_num(r.get('gap'))} detrás <span class=margin-small>({_rise(r.get('rise_to_first'), 'es')})</span>",
                f"{_num(r.get('gap'))} behind <span class=margin-small>({_rise(r.get('rise_to_first'), 'en')})</span>",
            )
        events = r.get("events")
        if events is None:
            ev_cell = f'<td class="num suppressed">&lt;{_esc(min_count)}</td>'
        else:
            ev_cell = f'<td class="num">{_num(events)}</td>'
        cls = ' class="is-target"' if r.get("org") == target else ""
        rows.append(
            f'<tr data-org="{_esc(r.get("org"))}"{cls}>'
            f'<td class="num">{_esc(r.get("rank"))}</td>'
            f'<td class="name">{_esc(r.get("name"))}</td>'
            f'<td class="num">{_num(r.get("score"))}</td>'
            f'<td class="num">{_num(r.get("lo90"))} – {_num(r.get("hi90"))}</td>'
            f'<td class="num">{_prob(r.get("p_rank1"))}</td>'
            f'{ev_cell}<td class="margin">{margin}</td></tr>'
        )
    if not rows:
        rows.append(
            f'<tr><td colspan="7">{_bi("Ninguna organización tiene eventos atribuidos en el periodo.", "No organization has attributed events in the window.")}</td></tr>'
        )
    draws = _num(meta.get("draws"), 0)
    explain = _bi(
        "La puntuación es la violencia esperada atribuida a cada organización según la rúbrica publicada. "
        f"El intervalo de 90 % y P(1.er lugar), la probabilidad de ser la más violenta, resultan de {draws} "
        "simulaciones de quién cometió cada evento. Los eventos esperados suman la probabilidad de autoría de "
        f"cada evento; menos de {_esc(min_count)} se muestra como «&lt;{_esc(min_count)}». Margen: para la "
        "primera, cuánto tendría que reducir su puntuación para perder el primer lugar; para las demás, la "
        "distancia al primer lugar y cuánto tendría que crecer su puntuación para alcanzarlo (en % o en veces).",
        "The score is the expected violence attributed to each organization under the published rubric. "
        f"The 90% interval and P(rank 1), the probability of being the most violent, come from {draws} "
        "simulations of who did each event. Expected events add up each event's probability of authorship; "
        f"fewer than {_esc(min_count)} is shown as “&lt;{_esc(min_count)}”. Margin: for the leader, how much "
        "it would have to cut its score to lose first place; for the others, the gap to first place and how "
        "much their score would have to grow to reach it (in % or in times).",
        tag="p",
        cls="note",
    )
    chart = _interval_chart(ranking, target)
    figure = (
        f"<figure>{chart}<figcaption>"
        + _bi(
            "Organizaciones con mayor puntuación: puntuación esperada (punto) e intervalo de 90 % (barra). "
            "En rojo, el objetivo.",
            "Leading organizations: expected score (dot) and 90% interval (bar). In red, the target.",
        )
        + "</figcaption></figure>"
        if chart
        else ""
    )
    return (
        f'<table id="ranking"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        f"{explain}{figure}"
    )


def _margins_html(card: dict) -> str:
    ranking = card.get("ranking") or []
    if not ranking:
        return _bi("No hay organizaciones clasificadas.", "No organization is ranked.", tag="p")
    lead = ranking[0]
    items = []
    for r in ranking:
        name = _esc(r.get("name"))
        if r is lead:
            if len(ranking) > 1:
                second = _esc(ranking[1].get("name"))
                es = (
                    f"<b>{name}</b> (1.er lugar) tendría que reducir su puntuación "
                    f"{_pct(r.get('cut_to_lose_first'), 'es')} para bajar al nivel de {second}."
                )
                en = (
                    f"<b>{name}</b> (first) would have to cut its score by "
                    f"{_pct(r.get('cut_to_lose_first'), 'en')} to fall to the level of {second}."
                )
            else:
                es = f"<b>{name}</b> es la única organización clasificada."
                en = f"<b>{name}</b> is the only ranked organization."
        else:
            rise = r.get("rise_to_first")
            if _finite(rise) and rise >= 1:
                grow_es = f"se multiplicara por {1 + rise:,.1f}"
                grow_en = f"were {1 + rise:,.1f} times as high"
            else:
                grow_es = f"creciera {_pct(rise, 'es')}"
                grow_en = f"grew by {_pct(rise, 'en')}"
            es = (
                f"<b>{name}</b> ({_esc(r.get('rank'))}.º): {_num(r.get('gap'))} puntos detrás; alcanzaría el "
                f"primer lugar si su puntuación {grow_es}."
            )
            en = (
                f"<b>{name}</b> (rank {_esc(r.get('rank'))}): {_num(r.get('gap'))} points behind; it would reach "
                f"first place if its score {grow_en}."
            )
        items.append(f'<li data-org="{_esc(r.get("org"))}">{_bi(es, en)}</li>')
    intro = _bi(
        "El margen dice a cada organización cuánto le falta para ser el objetivo, o cuánto tendría que "
        "reducir su violencia para dejar de serlo: una organización que reduce su violencia ve bajar su "
        "puntuación en meses.",
        "The margin tells each organization how far it is from becoming the target, or how much it would "
        "have to cut its violence to stop being it: an organization that cuts its violence sees its score "
        "fall within months.",
        tag="p",
    )
    return f'{intro}<ul id="margins">{"".join(items)}</ul>'


def _trend_html(card: dict) -> str:
    trend = card.get("trend") or []
    names = _names(card)
    chart = _trend_chart(trend, names)
    if not chart:
        return _bi(
            "Este sitio no incluye la tendencia por año.", "This site includes no trend by year.", tag="p"
        )
    years = sorted({int(t["year"]) for t in trend if _finite(t.get("year"))})
    orgs: list[str] = []
    for t in trend:
        if t.get("org") not in orgs:
            orgs.append(t.get("org"))
    value = {(t.get("org"), int(t["year"])): t.get("score") for t in trend if _finite(t.get("year"))}
    head = "".join(f'<th class="num">{yr}</th>' for yr in years)
    body = "".join(
        f'<tr data-org="{_esc(o)}"><td>{_esc(names.get(o, o))}</td>'
        + "".join(f'<td class="num">{_num(value.get((o, yr)))}</td>' for yr in years)
        + "</tr>"
        for o in orgs
    )
    caption = _bi(
        "Puntuación esperada de cada organización en cada año calendario, con la misma rúbrica (cada año "
        "se califica por separado, con el decaimiento medido desde el 31 de diciembre de ese año).",
        "Expected score of each organization in each calendar year, under the same rubric (each year is "
        "scored on its own, with decay measured from 31 December of that year).",
    )
    table = (
        f"<details><summary>{_bi('Datos del gráfico', 'Chart data')}</summary>"
        f'<div class="scroll"><table><thead><tr><th>{_bi("Organización", "Organization")}</th>{head}</tr>'
        f"</thead><tbody>{body}</tbody></table></div></details>"
    )
    return f'<figure id="trend">{chart}<figcaption>{caption}</figcaption></figure>{table}'


def _states_html(card: dict) -> str:
    states = card.get("states") or []
    names = _names(card)
    min_count = _esc((card.get("meta") or {}).get("min_count", 3))
    explain = _bi(
        f"Para no revelar eventos individuales, las celdas con menos de {min_count} eventos esperados se "
        f"muestran como «&lt;{min_count}» y su puntuación no se publica.",
        f"So as not to reveal single events, cells with fewer than {min_count} expected events are shown as "
        f"“&lt;{min_count}” and their score is not published.",
        tag="p",
        cls="note",
    )
    rows = []
    for s in states:
        state = s.get("state") or ""
        state_html = (
            _bi("(sin ubicar)", "(not located)")
            if s.get("state_code") in (None, "--") or state == "(not located)"
            else _esc(state)
        )
        if s.get("events") is None:
            ev = f'<td class="num suppressed">&lt;{min_count}</td>'
            sc = f'<td class="num suppressed">{_bi("(suprimida)", "(suppressed)")}</td>'
        else:
            ev = f'<td class="num">{_num(s.get("events"))}</td>'
            sc = f'<td class="num">{_num(s.get("score"))}</td>'
        rows.append(
            f'<tr data-org="{_esc(s.get("org"))}"><td>{_esc(names.get(s.get("org"), s.get("org")))}</td>'
            f"<td>{state_html}</td>{ev}{sc}</tr>"
        )
    if not rows:
        rows.append(f'<tr><td colspan="4">{_bi("Sin datos por estado.", "No data by state.")}</td></tr>')
    head = "".join(
        f'<th scope="col"{" class=num" if num else ""}>{_bi(es, en)}</th>'
        for es, en, num in (
            ("Organización", "Organization", False),
            ("Estado", "State", False),
            ("Eventos esperados", "Expected events", True),
            ("Puntuación", "Score", True),
        )
    )
    return (
        f'{explain}<div class=scroll><table id="states"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _dismantled_html(card: dict) -> str:
    gone = card.get("dismantled") or []
    if not gone:
        return ""
    rows = "".join(
        f'<tr data-org="{_esc(g.get("org"))}"><td>{_esc(g.get("name"))}</td><td>{_esc(g.get("dismantled"))}</td>'
        f'<td class="num">{_num(g.get("events"))}</td><td class="num">{_num(g.get("score"))}</td></tr>'
        for g in gone
    )
    head = "".join(
        f"<th{' class=num' if num else ''}>{_bi(es, en)}</th>"
        for es, en, num in (
            ("Organización", "Organization", False),
            ("Desmantelada", "Dismantled", False),
            ("Eventos esperados", "Expected events", True),
            ("Puntuación", "Score", True),
        )
    )
    note = _bi(
        "Organizaciones que el registro marca como desmanteladas: se listan aparte y no se clasifican; su "
        "parte de los eventos no cuenta para nadie.",
        "Organizations the registry marks as dismantled: listed apart and not ranked; their share of the "
        "events scores for nobody.",
        tag="p",
        cls="note",
    )
    return (
        f'<section id="sec-dismantled"><h2>{_bi("Organizaciones desmanteladas", "Dismantled organizations")}'
        f"</h2>{note}<table id=dismantled><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _victim_table(rubric: dict) -> str:
    victims = rubric.get("victims") or {}
    labels = {
        "dto_member": ("integrante de una organización criminal", "member of a criminal organization"),
        "civilian": ("civil", "civilian"),
        "police": ("policía", "police"),
        "military": ("militar", "military"),
        "official": ("funcionario o candidato", "official or candidate"),
        "journalist": ("periodista", "journalist"),
        "unknown": ("no reportado", "not reported"),
    }
    rows = "".join(
        f'<tr><td>{_bi(*labels.get(k, (_esc(k), _esc(k))))}</td><td class="num">{_num(v, 1)}</td></tr>'
        for k, v in victims.items()
    )
    return (
        f"<table class=weights><thead><tr><th>{_bi('Víctima', 'Victim')}</th>"
        f'<th class="num">{_bi("Puntos por persona asesinada", "Points per person killed")}</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _rubric_summary(card: dict) -> str:
    rubric = card.get("rubric") or {}
    meta = card.get("meta") or {}
    sev = rubric.get("severity") or {}
    nonfatal = rubric.get("nonfatal") or {}
    time = rubric.get("time") or {}
    target = rubric.get("target") or {}
    half = time.get("half_life_days")
    decay_es = (
        f"una vida media de {_num(half, 0)} días: un evento de esa antigüedad cuenta la mitad"
        if _finite(half) and half > 0
        else "sin decaimiento en el tiempo"
    )
    decay_en = (
        f"a half-life of {_num(half, 0)} days: an event that old counts half"
        if _finite(half) and half > 0
        else "no decay over time"
    )
    others = _bi(
        f"Masacre (al menos {_esc(sev.get('massacre_min_deaths'))} muertos): ×{_esc(sev.get('massacre_multiplier'))}. "
        f"Tortura o exhibición de cuerpos: +{_esc(sev.get('torture_display_per_victim'))} por víctima. "
        f"Secuestro o desaparición: {_esc(nonfatal.get('kidnapping_per_victim'))} por víctima no asesinada. "
        f"Ataque sin muertos: {_esc(nonfatal.get('attack_without_deaths'))}. Tiempo: {decay_es}. "
        f"Umbral de la regla: {_esc(target.get('threshold'))}.",
        f"Massacre (at least {_esc(sev.get('massacre_min_deaths'))} deaths): ×{_esc(sev.get('massacre_multiplier'))}. "
        f"Torture or display of bodies: +{_esc(sev.get('torture_display_per_victim'))} per victim. "
        f"Kidnapping or disappearance: {_esc(nonfatal.get('kidnapping_per_victim'))} per victim not killed. "
        f"Attack without deaths: {_esc(nonfatal.get('attack_without_deaths'))}. Time: {decay_en}. "
        f"Threshold of the rule: {_esc(target.get('threshold'))}.",
        tag="p",
    )
    draws = _num(meta.get("draws"), 0)
    mc = _bi(
        "No siempre se sabe quién cometió cada evento, así que vdto asigna cada evento a uno de sus posibles "
        f"autores con su probabilidad, {draws} veces, y califica a todas las organizaciones en cada "
        "asignación. De esas simulaciones salen el intervalo de 90 % de cada puntuación y P(1.er lugar), la "
        "parte de las simulaciones en que la organización es la más violenta.",
        "Who did each event is not always known, so vdto assigns every event to one of its possible "
        f"perpetrators with its probability, {draws} times, and scores every organization in each assignment. "
        "Those simulations give each score's 90% interval and P(rank 1), the share of simulations in which "
        "the organization is the most violent.",
        tag="p",
    )
    formula = _bi(
        "Puntuación de una organización = suma, sobre los eventos, de probabilidad de autoría × puntos × "
        "decaimiento en el tiempo × confiabilidad de la fuente.",
        "An organization's score = sum over events of probability of authorship × points × time decay × "
        "source reliability.",
        tag="p",
    )
    link = _bi(
        '<a href="methodology.html#es" data-keep-lang>Metodología completa</a> · '
        '<a href="rubric.json">rubric.json</a>',
        '<a href="methodology.html#en" data-keep-lang>Full methodology</a> · <a href="rubric.json">rubric.json</a>',
        tag="p",
    )
    return f'<div class="cols"><div>{formula}{_victim_table(rubric)}</div><div>{others}{mc}{link}</div></div>'


def _provenance_html(card: dict) -> str:
    meta = card.get("meta") or {}
    rows = [
        ("vdto", "vdto", _esc(meta.get("vdto_version"))),
        ("Agencia (datos)", "Agency (data)", _esc(meta.get("agency", "—"))),
        ("Rúbrica", "Rubric", _esc(meta.get("rubric"))),
        (
            "sha256 de la rúbrica",
            "Rubric sha256",
            f'<span class="hash">{_esc(meta.get("rubric_sha256"))}</span>',
        ),
        ("sha256 de los datos", "Data sha256", f'<span class="hash">{_esc(meta.get("data_sha256"))}</span>'),
        (
            "Periodo",
            "Window",
            _bi(
                f"{_esc(meta.get('from'))} a {_esc(meta.get('to'))} ({_period(meta, 'es')})",
                f"{_esc(meta.get('from'))} to {_esc(meta.get('to'))}",
            ),
        ),
        ("Semilla", "Seed", _esc(meta.get("seed"))),
        ("Simulaciones", "Draws", _num(meta.get("draws"), 0)),
        ("Eventos en el periodo", "Events in the window", _num(meta.get("events"), 0)),
        ("Umbral de supresión", "Suppression threshold", f"&lt;{_esc(meta.get('min_count', 3))}"),
    ]
    items = "".join(f"<dt>{_bi(es, en)}</dt><dd>{value}</dd>" for es, en, value in rows)
    note = _bi(
        "Con los mismos datos (mismo sha256), la misma rúbrica y la misma semilla, vdto produce exactamente "
        "los mismos números.",
        "With the same data (same sha256), the same rubric and the same seed, vdto produces exactly the same "
        "numbers.",
        tag="p",
        cls="note",
    )
    return f'<dl class="facts" id="provenance">{items}</dl>{note}'


def _ledger_facts(ledger: Path | None, scorecard_sha: str) -> tuple[int, str | None, int | None]:
    """(entries, last hash, seq of the entry that records this scorecard's sha256 or None)."""
    if ledger is None:
        return 0, None, None
    entries, last, found = 0, None, None
    for line in ledger.read_text(encoding="utf-8").split("\n"):  # "\n" only: strings may hold U+2028
        if not line.strip():
            continue
        entry = json.loads(line)
        entries += 1
        last = entry.get("hash")
        if entry.get("payload_sha256") == scorecard_sha or _holds(entry.get("payload"), scorecard_sha):
            found = entry.get("seq")
    return entries, last, found


def _holds(obj: Any, sha: str) -> bool:
    """Whether ``obj`` quotes ``sha`` or holds, at any depth, an object whose canonical JSON hashes to it."""
    if isinstance(obj, str):
        return obj == sha
    if isinstance(obj, list):
        return any(_holds(v, sha) for v in obj)
    if isinstance(obj, dict):
        if hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest() == sha:
            return True
        return any(_holds(v, sha) for v in obj.values())
    return False


def _verify_html(card: dict, ledger: Path | None, keys: list[str], scorecard_sha: str) -> str:
    meta = card.get("meta") or {}
    rubric_sha = _esc(meta.get("rubric_sha256"))
    entries, last, found = _ledger_facts(ledger, scorecard_sha)
    if ledger is not None:
        has_es = (
            f'Este sitio incluye <a href="ledger.jsonl">ledger.jsonl</a> ({entries} entradas; hash de la '
            f'última: <span class="hash">{_esc(last)}</span>).'
        )
        has_en = (
            f'This site includes <a href="ledger.jsonl">ledger.jsonl</a> ({entries} entries; hash of the last: '
            f'<span class="hash">{_esc(last)}</span>).'
        )
        if found is not None:
            has_es += f" La entrada {found} del registro contiene este scorecard.json (o su sha256)."
            has_en += f" Entry {found} of the ledger holds this scorecard.json (or its sha256)."
        has_es += (
            " La verificación debe informar el mismo número de entradas y el mismo último hash: un registro "
            "más corto o con otro último hash no es el que se publicó."
        )
        has_en += (
            " Verification must report the same number of entries and the same last hash: a shorter ledger, "
            "or one with another last hash, is not the one published."
        )
    else:
        has_es = "Este sitio no incluye ledger.jsonl; pídalo a las agencias que publican la calificación."
        has_en = "This site includes no ledger.jsonl; ask the publishing agencies for it."
    if keys:
        links = ", ".join(f'<a href="keys/{_esc(k)}.pub">keys/{_esc(k)}.pub</a>' for k in keys)
        has_es += f" Claves públicas: {links}."
        has_en += f" Public keys: {links}."
    step1 = _bi(
        "<b>El registro firmado.</b> "
        "Comprueba que cada línea del registro está en JSON canónico, que cada una lleva el hash de la "
        "anterior (ninguna línea fue cambiada, quitada, insertada ni reordenada), que el hash de su "
        "contenido es correcto y que está firmada (Ed25519) por agencias cuyas claves públicas están en "
        "<code>keys/</code>; la primera entrada, la regla, debe declarar exactamente esas agencias y estar "
        "firmada por todas. Compare las claves de <code>keys/</code> con las que cada agencia publica por "
        f"su cuenta: la copia de este sitio es solo una comodidad. {has_es}",
        "<b>The signed ledger.</b> "
        "Checks that every line of the ledger is canonical JSON, that each one carries the previous line's "
        "hash (no line was changed, removed, inserted or reordered), that the hash of its content is right, "
        "and that it is signed (Ed25519) by agencies whose public keys are in <code>keys/</code>; the first "
        "entry, the rule, must declare exactly those agencies and be signed by all of them. Compare the keys "
        "in <code>keys/</code> with those each agency publishes on its own: the copy on this site is only a "
        f"convenience. {has_en}",
        tag="p",
    )
    step2 = _bi(
        "<b>Recalcular las puntuaciones.</b> En la carpeta del sitio descargado: lee aggregates.csv, "
        "rubric.json y scorecard.json, comprueba que el sha256 de rubric.json es el publicado y vuelve a "
        "calcular la puntuación esperada de cada organización a partir de los agregados (suma de "
        "probability_sum × puntos × decaimiento × confiabilidad); cada puntuación publicada debe coincidir "
        "hasta la sexta cifra significativa. No puede comprobar los intervalos ni P(1.er lugar): requieren los datos a "
        "nivel de evento, que no se publican; un auditor con acceso a ellos comprueba el sha256 de los datos "
        "y repite el cálculo con la misma semilla.",
        "<b>Recompute the scores.</b> In the downloaded site's folder: reads aggregates.csv, rubric.json and "
        "scorecard.json, checks that the sha256 of rubric.json is the published one and recomputes each "
        "organization's expected score from the aggregates (sum of probability_sum × points × decay × "
        "reliability); every published score must match to the sixth significant digit. It cannot check the "
        "intervals or P(rank 1): they need the event-level data, which is not published; an auditor with "
        "access to it checks the data's sha256 and reruns the computation with the same seed.",
        tag="p",
    )
    step3 = _bi(
        "<b>El sha256 de rubric.json, a mano.</b> rubric.json es JSON canónico (claves ordenadas, sin "
        "espacios, UTF-8, sin salto de línea final), así que el sha256 del archivo es el de la rúbrica y debe "
        f'ser <span class="hash">{rubric_sha}</span>, el mismo que cita la regla. Con cualquiera de:',
        "<b>The sha256 of rubric.json, by hand.</b> rubric.json is canonical JSON (sorted keys, no spaces, "
        "UTF-8, no final newline), so the file's sha256 is the rubric's and must be "
        f'<span class="hash">{rubric_sha}</span>, the one the rule quotes. With any of:',
        tag="p",
    )
    hand = (
        "<pre>sha256sum rubric.json                  # Linux\n"
        "shasum -a 256 rubric.json              # macOS\n"
        "certutil -hashfile rubric.json SHA256  # Windows\n"
        "python3 -c \"import hashlib; print(hashlib.sha256(open('rubric.json', 'rb').read()).hexdigest())\""
        "</pre>"
    )
    intro = _bi(
        "Todo lo publicado se puede comprobar sin confiar en quien lo publica. Con vdto instalado "
        f"(versión {_esc(meta.get('vdto_version'))}), en la carpeta de este sitio:",
        "Everything published can be checked without trusting the publisher. With vdto installed "
        f"(version {_esc(meta.get('vdto_version'))}), in this site's folder:",
        tag="p",
    )
    return (
        f'<div id="verify">{intro}<ol class="steps">'
        f"<li><pre>vdto verify ledger.jsonl --trust keys/</pre>{step1}</li>"
        f"<li><pre>vdto recompute .</pre>{step2}</li>"
        f"<li>{step3}{hand}</li></ol></div>"
    )


_FILE_TEXT = {
    "scorecard.json": (
        "la calificación completa: clasificación, decisión, regla, rúbrica, tabla por estado, tendencia y procedencia",
        "the whole scorecard: ranking, decision, rule, rubric, state table, trend and provenance",
    ),
    "scorecard.csv": ("la clasificación, una fila por organización", "the ranking, one row per organization"),
    "aggregates.csv": (
        "los eventos calificados, agrupados en clases con los mismos atributos de puntuación, por organización",
        "the scored events, grouped in classes of identical scoring attributes, per organization",
    ),
    "rubric.json": ("la rúbrica, en JSON canónico", "the rubric, as canonical JSON"),
    "ledger.jsonl": ("el registro firmado de las publicaciones", "the signed ledger of publications"),
    "methodology.html": ("la metodología completa", "the full methodology"),
}


def _files_html(hashes: dict[str, str], min_count: Any) -> str:
    rows = []
    for name, sha in hashes.items():
        es, en = _FILE_TEXT.get(name, ("clave pública de una agencia", "an agency's public key"))
        rows.append(
            f'<tr><td><a href="{_esc(name)}">{_esc(name)}</a></td><td>{_bi(_esc(es), _esc(en))}</td>'
            f'<td class="hash">{_esc(sha)}</td></tr>'
        )
    never = _bi(
        "<b>Lo que nunca se publica.</b> Ni las fuentes ni los identificadores de los eventos, ni las notas, "
        "ni las coordenadas o el municipio, ni los nombres con que cada fuente designa a los grupos, ni las "
        "facciones. Publicarlos permitiría identificar eventos, víctimas, testigos e informantes, y expondría "
        "a las fuentes a represalias. Los agregados bastan para recalcular cada puntuación publicada, y las "
        f"cifras por estado con menos de {_esc(min_count)} eventos esperados se suprimen.",
        "<b>What is never published.</b> Sources and event identifiers, notes, coordinates or municipality, "
        "the names each source gives the groups, and factions. Publishing them would make it possible to "
        "identify events, victims, witnesses and informants, and would expose sources to retaliation. The "
        "aggregates are enough to recompute every published score, and state figures with fewer than "
        f"{_esc(min_count)} expected events are suppressed.",
        tag="p",
    )
    head = f"<tr><th>{_bi('Archivo', 'File')}</th><th>{_bi('Contenido', 'Content')}</th><th>sha256</th></tr>"
    return f'<table id="files"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>{never}'


# ------------------------------------------------------------------------------------ pages


def _asset(name: str) -> str:
    return resources.files("vdto.data.site").joinpath(name).read_text(encoding="utf-8")


def _page(title_es: str, title_en: str, header: str, body: str, data: str | None = None) -> str:
    csp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
    data_block = ""
    if data is not None:  # "<" escaped so that no string in the data can close the script element
        safe = data.replace("<", "\\u003c")
        data_block = f'<script type="application/json" id="scorecard-data">{safe}</script>'
    return (
        "<!doctype html>\n"
        f'<html lang="es" data-title-es="{_esc(title_es)}" data-title-en="{_esc(title_en)}">\n'
        '<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="generator" content="vdto">\n'
        f"<title>{_esc(title_es)}</title>\n<style>\n{_asset('style.css')}</style>\n</head>\n<body>\n"
        f"{header}\n<main class=wrap>\n{body}\n</main>\n{data_block}\n"
        f"<script>\n{_asset('app.js')}</script>\n</body>\n</html>\n"
    )


def _header(card: dict, nav: list[tuple[str, str, str]], home: bool) -> str:
    meta = card.get("meta") or {}
    switch = (
        '<div class="langswitch" aria-label="Idioma / Language">'
        '<a href="#es" data-set-lang="es" hreflang="es" aria-current="true">Español</a>'
        '<a href="#en" data-set-lang="en" hreflang="en" aria-current="false">English</a></div>'
    )
    links = "".join(f'<a href="{href}">{_bi(es, en)}</a>' for href, es, en in nav)
    title = (
        _bi("Calificación pública de violencia", "Public violence scorecard")
        if home
        else _bi("Metodología de la calificación", "Scorecard methodology")
    )
    sub = _bi(
        f"Organizaciones de narcotráfico en México, {_period(meta, 'es')} · rúbrica {_esc(meta.get('rubric'))}",
        f"Drug-trafficking organizations in Mexico, {_period(meta, 'en')} · rubric {_esc(meta.get('rubric'))}",
    )
    return (
        '<header class="top"><div class="wrap"><div class="titlebar">'
        f'<div><h1>{title}</h1><p class="subtitle">{sub}</p></div>{switch}</div>'
        f'<nav class="toc">{links}</nav></div></header>'
    )


def _section(sid: str, es: str, en: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{_bi(es, en)}</h2>{body}</section>'


def render_index(
    card: dict, hashes: dict[str, str], ledger: Path | None = None, keys: list[str] | None = None
) -> str:
    """The HTML of ``index.html`` for a scorecard (``hashes``: published file -> sha256)."""
    meta = card.get("meta") or {}
    rule = card.get("rule") or {}
    nav = [
        ("#sec-decision", "Decisión", "Decision"),
        ("#sec-ranking", "Clasificación", "Ranking"),
        ("#sec-margins", "Márgenes", "Margins"),
        ("#sec-trend", "Tendencia", "Trend"),
        ("#sec-states", "Por estado", "By state"),
        ("#sec-rule", "Regla", "Rule"),
        ("#sec-methodology", "Metodología", "Methodology"),
        ("#sec-provenance", "Procedencia", "Provenance"),
        ("#sec-verify", "Cómo verificar", "How to verify"),
        ("#sec-files", "Archivos", "Files"),
    ]
    rule_html = (
        f'<div id="rule">{_bi(_esc(rule.get("es", "")), _esc(rule.get("en", "")), tag="p", cls="rule")}'
        + _bi(
            "Esta regla se publica antes de cada ronda; la rúbrica que cita se identifica por su sha256.",
            "This rule is published before each round; the rubric it cites is identified by its sha256.",
            tag="p",
            cls="note",
        )
        + "</div>"
    )
    sections = [
        _section("sec-decision", "Decisión de objetivo", "Target decision", _decision_html(card)),
        _section("sec-ranking", "Clasificación", "Ranking", _ranking_html(card)),
        _section("sec-margins", "Márgenes", "Margins", _margins_html(card)),
        _section("sec-trend", "Tendencia por año", "Trend by year", _trend_html(card)),
        _section("sec-states", "Por estado", "By state", _states_html(card)),
        _dismantled_html(card),
        _section("sec-rule", "La regla publicada", "The published rule", rule_html),
        _section("sec-methodology", "Metodología", "Methodology", _rubric_summary(card)),
        _section("sec-provenance", "Procedencia", "Provenance", _provenance_html(card)),
        _section(
            "sec-verify",
            "Cómo verificar",
            "How to verify",
            _verify_html(card, ledger, keys or [], hashes.get("scorecard.json", "")),
        ),
        _section("sec-files", "Archivos", "Files", _files_html(hashes, meta.get("min_count", 3))),
    ]
    footer = (
        f"<footer>{_bi('Generado por vdto', 'Generated by vdto')} {_esc(meta.get('vdto_version'))} · "
        f'{_bi("rúbrica", "rubric")} <span class="hash">{_esc(meta.get("rubric_sha256"))}</span></footer>'
    )
    return _page(
        "Calificación pública de violencia",
        "Public violence scorecard",
        _header(card, nav, home=True),
        "\n".join(s for s in sections if s) + footer,
        data=canonical_json(card),
    )


def render_methodology(card: dict) -> str:
    """The HTML of ``methodology.html``: the method, with the numbers of the published rubric."""
    rubric = card.get("rubric") or {}
    meta = card.get("meta") or {}
    cats = rubric.get("categories") or {}
    cat_labels = {
        "homicide": ("homicidio", "homicide"),
        "massacre": ("masacre", "massacre"),
        "attack_security_forces": ("ataque a fuerzas de seguridad", "attack on security forces"),
        "attack_official": ("ataque a funcionario o candidato", "attack on an official or candidate"),
        "attack_journalist": ("ataque a periodista", "attack on a journalist"),
        "kidnapping": ("secuestro", "kidnapping"),
        "disappearance": ("desaparición", "disappearance"),
        "torture_display": ("tortura o exhibición de cuerpos", "torture or display of bodies"),
        "attack_civilians": ("violencia contra civiles", "violence against civilians"),
        "armed_clash": ("enfrentamiento armado", "armed clash"),
    }
    cat_rows = "".join(
        f'<tr><td>{_bi(*cat_labels.get(k, (_esc(k), _esc(k))))}</td><td class="num">×{_esc(v)}</td></tr>'
        for k, v in cats.items()
    )
    sev = rubric.get("severity") or {}
    nonfatal = rubric.get("nonfatal") or {}
    time = rubric.get("time") or {}
    att = rubric.get("attribution") or {}
    threshold = (rubric.get("target") or {}).get("threshold")
    draws, seed = _num(meta.get("draws"), 0), _esc(meta.get("seed"))
    half = time.get("half_life_days")
    min_count = _esc(meta.get("min_count", 3))

    def para(es: str, en: str) -> str:
        return _bi(es, en, tag="p")

    body = [
        f"<section id=why><h2>{_bi('Por qué una calificación pública', 'Why a published score')}</h2>",
        para(
            "La estrategia busca que la violencia sea una desventaja competitiva: publicar cómo se mide, "
            "calificar a todas las organizaciones y concentrar la aplicación de la ley, en ambos lados de la "
            "frontera, en la más violenta. La disuasión funciona solo si las organizaciones pueden ver la regla "
            "y su propia posición; por eso la rúbrica es un archivo que cualquiera puede leer, su identidad es "
            "un hash que cualquiera puede recalcular y cada resultado dice con qué rúbrica, qué datos y qué "
            "semilla se produjo. Los pesos son decisiones de política, no estimaciones: se publican para que "
            "se puedan discutir.",
            "The strategy aims to make violence a competitive disadvantage: publish how it is measured, score "
            "every organization and concentrate enforcement, on both sides of the border, on the most violent "
            "one. Deterrence works only if organizations can see the rule and their own position under it; so "
            "the rubric is a file anyone can read, its identity is a hash anyone can recompute, and every "
            "result says which rubric, which data and which seed produced it. The weights are policy choices, "
            "not estimates: they are published so they can be argued with.",
        ),
        "</section>",
        f"<section id=score><h2>{_bi('La puntuación', 'The score')}</h2>",
        para(
            "Para una organización <i>o</i> y un periodo: puntuación(<i>o</i>) = Σ sobre los eventos <i>e</i> "
            "de p(<i>e</i>, <i>o</i>) × puntos(<i>e</i>) × decaimiento(<i>e</i>) × confiabilidad(<i>e</i>), "
            "donde p(<i>e</i>, <i>o</i>) es la probabilidad de que <i>o</i> haya cometido <i>e</i>; lo que "
            "queda sin atribuir no cuenta para nadie. Cuentan los eventos cuya fecha de inicio cae en el "
            "periodo.",
            "For an organization <i>o</i> and a window: score(<i>o</i>) = Σ over events <i>e</i> of "
            "p(<i>e</i>, <i>o</i>) × points(<i>e</i>) × decay(<i>e</i>) × reliability(<i>e</i>), where "
            "p(<i>e</i>, <i>o</i>) is the probability that <i>o</i> did <i>e</i>; what is left unattributed "
            "scores for nobody. The events counted are those whose start date falls in the window.",
        ),
        para(
            "puntos(<i>e</i>) = categoría × masacre × (puntos por víctima + puntos no letales + puntos por "
            "tortura). Las muertes se reparten entre los tipos de víctima en proporción a las víctimas de cada "
            "tipo que reporta la fuente.",
            "points(<i>e</i>) = category × massacre × (victim points + non-fatal points + torture points). "
            "Deaths are shared among the victim kinds in proportion to the victims of each kind the source "
            "reports.",
        ),
        f"<div class=cols><div><h3>{_bi('Puntos por víctima', 'Victim points')}</h3>{_victim_table(rubric)}</div>",
        f"<div><h3>{_bi('Multiplicadores por categoría', 'Category multipliers')}</h3>",
        f"<table><tbody>{cat_rows}</tbody></table></div></div>",
        f"<h3>{_bi('Gravedad, violencia no letal y tiempo', 'Severity, non-fatal violence and time')}</h3>",
        para(
            f"Un evento con al menos {_esc(sev.get('massacre_min_deaths'))} muertos, o que la fuente llama "
            f"masacre, se multiplica por {_esc(sev.get('massacre_multiplier'))}. La tortura o la exhibición "
            f"de cuerpos suma {_esc(sev.get('torture_display_per_victim'))} punto(s) por víctima. Cada víctima "
            f"de secuestro o desaparición que no se sabe asesinada suma "
            f"{_esc(nonfatal.get('kidnapping_per_victim'))}; un ataque en el que nadie murió suma "
            f"{_esc(nonfatal.get('attack_without_deaths'))}.",
            f"An event with at least {_esc(sev.get('massacre_min_deaths'))} deaths, or that its source calls "
            f"a massacre, is multiplied by {_esc(sev.get('massacre_multiplier'))}. Torture or display of bodies "
            f"adds {_esc(sev.get('torture_display_per_victim'))} point(s) per victim. Each kidnapping or "
            f"disappearance victim not known to be killed adds {_esc(nonfatal.get('kidnapping_per_victim'))}; "
            f"an attack in which nobody died adds {_esc(nonfatal.get('attack_without_deaths'))}.",
        ),
        para(
            f"Decaimiento = 0.5 elevado a (antigüedad / {_num(half, 0)} días), con la antigüedad medida desde "
            "la mitad del periodo del evento hasta el final de la ventana: la disuasión habla de la conducta "
            "actual, y una organización que reduce su violencia debe ver bajar su puntuación en meses."
            if _finite(half) and half > 0
            else "Esta rúbrica no aplica decaimiento en el tiempo.",
            f"Decay = 0.5 to the power (age / {_num(half, 0)} days), the age measured from the middle of the "
            "event's date span to the end of the window: deterrence is about current behaviour, and an "
            "organization that cuts its violence must see its score fall within months."
            if _finite(half) and half > 0
            else "This rubric applies no decay over time.",
        ),
        para(
            "Las facciones se suman a su organización madre."
            if att.get("roll_up_factions")
            else "Las facciones se califican por separado.",
            "Factions roll up to their parent organization."
            if att.get("roll_up_factions")
            else "Factions are scored on their own.",
        )
        + para(
            "Cada evento se multiplica por la confiabilidad de su fuente (0 a 1)."
            if att.get("weight_by_reliability")
            else "La confiabilidad de la fuente no se usa.",
            "Each event is multiplied by its source's reliability (0 to 1)."
            if att.get("weight_by_reliability")
            else "Source reliability is not used.",
        ),
        para(
            "Solo se califican organizaciones de narcotráfico y sus facciones; nunca actores del Estado, "
            "autodefensas, guerrillas ni pandillas. Las organizaciones que el registro marca como "
            "desmanteladas se listan aparte y no se clasifican.",
            "Only drug-trafficking organizations and their factions are scored; never state actors, "
            "self-defence groups, guerrillas or gangs. Organizations the registry marks as dismantled are "
            "listed apart and not ranked.",
        ),
        "</section>",
        f"<section id=uncertainty><h2>{_bi('Incertidumbre', 'Uncertainty')}</h2>",
        para(
            "La puntuación anterior es una puntuación <i>esperada</i>. Como la autoría es incierta, vdto "
            f"sortea {draws} veces una asignación completa de cada evento a uno de sus posibles autores (o a "
            "nadie, con la probabilidad no atribuida) y califica a todas las organizaciones en cada sorteo. "
            "De los sorteos salen el intervalo de 90 % de cada puntuación (percentiles 5 y 95), la distribución "
            "de lugares y P(1.er lugar).",
            "The score above is an <i>expected</i> score. As authorship is uncertain, vdto draws "
            f"{draws} times a complete assignment of every event to one of its possible perpetrators (or to "
            "nobody, with the unattributed probability) and scores every organization in each draw. The draws "
            "give each score's 90% interval (5th and 95th percentiles), the distribution of ranks and P(rank 1).",
        ),
        para(
            f"Es reproducible: el número que elige al autor de un evento en un sorteo es un hash de la semilla "
            f"({seed}), del número de sorteo y del evento, así que la misma semilla da exactamente el mismo "
            "resultado, y dos rúbricas calificadas con la misma semilla difieren solo por sustancia, no por "
            "azar.",
            f"It is reproducible: the number that picks an event's perpetrator in a draw is a hash of the seed "
            f"({seed}), the draw number and the event, so the same seed gives exactly the same result, and two "
            "rubrics scored with the same seed differ by substance only, not by chance.",
        ),
        "</section>",
        f"<section id=target-rule><h2>{_bi('La regla de objetivo', 'The target rule')}</h2>",
        para(
            f"Se nombra un objetivo solo si P(1.er lugar) de la organización líder es al menos {_esc(threshold)}. "
            "Nombrar a la organización equivocada castigaría a la menos violenta y premiaría a la más violenta. "
            "Si no se alcanza el umbral, la calificación lo dice, explica por qué y remite al respaldo regional: "
            "concentrar la aplicación de la ley en las regiones donde la violencia es más alta.",
            f"A target is named only if the leading organization's P(rank 1) is at least {_esc(threshold)}. "
            "Naming the wrong organization would punish the less violent and reward the more violent. If the "
            "threshold is not met, the scorecard says so, explains why and points to the regional fallback: "
            "concentrate enforcement on the regions where violence is highest.",
        ),
        para(
            "Márgenes: para la líder, la parte de su puntuación que tendría que perder para bajar al nivel de "
            "la segunda; para las demás, la distancia al primer lugar y cuánto tendría que crecer su puntuación "
            "para alcanzarlo.",
            "Margins: for the leader, the share of its score it would have to shed to fall to the runner-up's "
            "level; for the others, the gap to first place and how much their score would have to grow to "
            "reach it.",
        ),
        "</section>",
        f"<section id=published><h2>{_bi('Qué se publica', 'What is published')}</h2>",
        para(
            "Se publican la clasificación, la decisión, la regla, la rúbrica, la tendencia, una tabla por "
            "estado y los agregados: los eventos calificados agrupados en clases con los mismos atributos de "
            "puntuación (categoría, fechas, muertes, víctimas por tipo, tortura, confiabilidad), con el número "
            "de eventos y la suma de sus probabilidades de autoría. Con ellos y la rúbrica, cualquiera recalcula "
            f"cada puntuación esperada. Las cifras por estado con menos de {min_count} eventos esperados se "
            "suprimen.",
            "Published: the ranking, the decision, the rule, the rubric, the trend, a table by state and the "
            "aggregates: the scored events grouped in classes of identical scoring attributes (category, dates, "
            "deaths, victims by kind, torture, reliability), with the number of events and the sum of their "
            "probabilities of authorship. With them and the rubric anyone recomputes every expected score. "
            f"State figures with fewer than {min_count} expected events are suppressed.",
        ),
        para(
            "Nunca se publican las fuentes ni los identificadores de los eventos, las notas, las coordenadas, "
            "el municipio, los nombres con que cada fuente designa a los grupos ni las facciones: permitirían "
            "identificar eventos, víctimas, testigos e informantes.",
            "Never published: sources and event identifiers, notes, coordinates, municipality, the names each "
            "source gives the groups, factions: they would make it possible to identify events, victims, "
            "witnesses and informants.",
        ),
        "</section>",
        f"<section id=limits><h2>{_bi('Limitaciones', 'Limitations')}</h2><ul>",
        _bi(
            "Los pesos son decisiones, no estimaciones; cambiar la rúbrica cambia el hash.",
            "The weights are choices, not estimates; changing the rubric changes its hash.",
            tag="li",
        ),
        _bi(
            "Los datos de eventos cubren solo lo que sus fuentes pueden atribuir a actores con nombre; sus "
            "totales quedan por debajo de los homicidios nacionales.",
            "Event data cover only what their sources can tie to named actors; their totals fall below "
            "national homicide counts.",
            tag="li",
        ),
        _bi(
            "Las organizaciones son federaciones cambiantes; la agrupación de facciones es un juicio.",
            "Organizations are loose, shifting federations; rolling up factions is a judgement.",
            tag="li",
        ),
        _bi(
            "Cuando la violencia se registra como enfrentamientos entre dos organizaciones, la atribución no "
            "siempre puede distinguirlas: por eso la regla puede no nombrar objetivo.",
            "When violence is recorded as clashes between two organizations, attribution cannot always tell "
            "them apart: that is why the rule may name no target.",
            tag="li",
        ),
        "</ul></section>",
        f"<section id=sources><h2>{_bi('Referencias', 'References')}</h2><ul>",
        "<li>Kleiman, M. A. R. (2011). Surgical Strikes in the Drug Wars. <i>Foreign Affairs</i> 90(5).</li>",
        "<li>Kleiman, M. A. R. &amp; Davenport, S. (2012). Strategies to Control Mexican Drug-Related "
        "Violence. <i>Journal of Drug Policy Analysis</i>.</li>",
        "<li>National Institute of Justice (2014). <i>Reducing Drug Violence in Mexico: Options for "
        "Implementing Targeted Enforcement</i>, NCJ 246358.</li>",
        "<li>Kleiman, M. A. R. &amp; Kilmer, B. (2009). The dynamics of deterrence. <i>PNAS</i> 106(34).</li>",
        "<li>Calderón, G., Robles, G., Díaz-Cayeros, A. &amp; Magaloni, B. (2015). The Beheading of Criminal "
        "Organizations and the Dynamics of Violence in Mexico. <i>Journal of Conflict Resolution</i> 59(8).</li>",
        "</ul></section>",
        f'<p><a href="index.html#es" data-keep-lang>{_bi("← Volver a la calificación", "← Back to the scorecard")}</a></p>',
    ]
    nav = [
        ("index.html", "Calificación", "Scorecard"),
        ("#score", "Puntuación", "Score"),
        ("#uncertainty", "Incertidumbre", "Uncertainty"),
        ("#target-rule", "Regla", "Rule"),
        ("#published", "Qué se publica", "What is published"),
        ("#limits", "Limitaciones", "Limitations"),
    ]
    return _page(
        "Metodología de la calificación",
        "Scorecard methodology",
        _header(card, nav, home=False),
        "\n".join(body),
    )


# ------------------------------------------------------------------------------------ writing


def _sensitive_keys() -> set[str]:
    keys = set(SENSITIVE_FIELDS)
    return keys | {k + "s" for k in keys}


def _walk_keys(obj: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            found.add(str(k))
            found |= _walk_keys(v)
    elif isinstance(obj, list):
        for v in obj:
            found |= _walk_keys(v)
    return found


def _self_check(folder: Path, out_dir: Path) -> None:
    """Refuse (VdtoError) if a sensitive field is a JSON key or CSV column anywhere in ``folder``."""
    bad = _sensitive_keys()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".csv":
            header = next(csv.reader(io.StringIO(text)), [])
            keys = set(header)
        elif path.suffix == ".json":
            keys = _walk_keys(json.loads(text))
        elif path.suffix == ".jsonl":
            keys = set()
            for line in text.splitlines():
                if line.strip():
                    keys |= _walk_keys(json.loads(line))
        elif path.suffix == ".html":
            keys = set()
            for block in _JSON_BLOCK.findall(text):
                keys |= _walk_keys(json.loads(block))
        else:
            continue
        if hit := sorted(keys & bad):
            raise VdtoError(
                f"sensitive field {hit[0]!r} would be published in {name}; nothing was written",
                str(out_dir),
                "publish only build_scorecard() and public_aggregates() output",
            )


def _check_target(out: Path) -> bool:
    """Whether ``out`` holds a previous site to replace (False when it is absent or empty)."""
    if not out.exists() and not out.is_symlink():
        return False
    if not out.is_dir():
        raise VdtoError(
            "the output path exists and is not a folder",
            str(out),
            "choose a new or empty folder for the site",
        )
    if not any(out.iterdir()):
        return False
    if (out / "scorecard.json").is_file():
        return True
    raise VdtoError(
        "the folder is not empty and holds no vdto site (no scorecard.json)",
        str(out),
        "choose a new or empty folder; a folder with a previous site is replaced",
    )


def _keys_checked(public_keys: dict[str, str] | None) -> dict[str, str]:
    keys: dict[str, str] = {}
    for agency, key in (public_keys or {}).items():
        if not isinstance(agency, str) or not _AGENCY.match(agency):
            raise VdtoError(
                f"invalid agency name {agency!r}",
                "public_keys",
                "use 1 to 32 characters from a-z, 0-9, _ and -",
            )
        value = key.strip().lower() if isinstance(key, str) else ""
        if not _HEX64.match(value):
            raise VdtoError(
                f"the public key of {agency!r} is not 64 hex characters",
                "public_keys",
                "pass the contents of the agency's .pub file",
            )
        keys[agency] = value
    return keys


def _ranking_frame(card: dict) -> pd.DataFrame:
    ranking = card.get("ranking") or []
    frame = pd.DataFrame.from_records(ranking)
    cols = [c for c in RANKING_COLUMNS if c in frame] + [c for c in frame if c not in RANKING_COLUMNS]
    if frame.empty:
        return pd.DataFrame(columns=list(RANKING_COLUMNS))
    return frame[cols]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(text)


def _check_card(card: dict) -> None:
    if not isinstance(card, dict):
        raise VdtoError("the scorecard is not a dict", "scorecard", "pass build_scorecard()'s result")
    missing = [k for k in ("meta", "rule", "rubric", "decision", "ranking") if k not in card]
    if missing:
        raise VdtoError(
            f"the scorecard lacks {', '.join(missing)}", "scorecard", "pass build_scorecard()'s result"
        )
    meta = card["meta"]
    sha = hashlib.sha256(canonical_json(card["rubric"]).encode("utf-8")).hexdigest()
    if sha != meta.get("rubric_sha256"):
        raise VdtoError(
            f"the scorecard's rubric hashes to {sha[:12]}…, not to meta.rubric_sha256 "
            f"{str(meta.get('rubric_sha256'))[:12]}…",
            "scorecard",
            "build the scorecard from one scoring result, without editing its rubric",
        )


def write_site(
    out_dir: str | Path,
    scorecard: dict,
    aggregates: pd.DataFrame,
    *,
    ledger_path: str | Path | None = None,
    public_keys: dict[str, str] | None = None,
) -> list[Path]:
    """Write the public site of a scorecard to ``out_dir``; returns the files written.

    The site opens offline from disk: ``index.html`` (Spanish by default, English with the switch,
    ``index.html#en`` or ``?lang=en``), ``methodology.html``, ``scorecard.json`` (canonical JSON of
    ``scorecard``), ``scorecard.csv`` (the ranking), ``aggregates.csv``, ``rubric.json`` (canonical
    JSON, so its sha256 is ``meta.rubric_sha256``), ``ledger.jsonl`` (a copy of ``ledger_path``,
    which must verify, against ``public_keys`` when given) and ``keys/<agency>.pub``.

    Everything is written to a temporary folder beside ``out_dir`` and moved into place at the end,
    so a failure leaves ``out_dir`` as it was. A previous site in ``out_dir`` (a folder holding a
    ``scorecard.json``) is replaced; any other non-empty folder is refused. Before the move, the
    site is checked: no field of :data:`vdto.publication.scorecard.SENSITIVE_FIELDS` (or its plural) may be a
    JSON key or CSV column of any file, and :func:`recompute_site` must pass on it.

    Raises
    ------
    VdtoError
        One line naming the path and the fix: the folder is not empty and no site, the
        scorecard is not build_scorecard() output, the ledger is missing or does not verify, a
        key is malformed, a sensitive field would be published, the scores do not recompute, or
        the files cannot be written.
    """
    from vdto.publication.ledger import verify

    out = Path(out_dir)
    _check_card(scorecard)
    keys = _keys_checked(public_keys)
    ledger = Path(ledger_path) if ledger_path is not None else None
    if ledger is not None:
        report = verify(ledger, trusted=keys or None)
        if not report.ok:
            raise VdtoError(
                f"the ledger does not verify ({report.problem})",
                str(ledger),
                "publish a ledger that passes `vdto verify`, with the agencies' own keys",
            )
    replace = _check_target(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as error:
        raise VdtoError(
            f"cannot write beside the site folder ({error.strerror or error})", str(out)
        ) from error
    try:
        os.chmod(tmp, 0o755)
        card_text = canonical_json(scorecard)
        _write(tmp / "scorecard.json", card_text)
        _write(tmp / "rubric.json", canonical_json(scorecard["rubric"]))
        _write(tmp / "scorecard.csv", _ranking_frame(scorecard).to_csv(index=False, lineterminator="\n"))
        _write(tmp / "aggregates.csv", aggregates.to_csv(index=False, lineterminator="\n"))
        if ledger is not None:
            shutil.copyfile(ledger, tmp / "ledger.jsonl")
        for agency, key in keys.items():
            _write(tmp / "keys" / f"{agency}.pub", key + "\n")
        _write(tmp / "methodology.html", render_methodology(scorecard))
        hashes = {
            name: _sha256_file(tmp / name)
            for name in ("scorecard.json", "scorecard.csv", "aggregates.csv", "rubric.json", "ledger.jsonl")
            if (tmp / name).exists()
        }
        hashes.update({f"keys/{a}.pub": _sha256_file(tmp / "keys" / f"{a}.pub") for a in keys})
        _write(
            tmp / "index.html",
            render_index(scorecard, hashes, tmp / "ledger.jsonl" if ledger else None, sorted(keys)),
        )
        _self_check(tmp, out)
        check = recompute_site(tmp)
        if not check.ok:
            raise VdtoError(
                f"the published scores would not recompute from the aggregates ({check.message})",
                str(out),
                "pass the aggregates of the same scoring result (public_aggregates(result))",
            )
        _move_into_place(tmp, out, replace)
    except OSError as error:
        shutil.rmtree(tmp, ignore_errors=True)
        raise VdtoError(
            f"cannot write the site ({error.strerror or error}); nothing was changed", str(out)
        ) from error
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return sorted(p for p in out.rglob("*") if p.is_file())


def _move_into_place(tmp: Path, out: Path, replace: bool) -> None:
    if not replace:
        if out.exists():
            out.rmdir()  # empty (checked); os.replace over a directory is not portable
        os.replace(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    old.rmdir()
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except OSError:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------------------------ recompute


@dataclass
class RecomputeReport:
    """What :func:`recompute_site` found.

    ``rows`` has one row per organization: ``org``, ``published`` (scorecard.json's score),
    ``recomputed`` (from aggregates.csv and rubric.json) and ``diff`` (recomputed - published);
    ``ok`` is True when the rubric hash matches and every row agrees; ``message`` is one line.
    """

    ok: bool
    rows: pd.DataFrame
    message: str


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise VdtoError(
            f"{path.name} is missing", str(path), "run this on a folder written by `vdto publish`"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise VdtoError(
            f"cannot read {path.name} as JSON ({error})", str(path), "download the site again"
        ) from None


def recompute_site(out_dir: str | Path) -> RecomputeReport:
    """Recompute every published expected score of a site from its aggregates and rubric.

    Reads ``scorecard.json``, ``rubric.json`` and ``aggregates.csv`` in ``out_dir``; checks that
    the sha256 of ``rubric.json`` (as canonical JSON) and of the scorecard's own rubric equal
    ``meta.rubric_sha256``, and that every organization's published score equals the score
    recomputed with :func:`vdto.publication.scorecard.recompute`, to 1e-6 relative (or 1e-6 absolute, the
    rounding of published scores).

    Raises
    ------
    VdtoError
        If a file is missing or cannot be read (one line naming it).
    """
    from pydantic import ValidationError

    from vdto.publication.scorecard import recompute
    from vdto.scoring.rubric import Rubric

    folder = Path(out_dir)
    if not folder.is_dir():
        raise VdtoError("no such folder", str(folder), "pass the folder of a published site (e.g. `.`)")
    card = _read_json(folder / "scorecard.json")
    rubric_raw = _read_json(folder / "rubric.json")
    agg_path = folder / "aggregates.csv"
    try:
        agg = pd.read_csv(
            agg_path,
            dtype={"org": str, "category": str, "date_start": str, "date_end": str},
            keep_default_na=False,
            na_values={"probability_sum": [""], "reliability": [""], "deaths_best": [""]},
        )
    except FileNotFoundError:
        raise VdtoError(
            "aggregates.csv is missing", str(agg_path), "run this on a folder written by `vdto publish`"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise VdtoError(
            f"cannot read aggregates.csv ({error})", str(agg_path), "download the site again"
        ) from None
    if not isinstance(card, dict) or not isinstance(card.get("meta"), dict):
        raise VdtoError(
            "scorecard.json has no meta", str(folder / "scorecard.json"), "download the site again"
        )
    meta = card["meta"]
    try:
        end = date.fromisoformat(str(meta.get("to")))
    except ValueError:
        raise VdtoError(
            f"scorecard.json: meta.to is not a date ({meta.get('to')!r})",
            str(folder / "scorecard.json"),
            "download the site again",
        ) from None
    try:
        rubric = Rubric.model_validate(rubric_raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise VdtoError(
            f"rubric.json is not a valid rubric ({where}: {first['msg']})",
            str(folder / "rubric.json"),
            "download the site again",
        ) from None
    needed = {"org", "category", "date_start", "date_end", "deaths_best", "reliability", "probability_sum"}
    if missing := sorted(needed - set(agg.columns)):
        raise VdtoError(
            f"aggregates.csv lacks column(s) {', '.join(missing)}", str(agg_path), "download the site again"
        )

    problems: list[str] = []
    file_sha = hashlib.sha256(canonical_json(rubric_raw).encode("utf-8")).hexdigest()
    published_sha = meta.get("rubric_sha256")
    if file_sha != published_sha:
        problems.append(f"rubric.json hashes to {file_sha}, not the published {published_sha}")
    card_rubric = card.get("rubric")
    if card_rubric is not None and canonical_json(card_rubric) != canonical_json(rubric_raw):
        problems.append("the rubric in scorecard.json differs from rubric.json")

    try:
        got = recompute(agg, rubric, end) if len(agg) else pd.DataFrame(columns=["org", "score"])
    except (KeyError, TypeError, ValueError) as error:
        raise VdtoError(
            f"cannot recompute from aggregates.csv ({error})", str(agg_path), "download the site again"
        ) from None
    published = {r.get("org"): r.get("score") for r in card.get("ranking") or []}
    recomputed = dict(zip(got["org"], got["score"].astype(float), strict=True))
    orgs = list(published) + [o for o in recomputed if o not in published]
    rows = pd.DataFrame(
        {
            "org": orgs,
            "published": [float(published[o]) if _finite(published.get(o)) else math.nan for o in orgs],
            "recomputed": [recomputed.get(o, math.nan) for o in orgs],
        }
    )
    rows["diff"] = rows["recomputed"] - rows["published"]
    bad = [
        o
        for o, p, r in zip(rows["org"], rows["published"], rows["recomputed"], strict=True)
        if not (math.isfinite(p) and math.isfinite(r) and math.isclose(p, r, rel_tol=REL_TOL, abs_tol=1e-6))
    ]
    for org in bad[:5]:
        row = rows[rows["org"] == org].iloc[0]
        problems.append(f"{org}: published {row['published']:.6f}, recomputed {row['recomputed']:.6f}")
    if len(bad) > 5:
        problems.append(f"and {len(bad) - 5} more organizations")
    if problems:
        message = "does not recompute: " + "; ".join(problems)
        return RecomputeReport(False, rows, message)
    message = (
        f"ok: {len(rows)} published scores recomputed from aggregates.csv and rubric.json "
        f"(rubric sha256 {file_sha}, window ending {end.isoformat()})"
    )
    return RecomputeReport(True, rows, message)


__all__ = ["RecomputeReport", "recompute_site", "render_index", "render_methodology", "write_site"]
