/* Ranking: the signed-in agency's ranking of a window under a shipped rubric, with intervals,
   P(rank 1), the decision in words, the margins, and a what-if (an organization cuts its violence
   by x%) recomputed on the same draws.

   Everything comes from POST /agencies/A/ranking (the service the CLI's `vdto rank` uses); the
   rubrics from GET /rubrics. The window, rubric, draws and the what-if live in the address
   (#/ranking?from=...&to=...&org=cjng&cut=80), so a reload or a shared link shows the same page.
   Only the agency's own data is scored. */
"use strict";
(function () {
  const { t, el, api, fmt, dataOf, remember, showError, loadInto } = window.VDTO;

  const DEFAULTS = { from: "2021-01-01", to: "2021-12-31", rubric: "default-v1", draws: "1000" };
  const KEYS = ["from", "to", "rubric", "draws", "org", "cut"];

  function clean(p) {
    return window.VDTO.pick(p, KEYS);
  }

  function pts(x) {
    return t("ranking.points", { n: fmt.num(x, 1) });
  }

  /** The 90% interval as a bar on a common scale (0 to `max`), with the expected score marked. */
  function intervalBar(row, max) {
    const at = (x) => (max > 0 ? Math.max(0, Math.min(100, (100 * x) / max)) : 0);
    const lo = at(row.lo90);
    const hi = at(row.hi90);
    return el("div", { class: "interval", title: t("ranking.interval_title", { lo: fmt.num(row.lo90, 1), hi: fmt.num(row.hi90, 1) }) },
      el("span", { style: `left:${lo}%;width:${Math.max(hi - lo, 0.5)}%` }),
      el("i", { class: "tick", style: `left:${at(row.score)}%` }));
  }

  function eventsCell(n, minCount) {
    return n === null || n === undefined ? "<" + fmt.num(minCount) : fmt.num(n, 1);
  }

  /** The ranking table; `before` adds the rank each organization had before the what-if. */
  function table(rows, minCount, testid, before) {
    const max = Math.max(0, ...rows.map((r) => Number(r.hi90) || 0));
    const head = el("tr", {},
      el("th", { class: "n" }, t("ranking.rank")),
      before ? el("th", { class: "n" }, t("ranking.rank_before")) : null,
      el("th", {}, t("ranking.organization")),
      el("th", { class: "n" }, t("ranking.score")),
      el("th", {}, t("ranking.interval")),
      el("th", { class: "n" }, t("ranking.p_rank1")),
      el("th", { class: "n" }, t("ranking.events")));
    const body = rows.map((r) =>
      el("tr", { "data-testid": testid + "-row", "data-org": r.org },
        el("td", { class: "n" }, fmt.num(r.rank)),
        before ? el("td", { class: "n", "data-testid": "rank-before" }, moved(r)) : null,
        el("td", { "data-testid": "org-name" }, r.name, " ", el("span", { class: "muted" }, "(" + r.org + ")")),
        el("td", { class: "n nowrap", "data-testid": "score" }, pts(r.score)),
        el("td", { class: "nowrap" }, intervalBar(r, max),
          el("span", { class: "muted small" }, fmt.interval(r.lo90, r.hi90, 1))),
        el("td", { class: "n", "data-testid": "p-rank1" }, fmt.pct(r.p_rank1)),
        el("td", { class: "n" }, eventsCell(r.events, minCount))));
    return el("div", { class: "table-wrap" },
      el("table", { class: "grid ranking-table", "data-testid": testid }, el("thead", {}, head), el("tbody", {}, body)));
  }

  function moved(r) {
    if (r.rank_before === r.rank) return fmt.num(r.rank_before);
    const arrow = r.rank_before > r.rank ? "↑" : "↓";
    return fmt.num(r.rank_before) + " " + arrow;
  }

  /** The decision in words (from the facts the API gives; the API's English reason is the same). */
  function decisionWords(d) {
    if (d.why === "no_events") return [t("ranking.no_events")];
    const lines = [];
    if (d.named) {
      lines.push(t("ranking.named", { name: d.target_name, p: fmt.pct(d.p_rank1, 1), threshold: fmt.pct(d.threshold) }));
    } else {
      lines.push(t("ranking.not_named", { name: d.leader.name, p: fmt.pct(d.leader.p_rank1, 1), threshold: fmt.pct(d.threshold) }));
      if (d.rival) {
        lines.push(t("ranking.rival", { name: d.rival.name, p: fmt.pct(d.rival.p_rank1, 1),
          lo: fmt.num(d.rival.lo90, 1), hi: fmt.num(d.rival.hi90, 1),
          llo: fmt.num(d.leader.lo90, 1), lhi: fmt.num(d.leader.hi90, 1) }));
      }
    }
    if (d.runner_up && d.gap !== null) {
      lines.push(t("ranking.margin", { leader: d.leader.name, runner: d.runner_up.name, gap: pts(d.gap),
        cut: fmt.pct(d.cut_to_lose_first) }));
    }
    return lines;
  }

  function decisionBox(d, manipulation) {
    const box = el("div", { class: "panel decision " + (d.named ? "named" : "not-named"), "data-testid": "decision" },
      el("h2", {}, d.named ? t("ranking.decision_named") : t("ranking.decision_not_named")),
      decisionWords(d).map((line) => el("p", {}, line)));
    if (!d.named && d.why !== "no_events") {
      box.append(el("p", {}, t("ranking.fallback"), " ", el("a", { href: "#/regions" }, t("ranking.fallback_link"))));
    }
    if (manipulation && d.runner_up) {
      const n = manipulation.events_to_change_top;
      box.append(el("p", { class: "muted", "data-testid": "manipulation" }, n > 0
        ? t("ranking.manipulation", { n: fmt.num(n), w: pts(manipulation.weight_moved), runner: d.runner_up.name })
        : t("ranking.manipulation_none")));
    }
    return box;
  }

  function whatIfWords(w) {
    const d = w.decision;
    const vars = { org: w.name, cut: fmt.pct(w.cut / 100) };
    if (!w.decision_changed) {
      return d.named ? t("ranking.what_if_same", Object.assign(vars, { name: d.target_name }))
        : t("ranking.what_if_still_none", vars);
    }
    if (d.named) return t("ranking.what_if_new_target", Object.assign(vars, { name: d.target_name, p: fmt.pct(d.p_rank1, 1) }));
    return t("ranking.what_if_no_target", Object.assign(vars, { name: d.leader ? d.leader.name : "—",
      p: d.leader ? fmt.pct(d.leader.p_rank1, 1) : "—" }));
  }

  window.VDTO.view("ranking", {
    async render(root, params, ctx) {
      const agency = ctx.me.agency;
      const path = "/agencies/" + encodeURIComponent(agency) + "/ranking";
      let p = clean(Object.assign({}, DEFAULTS, params));

      const rubricSelect = el("select", { name: "rubric", "data-testid": "ranking-rubric" });
      const from = el("input", { type: "date", name: "from", value: p.from, "data-testid": "ranking-from", required: true });
      const to = el("input", { type: "date", name: "to", value: p.to, "data-testid": "ranking-to", required: true });
      const draws = el("input", { type: "number", name: "draws", min: 1, max: 10000, step: 1, value: p.draws,
        "data-testid": "ranking-draws" });
      const form = el("form", { class: "filters", "data-testid": "ranking-form", autocomplete: "off" },
        el("label", {}, el("span", {}, t("ranking.from")), from),
        el("label", {}, el("span", {}, t("ranking.to")), to),
        el("label", {}, el("span", {}, t("ranking.rubric")), rubricSelect),
        el("label", {}, el("span", {}, t("ranking.draws")), draws),
        el("button", { type: "submit", "data-testid": "rank" }, t("ranking.rank_button")));
      const result = el("section", { class: "ranking-result", "data-testid": "ranking-result" });
      root.append(el("h1", {}, t("ranking.title")), dataOf(agency),
        el("p", { class: "muted" }, t("ranking.help")), form, result);

      const rubrics = await api("/rubrics");
      for (const r of rubrics) {
        rubricSelect.append(el("option", { value: r.name }, t("ranking.rubric_option", { name: r.name, version: r.version,
          threshold: fmt.pct(r.threshold) })));
      }
      if (!rubrics.some((r) => r.name === p.rubric)) rubricSelect.append(el("option", { value: p.rubric }, p.rubric));
      rubricSelect.value = p.rubric;

      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        p = clean({ from: from.value, to: to.value, rubric: rubricSelect.value, draws: draws.value, org: p.org, cut: p.cut });
        remember("ranking", p);
        show();
      });

      function body(extra) {
        return Object.assign({ from: p.from || null, to: p.to || null, rubric: p.rubric, draws: Number(p.draws) || 1000 }, extra);
      }

      async function show() {
        const answer = await loadInto(result, () => api(path, { method: "POST", json: body() }));
        if (answer === null) return;
        const card = answer.scorecard;
        const minCount = card.meta.min_count;
        const rows = card.ranking;
        result.replaceChildren(
          el("p", { class: "muted", "data-testid": "ranking-meta" }, t("ranking.meta", {
            agency: answer.agency, from: card.meta.from, to: card.meta.to, rubric: card.meta.rubric,
            draws: fmt.num(card.meta.draws), seed: card.meta.seed, events: fmt.num(card.meta.events) })),
          decisionBox(answer.decision, answer.manipulation));
        if (!rows.length) {
          result.append(el("p", {}, t("core.none")));
          return;
        }
        result.append(el("h2", {}, t("ranking.table_title")), el("p", { class: "muted" }, t("ranking.units")),
          table(rows, minCount, "ranking-table"));
        result.append(whatIfPanel(rows, minCount));
      }

      function whatIfPanel(rows, minCount) {
        const org = p.org && rows.some((r) => r.org === p.org) ? p.org : rows[0].org;
        const cut = Math.max(0, Math.min(100, Number(p.cut) || 0));
        const select = el("select", { name: "org", "data-testid": "what-if-org" },
          rows.map((r) => el("option", { value: r.org }, r.name)));
        select.value = org;
        const slider = el("input", { type: "range", min: 0, max: 100, step: 1, value: cut, name: "cut",
          "data-testid": "what-if-cut", "aria-label": t("ranking.what_if_cut") });
        const shown = el("output", { "data-testid": "what-if-cut-value" }, fmt.pct(cut / 100));
        const out = el("div", { class: "what-if-result", "data-testid": "what-if-result" });
        const button = el("button", { type: "button", "data-testid": "what-if-run" }, t("ranking.recompute"));
        const panel = el("section", { class: "panel what-if", "data-testid": "what-if" },
          el("h2", {}, t("ranking.what_if_title")),
          el("p", { class: "muted" }, t("ranking.what_if_help")),
          el("div", { class: "filters" },
            el("label", {}, el("span", {}, t("ranking.what_if_org")), select),
            el("label", { class: "cut" }, el("span", {}, t("ranking.what_if_cut")),
              el("span", { class: "slider" }, slider, shown)),
            button),
          out);
        let asked = 0;
        async function recompute() {
          const ticket = ++asked;
          const wanted = { organization: select.value, cut: Number(slider.value) };
          p = clean(Object.assign({}, p, { org: wanted.organization, cut: String(wanted.cut) }));
          remember("ranking", p);
          out.setAttribute("aria-busy", "true");
          out.removeAttribute("data-for");
          let answer;
          try {
            answer = await api(path, { method: "POST", json: body({ what_if: wanted }) });
          } catch (err) {
            if (ticket !== asked) return;
            out.removeAttribute("aria-busy");
            out.replaceChildren();
            showError(out, err);
            return;
          }
          if (ticket !== asked) return;
          const w = answer.what_if;
          out.removeAttribute("aria-busy");
          out.setAttribute("data-for", w.organization + ":" + w.cut);
          out.replaceChildren(
            el("p", { class: "what-if-words " + (w.decision_changed ? "changed" : "same"), "data-testid": "what-if-decision" },
              whatIfWords(w)),
            el("div", { class: "panel decision " + (w.decision.named ? "named" : "not-named") },
              decisionWords(w.decision).map((line) => el("p", {}, line))),
            table(w.ranking, minCount, "what-if-table", true));
        }
        slider.addEventListener("input", () => { shown.textContent = fmt.pct(Number(slider.value) / 100); });
        slider.addEventListener("change", recompute);
        select.addEventListener("change", recompute);
        button.addEventListener("click", recompute);
        if (p.org && p.cut !== undefined) recompute();
        return panel;
      }

      await show();
    },
  });
})();
