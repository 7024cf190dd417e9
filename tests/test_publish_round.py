"""The scorecard of a two-agency round: both rankings, their agreement, the dissents and the
co-signers; a decision written in each language; a page that fits a phone (390 px) and a desk."""

from __future__ import annotations

import copy
import html
import json
import re
import shutil
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vdto.events import ucdp
from vdto.events.ingest import import_events
from vdto.publication.agreement import ranking_agreement
from vdto.publication.keys import Signer
from vdto.publication.rounds import announce_round, open_round
from vdto.publication.scorecard import ROUND_RANKING_COLUMNS, SENSITIVE_FIELDS, round_block
from vdto.publication.site import SIDE_BY_SIDE_ROWS, canonical_json, recompute_site, render_index, write_site
from vdto.services.publish import build_public_scorecard
from vdto.store import Store

from .browser import chromium, needs_chromium

EXAMPLES = Path(__file__).parents[1] / "examples"


def _signer(agency: str, fill: int) -> Signer:
    return Signer(agency, Ed25519PrivateKey.from_private_bytes(bytes([fill]) * 32))


@dataclass
class RoundSite:
    site: Path
    card: dict
    ledger: Path


@pytest.fixture(scope="module")
def round_site(tmp_path_factory) -> RoundSite:
    """Round 1 of the README's two-agency flow (the bundled UCDP events of 2021 split between mx
    and us, examples/*-events.csv.gz), announced co-signed, and the site of its scorecard."""
    root = tmp_path_factory.mktemp("round-site")
    db = root / "s.duckdb"
    for agency in ("mx", "us"):
        import_events(db, "ucdp", EXAMPLES / f"{agency}-events.csv.gz", ucdp.parse, agency=agency)
    with Store(db) as store:
        rnd = open_round(store, date(2021, 1, 1), date(2021, 12, 31), ["mx", "us"], draws=500)
        announce_round(store, rnd.round_id, root / "ledger.jsonl", [_signer("mx", 1), _signer("us", 2)])
    with Store(db, read_only=True) as store:
        sc = build_public_scorecard(store, round_id=rnd.round_id, draws=500)
    write_site(root / "site", sc.card, sc.aggregates)
    return RoundSite(root / "site", sc.card, root / "ledger.jsonl")


def _page(rs: RoundSite) -> str:
    return (rs.site / "index.html").read_text(encoding="utf-8")


class _Lang(HTMLParser):
    """The text a reader sees in one language: every ``data-lang`` block of the other language,
    and scripts and styles, are left out."""

    VOID = frozenset(
        {"br", "img", "meta", "link", "hr", "input", "wbr", "source", "col", "area", "base", "embed"}
    )

    def __init__(self, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang, self.stack, self.parts = lang, [], []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        a = dict(attrs)
        skip = tag in ("script", "style", "head") or a.get("data-lang", self.lang) != self.lang
        self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if not any(skip for _, skip in self.stack):
            self.parts.append(data)

    @classmethod
    def text(cls, page: str, lang: str, element_id: str | None = None) -> str:
        if element_id is not None:
            found = re.search(rf'<(\w+)[^>]*\bid="{element_id}".*?</\1>', page, re.S)
            assert found, element_id
            page = found.group(0)
        parser = cls(lang)
        parser.feed(page)
        return " ".join(" ".join(parser.parts).split())


# ------------------------------------------------------------------------------ the card


def test_the_round_block_carries_both_rankings_and_their_agreement(round_site):
    rnd = round_site.card["round"]
    assert canonical_json(round_site.card)  # plain JSON
    assert rnd["id"] == 1 and rnd["status"] == "announced" and rnd["target"] == "cjng"
    assert rnd["window"] == ["2021-01-01", "2021-12-31"] and rnd["require_agreement"] is True
    assert [s["agency"] for s in rnd["rankings"]] == ["mx", "us"]
    for side in rnd["rankings"]:
        assert side["target"] == "cjng" and side["threshold"] == 0.9 and side["p_rank1"] >= 0.9
        assert len(side["ranking"]) > SIDE_BY_SIDE_ROWS
        assert all(list(row) == list(ROUND_RANKING_COLUMNS) for row in side["ranking"])
        assert side["ranking"][0]["org"] == "cjng" and side["ranking"][0]["rank"] == 1
    a = rnd["agreement"]
    # docs/rounds.md: on this split the two rankings agree on CJNG with Kendall's tau 0.904
    assert a["agencies"] == ["mx", "us"] and a["top"] == ["cjng", "cjng"] and a["top1_agree"] is True
    assert a["tau"] == pytest.approx(0.904, abs=5e-4)
    again = ranking_agreement(rnd["rankings"][0]["ranking"], rnd["rankings"][1]["ranking"])
    assert again.tau == pytest.approx(a["tau"], abs=1e-6)
    assert rnd["dissents"] == [] and rnd["announced_by"] == ["mx", "us"]
    keys = json.dumps(rnd)
    assert not [f for f in SENSITIVE_FIELDS if f'"{f}"' in keys or f'"{f}s"' in keys]
    assert recompute_site(round_site.site).ok


def _round(**changes):
    from vdto.store import Round

    base = Round(
        7, "open", date(2021, 1, 1), date(2021, 12, 31), ("mx", "us"), True, None,
        {"target": None, "reason": "x", "per_agency": {"mx": {"target": "cjng", "p_rank1": 0.95, "threshold": 0.9},
                                                       "us": {"target": None, "p_rank1": 0.6, "threshold": 0.9}}},
        {"mx": {"ranking": [{"org": "cjng", "name": "CJNG", "rank": 1, "score": 5.0, "lo90": 4.0, "hi90": 6.0,
                             "p_rank1": 0.95, "events": 9}]},
         "us": {"ranking": [{"org": "sinaloa", "name": "Sinaloa", "rank": 1, "score": 3.0, "lo90": float("nan"),
                             "hi90": 4.0, "p_rank1": 0.6}]}},
        datetime(2022, 1, 1, tzinfo=UTC), None, None, None, None, None,
    )  # fmt: skip
    return replace(base, **changes)


def test_round_block_of_a_disagreement_and_who_cosigned():
    rnd = _round()
    block = round_block(rnd, [{"agency": "mx", "detail": "mx names cjng"}, {"agency": "us", "detail": "d"}])
    canonical_json(block)  # NaN became null
    assert block["rankings"][1]["ranking"][0]["lo90"] is None
    assert "events" not in block["rankings"][0]["ranking"][0]
    assert block["agreement"]["top"] == ["cjng", "sinaloa"] and block["agreement"]["top1_agree"] is False
    assert block["agreement"]["tau"] == pytest.approx(-1.0)
    assert [(d["agency"], d["target"]) for d in block["dissents"]] == [("mx", "cjng"), ("us", None)]
    assert block["announced_by"] == []  # never announced
    announced = replace(rnd, status="announced", announced_at=datetime(2022, 1, 2, tzinfo=UTC))
    assert round_block(announced)["announced_by"] == ["mx", "us"]  # no history: who had to sign
    assert round_block(announced, announced_by=["us", "mx", "third"])["announced_by"] == ["mx", "us"]
    assert round_block(replace(rnd, agencies=("mx",)))["agreement"] is None


# ------------------------------------------------------------------------------ the page


def test_the_page_shows_both_rankings_side_by_side(round_site):
    page = _page(round_site)
    section = re.search(r'<section id="sec-agencies">.*?</section>', page, re.S).group(0)
    for agency in ("mx", "us"):
        table = re.search(
            rf'<table class="side-ranking" id="ranking-{agency}">.*?</table>', section, re.S
        ).group(0)
        rows = re.findall(r'<tr data-org="([^"]+)"( class="is-target")?', table)
        side = next(s for s in round_site.card["round"]["rankings"] if s["agency"] == agency)
        assert [o for o, _ in rows] == [r["org"] for r in side["ranking"][:SIDE_BY_SIDE_ROWS]]
        assert [o for o, t in rows if t] == ["cjng"]  # the target, highlighted
        first = side["ranking"][0]
        assert f"{first['lo90']:,.1f} – {first['hi90']:,.1f}" in table  # its 90% interval
    es, en = _Lang.text(section, "es"), _Lang.text(section, "en")
    assert "Ronda 1." in es and "Round 1." in en
    assert "tau de Kendall 0.90" in es and "Kendall's tau 0.90" in en
    assert "las dos clasificaciones coinciden: Cártel Jalisco Nueva Generación es la primera en ambas" in es
    assert "the two rankings agree: Cártel Jalisco Nueva Generación is first in both" in en
    assert "El anuncio lo firmaron las agencias mx y us." in es
    assert "The announcement was signed by agencies mx and us." in en
    assert "Ninguna agencia disiente" in es and "No agency dissents" in en
    assert 'href="#sec-agencies"' in page


def test_the_page_quotes_nothing_from_the_ledger(round_site):
    page = _page(round_site)
    entries = [
        json.loads(line) for line in round_site.ledger.read_text(encoding="utf-8").splitlines() if line
    ]
    assert len(entries) == 2  # the rule and the announcement
    for entry in entries:
        assert entry["hash"] not in page
    assert "sha256</th>" not in page  # no table of file hashes
    assert '<div id="vdto-verify" data-state="pending"></div>' in page and "<noscript>" in page
    assert "vdto verify ledger.jsonl --trust keys/" in page and "vdto recompute ." in page


def test_the_spanish_view_has_no_english_decision(round_site):
    page = _page(round_site)
    reason = round_site.card["decision"]["reason"]
    es, en = _Lang.text(page, "es"), _Lang.text(page, "en")
    prose = html.unescape(re.sub(r'<script type="application/json".*?</script>', "", page, flags=re.S))
    assert reason.startswith("Cártel Jalisco") and reason not in prose  # only in the embedded data
    for english in ("most violent", "threshold", "P(rank", "the ", "Target:", "Motivo, en el texto original"):
        assert english not in es, english
    decision_es, decision_en = _Lang.text(page, "es", "decision"), _Lang.text(page, "en", "decision")
    assert "la probabilidad de que sea la organización más violenta es" in decision_es
    assert "por encima del umbral publicado de 90 %" in decision_es
    assert "chance of being the most violent organization, above the published 90% threshold" in decision_en
    for text in (decision_es, decision_en):
        assert "P(" not in text and ">=" not in text and "p_rank1" not in text
    assert "umbral" not in en and "Objetivo:" not in en


def test_disagreement_is_written_in_both_languages(round_site):
    card = copy.deepcopy(round_site.card)
    rnd = card["round"]
    rnd["target"] = None
    rnd["rankings"][1]["target"] = "sinaloa"
    rnd["dissents"] = [
        {"agency": "mx", "target": "cjng", "detail": "mx names cjng; the round names no target"},
        {"agency": "us", "target": "sinaloa", "detail": "us names sinaloa; the round names no target"},
    ]
    page = render_index(card, ["mx", "us"])
    assert 'data-target=""' in page
    es, en = _Lang.text(page, "es", "decision"), _Lang.text(page, "en", "decision")
    assert "Sin objetivo: las agencias no coinciden" in es and "No target: the agencies disagree" in en
    assert (
        "la agencia mx nombra a Cártel Jalisco Nueva Generación; la agencia us nombra a Cártel de Sinaloa."
        in es
    )
    assert "agency mx names Cártel Jalisco Nueva Generación; agency us names Cártel de Sinaloa." in en
    assert "respaldo regional" in es and "regional fallback" in en
    dissents_es = _Lang.text(page, "es", "dissents")
    assert "La agencia us nombra a Cártel de Sinaloa; la ronda no nombra objetivo." in dissents_es
    assert "Agency us names Cártel de Sinaloa; the round names no target." in _Lang.text(
        page, "en", "dissents"
    )
    assert "names" not in dissents_es and "the round" not in dissents_es


# ------------------------------------------------------------------------------ in a browser

#: Appended to a copy of index.html: measures the page once it is laid out and posts the result
#: to the frame page (the page's own policy allows inline scripts; postMessage is no request).
PROBE = """<script>
window.addEventListener("load", function () {
  var vw = window.innerWidth, doc = document.documentElement, bad = [], seen = {table: 0, svg: 0};
  function scroller(el) {
    for (var p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      var o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden") return p;
    }
    return el;
  }
  var els = document.querySelectorAll("img, svg, table, pre");
  for (var i = 0; i < els.length; i++) {
    var el = els[i], tag = el.tagName.toLowerCase();
    if (tag === "svg" && el.parentElement.closest("svg")) continue;
    var box = tag === "table" ? scroller(el) : el, r = box.getBoundingClientRect();
    if (r.width === 0) continue;  // the other language's copy
    if (tag in seen) seen[tag] += 1;
    if (r.right > vw + 0.5) bad.push((el.id || tag) + " ends at " + Math.round(r.right));
  }
  parent.postMessage({lang: doc.getAttribute("lang"), width: vw, scrollWidth: doc.scrollWidth,
                      tables: seen.table, svgs: seen.svg, bad: bad}, "*");
});
</script>"""


@pytest.mark.slow
@needs_chromium
def test_nothing_overflows_at_phone_or_desk_width(round_site, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(round_site.site, site)
    (site / "probe.html").write_text(
        _page(round_site).replace("</body>", PROBE + "</body>"), encoding="utf-8"
    )
    frames = "".join(
        f'<iframe src="probe.html#{lang}" style="display:block;border:0;width:{w}px;height:700px"></iframe>'
        for w in (390, 1400)
        for lang in ("es", "en")
    )
    collect = (
        '<pre id="results">[]</pre><script>var got = []; addEventListener("message", function (e) {'
        'got.push(e.data); document.getElementById("results").textContent = JSON.stringify(got); });</script>'
    )
    (site / "frames.html").write_text(
        f"<!doctype html><body style='margin:0'>{frames}{collect}", encoding="utf-8"
    )
    done = chromium(tmp_path, "--window-size=1400,900", "--dump-dom", (site / "frames.html").as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="results">(.*?)</pre>', done.stdout, re.S)
    results = {(r["width"], r["lang"]): r for r in json.loads(html.unescape(found.group(1)))}
    assert sorted(results) == [(390, "en"), (390, "es"), (1400, "en"), (1400, "es")]
    for (width, lang), r in results.items():
        assert r["scrollWidth"] <= width, (width, lang, r)
        assert r["bad"] == [], (width, lang, r["bad"])
        assert r["tables"] >= 6 and r["svgs"] >= 2, (
            width,
            lang,
            r,
        )  # it measured the page's tables and charts
