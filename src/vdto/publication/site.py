"""The public scorecard as a static web site that opens offline, and its independent recomputation.

:func:`write_site` turns a scorecard (:func:`vdto.publication.scorecard.build_scorecard`) and its public
aggregates (:func:`vdto.publication.scorecard.public_aggregates`) into a folder that anyone can open from disk
or serve as static files: ``index.html`` (Spanish first, English on the switch), a methodology
page, the machine-readable files behind every number (``scorecard.json``, ``scorecard.csv``,
``aggregates.csv``, ``rubric.json``), and optionally the signed ledger and the agencies' public
keys. Nothing on the pages is fetched from the network: styles, script, data and charts are
inline. The pages are the templates ``scorecard/index.html`` and ``scorecard/methodology.html``
of :mod:`vdto.render.pages`; the charts are Altair charts drawn to static SVG by vl-convert
(:func:`vdto.render.charts.to_svg`), one per language, so the page runs no chart script.

:func:`recompute_site` is what a journalist runs on a downloaded site (``vdto recompute .``): it
recomputes every published expected score from ``aggregates.csv`` and ``rubric.json`` and checks
the rubric's hash.
"""

from __future__ import annotations

import csv
import hashlib
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
from vdto.files import csv_safe, replace_folder
from vdto.publication.scorecard import RANKING_COLUMNS, SENSITIVE_FIELDS
from vdto.render.charts import interval_chart, line_chart, svg_by_lang
from vdto.render.fmt import finite
from vdto.render.pages import render

#: Files of a published site (besides ``keys/``); the first is what marks a folder as a vdto site.
SITE_FILES: tuple[str, ...] = (
    "scorecard.json", "index.html", "methodology.html", "scorecard.csv", "aggregates.csv", "rubric.json",
    "ledger.jsonl",
)  # fmt: skip

#: Relative tolerance of :func:`recompute_site` (published scores are rounded to 6 decimals, so an
#: absolute difference up to 1e-6 is accepted as well).
REL_TOL = 1e-6

_AGENCY = re.compile(r"^[a-z0-9_-]{1,32}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_JSON_BLOCK = re.compile(r'<script type="application/json"[^>]*>(.*?)</script>', re.S)


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


def _names(card: dict) -> dict[str, str]:
    names: dict[str, str] = {}
    for side in (card.get("round") or {}).get("rankings") or []:
        names.update({r.get("org"): r.get("name") for r in side.get("ranking") or [] if r.get("org")})
    names.update({r.get("org"): r.get("name") for r in card.get("dismantled") or [] if r.get("org")})
    names.update({r.get("org"): r.get("name") for r in card.get("ranking") or [] if r.get("org")})
    return {k: v or k for k, v in names.items()}


def _asset(name: str) -> str:
    return resources.files("vdto.data.site").joinpath(name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------------- pages


def _decision(card: dict) -> dict[str, Any]:
    """The decision box, from the decision's fields (never its English ``reason``): ``case`` is
    ``target`` (a target is named), ``disagree`` (a round whose agencies' rules name different
    organizations, so it names none), ``none`` (no confident target) or ``empty`` (nothing
    ranked); with the leader's and the runner-up's rows, and whether the runner-up's 90% interval
    reaches the leader's."""
    d = card.get("decision") or {}
    ranking = card.get("ranking") or []
    names = _names(card)
    runner: dict = next((r for r in ranking if r.get("org") == d.get("runner_up")), {})
    target = d.get("target")
    lead = ranking[0] if ranking else {}
    close = finite(runner.get("hi90")) and finite(lead.get("lo90")) and runner["hi90"] >= lead["lo90"]
    rnd = card.get("round") or {}
    named = [(s.get("agency"), s.get("target")) for s in rnd.get("rankings") or []]
    if rnd and rnd.get("target") is None and len({t for _, t in named}) > 1:
        case = "disagree"
    elif target:
        case = "target"
    elif lead:
        case = "none"
    else:
        case = "empty"
    return {
        "case": case, "target": target if case == "target" else None,
        "name": d.get("target_name") or (names.get(target, target) if target else None),
        "p_rank1": d.get("p_rank1"), "threshold": d.get("threshold"), "lead": lead, "runner": runner,
        "close": close, "runner_name": names.get(d["runner_up"], d["runner_up"]) if d.get("runner_up") else None,
        "named": [(a, names.get(t, t) if t else None) for a, t in named],
    }  # fmt: skip


#: Rows of each agency's ranking shown side by side.
SIDE_BY_SIDE_ROWS = 10


def _tau_level(tau: Any) -> int | None:
    """How strong an agreement Kendall's tau says, 0 (weak) to 3 (very strong); None when undefined."""
    if not finite(tau):
        return None
    return 3 if tau >= 0.8 else 2 if tau >= 0.6 else 1 if tau >= 0.4 else 0


def _round_view(card: dict) -> dict[str, Any] | None:
    """The "two agencies" section of a round's scorecard: each agency's ranking (its first
    :data:`SIDE_BY_SIDE_ROWS`), the agreement, the dissents and who co-signed; None for a
    scorecard that is not of a round."""
    rnd = card.get("round")
    if not isinstance(rnd, dict):
        return None
    names = _names(card)
    sides = [
        {
            "agency": s.get("agency"),
            "target": s.get("target"),
            "target_name": s.get("target_name") or names.get(s.get("target"), s.get("target")),
            "p_rank1": s.get("p_rank1"),
            "threshold": s.get("threshold"),
            "rows": (s.get("ranking") or [])[:SIDE_BY_SIDE_ROWS],
            "count": len(s.get("ranking") or []),
        }
        for s in rnd.get("rankings") or []
    ]
    agreement = rnd.get("agreement") or None
    if agreement:
        tops = [names.get(t, t) if t else None for t in agreement.get("top") or [None, None]]
        agreement = {**agreement, "top_names": tops, "level": _tau_level(agreement.get("tau"))}
    dissents = [
        {**d, "target_name": names.get(d.get("target"), d.get("target")) if d.get("target") else None}
        for d in rnd.get("dissents") or []
    ]
    target = rnd.get("target")
    return {
        "id": rnd.get("id"), "status": rnd.get("status"), "agencies": rnd.get("agencies") or [],
        "target": target, "target_name": names.get(target, target) if target else None,
        "require_agreement": rnd.get("require_agreement"), "sides": sides, "agreement": agreement,
        "dissents": dissents, "announced_by": rnd.get("announced_by") or [],
    }  # fmt: skip


def _interval_svg(card: dict, limit: int = 12) -> dict[str, str] | None:
    """Expected score (dot) and 90% interval (bar) of the leading organizations, target in red."""
    rows = [r for r in (card.get("ranking") or [])[:limit] if finite(r.get("score"))]
    if not rows:
        return None
    frame = pd.DataFrame(rows, columns=["org", "name", "score", "lo90", "hi90"])
    target = (card.get("decision") or {}).get("target")
    titles = {"es": "Puntuación (punto) e intervalo de 90 % (barra)", "en": "Score (dot) and 90% interval (bar)"}  # fmt: skip
    return svg_by_lang(
        lambda lang: interval_chart(
            frame, label="name", key="org", value="score", lo="lo90", hi="hi90", highlight=target,
            x_title=titles[lang],
        ),
        "interval",
    )  # fmt: skip


def _trend(card: dict) -> dict[str, Any] | None:
    """The trend chart (one SVG per language) and its data as a table (years, rows)."""
    trend = card.get("trend") or []
    names = _names(card)
    points = [t for t in trend if finite(t.get("score")) and finite(t.get("year"))]
    if not points:
        return None
    frame = pd.DataFrame(
        [(int(t["year"]), float(t["score"]), names.get(t["org"], t["org"])) for t in points],
        columns=["year", "score", "name"],
    )
    labels = {"es": ("Puntuación esperada", "Organización"), "en": ("Expected score", "Organization")}
    svg = svg_by_lang(
        lambda lang: line_chart(
            frame, x="year", y="score", series="name", y_title=labels[lang][0], series_title=labels[lang][1]
        ),
        "trend",
    )
    years = sorted({int(t["year"]) for t in trend if finite(t.get("year"))})
    orgs = list(dict.fromkeys(t.get("org") for t in trend))
    value = {(t.get("org"), int(t["year"])): t.get("score") for t in trend if finite(t.get("year"))}
    rows = [(o, names.get(o, o), [value.get((o, y)) for y in years]) for o in orgs]
    return {"svg": svg, "years": years, "rows": rows}


def render_index(card: dict, keys: list[str] | None = None) -> str:
    """The HTML of ``index.html`` for a scorecard (``keys``: the agencies whose public keys the
    site publishes). The page quotes nothing from the ledger (no entry, hash or count): its own
    hash may be signed into a later entry."""
    canonical_json(card)  # plain JSON, or a VdtoError saying why not
    return render(
        "scorecard/index.html",
        card=card,
        names=_names(card),
        d=_decision(card),
        rnd=_round_view(card),
        ranking=card.get("ranking") or [],
        interval_svg=_interval_svg(card),
        trend=_trend(card),
        keys=list(keys or []),
        css=_asset("style.css"),
        js=_asset("app.js"),
        verify_js=_asset("verify.js"),
    )


def render_methodology(card: dict) -> str:
    """The HTML of ``methodology.html``: the method, with the numbers of the published rubric."""
    return render("scorecard/methodology.html", card=card, css=_asset("style.css"), js=_asset("app.js"))


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
    JSON, so its sha256 is ``meta.rubric_sha256``) and ``keys/<agency>.pub``; with ``ledger_path``,
    whose ``site`` entry must sign exactly these files (:mod:`vdto.publication.sitecheck`), the
    ledger and the proofs the page checks in the reader's browser.

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
    out = Path(out_dir)
    _check_card(scorecard)
    keys = _keys_checked(public_keys)
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
        _write(
            tmp / "scorecard.csv",
            csv_safe(_ranking_frame(scorecard)).to_csv(index=False, lineterminator="\n"),
        )
        _write(tmp / "aggregates.csv", csv_safe(aggregates).to_csv(index=False, lineterminator="\n"))
        for agency, key in keys.items():
            _write(tmp / "keys" / f"{agency}.pub", key + "\n")
        _write(tmp / "methodology.html", render_methodology(scorecard))
        _write(tmp / "index.html", render_index(scorecard, sorted(keys)))
        _self_check(tmp, out)
        check = recompute_site(tmp)
        if not check.ok:
            raise VdtoError(
                f"the published scores would not recompute from the aggregates ({check.message})",
                str(out),
                "pass the aggregates of the same scoring result (public_aggregates(result))",
            )
        if ledger_path is not None:
            from vdto.publication.sitecheck import signed_by_ledger

            signed_by_ledger(tmp, ledger_path, out, keys or None)
        replace_folder(tmp, out, replace)
    except OSError as error:
        shutil.rmtree(tmp, ignore_errors=True)
        raise VdtoError(
            f"cannot write the site ({error.strerror or error}); nothing was changed", str(out)
        ) from error
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if ledger_path is not None:
        from vdto.publication.sitecheck import attach_ledger

        return attach_ledger(out, ledger_path, trusted=keys or None)
    return sorted(p for p in out.rglob("*") if p.is_file())


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


def _damaged(what: str, path: Path) -> VdtoError:
    return VdtoError(what, str(path), "download the site again")


def _missing(path: Path) -> VdtoError:
    return VdtoError(f"{path.name} is missing", str(path), "run this on a folder written by `vdto publish`")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _missing(path) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise _damaged(f"cannot read {path.name} as JSON ({error})", path) from None


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
            dtype={"org": str, "category": str, "month": str},
            keep_default_na=False,
            na_values={
                c: [""]
                for c in (
                    "probability_sum",
                    "reliability",
                    "deaths_best",
                    "decayed_probability_sum",
                    "score",
                    "torture_display",
                )
            },
        )
    except FileNotFoundError:
        raise _missing(agg_path) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise _damaged(f"cannot read aggregates.csv ({error})", agg_path) from None
    if not isinstance(card, dict) or not isinstance(card.get("meta"), dict):
        raise _damaged("scorecard.json has no meta", folder / "scorecard.json")
    meta = card["meta"]
    try:
        end = date.fromisoformat(str(meta.get("to")))
    except ValueError:
        raise _damaged(
            f"scorecard.json: meta.to is not a date ({meta.get('to')!r})", folder / "scorecard.json"
        ) from None
    try:
        rubric = Rubric.model_validate(rubric_raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _damaged(
            f"rubric.json is not a valid rubric ({where}: {first['msg']})", folder / "rubric.json"
        ) from None
    needed = {"org", "category", "month", "deaths_best", "reliability", "decayed_probability_sum", "score"}
    if missing := sorted(needed - set(agg.columns)):
        raise _damaged(f"aggregates.csv lacks column(s) {', '.join(missing)}", agg_path)

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
        raise _damaged(f"cannot recompute from aggregates.csv ({error})", agg_path) from None
    published = {r.get("org"): r.get("score") for r in card.get("ranking") or []}
    recomputed = dict(zip(got["org"], got["score"].astype(float), strict=True))
    orgs = list(published) + [o for o in recomputed if o not in published]
    rows = pd.DataFrame(
        {
            "org": orgs,
            "published": [float(published[o]) if finite(published.get(o)) else math.nan for o in orgs],
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
