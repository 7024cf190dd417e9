"""The report's words in English and Spanish: every heading, label, sentence template, column
title and chart title, once, with both languages side by side.

The report is written once per language (``report.html`` in English, ``report.es.html`` in
Spanish); each rule (which number, which sentence) is written once and only its words change:

* :data:`TEXT` maps a message key to its English and Spanish text;
* :func:`words` is one language's messages (what the page template reads as ``w``);
* :func:`say` fills a message with values. A value that reads differently by language is a
  callable of the language: :func:`pct`, :func:`money`, :func:`word`, or a :class:`Sentence`;
  numbers are formatted by :mod:`vdto.render.fmt` as the public scorecard formats them
  (``80.2%`` in English, ``80.2 %`` with a no-break space in Spanish; dates in words);
* :class:`Sentence` is English text (a ``str``) that remembers its message and values, so that
  it can be said again in Spanish (the package and simulation notes of
  :class:`~vdto.services.report.data.ReportData`);
* :func:`translate` puts into Spanish the few texts other modules make in English for the
  report (the package's guarantee, the policy chart's titles) by the patterns of
  :data:`PHRASES`; what no pattern matches stays as vdto wrote it.

Organization and place names are data and stay as they are in every language.

Examples
--------
>>> say("es", "ranking_more", n=3), say("en", "fact_denied_value", money=money(2.5e7), share=pct(0.42))
('3 organizaciones más en report.json.', 'US$25.0 million a year (42%)')
>>> say("es", "fact_denied_value", money=money(2.5e7), share=pct(0.42))
'US$25.0 millones al año (42\\xa0%)'
>>> Sentence("where_synthetic", seed=1).to("es")[:32]
'una red de abasto sintética (sem'
>>> translate("optimal (exact MILP)", "es"), translate("month", "en")
('óptima (MILP exacto)', 'month')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from vdto.render import fmt

#: The report's languages: English first (``report.html``), then Spanish (``report.es.html``).
LANGS: tuple[str, ...] = ("en", "es")
#: The page of each language, in the report folder.
PAGES: dict[str, str] = {"en": "report.html", "es": "report.es.html"}
#: Each language in its own words (the page's language switch).
LANG_NAMES: dict[str, str] = {"en": "English", "es": "Español"}

_NB = "\u00a0"  # the no-break space before "%" in Spanish (as vdto.render.fmt.pct writes it)


def languages(choice: str | Iterable[str] = "both") -> tuple[str, ...]:
    """The languages to write, in :data:`LANGS` order: ``"both"``, ``"en"``, ``"es"`` or any
    iterable of those codes; an unknown code is a ``ValueError``.

    >>> languages(), languages("es"), languages(["es", "en"])
    (('en', 'es'), ('es',), ('en', 'es'))
    """
    chosen = set(LANGS) if choice == "both" else {choice} if isinstance(choice, str) else set(choice)
    unknown = sorted(chosen - set(LANGS))
    if unknown or not chosen:
        raise ValueError(f"unknown report language {', '.join(unknown) or '(none)'}: use en, es or both")
    return tuple(lang for lang in LANGS if lang in chosen)


def figure_file(name: str, lang: str) -> str:
    """A figure's file in the report folder: ``figures/map-state.png`` in English,
    ``figures/map-state.es.png`` in Spanish."""
    return f"figures/{name}.png" if lang == "en" else f"figures/{name}.{lang}.png"


def _t(en: str, es: str) -> dict[str, str]:
    return {"en": en, "es": es}


#: Every message of the report: ``key -> {"en": ..., "es": ...}`` (``{name}`` fields are filled
#: by :func:`say`).
TEXT: dict[str, dict[str, str]] = {
    # ------------------------------------------------------------------ page and sections
    "page_title": _t("vdto report {year}", "Informe vdto {year}"),
    "heading": _t(
        "vdto report: violence ranking and enforcement options, {year}",
        "Informe vdto: clasificación de la violencia y opciones de aplicación de la ley, {year}",
    ),
    "header_line": _t(
        "Store {store} · window {period} · {events} events · vdto {version} · rubric {rubric} sha256:{sha}",
        "Base {store} · periodo {period} · {events} eventos · vdto {version} · rúbrica {rubric} sha256:{sha}",
    ),
    "language": _t("Language", "Idioma"),
    "sec_summary": _t("Summary", "Resumen"),
    "sec_ranking": _t("Ranking {year}", "Clasificación {year}"),
    "sec_margins": _t("Margins", "Márgenes"),
    "sec_trends": _t("Trends by organization", "Tendencias por organización"),
    "sec_maps": _t("Maps and hot spots", "Mapas y puntos calientes"),
    "sec_package": _t("Enforcement package", "Paquete de aplicación de la ley"),
    "sec_policies": _t("Policy comparison", "Comparación de políticas"),
    "sec_routes": _t("Routes: the Caribbean shift", "Rutas: el desplazamiento del Caribe"),
    "sec_calibration": _t("Calibration and claims", "Calibración y afirmaciones"),
    "sec_provenance": _t("Provenance", "Procedencia"),
    # text vdto's library writes in English, shown as it is in the Spanish page (as the public
    # scorecard shows the rule's reason)
    "original": _t("", "en el texto original en inglés de vdto"),
    "rule_is": _t("The rule:", "La regla, en el texto original en inglés de vdto:"),
    # ------------------------------------------------------------------ ranking and margins
    "ranking_intro": _t(
        "Every organization with attributed events in {year}, scored under the published rubric, with "
        "90% intervals and the probability of ranking first over Monte Carlo draws of who did each event.",
        f"Cada organización con eventos atribuidos en {{year}}, calificada con la rúbrica publicada, con "
        f"intervalos de 90{_NB}% y la probabilidad de ocupar el primer lugar en sorteos de Monte Carlo de "
        "quién cometió cada evento.",
    ),
    "ranking_more": _t("{n} more organizations in report.json.", "{n} organizaciones más en report.json."),
    "cap_ranking": _t(
        "Expected score (dot), 90% interval (bar) and P(rank 1).",
        f"Puntuación esperada (punto), intervalo de 90{_NB}% (barra) y P(1.er{_NB}lugar).",
    ),
    "margins_intro": _t(
        "{leader} would have to cut its score by {cut} to lose first place: the deterrence message is how "
        "far each organization is from the top.",
        "{leader} tendría que reducir su puntuación en {cut} para perder el primer lugar: el mensaje "
        "disuasivo es qué tan lejos está cada organización de la cima.",
    ),
    "risk_some": _t(
        "Manipulation risk: re-attributing {n} of the leader's events (weight {weight}) to {second} would "
        "change the top organization.",
        "Riesgo de manipulación: reatribuir {n} eventos de la organización líder (peso {weight}) a {second} "
        "cambiaría a la primera organización.",
    ),
    "risk_none": _t(
        "Manipulation risk: re-attributing all of the leader's events would not change the top.",
        "Riesgo de manipulación: reatribuir todos los eventos de la organización líder no cambiaría a la "
        "primera.",
    ),
    "col_rank": _t("Rank", "Lugar"),
    "col_org": _t("Organization", "Organización"),
    "col_events_expected": _t("Events (expected)", "Eventos (esperados)"),
    "col_score": _t("Score", "Puntuación"),
    "col_interval": _t("90% interval", f"Intervalo de 90{_NB}%"),
    "col_p_rank1": _t("P(rank 1)", f"P(1.er{_NB}lugar)"),
    "col_rank_interval": _t("Rank (90%)", f"Lugar (90{_NB}%)"),
    "col_gap": _t("Gap to first", "Distancia al primer lugar"),
    "col_cut": _t("Leader's cut to lose first place", "Reducción de la líder para perder el primer lugar"),
    "col_rise": _t("Rise needed to be first", "Aumento necesario para ser la primera"),
    "col_leader_cut": _t("Leader's cut for it to pass", "Reducción de la líder para que la supere"),
    # ------------------------------------------------------------------ trends and maps
    "trends_intro": _t(
        "The leading organizations' expected scores, year by year (same rubric).",
        "Puntuaciones esperadas de las organizaciones principales, año por año (misma rúbrica).",
    ),
    "cap_trends": _t(
        "Expected violence score per calendar year.", "Puntuación de violencia esperada por año calendario."
    ),
    "maps_intro": _t(
        "Every state and municipality scored from all events and the SESNSP homicide counts; hot spots are "
        "where high scores cluster beyond chance. They are the regional fallback of the target rule.",
        "Cada estado y municipio calificado con todos los eventos y los conteos de homicidios del SESNSP; los "
        "puntos calientes son donde las puntuaciones altas se agrupan más allá del azar. Son el respaldo "
        "regional de la regla de objetivo.",
    ),
    "level_state": _t("state", "estado"),
    "level_municipality": _t("municipality", "municipio"),
    "plural_state": _t("states", "estados"),
    "plural_municipality": _t("municipalities", "municipios"),
    "hot_line": _t(
        "{hot} hot spots and {cold} cold spots among the {total} {plural} (Getis-Ord Gi*, {permutations} "
        "permutations, p ≤ {alpha}).",
        "{hot} puntos calientes y {cold} puntos fríos entre los {total} {plural} (Getis-Ord Gi*, "
        "{permutations} permutaciones, p ≤ {alpha}).",
    ),
    "region_targets": _t(
        "{n} {level} hot spot(s) chosen by score among significant Gi* hot spots; first: {names}",
        "{n} puntos calientes ({level}) elegidos por puntuación entre los puntos calientes significativos de "
        "Gi*; primero: {names}",
    ),
    "region_targets_none": _t(
        "no {level} is both a significant hot spot and violent in the window: no region target",
        "ningún {level} es a la vez un punto caliente significativo y violento en el periodo: no hay región "
        "objetivo",
    ),
    "cap_map": _t(
        "Violence score by {level} {year}, hot spots outlined in dark red, cold spots in blue.",
        "Puntuación de violencia por {level}, {year}; puntos calientes con contorno rojo oscuro, puntos fríos "
        "en azul.",
    ),
    "region_targets_patterns": _t(
        "{n} {level} hot spot(s) chosen among significant Gi* hot spots at least as violent as their neighbours: "
        "first those hot now and in 90% of the months, then the recently hot, the on-and-off, the no longer hot, "
        "each group by score; first: {names}",
        "{n} puntos calientes ({level}) elegidos entre los puntos calientes significativos de Gi* al menos tan "
        "violentos como sus vecinos: primero los calientes ahora y en el 90 % de los meses, luego los calientes "
        "recientes, los intermitentes y los que ya no lo son, cada grupo por puntuación; primero: {names}",
    ),
    "patterns_line": _t(
        "Emerging patterns over the {months} months of {year} (Gi* over space and time with a lag of one month, "
        "{permutations} permutations, p ≤ {alpha}; Mann-Kendall trend of each {level}'s z-scores): {counts}; "
        "{none} {plural} with no pattern.",
        "Patrones emergentes en los {months} meses de {year} (Gi* en el espacio y el tiempo con un rezago de un "
        "mes, {permutations} permutaciones, p ≤ {alpha}; tendencia de Mann-Kendall de las z de cada {level}): "
        "{counts}; {none} {plural} sin patrón.",
    ),
    "patterns_no_class": _t("no hot or cold pattern", "ningún patrón caliente o frío"),
    "patterns_top": _t(
        "Intensifying hot spots: {intensifying}. Persistent hot spots: {persistent}.",
        "Puntos calientes en intensificación: {intensifying}. Puntos calientes persistentes: {persistent}.",
    ),
    "patterns_top_none": _t("none", "ninguno"),
    "patterns_more": _t("and {n} more", "y {n} más"),
    "patterns_none": _t(
        "No emerging hot spot patterns: {why}.", "Sin patrones emergentes de puntos calientes: {why}."
    ),
    "cap_patterns": _t(
        "Emerging hot spot pattern of each {level} over the months of {year}: hot spots in reds and oranges, "
        "cold spots in blues, no pattern in grey.",
        "Patrón emergente de puntos calientes de cada {level} en los meses de {year}: puntos calientes en rojos "
        "y naranjas, puntos fríos en azules, sin patrón en gris.",
    ),
    "patterns_heading": _t("Emerging patterns by class", "Patrones emergentes por clase"),
    "patterns_counts_intro": _t(
        "How many states and municipalities fall in each of the 17 classes (ESRI's emerging hot spot analysis) "
        "over the months of {year}.",
        "Cuántos estados y municipios caen en cada una de las 17 clases (análisis de puntos calientes "
        "emergentes de ESRI) en los meses de {year}.",
    ),
    "col_pattern": _t("Emerging pattern", "Patrón emergente"),
    "chart_patterns_title": _t(
        "Emerging hot spot patterns by {level}, {period}",
        "Patrones emergentes de puntos calientes por {level}, {period}",
    ),
    "patterns_label": _t("violence score (rubric {rubric})", "puntuación de violencia (rúbrica {rubric})"),
    "patterns_unit_count": _t("score points per month", "puntos por mes"),
    "patterns_unit_rate": _t(
        "score points per 100,000 people per month", "puntos por cada 100,000 habitantes por mes"
    ),
    "col_region": _t("Region", "Región"),
    "col_events": _t("Events", "Eventos"),
    "col_orgs_there": _t("Organizations there", "Organizaciones presentes"),
    # ------------------------------------------------------------------ enforcement package
    "package_note": _t(
        "The package is built {why}, on {where}, with a budget of {budget} cases.",
        "El paquete se construye {why}, sobre {where}, con un presupuesto de {budget} casos.",
    ),
    "why_target": _t("against the target, {name}", "contra el objetivo, {name}"),
    "why_leader": _t(
        "against the leading organization, {name}, to show what naming it would mean (the rule named no "
        "target)",
        "contra la organización líder, {name}, para mostrar lo que significaría nombrarla (la regla no nombró "
        "objetivo)",
    ),
    "where_synthetic": _t(
        "a synthetic supply network (seed {seed}; real supply data are confidential: an agency imports its "
        "own)",
        "una red de abasto sintética (semilla {seed}; los datos reales de abasto son confidenciales: cada "
        "agencia importa los suyos)",
    ),
    "where_store": _t("the store's supply network", "la red de abasto de la base"),
    "where_store_synthetic": _t(
        "the store's supply network, {label} (its volumes, prices and money are invented: real supply data "
        "are confidential)",
        "la red de abasto de la base, {label} (sus volúmenes, precios y montos son inventados: los datos "
        "reales de abasto son confidenciales)",
    ),
    "package_failed": _t(
        "No enforcement package: {what} ({where}).", "Sin paquete de aplicación de la ley: {what} ({where})."
    ),
    "fact_target": _t("Target", "Objetivo"),
    "fact_buyers": _t("US buyers supplied", "Compradores abastecidos en EE.\u00a0UU."),
    "fact_cases": _t("Cases selected", "Casos seleccionados"),
    "fact_cases_value": _t("{n} of a budget of {budget} {kind}", "{n} de un presupuesto de {budget} {kind}"),
    "budget_cases": _t("cases", "casos"),
    "budget_hours": _t("hours", "horas"),
    "fact_denied": _t("Revenue denied", "Ingresos negados"),
    "fact_denied_value": _t("{money} a year ({share})", "{money} al año ({share})"),
    "fact_revenue": _t("Target's US revenue", "Ingresos del objetivo en EE.\u00a0UU."),
    "fact_revenue_value": _t("{money} a year", "{money} al año"),
    "fact_method": _t("Method", "Método"),
    "fact_guarantee": _t("Guarantee", "Garantía"),
    "cap_network": _t(
        "The target (red), its cells, US wholesalers and distributors; cases ringed.",
        "El objetivo (rojo), sus células, mayoristas y distribuidores en EE.\u00a0UU.; los casos, en un círculo.",
    ),
    "package_cases": _t(
        "Cases, in the order each adds the most", "Casos, en el orden en que cada uno aporta más"
    ),
    "col_buyer": _t("Buyer", "Comprador"),
    "col_type": _t("Type", "Tipo"),
    "col_denied": _t("Denied (US$/year)", "Negado (US$/año)"),
    "col_cumulative": _t("Cumulative", "Acumulado"),
    "col_path": _t("Supply path", "Ruta de abasto"),
    "node_organization": _t("organization", "organización"),
    "node_cell": _t("cell", "célula"),
    "node_city": _t("city", "ciudad"),
    "node_wholesaler": _t("wholesaler", "mayorista"),
    "node_distributor": _t("distributor", "distribuidor"),
    # ------------------------------------------------------------------ policies
    "sim_note": _t(
        "Simulated on {kind}: {replicates} paired replicates x {months} months, seed {seed}, {source}. {unit} "
        "Homicides are medians over the replicates with their 90% intervals; organizations alive at the end "
        "are means over the replicates.",
        "Simulado en {kind}: {replicates} réplicas pareadas x {months} meses, semilla {seed}, {source}. {unit} "
        f"Los homicidios son medianas sobre las réplicas con sus intervalos de 90{_NB}%; las organizaciones "
        "activas al final son medias sobre las réplicas.",
    ),
    "unit_units": _t(
        "Deaths are in model units of violence, not people (results written before the simulator counted "
        "homicides in people).",
        "Las muertes están en unidades de violencia del modelo, no en personas (resultados escritos antes de "
        "que el simulador contara homicidios en personas).",
    ),
    "unit_synthetic": _t(
        "Homicides are counted in people of a synthetic world (organized-crime killings only, no baseline): "
        "not comparable with INEGI or SESNSP counts.",
        "Los homicidios se cuentan en personas de un mundo sintético (solo asesinatos del crimen organizado, "
        "sin línea base): no son comparables con los conteos del INEGI o del SESNSP.",
    ),
    "unit_people": _t(
        "Homicides are counted in people, comparable with INEGI and SESNSP counts.",
        "Los homicidios se cuentan en personas, comparables con los conteos del INEGI y del SESNSP.",
    ),
    "world_default": _t(
        "the real default world (organizations from the UCDP events, rivalries from BACRIM 2020, the 2,457 "
        "municipalities as plazas)",
        "el mundo real por defecto (organizaciones de los eventos de UCDP, rivalidades de BACRIM 2020, los "
        "2,457 municipios como plazas)",
    ),
    "world_scenario": _t("the {scenario} scenario ({world})", "el escenario {scenario} ({world})"),
    "source_run": _t("run for this report", "corrida para este informe"),
    "source_file": _t("read from {name}", "leída de {name}"),
    "no_sim": _t(
        "No policy comparison in this report: it was left out.",
        "Sin comparación de políticas en este informe: se dejó fuera.",
    ),
    "cap_policies": _t(
        "Policies month by month (the axes give the unit): median lines on one axis, then one panel per "
        "policy with its 90% band over paired replicates (each on its own axis); the dashed rule marks where "
        "the policies start.",
        "Las políticas mes a mes (los ejes dan la unidad): líneas de la mediana en un eje y luego un panel por "
        f"política con su banda de 90{_NB}% sobre réplicas pareadas (cada uno con su propio eje); la línea "
        "discontinua marca dónde empiezan las políticas.",
    ),
    "col_policy": _t("Policy", "Política"),
    "what_people": _t("homicides (people)", "homicidios (personas)"),
    "what_units": _t("model units of violence", "unidades de violencia del modelo"),
    "fewer_people": _t("homicides", "homicidios"),
    "fewer_units": _t("units", "unidades"),
    "col_deaths_h": _t(
        "{what} by month {month}: median (90% interval)",
        f"{{what}} al mes {{month}}: mediana (intervalo de 90{_NB}%)",
    ),
    "col_per_month": _t("{what} per month, last year: median", "{what} por mes, último año: mediana"),
    "col_alive": _t("Organizations alive at the end: mean", "Organizaciones activas al final: media"),
    "col_p_below": _t("P(fewer {fewer} than volume)", "P(menos {fewer} que volume)"),
    # ------------------------------------------------------------------ routes
    "no_routes": _t("No routes analysis.", "Sin análisis de rutas."),
    "routes_intro": _t(
        "US-bound cocaine routed over the calibrated corridor network, now and with Caribbean interdiction "
        "changed; the change of Mexican violence follows the value of the trade at stake (docs/routes.md).",
        "La cocaína con destino a EE.\u00a0UU. recorre la red calibrada de corredores, hoy y con la "
        "interdicción en el Caribe cambiada; el cambio de la violencia en México sigue el valor del comercio "
        "en juego (docs/routes.md).",
    ),
    "cap_routes": _t(
        "Shares of US-bound cocaine by corridor and US entry region, before and after.",
        "Participación de la cocaína con destino a EE.\u00a0UU. por corredor y región de entrada, antes y "
        "después.",
    ),
    "col_kind": _t("Kind", "Tipo"),
    "col_corridor": _t("Corridor or region", "Corredor o región"),
    "col_share_now": _t("Share now", "Participación hoy"),
    "col_share_after": _t(
        "Share, Caribbean interdiction {change}", "Participación, interdicción en el Caribe {change}"
    ),
    "col_change_pp": _t("Change (points)", "Cambio (puntos)"),
    "kind_corridor": _t("corridor", "corredor"),
    "kind_entry": _t("entry", "entrada"),
    "kind_total": _t("total", "total"),
    # ------------------------------------------------------------------ calibration
    "no_calibration": _t(
        "No calibration in this report: give the posterior of vdto calibrate with --posterior.",
        "Sin calibración en este informe: dé la posterior de vdto calibrate con --posterior.",
    ),
    "cal_note": _t(
        "Fitted to homicides of {fit} ({generations} generations of ABC-SMC, {simulations} simulated "
        "histories). The fit below is {fit_histories} posterior predictive histories; the claims are "
        "{claims_runs} runs of {months} months on {world}, parameter sets drawn from the posterior. "
        "docs/calibration.md has the full fit, the years held out and what the calibrated model does not "
        "reproduce; docs/claims.md the claims over more runs.",
        "Ajustado a los homicidios de {fit} ({generations} generaciones de ABC-SMC, {simulations} historias "
        "simuladas). El ajuste de abajo son {fit_histories} historias predictivas de la posterior; las "
        "afirmaciones son {claims_runs} corridas de {months} meses en {world}, con conjuntos de parámetros "
        "tomados de la posterior. docs/calibration.md tiene el ajuste completo, los años reservados y lo que "
        "el modelo calibrado no reproduce; docs/claims.md, las afirmaciones sobre más corridas.",
    ),
    "claims_lead": _t("", "Las afirmaciones, en el texto original en inglés de vdto:"),
    "cal_fit": _t(
        "Registered homicides against the calibrated model",
        "Homicidios registrados frente al modelo calibrado",
    ),
    "cal_posterior": _t("Posterior of the free parameters", "Posterior de los parámetros libres"),
    "col_parameter": _t("Parameter", "Parámetro"),
    "col_prior": _t("Prior", "A priori"),
    "col_median": _t("Median", "Mediana"),
    "col_q05": _t("5%", f"5{_NB}%"),
    "col_q95": _t("95%", f"95{_NB}%"),
    "col_year": _t("Year", "Año"),
    "col_series": _t("Series", "Serie"),
    "col_registered": _t("Registered", "Registrados"),
    "col_sim_median": _t("Simulated median", "Mediana simulada"),
    "col_inside": _t("Inside", "Dentro"),
    "col_claim": _t("Claim", "Afirmación"),
    "col_holds": _t("Holds in", "Se cumple en"),
    "col_effect": _t("Effect: median (90% interval)", f"Efecto: mediana (intervalo de 90{_NB}%)"),
    "col_unit": _t("Unit", "Unidad"),
    "effect_value": _t("{median} ({lo} to {hi})", "{median} ({lo} a {hi})"),
    "yes": _t("yes", "sí"),
    "no": _t("no", "no"),
    # ------------------------------------------------------------------ provenance
    "provenance_intro": _t(
        "What makes these numbers reproducible: run the same vdto version on a store with the same data "
        "hash, with the same rubric and seeds.",
        "Lo que hace reproducibles estas cifras: ejecutar la misma versión de vdto sobre una base con el mismo "
        "hash de datos, con la misma rúbrica y las mismas semillas.",
    ),
    "prov_vdto_version": _t("vdto version", "versión de vdto"),
    "prov_store": _t("store", "base"),
    "prov_agency": _t("agency", "agencia"),
    "prov_year": _t("year", "año"),
    "prov_window": _t("window", "periodo"),
    "prov_rubric": _t("rubric", "rúbrica"),
    "prov_rubric_sha256": _t("rubric sha256", "sha256 de la rúbrica"),
    "prov_data_sha256": _t("data sha256", "sha256 de los datos"),
    "prov_store_state": _t("store state (last import)", "estado de la base (última importación)"),
    "prov_events": _t("events", "eventos"),
    "prov_scoring_seed": _t("scoring seed", "semilla de la calificación"),
    "prov_scoring_draws": _t("scoring draws", "sorteos de la calificación"),
    "prov_regional_data_sha256": _t("regional data sha256", "sha256 de los datos regionales"),
    "prov_hotspot_seed": _t("hot-spot seed", "semilla de los puntos calientes"),
    "prov_hotspot_permutations": _t("hot-spot permutations", "permutaciones de los puntos calientes"),
    "prov_counts_measure": _t("counts measure", "medida de los conteos"),
    "prov_patterns": _t("emerging patterns", "patrones emergentes"),
    "prov_patterns_value": _t(
        "{bins} monthly bins ({classified} classified), lag 1 month, global window {window}, trend p ≤ {trend_alpha}",
        "{bins} intervalos mensuales ({classified} clasificados), rezago de 1 mes, ventana global {window}, "
        "tendencia con p ≤ {trend_alpha}",
    ),
    "prov_network": _t("supply network", "red de abasto"),
    "prov_network_seed": _t("network seed", "semilla de la red"),
    "prov_routes_network": _t("routes network", "red de rutas"),
    "prov_routes_network_sha256": _t("routes network sha256", "sha256 de la red de rutas"),
    "prov_routes_seed": _t("routes seed", "semilla de las rutas"),
    "prov_scenario": _t("scenario", "escenario"),
    "prov_scenario_sha256": _t("scenario sha256", "sha256 del escenario"),
    "prov_world": _t("world", "mundo"),
    "prov_world_sha256": _t("world sha256", "sha256 del mundo"),
    "prov_sim_seed": _t("simulation seed", "semilla de la simulación"),
    "prov_sim_replicates": _t("simulation replicates", "réplicas de la simulación"),
    "prov_sim_months": _t("simulation months", "meses de la simulación"),
    "prov_sim_source": _t("simulation source", "origen de la simulación"),
    "prov_generated_at": _t("generated at (UTC)", "generado el (UTC)"),
    # ------------------------------------------------------------------ charts
    "chart_ranking_title": _t(
        "Violence ranking {year}: expected score, 90% interval and P(rank 1)",
        f"Clasificación de la violencia {{year}}: puntuación esperada, intervalo de 90{_NB}% y "
        f"P(1.er{_NB}lugar)",
    ),
    "chart_ranking_sub": _t(
        "vdto {version} · rubric {rubric} sha256:{rubric_sha} · data sha256:{data_sha} · seed {seed} · "
        "{draws} draws",
        "vdto {version} · rúbrica {rubric} sha256:{rubric_sha} · datos sha256:{data_sha} · semilla {seed} · "
        "{draws} sorteos",
    ),
    "chart_ranking_x": _t(
        "violence score: expected value and 90% interval",
        f"puntuación de violencia: valor esperado e intervalo de 90{_NB}%",
    ),
    "chart_p_rank1": _t("P(rank 1) = {p}", f"P(1.er{_NB}lugar) = {{p}}"),
    "chart_low": _t("90% interval: low", f"intervalo de 90{_NB}%: mínimo"),
    "chart_high": _t("90% interval: high", f"intervalo de 90{_NB}%: máximo"),
    "chart_trend_title": _t(
        "Trends by organization: score per calendar year",
        "Tendencias por organización: puntuación por año calendario",
    ),
    "chart_trend_y": _t("violence score (expected)", "puntuación de violencia (esperada)"),
    "chart_network_title": _t(
        "Enforcement package against {name}: {cases} cases (ringed) deny {money} a year ({share})",
        "Paquete de aplicación de la ley contra {name}: {cases} casos (en un círculo) niegan {money} al año "
        "({share})",
    ),
    "chart_network_sub": _t(
        "The target, its cells and {shown} of the {total} US buyers it supplies: the cases, those with most at "
        "stake, distributors behind the cases; node size: revenue at stake. {guarantee}.",
        "El objetivo, sus células y {shown} de los {total} compradores en EE.\u00a0UU. que abastece: los casos, "
        "los que más tienen en juego, los distribuidores detrás de los casos; tamaño del nodo: ingresos en "
        "juego. Garantía: {guarantee}.",
    ),
    "chart_node": _t("Node", "Nodo"),
    "chart_revenue_at_stake": _t("Revenue at stake (US$/year)", "Ingresos en juego (US$/año)"),
    "chart_selected": _t("Selected", "Seleccionado"),
    "chart_case": _t("case {n}", "caso {n}"),
    # ------------------------------------------------------------------ headlines ("In plain words")
    "decision_target": _t(
        "Target for {year}: {name}. P(rank 1) = {p}, at or above the published threshold {threshold}.",
        f"Objetivo para {{year}}: {{name}}. P(1.er{_NB}lugar) = {{p}}, igual o mayor que el umbral publicado "
        "de {threshold}.",
    ),
    "decision_none": _t(
        "No target for {year}: the leader, {name}, is the most violent with probability {p}, below the "
        "published threshold {threshold}, so the rule names no one and enforcement goes to the violent hot "
        "spots instead.",
        "Sin objetivo para {year}: la organización líder, {name}, es la más violenta con una probabilidad de "
        "{p}, menor que el umbral publicado de {threshold}; la regla no nombra a nadie y la aplicación de la "
        "ley se dirige a los puntos calientes violentos.",
    ),
    "hotspots": _t(
        "Hot spots: {municipalities} municipalities and {states} states are significant Gi* hot spots.",
        "Puntos calientes: {municipalities} municipios y {states} estados son puntos calientes significativos "
        "de Gi*.",
    ),
    "hotspots_patterns": _t(
        "Hot spots: {municipalities} municipalities and {states} states are significant Gi* hot spots; over the "
        "year's months {intensifying} municipalities are intensifying hot spots and {persistent} persistent ones; "
        "the first region targets are {places}.",
        "Puntos calientes: {municipalities} municipios y {states} estados son puntos calientes significativos "
        "de Gi*; en los meses del año, {intensifying} municipios son puntos calientes en intensificación y "
        "{persistent} persistentes; las primeras regiones objetivo son {places}.",
    ),
    "hotspots_places": _t(
        "Hot spots: {municipalities} municipalities and {states} states are significant Gi* hot spots; the "
        "most violent are {places}.",
        "Puntos calientes: {municipalities} municipios y {states} estados son puntos calientes significativos "
        "de Gi*; los más violentos son {places}.",
    ),
    "package": _t(
        "Enforcement package: {cases} cases against {name}{on} would deny {money} a year, {share} of its US "
        "revenue; it supplies {buyers} US buyers; selection {guarantee}.",
        "Paquete de aplicación de la ley: {cases} casos contra {name}{on} le negarían {money} al año, {share} "
        "de sus ingresos en EE.\u00a0UU.; abastece a {buyers} compradores en EE.\u00a0UU.; selección: "
        "{guarantee}.",
    ),
    "package_on": _t(" on {label}", " en {label}"),
    "policies": _t(
        "Policy comparison: over {months} months, among the {n} policies compared here ({names}), {best} has "
        "{fewest}, {amount}",
        "Comparación de políticas: en {months} meses, entre las {n} políticas comparadas aquí ({names}), "
        "{best} tiene {fewest}, {amount}",
    ),
    "policies_one": _t(
        "Policy comparison: only {policy} was simulated here: {amount} over {months} months.",
        "Comparación de políticas: aquí solo se simuló {policy}: {amount} en {months} meses.",
    ),
    "policies_amount": _t(
        "{deaths} {unit} (90% interval {interval})",
        f"{{deaths}} {{unit}} (intervalo de 90{_NB}% {{interval}})",
    ),
    "amount_people": _t("people", "personas"),
    "amount_units": _t("model units of violence", "unidades de violencia del modelo"),
    "fewest_people": _t("the fewest homicides", "menos homicidios"),
    "fewest_units": _t("the least violence", "menos violencia"),
    "policies_volume": _t(", against {deaths} under volume enforcement", ", frente a {deaths} con volume"),
    "policies_below": _t(
        "; fewer than volume in {share} of paired replicates",
        "; menos que volume en {share} de las réplicas pareadas",
    ),
    "policies_end": _t(
        "; a policy not run here may do better.", "; una política no simulada aquí podría hacerlo mejor."
    ),
    "routes": _t(
        "Caribbean shift: {what} Caribbean interdiction moves the share of US-bound cocaine through Mexico "
        "from {before} to {after} ({change}); expected change of Mexican violence {median} (90% interval "
        "{lo} to {hi}).",
        "Desplazamiento del Caribe: {what} la interdicción en el Caribe lleva la participación de la cocaína "
        f"con destino a EE.\u00a0UU. que pasa por México de {{before}} a {{after}} ({{change}}); cambio "
        f"esperado de la violencia en México: {{median}} (intervalo de 90{_NB}% de {{lo}} a {{hi}}).",
    ),
    "routes_halving": _t("halving", "reducir a la mitad"),
    "routes_changing": _t("changing by {change}", "cambiar en {change}"),
}


def words(lang: str) -> dict[str, str]:
    """Every message of :data:`TEXT` in ``lang`` (``"en"`` or ``"es"``)."""
    return {key: text[lang] for key, text in TEXT.items()}


def value(v: Any, lang: str) -> str:
    """A value for a message: a :class:`Sentence` said in ``lang``, a callable called with
    ``lang``, anything else as text."""
    if isinstance(v, Sentence):
        return v.to(lang)
    if callable(v):
        return str(v(lang))
    return str(v)


def say(lang: str, key: str, /, **values: Any) -> str:
    """The message ``key`` in ``lang`` with its ``{fields}`` filled (see :func:`value`)."""
    return TEXT[key][lang].format(**{k: value(v, lang) for k, v in values.items()})


def pct(x: Any, digits: int = 0, *, sign: bool = False) -> Callable[[str], str]:
    """A share as a percentage in the reader's language (``42%`` / ``42 %``)."""
    return lambda lang: fmt.pct(x, lang, digits, sign=sign)


def money(x: Any) -> Callable[[str], str]:
    """US dollars in the reader's language (``US$2.5 million`` / ``US$2.5 millones``)."""
    return lambda lang: fmt.money(x, lang)


def word(key: str, **values: Any) -> Callable[[str], str]:
    """Another message, said in the reader's language (a word inside a sentence)."""
    return lambda lang: say(lang, key, **values)


class Sentence(str):
    """English text (a ``str``, as it was before the report had languages) that remembers its
    message and values, so it can be said again in another language (:meth:`to`)."""

    key: str
    values: dict[str, Any]

    def __new__(cls, key: str, /, **values: Any) -> Sentence:
        self = super().__new__(cls, say("en", key, **values))
        self.key, self.values = key, values
        return self

    def to(self, lang: str) -> str:
        """The sentence in ``lang``."""
        return say(lang, self.key, **self.values)

    def __reduce__(self) -> tuple[Any, ...]:  # a copy or a pickle keeps the message
        return (_sentence, (self.key, self.values))


def _sentence(key: str, values: dict[str, Any]) -> Sentence:
    return Sentence(key, **values)


def in_lang(text: Any, lang: str) -> str:
    """``text`` in ``lang`` when it is a :class:`Sentence` (or :func:`translate` knows it), else as
    it is."""
    if isinstance(text, Sentence):
        return text.to(lang)
    return translate(str(text), lang) if text is not None else ""


# ---------------------------------------------------------------------------------------------
# texts other modules make in English


#: Spanish for texts that other modules write in English and the report shows: the package's
#: guarantee (:mod:`vdto.network.selection`) and the titles of the policy chart
#: (:func:`vdto.sim.results.deaths_chart`). Each is a full-text pattern and its Spanish;
#: ``{name}`` takes the pattern's group ``name``, itself translated.
PHRASES: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "es": tuple(
        (re.compile(pattern), spanish)
        for pattern, spanish in (
            # the package's guarantee, a synthetic network's label (vdto.network)
            (r"optimal \(exact MILP\)", "óptima (MILP exacto)"),
            (r"the synthetic supply network \(seed (?P<seed>\S+)\)", "la red de abasto sintética (semilla {seed})"),
            (r"the synthetic supply network", "la red de abasto sintética"),
            (r"greedy: at least (?P<x>[\d.]+)% of the optimum \((?P<why>.+)\)", f"voraz: al menos {{x}}{_NB}% del óptimo ({{why}})"),
            (r"1 - 1/e, unit costs", "1 - 1/e, costos unitarios"),
            (r"½\(1 - 1/e\), costs in agent-hours", "½(1 - 1/e), costos en horas-agente"),
            # the policy chart
            (r"(?P<what>.+) by policy: median over paired replicates", "{what} por política: mediana sobre réplicas pareadas"),
            (r"(?P<what>.+), median", "{what}, mediana"),
            (r"homicides per month \(people\)", "homicidios por mes (personas)"),
            (r"violence per month \(model units\)", "violencia por mes (unidades del modelo)"),
            (r"Monthly homicides by policy \(median and 90% band over paired replicates\)", f"Homicidios mensuales por política (mediana y banda de 90{_NB}% sobre réplicas pareadas)"),
            (r"Each policy: median and 90% band over replicates \(each panel on its own y axis\)", f"Cada política: mediana y banda de 90{_NB}% sobre réplicas (cada panel con su propio eje y)"),
            (r"policies start: month (?P<m>\S+) \(months 1-(?P<n>\S+): warm-up\)", "inicio de las políticas: mes {m} (meses 1-{n}: calentamiento)"),
            (r"vdto (?P<v>\S+) · scenario (?P<s>\S+) sha256:(?P<a>\S*) · world sha256:(?P<b>\S*) · seed (?P<seed>\S+) · (?P<r>\S+) replicates",
             "vdto {v} · escenario {s} sha256:{a} · mundo sha256:{b} · semilla {seed} · {r} réplicas"),
            (r"month of the run", "mes de la simulación"),
            (r"month", "mes"),
            (r"policy", "política"),
            (r"median", "mediana"),
            (r"(?P<n>\d+)%", f"{{n}}{_NB}%"),
        )
    ),
}  # fmt: skip

_KEEP = re.compile(r"[\W\d_]*|Gi\*.*|p|#|PNG")  # no words to translate


def translate(text: str, lang: str) -> str:
    """``text`` (written in English by another module) in ``lang`` by the patterns of
    :data:`PHRASES`; a text no pattern matches is returned as it is (see :func:`untranslated`).
    A first letter in upper case is kept."""
    return _translate(text, lang) or text


def _translate(text: str, lang: str) -> str | None:
    if lang == "en":
        return text
    for pattern, out in PHRASES.get(lang, ()):
        for candidate, upper in ((text, False), (text[:1].lower() + text[1:], text[:1].isupper())):
            m = pattern.fullmatch(candidate)
            if m is None:
                continue
            parts = {k: _translate(v, lang) for k, v in m.groupdict().items()}
            parts = {k: v if v is not None else m.group(k) for k, v in parts.items()}
            said = out.format(**parts)
            return said[:1].upper() + said[1:] if upper else said
    return text if _KEEP.fullmatch(text) else None


#: Spanish for the words and percentages inside a text other modules write with names in it (the
#: organizations of a region target, :mod:`vdto.regional.target`: ``Cártel A 51%, Cártel B 49%
#: (+1 under 1%)``): substitutions applied in order.
INLINE: dict[str, tuple[tuple[re.Pattern[str], str], ...]] = {
    "es": (
        (re.compile(r"(\d)%"), rf"\1{_NB}%"),
        (re.compile(r"\(\+(\d+) under 1\s%\)"), rf"(+\1 con menos de 1{_NB}%)"),
        (re.compile(r"^\(none attributed\)$"), "(ninguna atribuida)"),
    ),
}


def translate_inline(text: str, lang: str) -> str:
    """``text`` with the words and percentages of :data:`INLINE` said in ``lang``; the rest (the
    names) as it is.

    >>> translate_inline("Cártel A 51%, Cártel B 49% (+1 under 1%)", "es")
    'Cártel A 51\xa0%, Cártel B 49\xa0% (+1 con menos de 1\xa0%)'
    """
    for pattern, out in INLINE.get(lang, ()):
        text = pattern.sub(out, text)
    return text


#: The keys of a Vega-Lite spec whose strings a reader sees as titles and labels.
_TITLE_KEYS = frozenset({"title", "subtitle", "text", "datum"})


def relabel(spec: Any, lang: str, missed: list[str] | None = None) -> Any:
    """A copy of a Vega-Lite spec (a dict, as ``chart.to_dict()`` gives it) whose titles,
    subtitles and text labels are in ``lang`` (:func:`translate`); the data are left alone.
    Texts no pattern matches stay as they are and are appended to ``missed``."""

    def walk(node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return {k: v if k in ("data", "datasets") else walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, key) for v in node]
        if isinstance(node, str) and key in _TITLE_KEYS:
            said = _translate(node, lang)
            if said is None:
                if missed is not None:
                    missed.append(node)
                return node
            return said
        return node

    return walk(spec)


__all__ = [
    "LANGS",
    "LANG_NAMES",
    "PAGES",
    "PHRASES",
    "TEXT",
    "Sentence",
    "figure_file",
    "in_lang",
    "languages",
    "money",
    "pct",
    "relabel",
    "say",
    "translate",
    "translate_inline",
    "word",
    "words",
]
