"""The public site: what it holds, that it recomputes, that nothing sensitive leaks, how it renders."""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vdto.errors import VdtoError
from vdto.orgs import Registry
from vdto.publication.keys import Signer, load_trusted
from vdto.publication.ledger import Ledger, verify
from vdto.publication.scorecard import SENSITIVE_FIELDS, build_scorecard, public_aggregates, yearly_trend
from vdto.publication.site import recompute_site, render_index, write_site
from vdto.publication.sitecheck import attach_ledger, site_payload, verify_site
from vdto.render.fmt import chance
from vdto.scoring import score
from vdto.scoring.engine import score_frames
from vdto.store import Store

from .browser import PNG_MAGIC, dump_dom, needs_chromium, png_size, screenshot

WHEN = datetime(2021, 1, 15, 12, 0, tzinfo=UTC)


def _signer(agency: str, fill: int) -> Signer:
    """A fixed key (the site's bytes are then the same on every run)."""
    return Signer(agency, Ed25519PrivateKey.from_private_bytes(bytes([fill]) * 32))


def _ledger(folder: Path, card: dict) -> tuple[Ledger, list[Signer]]:
    mx, us = _signer("mx", 1), _signer("us", 2)
    agencies = {"mx": mx.public_hex, "us": us.public_hex}
    ledger = Ledger.init(
        folder / "ledger.jsonl", {"agencies": agencies, "rubric": "default-v1"}, [mx, us], WHEN
    )
    ledger.append("scorecard", {"round": 1, "scorecards": {"mx": card}}, [mx, us], WHEN)
    return ledger, [mx, us]


@dataclass
class Built:
    site: Path
    card: dict
    agg: pd.DataFrame
    events: pd.DataFrame
    perps: pd.DataFrame
    ledger: Path
    keys: dict[str, str]
    files: list[Path]


@pytest.fixture(scope="module")
def built(ucdp_store, tmp_path_factory) -> Built:
    """The real 2020 scorecard, with its trend, a signed ledger and two keys, published once."""
    with Store(ucdp_store[0], read_only=True) as store:
        res = score(store, date(2020, 1, 1), date(2020, 12, 31), draws=2000, seed=7)
        trend = yearly_trend(store, list(res.table["org"][:6]), 2020, 8)
        perps = store.query(
            "SELECT p.* FROM perpetrators p JOIN events e USING (source, source_id) "
            "WHERE e.date_start BETWEEN ? AND ?",
            [date(2020, 1, 1), date(2020, 12, 31)],
        )
    card = build_scorecard(res, trend=trend)
    agg = public_aggregates(res)
    root = tmp_path_factory.mktemp("publish")
    ledger, signers = _ledger(root, card)
    keys = {s.agency: s.public_hex for s in signers}
    write_site(root / "site", card, agg, public_keys=keys)  # the content, then its signed record
    ledger.append("site", site_payload(root / "site"), signers, WHEN)
    files = attach_ledger(root / "site", ledger.path, trusted=keys)
    return Built(root / "site", card, agg, res.events, perps, ledger.path, keys, files)


@pytest.fixture
def site_copy(built, tmp_path) -> Path:
    dest = tmp_path / "site"
    shutil.copytree(built.site, dest)
    return dest


# ------------------------------------------------------------------------------ the files


def test_site_holds_every_file(built):
    names = sorted(p.relative_to(built.site).as_posix() for p in built.files)
    assert names == [
        "aggregates.csv",
        "checkpoint.txt",
        "index.html",
        "keys/mx.pub",
        "keys/us.pub",
        "ledger.jsonl",
        "ledger.jsonl.checkpoints",
        "methodology.html",
        "proof.json",
        "rubric.json",
        "scorecard.csv",
        "scorecard.json",
    ]
    assert not [p for p in built.site.parent.iterdir() if p.name.startswith(".site.")]  # no temp folder left


def test_rubric_json_hash_is_the_published_hash(built):
    meta = built.card["meta"]
    rubric = json.loads((built.site / "rubric.json").read_text(encoding="utf-8"))
    text = json.dumps(rubric, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(text.encode()).hexdigest() == meta["rubric_sha256"]
    # the file itself is canonical, so `sha256sum rubric.json` gives the same hash
    assert hashlib.sha256((built.site / "rubric.json").read_bytes()).hexdigest() == meta["rubric_sha256"]
    assert rubric == built.card["rubric"]


def test_scorecard_json_and_csv(built):
    raw = (built.site / "scorecard.json").read_text(encoding="utf-8")
    assert json.loads(raw) == built.card
    assert raw == json.dumps(built.card, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert "Cártel Jalisco Nueva Generación" in raw  # UTF-8 as it is, not \u escapes
    ranking = pd.read_csv(built.site / "scorecard.csv")
    assert list(ranking["org"]) == [r["org"] for r in built.card["ranking"]]
    assert list(ranking.columns[:4]) == ["rank", "org", "name", "score"]
    assert ranking["score"].iloc[0] == pytest.approx(built.card["ranking"][0]["score"])
    agg = pd.read_csv(built.site / "aggregates.csv")
    assert list(agg.columns) == list(built.agg.columns)
    assert len(agg) == len(built.agg)
    assert agg["probability_sum"].sum() == pytest.approx(built.agg["probability_sum"].sum(), rel=1e-12)


def test_ledger_and_keys_are_published_and_verify(built):
    assert (built.site / "ledger.jsonl").read_bytes() == built.ledger.read_bytes()
    for agency, key in built.keys.items():
        assert (built.site / "keys" / f"{agency}.pub").read_text(encoding="ascii") == key + "\n"
    report = verify(built.site / "ledger.jsonl", trusted=load_trusted([built.site / "keys"]))
    assert report.ok and report.entries == 3 and report.checkpoint_size == 3
    assert verify_site(built.site, trusted=built.keys).ok
    # the page quotes nothing from the ledger: its own hash may be signed into a later entry
    page = (built.site / "index.html").read_text(encoding="utf-8")
    for line in built.ledger.read_text(encoding="utf-8").splitlines():
        assert json.loads(line)["hash"] not in page
    assert report.last_hash not in page and "sha256</th>" not in page


# ------------------------------------------------------------------------------ recompute


def test_recompute_site_passes(built):
    report = recompute_site(built.site)
    assert report.ok, report.message
    assert report.message.startswith("ok:") and "\n" not in report.message
    assert list(report.rows.columns) == ["org", "published", "recomputed", "diff"]
    assert list(report.rows["org"]) == [r["org"] for r in built.card["ranking"]]
    rel = (report.rows["diff"].abs() / report.rows["recomputed"].abs()).max()
    assert rel < 1e-6


def test_tampered_score_fails_naming_the_organization(site_copy):
    path = site_copy / "scorecard.json"
    card = json.loads(path.read_text(encoding="utf-8"))
    row = next(r for r in card["ranking"] if r["org"] == "sinaloa")
    row["score"] = round(row["score"] * 1.001, 6)
    path.write_text(json.dumps(card, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    report = recompute_site(site_copy)
    assert not report.ok
    assert "sinaloa" in report.message and "cjng" not in report.message
    bad = report.rows.loc[report.rows["diff"].abs() > 1e-6, "org"].tolist()
    assert bad == ["sinaloa"]


def test_tampered_aggregate_fails_naming_the_organization(site_copy):
    path = site_copy / "aggregates.csv"
    agg = pd.read_csv(path, dtype=str, keep_default_na=False)
    # the number a class's part of the score is computed from (a merged row gives its part itself)
    rows = agg.index[agg["org"] == "csrl"]
    i = rows[0]
    col = "decayed_probability_sum" if agg.loc[i, "decayed_probability_sum"] else "score"
    agg.loc[i, col] = repr(float(agg.loc[i, col]) + 1.0)
    agg.to_csv(path, index=False)
    report = recompute_site(site_copy)
    assert not report.ok
    assert "csrl" in report.message
    bad = report.rows.loc[report.rows["diff"].abs() > 1e-6, "org"].tolist()
    assert bad == ["csrl"]


def test_tampered_rubric_fails(site_copy):
    path = site_copy / "rubric.json"
    rubric = json.loads(path.read_text(encoding="utf-8"))
    rubric["victims"]["civilian"] = 2.5
    path.write_text(json.dumps(rubric, sort_keys=True, separators=(",", ":")), encoding="utf-8")
    report = recompute_site(site_copy)
    assert not report.ok
    assert "rubric.json hashes to" in report.message


@pytest.mark.parametrize("name", ["aggregates.csv", "rubric.json", "scorecard.json"])
def test_recompute_missing_file_is_one_line_error(site_copy, name):
    (site_copy / name).unlink()
    with pytest.raises(VdtoError) as err:
        recompute_site(site_copy)
    text = str(err.value)
    assert name in text and "\n" not in text


def test_recompute_unreadable_files(site_copy, tmp_path):
    (site_copy / "scorecard.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(VdtoError, match=r"scorecard\.json"):
        recompute_site(site_copy)
    with pytest.raises(VdtoError, match="no such folder"):
        recompute_site(tmp_path / "nowhere")


# ------------------------------------------------------------------------------ nothing sensitive


def _numbers(text: str) -> set[str]:
    """Every number written in ``text`` as a whole token (not digits inside a hash or a longer number)."""
    found = set(re.findall(r"(?<![0-9A-Za-z_.])-?\d+(?:\.\d+)?(?![0-9A-Za-z_])", text))
    return found | {n.lstrip("-") for n in found}


def _published_names(card: dict) -> list[str]:
    return [r["name"] for r in card["ranking"] + card["dismantled"]]


def _leaks(site: Path, card: dict, frames: list[pd.DataFrame]) -> tuple[list[str], int]:
    """Every sensitive value of the scored events found in any file of ``site``, and how many were sought.

    For each field of SENSITIVE_FIELDS in the events/perpetrators frames, each distinct value of at
    least 6 characters (floats: repr and 5 decimals) is searched in the text of every file (and in
    the unescaped text of the HTML pages); numbers are matched as whole numbers.
    """
    texts = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8")
        texts.append((path.name, text))
        if path.suffix == ".html":
            texts.append((path.name + " (unescaped)", html.unescape(text)))
    numbers = {name: _numbers(text) for name, text in texts}
    names = _published_names(card)
    hits, sought = [], 0
    for frame in frames:
        for field in SENSITIVE_FIELDS:
            if field not in frame:
                continue
            for value in frame[field].dropna().unique():
                cands = {repr(value), f"{value:.5f}"} if isinstance(value, float) else {str(value).strip()}
                for cand in cands:
                    if len(cand) < 6:
                        continue
                    # an organization's public name may contain a source's label of it ("La Familia")
                    if field in ("raw_name", "faction") and any(cand in n for n in names):
                        continue
                    sought += 1
                    numeric = re.fullmatch(r"-?\d+(\.\d+)?", cand) is not None
                    hits += [
                        f"{field} {cand!r} in {name}"
                        for name, text in texts
                        if (cand in numbers[name] if numeric else cand in text)
                    ]
    hits += [f"source label in {name}" for name, text in texts if "ucdp-ged" in text.lower()]
    return hits, sought


def test_no_sensitive_value_in_any_file(built):
    hits, sought = _leaks(built.site, built.card, [built.events, built.perps])
    assert hits == []
    assert sought > 4000  # ids, notes, coordinates and labels were all looked for


def test_the_leak_scan_finds_planted_values(built, site_copy):
    ev = built.events.iloc[0]
    raw = next(r for r in built.perps["raw_name"] if r == "Government of Mexico")
    with open(site_copy / "index.html", "a", encoding="utf-8") as page:
        page.write(f"<p>{html.escape(ev['notes'])}</p><p>id {ev['source_id']}.</p><p>{ev['latitude']!r}</p>")
    with open(site_copy / "aggregates.csv", "a", encoding="utf-8") as agg:
        agg.write(f"{ev['longitude']:.5f},{raw},UCDP-GED\n")
    hits, _ = _leaks(site_copy, built.card, [built.events, built.perps])
    found = {h.split(" ")[0] for h in hits}
    assert {"notes", "source_id", "latitude", "longitude", "raw_name", "source"} <= found, hits


def test_meta_names_no_source(built):
    meta = json.loads((built.site / "scorecard.json").read_text(encoding="utf-8"))["meta"]
    assert "sources" not in meta and "source" not in meta
    labels = set(built.events["source"].unique())
    assert not [k for k, v in meta.items() if any(label in str(v) for label in labels)]


def test_sensitive_column_is_refused_and_nothing_written(built, tmp_path):
    leaky = built.agg.assign(source="x")
    out = tmp_path / "site"
    with pytest.raises(VdtoError) as err:
        write_site(out, built.card, leaky)
    assert "'source'" in str(err.value) and "aggregates.csv" in str(err.value)
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(VdtoError, match="'notes'"):
        write_site(out, {**built.card, "extra": [{"notes": "x"}]}, built.agg)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ writing safely


def test_refuses_a_folder_that_is_not_a_site(built, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"precious")
    with pytest.raises(VdtoError) as err:
        write_site(out, built.card, built.agg)
    text = str(err.value)
    assert str(out) in text and "\n" not in text and "empty" in text
    assert (out / "thesis.docx").read_bytes() == b"precious" and len(list(out.iterdir())) == 1
    file_out = tmp_path / "a-file"
    file_out.write_text("x")
    with pytest.raises(VdtoError, match="not a folder"):
        write_site(file_out, built.card, built.agg)


def test_empty_folder_is_used_and_previous_site_replaced(built, tmp_path):
    out = tmp_path / "site"
    out.mkdir()
    write_site(out, built.card, built.agg, ledger_path=built.ledger, public_keys=built.keys)
    assert (out / "keys" / "us.pub").exists()
    with_ledger = (out / "index.html").read_text(encoding="utf-8")
    files = write_site(out, built.card, built.agg)  # a previous site: replaced, stale files gone
    assert not (out / "keys").exists() and not (out / "ledger.jsonl").exists()
    assert {p.name for p in files} == {p.name for p in out.iterdir()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    page = (out / "index.html").read_text(encoding="utf-8")
    # the page depends on the scorecard and the published keys only, never on the ledger
    assert page == render_index(built.card) and with_ledger == render_index(built.card, sorted(built.keys))


def test_failure_leaves_previous_site_untouched(built, tmp_path):
    out = tmp_path / "site"
    write_site(out, built.card, built.agg)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    agg = built.agg.copy()
    detailed = agg.index[(agg["org"] == "cjng") & agg["decayed_probability_sum"].notna()]
    agg.loc[detailed[0], "decayed_probability_sum"] += 5.0
    with pytest.raises(VdtoError, match=r"would not recompute.*cjng"):
        write_site(out, built.card, agg)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_ledger_must_verify_against_the_keys(built, tmp_path):
    out = tmp_path / "site"
    bad_keys = {**built.keys, "us": _signer("us", 9).public_hex}
    with pytest.raises(VdtoError, match="ledger does not verify"):
        write_site(out, built.card, built.agg, ledger_path=built.ledger, public_keys=bad_keys)
    broken = tmp_path / "broken.jsonl"
    broken.write_text(built.ledger.read_text(encoding="utf-8").replace('"mx"', '"mz"', 1), encoding="utf-8")
    with pytest.raises(VdtoError, match="ledger does not verify"):
        write_site(out, built.card, built.agg, ledger_path=broken)
    with pytest.raises(VdtoError, match="ledger file not found"):
        write_site(out, built.card, built.agg, ledger_path=tmp_path / "none.jsonl")
    with pytest.raises(VdtoError, match="not 64 hex"):
        write_site(out, built.card, built.agg, public_keys={"mx": "abc"})
    with pytest.raises(VdtoError, match="invalid agency"):
        write_site(out, built.card, built.agg, public_keys={"../x": built.keys["mx"]})
    assert not out.exists()


def test_scorecard_with_edited_rubric_is_refused(built, tmp_path):
    card = json.loads(json.dumps(built.card))
    card["rubric"]["victims"]["journalist"] = 0.0
    with pytest.raises(VdtoError, match="rubric_sha256"):
        write_site(tmp_path / "site", card, built.agg)


# ------------------------------------------------------------------------------ the page (static)


def test_page_is_self_contained(built):
    for page in ("index.html", "methodology.html"):
        text = (built.site / page).read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text
        assert not re.search(r"<(script|img|link|iframe)[^>]*\s(src|href)=", text)
        assert "default-src 'none'" in text
    text = (built.site / "index.html").read_text(encoding="utf-8")
    for sid in ("ranking", "decision", "verify", "rule", "trend", "states", "provenance"):
        assert f'id="{sid}"' in text, sid
    assert built.card["rule"]["es"] in text and built.card["rule"]["en"] in text
    assert 'data-target="cjng"' in text
    block = re.search(r'<script type="application/json" id="scorecard-data">(.*?)</script>', text, re.S)
    assert json.loads(block.group(1)) == built.card
    assert "<svg" in text and 'data-org="cjng"' in text


def test_suppressed_cells_are_shown_as_less_than_min_count(built):
    text = (built.site / "index.html").read_text(encoding="utf-8")
    states = re.search(r'<table id="states">(.*?)</table>', text, re.S).group(1)
    n = built.card["meta"]["min_count"]
    suppressed = sum(s["events"] is None for s in built.card["states"])
    assert suppressed > 0
    assert states.count(f'<td class="num suppressed">&lt;{n}</td>') == suppressed
    assert f"menos de {n} eventos esperados" in text and f"fewer than {n} expected events" in text


def test_no_target_year_shows_why_and_the_fallback(ucdp_store, tmp_path):
    with Store(ucdp_store[0], read_only=True) as store:
        res = score(store, date(2011, 1, 1), date(2011, 12, 31), draws=2000, seed=7)
    card = build_scorecard(res)
    write_site(tmp_path / "site", card, public_aggregates(res))
    text = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    decision = re.search(r'<div class="decision" id="decision".*?</div>', text, re.S).group(0)
    assert "Sin objetivo confiable" in decision and "No confident target" in decision
    d = card["decision"]
    assert d["target"] is None and d["p_rank1"] < d["threshold"]
    lead = card["ranking"][0]["name"]
    assert (
        f"la organización con la puntuación más alta, {html.escape(lead)}, tiene una probabilidad de "
        f"{chance(d['p_rank1'], 'es', 0.9)} de ser la más violenta, por debajo del umbral publicado de 90\u00a0%"
    ) in decision
    assert (
        f"the organization with the highest score, {html.escape(lead)}, has a {chance(d['p_rank1'], 'en', 0.9)} "
        "chance of being the most violent, below the published 90% threshold"
    ) in decision
    assert html.escape(d["reason"]) not in decision and "P(rank 1)" not in decision  # no English jargon
    assert "respaldo regional" in decision
    assert "The regional fallback applies: concentrate enforcement" in decision
    assert recompute_site(tmp_path / "site").ok


def test_nothing_ranked_still_publishes(tmp_path):
    events = pd.DataFrame(
        {
            "source": ["s"],
            "source_id": ["1"],
            "date_start": [date(2020, 6, 1)],
            "date_end": [date(2020, 6, 1)],
            "category": ["homicide"],
            "deaths_best": [1],
            "victims_civilian": [1],
        }
    )
    perps = pd.DataFrame(
        {
            "source": ["s"],
            "source_id": ["1"],
            "raw_name": ["Unknown gunmen"],
            "org_id": [None],
            "faction_id": [None],
            "faction": [None],
            "probability": [1.0],
        }
    )
    res = score_frames(
        events, perps, Registry.seed(), start=date(2020, 1, 1), end=date(2020, 12, 31), draws=10
    )
    card = build_scorecard(res)
    write_site(tmp_path / "site", card, public_aggregates(res))
    text = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "ninguna organización tiene eventos atribuidos" in text
    assert "The rule names no target: no organization has attributed events in the window." in text
    assert recompute_site(tmp_path / "site").ok


# ------------------------------------------------------------------------------ the page in a browser


class _Dom(HTMLParser):
    """Visible text of a rendered DOM (skipping [hidden] subtrees, scripts and styles), per id too."""

    VOID = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, str | None]] = []
        self.text: list[str] = []
        self.by_id: dict[str, list[str]] = {}
        self.ranking_rows: list[str] = []
        self.html_lang: str | None = None

    def _hidden(self) -> bool:
        return any(h for _, h, _ in self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "tr" and "data-org" in a and any(i == "ranking" for _, _, i in self.stack):
            self.ranking_rows.append(a["data-org"])
        if tag in self.VOID:
            return
        hidden = "hidden" in a or tag in ("script", "style", "title", "head")
        self.stack.append((tag, hidden, a.get("id")))
        if a.get("id"):
            self.by_id.setdefault(a["id"], [])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if self._hidden():
            return
        self.text.append(data)
        for _, _, i in self.stack:
            if i:
                self.by_id[i].append(data)

    def visible(self, element_id: str | None = None) -> str:
        parts = self.text if element_id is None else self.by_id.get(element_id, [])
        return " ".join(" ".join(parts).split())


def _render(tmp_path: Path, url: str) -> _Dom:
    done = dump_dom(tmp_path, url)
    dom = _Dom()
    dom.feed(done.stdout)
    assert dom.ranking_rows, done.stdout[:500]
    return dom


@pytest.mark.slow
@needs_chromium
def test_browser_renders_spanish_by_default(built, tmp_path):
    dom = _render(tmp_path, (built.site / "index.html").as_uri())
    assert dom.html_lang == "es"
    assert dom.ranking_rows == [r["org"] for r in built.card["ranking"]]
    ranking = dom.visible("ranking")
    names = [r["name"] for r in built.card["ranking"]]
    positions = [ranking.index(n) for n in names]
    assert positions == sorted(positions)
    decision = dom.visible("decision")
    assert "Objetivo: Cártel Jalisco Nueva Generación" in decision
    d = built.card["decision"]
    p = chance(d["p_rank1"], "es", d["threshold"]).replace("\u00a0", " ")  # the visible text's spaces
    assert f"es {p}, por encima del umbral publicado de 90 %" in decision
    assert "Cártel de Sinaloa" in decision
    verify_text = dom.visible("verify")
    assert "vdto verify ledger.jsonl --trust keys/" in verify_text and "vdto recompute ." in verify_text
    assert built.card["meta"]["rubric_sha256"] in verify_text
    text = dom.visible()
    assert "Decisión de objetivo" in text and "Target decision" not in text
    assert built.card["rule"]["es"] in dom.visible("rule") and built.card["rule"]["en"] not in dom.visible(
        "rule"
    )
    assert f"<{built.card['meta']['min_count']}" in dom.visible("states")


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("suffix", ["#en", "?lang=en"])
def test_browser_switches_to_english(built, tmp_path, suffix):
    dom = _render(tmp_path, (built.site / "index.html").as_uri() + suffix)
    assert dom.html_lang == "en"
    text = dom.visible()
    assert "Target decision" in text and "Verification" in text
    assert "Decisión de objetivo" not in text and "Verificación" not in text
    assert "chance of being the most violent organization, above the published 90% threshold" in dom.visible(
        "decision"
    )
    assert "Target: Cártel Jalisco Nueva Generación" in dom.visible("decision")
    assert built.card["rule"]["en"] in dom.visible("rule") and built.card["rule"]["es"] not in dom.visible(
        "rule"
    )
    assert dom.ranking_rows == [r["org"] for r in built.card["ranking"]]


@pytest.mark.slow
@needs_chromium
def test_browser_screenshot(built, tmp_path):
    data = screenshot(tmp_path, (built.site / "index.html").as_uri(), 1280, 1600)
    assert len(data) > 50_000  # a page with text and tables, not a blank image


# ------------------------------------------------------------------------------ docs


def test_docs_screenshots_are_committed_and_small():
    docs = Path(__file__).parents[1] / "docs"
    doc = (docs / "scorecard.md").read_text(encoding="utf-8")
    for lang in ("es", "en"):
        for width in (1400, 390):
            name = f"scorecard-{lang}-{width}.png"
            data = (docs / name).read_bytes()
            assert data[:8] == PNG_MAGIC and len(data) < 600_000, name
            assert png_size(data)[0] == width, name
            assert f"({name})" in doc, name
    assert not (docs / "scorecard.png").exists() and "scorecard.png" not in doc
    assert "vdto verify . --trust keys/" in doc and "vdto recompute ." in doc
