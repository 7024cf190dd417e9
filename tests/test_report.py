"""The analyst's report: contents, figures, simulation files, and the page in headless Chromium
without a network (no console errors; the ranking, the maps and the charts render)."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vdto.errors import InputFileError
from vdto.events.ingest import import_counts_file
from vdto.scoring import decide, score
from vdto.services.report import FIGURES, SimResults, build_report, run_comparison
from vdto.store import Store

from .browser import PNG_MAGIC, dump_dom, needs_chromium, png_size, screenshot
from .conftest import REPORT_SECTIONS, run_here, write_posterior

ROOT = Path(__file__).parents[1]


# ------------------------------------------------------------------------------ simulation files


@pytest.fixture(scope="module")
def small_sim() -> SimResults:
    return run_comparison("small", ("none", "volume", "targeted"), replicates=6, months=24, workers=1)


def test_simulation_file_round_trip(small_sim, tmp_path):
    from vdto.sim.results import long_frame, write_parquet

    path = write_parquet(long_frame(small_sim.results), small_sim.meta, tmp_path / "runs.parquet")
    back = SimResults.from_parquet(path)
    assert back.meta == small_sim.meta and back.source == "read from runs.parquet"
    pd.testing.assert_frame_equal(back.table(), small_sim.table())
    for policy, o in small_sim.results.items():
        np.testing.assert_allclose(back.results[policy].deaths, o.deaths)


def test_simulation_file_errors_say_what_to_do(tmp_path):
    with pytest.raises(InputFileError, match=r"write one with vdto\.sim\.results\.write_parquet"):
        SimResults.from_parquet(tmp_path / "missing.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(InputFileError, match="not a Parquet file"):
        SimResults.from_parquet(bad)
    plain = tmp_path / "plain.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(plain)
    with pytest.raises(InputFileError, match="not a vdto simulation file"):
        SimResults.from_parquet(plain)


# ------------------------------------------------------------------------------ the report folder


@pytest.fixture(scope="module")
def built(tmp_path_factory, ucdp_store, sesnsp_file, small_sim):
    folder = tmp_path_factory.mktemp("report")
    db = folder / "store.duckdb"
    shutil.copy(ucdp_store[0], db)
    import_counts_file(db, sesnsp_file)
    steps: list[str] = []
    posterior = write_posterior(folder / "posterior.parquet")
    # one process: the suite's workers already keep the cores busy (a pool here made a
    # Chromium screenshot of a neighbouring test overrun its limit once)
    page = build_report(db, folder / "out", year=2023, sim_results=small_sim, progress=steps.append,
                        posterior=posterior, workers=1)  # fmt: skip
    with Store(db, read_only=True) as store:
        ranking = score(store, pd.Timestamp("2023-01-01").date(), pd.Timestamp("2023-12-31").date())
    return page, steps, decide(ranking), ranking


@pytest.mark.slow
def test_report_folder_holds_page_json_and_figures(built):
    page, steps, decision, ranking = built
    from vdto.services.report import STEPS

    assert page.name == "report.html" and page.exists()
    assert len(steps) == STEPS + 1  # the calibration's step
    # the calibration: its posterior, its fit and the claims, each claim with its sentence
    cal = json.loads((page.parent / "report.json").read_text(encoding="utf-8"))
    assert cal["calibration"]["fit"] == "2007-2012"
    assert [r["year"] for r in cal["tables"]["calibration_fit"]] == list(range(2007, 2013))
    assert len(cal["tables"]["claims"]) == 6
    assert all(r["sentence"].startswith("The model ") for r in cal["tables"]["claims"])
    assert {r["parameter"] for r in cal["tables"]["calibration_posterior"]} == {
        "violence.attack_rate", "violence.deaths_per_clash"}  # fmt: skip
    assert 'id="claims-table"' in page.read_text(encoding="utf-8")
    doc = json.loads((page.parent / "report.json").read_text(encoding="utf-8"))
    # provenance: version, rubric hash, data hash, seeds, scenario and world hashes
    prov = doc["provenance"]
    assert prov["rubric_sha256"] == ranking.meta["rubric_sha256"]
    assert prov["data_sha256"] == ranking.meta["data_sha256"]
    assert prov["scoring_seed"] == 7 and prov["hotspot_seed"] == 1 and prov["sim_seed"] == 1
    assert len(prov["scenario_sha256"]) == 64 and len(prov["world_sha256"]) == 64
    assert prov["scenario"] == "small" and prov["vdto_version"]
    # the decision and the tables
    assert doc["decision"]["target"] is None and doc["decision"]["reason"] == decision.reason
    assert [r["org"] for r in doc["tables"]["ranking"]] == list(ranking.table["org"])
    for key in ("margins", "trend", "targets_state", "targets_municipality", "package_selected", "policies"):
        assert doc["tables"][key], key
    assert {r["policy"] for r in doc["tables"]["policies"]} == {"none", "volume", "targeted"}
    # the emerging patterns over the year's months: every class counted at both levels, the regions
    # with a hot or cold pattern listed, and the targets ordered by pattern
    from vdto.regional.emerging import CLASSES, NO_PATTERN

    for level, regions in (("state", 32), ("municipality", 2_478)):
        counts = doc["patterns"][level]["counts"]
        assert list(counts) == list(CLASSES) and sum(counts.values()) <= regions
        assert doc["patterns"][level]["meta"]["bins"] == 12
        listed = doc["tables"][f"patterns_{level}"]
        assert len(listed) == sum(n for c, n in counts.items() if c != NO_PATTERN)
        assert all("pattern" in r for r in doc["tables"][f"targets_{level}"])
    assert prov["patterns"].startswith("12 monthly bins")
    text = page.read_text(encoding="utf-8")
    assert 'id="patterns-counts"' in text and 'id="patterns-municipality"' in text
    assert "Intensifying hot spots:" in text and "Persistent hot spots:" in text
    assert len(doc["tables"]["package_selected"]) == 25
    assert doc["tables"]["routes"] and doc["headlines"]["decision"].startswith("No target for 2023")
    # every key figure, as a real PNG, in English and in Spanish
    assert doc["figures"] == [f"figures/{name}{lang}.png" for lang in ("", ".es") for name, _ in FIGURES]
    for figure in doc["figures"]:
        data = (page.parent / figure).read_bytes()
        width, height = png_size(data)
        assert width > 400 and height > 200 and len(data) > 20_000, figure


@pytest.mark.slow
def test_report_page_is_self_contained(built):
    page, *_ = built
    text = page.read_text(encoding="utf-8")
    # nothing is fetched: no external scripts, styles, images or frames
    assert not re.search(
        r"""<(script|img|iframe|link|source|embed)\b[^>]*\b(src|href)\s*=\s*["']?(https?:)?//""", text, re.I
    )
    assert not re.search(r"""<link\b""", text, re.I)
    assert not re.search(r"""@import|url\(\s*["']?(https?:)?//""", text, re.I)
    assert "cdn.jsdelivr" not in text and "vega.github.io/schema/vega-lite" not in text
    # the Vega bundle is inlined once, and every chart is a spec
    assert len(re.findall(r"<script>", text)) == 2
    assert text.count("vegaEmbed") >= 2 and text.count('type="application/json"') == 9


@pytest.mark.slow
def test_report_page_has_the_sections_and_tables(built):
    page, _, decision, ranking = built
    text = page.read_text(encoding="utf-8")
    for sid in REPORT_SECTIONS:
        assert f'<section id="{sid}">' in text, sid
    import html

    assert html.escape(decision.reason) in text
    rows = re.findall(r'<tr data-org="([^"]+)">', text)
    assert rows == list(ranking.table["org"][:15])
    assert ranking.meta["data_sha256"] in text and ranking.meta["rubric_sha256"] in text


# ------------------------------------------------------------------------------ the page in a browser


class _Dom(HTMLParser):
    """Rendered elements by id: tag counts inside each and visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: dict[str, str] = {}
        self.stack: list[tuple[str, str | None]] = []
        self.tags: dict[str, dict[str, int]] = {}
        self.text: dict[str, list[str]] = {}
        self.errors_hidden: bool | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.root = {k: v or "" for k, v in a.items()}
        if a.get("id") == "report-errors":
            self.errors_hidden = "hidden" in a
        for _, i in self.stack:
            if i:
                self.tags[i][tag] = self.tags[i].get(tag, 0) + 1
        if tag in ("br", "img", "meta", "input", "hr", "link", "path", "rect", "line", "circle"):
            return
        self.stack.append((tag, a.get("id")))
        if a.get("id"):
            self.tags.setdefault(a["id"], {})
            self.text.setdefault(a["id"], [])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "meta", "input", "hr", "link", "path", "rect", "line", "circle"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        for k in range(len(self.stack) - 1, -1, -1):
            if self.stack[k][0] == tag:
                del self.stack[k:]
                return

    def handle_data(self, data):
        for _, i in self.stack:
            if i:
                self.text[i].append(data)

    def visible(self, element_id: str) -> str:
        return " ".join(" ".join(self.text.get(element_id, [])).split())


@pytest.fixture(scope="module")
def rendered(built, tmp_path_factory):
    page, *_ = built
    tmp = tmp_path_factory.mktemp("chromium")
    done = dump_dom(tmp, page.as_uri())
    dom = _Dom()
    dom.feed(done.stdout)
    return dom, done.stderr


@pytest.mark.slow
@needs_chromium
def test_browser_renders_every_chart_without_console_errors(rendered):
    dom, stderr = rendered
    console = [line for line in stderr.splitlines() if "CONSOLE" in line]
    assert console == []  # the page logs nothing: no errors, no warnings
    assert dom.errors_hidden is True
    assert dom.root.get("data-rendered") == "9" and dom.root.get("data-errors") == "0"
    assert dom.root.get("data-warnings") == ""
    for name in ("ranking", "trends", "map-state", "map-municipality", "patterns-state", "patterns-municipality",
                 "network", "policies", "routes"):  # fmt: skip
        tags = dom.tags.get(f"chart-{name}", {})
        assert tags.get("svg", 0) >= 1 and tags.get("path", 0) >= 1, (name, tags)


@pytest.mark.slow
@needs_chromium
def test_browser_shows_the_ranking_and_the_maps(rendered, built):
    dom, _ = rendered
    *_, ranking = built
    table = dom.visible("ranking-table")
    names = list(ranking.table["name"][:5])
    positions = [table.index(n) for n in names]
    assert positions == sorted(positions)
    assert "P(rank 1)" in dom.visible("chart-ranking") and names[0] in dom.visible("chart-ranking")
    assert "No target for 2023" in dom.visible("decision")
    # the maps draw every region: 32 states, 2,457 municipalities (one path each, plus outlines)
    assert dom.tags["chart-map-state"]["path"] >= 32
    assert dom.tags["chart-map-municipality"]["path"] >= 2_457
    assert "hot spot" in dom.visible("chart-map-municipality")
    assert "Tijuana" in dom.visible("targets-municipality")
    assert "targeted" in dom.visible("chart-policies") and "Caribbean" in dom.visible("chart-routes")


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("focus", ["", "#only=maps"])
def test_browser_screenshot(built, tmp_path, focus):
    page, *_ = built
    data = screenshot(tmp_path, page.as_uri() + focus, 1280, 1800)
    assert len(data) > 60_000  # text, tables and charts, not a blank page


# ------------------------------------------------------------------------------ the command line


@pytest.mark.slow  # six runs of the command line
def test_report_command_errors_say_what_to_do(tmp_path, ucdp_store):
    db = str(ucdp_store[0])
    res = run_here(
        "report", "--db", db, "--out", str(tmp_path / "r"), "--sim", str(tmp_path / "none.parquet")
    )
    assert res.returncode == 2 and "vdto compare" in res.stderr and "Traceback" not in res.stderr
    res = run_here("report", "--db", db, "--sim", "x.parquet", "--no-sim")
    assert res.returncode == 2 and "--no-sim" in res.stderr
    res = run_here("report", "--db", db, "--policies", "carpet-bombing")
    assert res.returncode == 2 and "unknown policy" in res.stderr
    res = run_here("report", "--db", db, "--scenario", str(tmp_path / "nope.toml"))
    assert res.returncode == 2 and "scenario file not found" in res.stderr
    res = run_here("report", "--db", str(tmp_path / "missing.duckdb"), "--no-sim")
    assert res.returncode == 2 and "no store at" in res.stderr
    res = run_here("report", "--help")
    assert res.returncode == 0 and "vdto report --db vdto.duckdb --out report" in res.stdout


# ------------------------------------------------------------------------------ docs


def test_docs_screenshots_are_committed_small_and_linked():
    shots = sorted((ROOT / "docs").glob("report-*.png"))
    assert 1 <= len(shots) <= 3
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    doc = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    for png in shots:
        data = png.read_bytes()
        assert data[:8] == PNG_MAGIC and 30_000 < len(data) < 600_000, png.name
        assert f"docs/{png.name}" in readme and png.name in doc
    assert "vdto report" in readme and "docs/report.md" in readme


def test_policy_table_is_computed_once_and_handed_out_as_copies(monkeypatch):
    """The report asks for the policy table three times (summary, section, report.json)."""
    from vdto.sim import results as sim_results
    from vdto.sim.engine import simulate
    from vdto.sim.params import Scenario
    from vdto.sim.world import grid_world

    sc = Scenario.model_validate({"run": {"months": 6, "replicates": 3}, "enforcement": {"start_month": 2}})
    runs = {p: simulate(grid_world(4, 4, 2), sc, p) for p in ("none", "volume")}
    calls = []
    real = sim_results.compare_table
    monkeypatch.setattr(sim_results, "compare_table", lambda *a, **k: calls.append(k) or real(*a, **k))
    sim = SimResults(runs, {}, start_month=2)
    first = sim.table()
    first["policy"] = "changed by the caller"
    again = sim.table()
    assert calls == [{"start_month": 2}]
    assert list(again["policy"]) == ["none", "volume"]
    pd.testing.assert_frame_equal(again, real(runs, start_month=2))


# ------------------------------------------------------------------------------ two languages

_HEADING = re.compile(r"<(h[123]|th)\b[^>]*>(.*?)</\1>", re.S)
_SYMBOLS = {"#", "p", "Gi* z", "PNG", ""}  # headings that are the same in every language


def _headings(text: str) -> list[str]:
    """The text of every h1-h3 heading and table column title of a page (outside its scripts)."""
    import html

    text = re.sub(r"<script\b.*?</script>", " ", text, flags=re.S)
    return [re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", "", m[1]))).strip()
            for m in _HEADING.findall(text)]  # fmt: skip


def _visible(text: str) -> str:
    """A page's text without scripts, styles and what is marked as vdto's original English."""
    for element in (
        r"<script\b.*?</script>",
        r"<style\b.*?</style>",
        r"<(q|ul)\b[^>]*lang=\"en\"[^>]*>.*?</\1>",
    ):
        text = re.sub(element, " ", text, flags=re.S)
    return re.sub(r"<[^>]+>", " ", text)


def _ranking_cells(text: str) -> list[list[str]]:
    rows = re.findall(r'<tr data-org="[^"]+">(.*?)</tr>', text, re.S)
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]


@pytest.mark.slow
def test_report_is_written_in_english_and_spanish(built):
    page, *_ = built
    en = page.read_text(encoding="utf-8")
    es = (page.parent / "report.es.html").read_text(encoding="utf-8")
    assert re.search(r'<html lang="en"', en) and re.search(r'<html lang="es"', es)
    # each page links to the other (a plain link: no script, works offline)
    assert '<a href="report.es.html" hreflang="es"' in en and '<a href="report.html" hreflang="en"' in es
    # the Spanish headings, and none of the English page's headings or column titles
    spanish = _headings(es)
    for heading in ("Resumen", "Clasificación 2023", "Márgenes", "Tendencias por organización",
                    "Mapas y puntos calientes", "Estados", "Municipios", "Paquete de aplicación de la ley",
                    "Comparación de políticas", "Rutas: el desplazamiento del Caribe", "Calibración y afirmaciones",
                    "Procedencia", "Organización", "Puntuación", "Intervalo de 90\u00a0%", "P(1.er\u00a0lugar)",
                    "Patrones emergentes por clase", "Patrón emergente"):  # fmt: skip
        assert heading in spanish, heading
    english = set(_headings(en)) - _SYMBOLS
    assert {"Summary", "Ranking 2023", "Margins", "Provenance", "States", "Organization", "Score",
            "Emerging patterns by class", "Emerging pattern"} <= english  # fmt: skip
    assert english.isdisjoint(spanish), sorted(english & set(spanish))
    visible = _visible(es)
    assert [h for h in english if re.search(rf"(?<!\w){re.escape(h)}(?!\w)", visible)] == []
    # every chart's title is in the page's language
    for title in ("Clasificación de la violencia 2023", "Tendencias por organización: puntuación",
                  "Puntuación de violencia por estado", "Paquete de aplicación de la ley contra",
                  "por política: mediana sobre réplicas pareadas", "Cocaína con destino a EE.\u00a0UU.",
                  "Patrones emergentes de puntos calientes por municipio", "punto caliente persistente"):  # fmt: skip
        assert title in es, title
    for title in (
        "Violence ranking 2023",
        "Violence score by state",
        "Emerging hot spot patterns by municipality",
        "by policy: median",
        "US-bound cocaine by",
    ):
        assert title in en and title not in es, title


@pytest.mark.slow
def test_spanish_page_formats_numbers_the_spanish_way_with_the_same_figures(built):
    from vdto.render import fmt

    page, *_, ranking = built
    en = page.read_text(encoding="utf-8")
    es = (page.parent / "report.es.html").read_text(encoding="utf-8")
    # percentages with a no-break space before "%", dates and money in words
    doc = json.loads((page.parent / "report.json").read_text(encoding="utf-8"))
    leader_cut = doc["tables"]["ranking"][0]["cut_to_lose_first"]
    assert f"en {fmt.pct(leader_cut, 'es', 0)} para perder" in es and "\u00a0%" in fmt.pct(
        leader_cut, "es", 0
    )
    assert f"by {fmt.pct(leader_cut, 'en', 0)} to lose" in en
    assert not re.search(r"\d%", _visible(es))  # outside vdto's original English
    assert (
        "1 de enero de 2023 al 31 de diciembre de 2023" in es and "1 January 2023 to 31 December 2023" in en
    )
    denied = doc["package"]["revenue_denied"]
    assert f"{fmt.money(denied, 'es')} al año" in es and f"{fmt.money(denied)} a year" in en
    # the same figures on both pages: the ranking table, cell by cell (numbers and names)
    cells = _ranking_cells(en)
    assert cells == _ranking_cells(es) and len(cells) == min(15, len(ranking.table))
    scores = [fmt.num(s) for s in ranking.table["score"][: len(cells)]]
    assert [row[3] for row in cells] == scores  # the score column, formatted once for both


@pytest.mark.slow
def test_report_json_records_the_languages_with_untranslated_keys(built):
    page, *_ = built
    doc = json.loads((page.parent / "report.json").read_text(encoding="utf-8"))
    assert doc["languages"] == ["en", "es"]
    assert doc["pages"] == {"en": "report.html", "es": "report.es.html"}
    assert doc["headlines"] == doc["headlines_by_lang"]["en"]
    es = doc["headlines_by_lang"]["es"]
    assert list(es) == list(doc["headlines"]) == ["decision", "hotspots", "package", "policies", "routes"]
    assert es["decision"].startswith("Sin objetivo para 2023") and "\u00a0%" in es["routes"]
    assert {"ranking", "margins", "trend", "policies", "routes"} <= set(doc["tables"])  # keys stay English
    assert doc["package"]["note"].startswith("The package is built")


def test_report_words_have_both_languages_with_the_same_fields():
    import string

    from vdto.services.report.words import LANGS, TEXT, languages

    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    for key, text in TEXT.items():
        assert set(text) == set(LANGS), key
        assert fields(text["en"]) == fields(text["es"]), key
        assert text["es"] or key in ("original", "claims_lead"), key
        assert text["es"] != text["en"] or key in ("no", "kind_total"), key
    assert languages("both") == ("en", "es") and languages("es") == ("es",)
    with pytest.raises(ValueError, match="unknown report language fr"):
        languages("fr")


def test_policy_chart_titles_all_have_spanish(small_sim):
    """The policy chart is vdto.sim.results'; the report puts its English titles into Spanish by the
    patterns of words.PHRASES, and every title must have one."""
    from vdto.services.report.words import relabel

    missed: list[str] = []
    spec = relabel(small_sim.chart().to_dict(), "es", missed)
    assert missed == []
    assert "mes de la simulación" in json.dumps(spec, ensure_ascii=False)
    assert spec["datasets"] == small_sim.chart().to_dict()["datasets"]  # the data are left alone


def test_report_lang_option_is_checked():
    res = run_here("report", "--lang", "fr")
    assert res.returncode == 2 and "--lang" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.slow
@needs_chromium
def test_browser_renders_the_spanish_page(built, tmp_path):
    page, *_ = built
    done = dump_dom(tmp_path, (page.parent / "report.es.html").as_uri())
    dom = _Dom()
    dom.feed(done.stdout)
    assert [line for line in done.stderr.splitlines() if "CONSOLE" in line] == []
    assert dom.root.get("lang") == "es" and dom.root.get("data-rendered") == "9"
    assert dom.root.get("data-errors") == "0"
    assert "Sin objetivo para 2023" in dom.visible("decision")
    assert "P(1.er" in dom.visible("chart-ranking") and "punto caliente" in dom.visible("chart-map-state")
