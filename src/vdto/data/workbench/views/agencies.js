/* Agencies: the signed-in agency's ranking beside another agency's, for the same window, rubric,
   draws and seed; Kendall's tau and top-1 agreement; and each organization the two rank
   differently, opened into the signed-in agency's own events behind it.

   Everything comes from POST /agencies/A/comparison with {"with": B, "from", "to", "rubric",
   "draws"} (the service compare_agencies; audited as a write). Of the other agency the page gets
   its ranking and decision (aggregates: what a round of the two would show), with the score,
   interval, P(rank 1) and events of an organization it holds fewer than min_count events of
   withheld (null), never one of its events and no count of the events the two agencies share;
   the window spans at least 90 days. The two agencies' events are never added together.
   The window and the other agency live in the address (#/agencies?with=us&from=...&to=...). */
"use strict";
(function () {
  const { t, el, api, fmt, dataOf, remember, loadInto } = window.VDTO;

  const DEFAULTS = { from: "2021-01-01", to: "2021-12-31", rubric: "default-v1", draws: "1000" };
  const KEYS = ["with", "from", "to", "rubric", "draws"];

  function clean(p) {
    return window.VDTO.pick(p, KEYS);
  }

  function pts(x) {
    return t("agencies.points", { n: fmt.num(x, 1) });
  }

  function missing(x) {
    return x === null || x === undefined;
  }

  /** An expected number of events of the other agency's data: withheld (null) when small. */
  function count(n, minCount) {
    return missing(n) ? t("agencies.fewer_than", { n: fmt.num(minCount) }) : fmt.num(n, 1);
  }

  /** A figure of the other agency withheld (null) because it rests on fewer than min_count events. */
  function withheld(minCount) {
    return el("span", { class: "muted", "data-testid": "withheld" }, t("agencies.withheld", { n: fmt.num(minCount) }));
  }

  function rankingTable(side, testid, caption, minCount) {
    const head = el("tr", {},
      el("th", { class: "n" }, t("agencies.rank")),
      el("th", {}, t("agencies.organization")),
      el("th", { class: "n" }, t("agencies.score")),
      el("th", { class: "n" }, t("agencies.interval")),
      el("th", { class: "n" }, t("agencies.p_rank1")),
      el("th", { class: "n" }, t("agencies.events")));
    const body = side.ranking.map((r) =>
      el("tr", { "data-testid": testid + "-row", "data-org": r.org },
        el("td", { class: "n" }, fmt.num(r.rank)),
        el("td", {}, r.name),
        el("td", { class: "n nowrap" }, missing(r.score) ? withheld(minCount) : pts(r.score)),
        el("td", { class: "n nowrap" }, missing(r.lo90) ? "—" : fmt.interval(r.lo90, r.hi90, 1)),
        el("td", { class: "n", "data-testid": "p-rank1" }, fmt.pct(r.p_rank1)),
        el("td", { class: "n" }, missing(r.events) ? "<" + fmt.num(minCount) : fmt.num(r.events, 1))));
    return el("div", { class: "table-wrap" },
      el("table", { class: "grid", "data-testid": testid },
        el("caption", {}, caption), el("thead", {}, head), el("tbody", {}, body)));
  }

  function eventsTable(events) {
    const head = el("tr", {},
      el("th", {}, t("agencies.ev_source")), el("th", {}, t("agencies.ev_id")), el("th", {}, t("agencies.ev_date")),
      el("th", {}, t("agencies.ev_state")), el("th", {}, t("agencies.ev_category")),
      el("th", { class: "n" }, t("agencies.ev_deaths")), el("th", { class: "n" }, t("agencies.ev_probability")),
      el("th", { class: "n" }, t("agencies.ev_contribution")));
    const body = events.map((e) =>
      el("tr", { "data-testid": "own-event" },
        el("td", {}, e.source), el("td", {}, e.source_id), el("td", { class: "nowrap" }, e.date_start || "—"),
        el("td", {}, e.state_code || "—"), el("td", {}, e.category || "—"),
        el("td", { class: "n" }, fmt.num(e.deaths_best)), el("td", { class: "n" }, fmt.pct(e.probability)),
        el("td", { class: "n nowrap" }, pts(e.contribution))));
    return el("div", { class: "table-wrap" }, el("table", { class: "grid" }, el("thead", {}, head), el("tbody", {}, body)));
  }

  function rankText(rank) {
    return rank === null || rank === undefined ? t("agencies.not_ranked") : t("agencies.rank_n", { n: fmt.num(rank) });
  }

  function disagreement(d, own, other, minCount) {
    const summary = el("summary", {},
      el("strong", {}, d.name || d.org), " — ",
      t("agencies.disagreement_line", {
        own, other, rank_own: rankText(d.rank_own), rank_other: rankText(d.rank_other),
        score_own: pts(d.score_own),
        score_other: missing(d.score_other) ? t("agencies.withheld", { n: fmt.num(minCount) }) : pts(d.score_other) }));
    const counts = el("ul", { class: "counts", "data-testid": "disagreement-counts" },
      el("li", {}, t("agencies.events_line", { own, other, n_own: fmt.num(d.events_own, 1),
        n_other: count(d.events_other, minCount) })));
    const detail = el("details", { class: "disagreement", "data-testid": "disagreement", "data-org": d.org }, summary,
      el("p", { class: "muted" }, t("agencies.p_line", { own, other, p_own: fmt.pct(d.p_rank1_own),
        p_other: missing(d.p_rank1_other) ? t("agencies.withheld", { n: fmt.num(minCount) }) : fmt.pct(d.p_rank1_other) })),
      counts,
      el("h3", {}, t("agencies.own_events", { own, n: fmt.num(d.events.length) })),
      d.events.length ? eventsTable(d.events) : el("p", { class: "muted" }, t("agencies.no_own_events", { own })));
    return detail;
  }

  window.VDTO.view("agencies", {
    async render(root, params, ctx) {
      const agency = ctx.me.agency;
      const path = "/agencies/" + encodeURIComponent(agency) + "/comparison";
      let p = clean(Object.assign({}, DEFAULTS, { with: agency === "us" ? "mx" : "us" }, params));

      const rubricSelect = el("select", { name: "rubric", "data-testid": "agencies-rubric" });
      const other = el("input", { type: "text", name: "with", value: p.with, "data-testid": "agencies-with", required: true,
        pattern: "[a-z0-9_\\-]{1,32}", spellcheck: "false", size: 8 });
      const from = el("input", { type: "date", name: "from", value: p.from, "data-testid": "agencies-from", required: true });
      const to = el("input", { type: "date", name: "to", value: p.to, "data-testid": "agencies-to", required: true });
      const draws = el("input", { type: "number", name: "draws", min: 1, max: 10000, step: 1, value: p.draws,
        "data-testid": "agencies-draws" });
      const form = el("form", { class: "filters", "data-testid": "agencies-form", autocomplete: "off" },
        el("label", {}, el("span", {}, t("agencies.with")), other),
        el("label", {}, el("span", {}, t("agencies.from")), from),
        el("label", {}, el("span", {}, t("agencies.to")), to),
        el("label", {}, el("span", {}, t("agencies.rubric")), rubricSelect),
        el("label", {}, el("span", {}, t("agencies.draws")), draws),
        el("button", { type: "submit", "data-testid": "compare" }, t("agencies.compare")));
      const result = el("section", { class: "agencies-result", "data-testid": "agencies-result" });
      root.append(el("h1", {}, t("agencies.title")), dataOf(agency),
        el("p", { class: "muted", "data-testid": "agencies-privacy" }, t("agencies.privacy")), form, result);

      const rubrics = await api("/rubrics");
      for (const r of rubrics) rubricSelect.append(el("option", { value: r.name }, r.name));
      if (!rubrics.some((r) => r.name === p.rubric)) rubricSelect.append(el("option", { value: p.rubric }, p.rubric));
      rubricSelect.value = p.rubric;

      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        p = clean({ with: other.value, from: from.value, to: to.value, rubric: rubricSelect.value, draws: draws.value });
        remember("agencies", p);
        show();
      });

      function body() {
        return { with: p.with || "", from: p.from || null, to: p.to || null, rubric: p.rubric || "default-v1",
          draws: Number(p.draws) || 1000 };
      }

      async function show() {
        const c = await loadInto(result, () => api(path, { method: "POST", json: body() }));
        if (c === null) return;
        const own = c.agency;
        const them = c.with;
        const minCount = c.meta.min_count;
        const a = c.agreement;
        const tops = a.top.map((org, i) => {
          const side = i === 0 ? c.own : c.other;
          const row = side.ranking.find((r) => r.org === org);
          return row ? row.name : t("agencies.nobody");
        });
        const summary = el("div", { class: "panel agreement", "data-testid": "agreement" },
          el("p", { class: "muted" }, t("agencies.meta", { own, other: them, from: c.window[0], to: c.window[1],
            rubric: c.meta.rubric, draws: fmt.num(c.meta.draws), seed: c.meta.seed })),
          el("p", {}, el("strong", {}, t("agencies.tau_label")), " ",
            el("span", { "data-testid": "tau" }, a.tau === null ? t("agencies.tau_undefined") : fmt.num(a.tau, 3)),
            " ", el("span", { class: "muted" }, a.p_value === null ? "" : t("agencies.p_value", { p: a.p_value < 0.0001 ? "< " + fmt.num(0.0001, 4) : fmt.num(a.p_value, 4) }))),
          el("p", {}, el("strong", {}, t("agencies.top1_label")), " ",
            el("span", { "data-testid": "top1", "data-agree": a.top1_agree ? "yes" : "no", class: a.top1_agree ? "ok" : "error" },
              a.top1_agree ? t("agencies.top1_agree", { name: tops[0] })
                : t("agencies.top1_disagree", { own, other: them, a: tops[0], b: tops[1] }))),
          el("p", { "data-testid": "targets" }, t("agencies.targets", {
            own, other: them,
            a: c.own.decision.target_name || t("agencies.no_target"),
            b: c.other.decision.target_name || t("agencies.no_target") })));
        const sides = el("div", { class: "side-by-side" },
          el("section", { class: "side own", "data-testid": "own-side" },
            el("h2", {}, t("agencies.own_title", { agency: own })),
            el("p", { class: "data-of" }, t("agencies.own_data_of", { agency: own })),
            rankingTable(c.own, "own-ranking", t("agencies.own_caption", { agency: own }), minCount)),
          el("section", { class: "side other", "data-testid": "other-side" },
            el("h2", {}, t("agencies.other_title", { agency: them })),
            el("p", { class: "data-of other-data", "data-testid": "other-data-of" }, t("agencies.other_data_of", { agency: them })),
            rankingTable(c.other, "other-ranking", t("agencies.other_caption", { agency: them }), minCount)));
        const list = el("section", { class: "disagreements", "data-testid": "disagreements" },
          el("h2", {}, t("agencies.disagreements_title", { n: fmt.num(c.disagreements.length) })),
          el("p", { class: "muted" }, t("agencies.disagreements_help", { own, other: them, n: fmt.num(minCount) })),
          c.disagreements.length ? c.disagreements.map((d) => disagreement(d, own, them, minCount))
            : el("p", {}, t("agencies.no_disagreements")));
        result.replaceChildren(summary, sides, list);
      }

      await show();
    },
  });
})();
