/* Persons: focused deterrence on people, for the analysts of the owning agency only.

   The list (POST /agencies/A/persons/list): the decisions (is a top person, a top cell, named?),
   the top cells and persons of the target with their expected score in score points, 90% interval
   and P(rank 1), and a person's evidence on click; the group audit (POST .../persons/audit:
   components, brokers, ties between cells, succession risk, BACRIM 2020 allies and rivals); and
   the list's files (POST .../persons/export, csv or i2, zipped). Every person endpoint is a POST,
   audited even when it only reads, and refused (403) to every token but an analyst of the agency:
   the page shows the API's one line. Persons appear by pseudonym only; nothing here is published.
   The window, target or region, top N and draws live in the address (never a pseudonym). */
"use strict";
(function () {
  const { t, el, api, download, fmt, dataOf, remember, loadInto, pick } = window.VDTO;

  const DEFAULTS = { from: "2021-01-01", to: "2021-12-31", top: "20", draws: "1000" };
  const KEYS = ["from", "to", "target", "region", "top", "draws"];
  const AUDIT_ROWS = 20;

  function pts(x, digits) {
    return t("persons.points", { n: fmt.num(x, digits === undefined ? 1 : digits) });
  }

  function interval(lo, hi) {
    return t("persons.interval_text", { lo: fmt.num(lo, 1), hi: fmt.num(hi, 1) });
  }

  function yesNo(b) {
    return b ? t("persons.yes") : t("persons.no");
  }

  function word(prefix, value) {
    const key = prefix + value;
    const got = t(key);
    return got === key ? String(value) : got;
  }

  function role(r) {
    return r === null || r === undefined || r === "" ? "—" : word("persons.role_", r);
  }

  function kind(k) {
    return word("persons.kind_", k);
  }

  function risk(r) {
    const words = { contested: t("persons.risk_contested"), "clear successor": t("persons.risk_clear"),
      "no successor": t("persons.risk_none") };
    return words[r] || r;
  }

  /** A table: `cols` = [[header, cell(row), numeric?], ...]. */
  function grid(testid, cols, rows, rowAttrs) {
    const head = el("tr", {}, cols.map(([h, , n]) => el("th", { class: n ? "n" : null }, h)));
    const body = rows.map((r) => el("tr", Object.assign({ "data-testid": testid + "-row" }, rowAttrs ? rowAttrs(r) : {}),
      cols.map(([, cell, n, id]) => el("td", { class: n ? "n nowrap" : null, "data-testid": id || null }, cell(r)))));
    return el("div", { class: "table-wrap" },
      el("table", { class: "grid persons-table", "data-testid": testid }, el("thead", {}, head), el("tbody", {}, body)));
  }

  function some(rows, n) {
    return rows.length > n ? el("p", { class: "muted" }, t("persons.first_rows", { n: fmt.num(n), total: fmt.num(rows.length) })) : null;
  }

  /** The naming rule's outcome for one level (persons or cells), in words. */
  function decisionLine(level, answer, rows, label) {
    const key = Object.keys(answer.decisions || {}).find((k) => k === level || k.startsWith(level + ":"));
    const what = t("persons.level_" + level);
    const threshold = fmt.pct(answer.threshold);
    if (!key) return t("persons.decision_none", { what });
    const named = rows.find((r) => r.named);
    if (named) {
      return t("persons.decision_named", { what, unit: label(named), p: fmt.pct(named.p_rank1, 1), threshold });
    }
    const m = /P\(rank 1\)(?: =| is) (\d+(?:\.\d+)?)/.exec(answer.decisions[key]);
    const best = m ? Number(m[1]) : Math.max(0, ...rows.map((r) => Number(r.p_rank1) || 0));
    return t("persons.decision_not_named", { what, p: fmt.pct(best, 1), threshold });
  }

  function chosenWords(how) {
    if (how === "asked") return t("persons.chosen_asked");
    if (how === "ranking") return t("persons.chosen_ranking");
    const m = /^round (.+)$/.exec(how || "");
    return m ? t("persons.chosen_round", { round: m[1] }) : String(how);
  }

  function targetWords(target) {
    const what = target.kind === "region" ? t("persons.target_region", { code: target.value })
      : target.label + (target.value && target.value !== target.label ? " (" + target.value + ")" : "");
    return t("persons.target_line", { target: what, how: chosenWords(target.chosen_by) });
  }

  function metaLine(answer) {
    const m = answer.meta || {};
    return t("persons.meta", { agency: answer.agency, from: m.from || "—", to: m.to || "—", rubric: m.rubric || "—",
      draws: fmt.num(m.draws), seed: m.seed });
  }

  function excludedLine(excluded) {
    const parts = Object.entries(excluded || {}).filter(([, n]) => n > 0).map(([why, n]) => {
      const words = { "outside the window": t("persons.excluded_outside"),
        "no membership on the event's date": t("persons.excluded_no_membership"),
        "event not attributed to the cell's organization": t("persons.excluded_not_attributed") };
      return (words[why] || why) + ": " + fmt.num(n);
    });
    return parts.length ? el("p", { class: "muted", "data-testid": "persons-excluded" },
      t("persons.excluded", { list: parts.join("; ") })) : null;
  }

  function cellsTable(cells) {
    return grid("persons-cells", [
      [t("persons.rank"), (r) => fmt.num(r.rank), true],
      [t("persons.cell"), (r) => r.cell + (r.name ? " · " + r.name : "")],
      [t("persons.organization"), (r) => r.org],
      [t("persons.region"), (r) => r.region || "—"],
      [t("persons.members"), (r) => fmt.num(r.members), true],
      [t("persons.events"), (r) => fmt.num(r.events, 1), true],
      [t("persons.score"), (r) => pts(r.score), true, "score"],
      [t("persons.interval"), (r) => interval(r.lo90, r.hi90), true, "interval"],
      [t("persons.p_rank1"), (r) => fmt.pct(r.p_rank1, 1), true, "p-rank1"],
      [t("persons.named"), (r) => yesNo(r.named)],
    ], cells);
  }

  function evidenceBox(box, person, evidence) {
    const rows = evidence.filter((e) => e.person === person.person);
    const total = rows.reduce((s, e) => s + (Number(e.contribution) || 0), 0);
    box.hidden = false;
    box.setAttribute("data-person", person.person);
    box.setAttribute("data-count", rows.length);
    box.replaceChildren(
      el("h2", {}, t("persons.evidence_title", { person: person.person })),
      el("p", { "data-testid": "evidence-count" }, t("persons.evidence_count", { n: fmt.num(rows.length), total: pts(total, 2) })),
      el("p", { class: "muted" }, t("persons.evidence_help")),
      grid("evidence", [
        [t("persons.event"), (e) => e.event_id],
        [t("persons.date"), (e) => e.date],
        [t("persons.cell"), (e) => e.cell],
        [t("persons.weight"), (e) => pts(e.weight, 2), true],
        [t("persons.prob"), (e) => fmt.pct(e.prob, 1), true],
        [t("persons.kind"), (e) => kind(e.kind)],
        [t("persons.confidence"), (e) => fmt.pct(e.confidence, 1), true],
        [t("persons.contribution"), (e) => pts(e.contribution, 2), true],
      ], rows));
  }

  function personsTable(persons, evidence, box) {
    let chosen = null;
    const table = grid("persons-persons", [
      [t("persons.rank"), (r) => fmt.num(r.rank), true],
      [t("persons.pseudonym"), (r) => el("button", { type: "button", class: "link", "data-testid": "person-link",
        title: t("persons.show_evidence"), on: { click: (ev) => {
          if (chosen) chosen.classList.remove("chosen");
          chosen = ev.target.closest("tr");
          chosen.classList.add("chosen");
          evidenceBox(box, r, evidence);
        } } }, r.person), false, "pseudonym"],
      [t("persons.cells"), (r) => r.cells || r.cell || "—"],
      [t("persons.role"), (r) => role(r.role)],
      [t("persons.score"), (r) => pts(r.score), true, "score"],
      [t("persons.interval"), (r) => interval(r.lo90, r.hi90), true, "interval"],
      [t("persons.p_rank1"), (r) => fmt.pct(r.p_rank1, 1), true, "p-rank1"],
      [t("persons.named"), (r) => yesNo(r.named)],
    ], persons, (r) => ({ "data-person": r.person }));
    return table;
  }

  function listOf(names, testid) {
    return el("p", { "data-testid": testid }, names && names.length ? names.join(", ") : t("core.none"));
  }

  function auditView(box, a) {
    const firsts = (a.succession || []).filter((r) => Number(r.rank) === 1 || r.candidate === null || r.candidate === undefined);
    const brokers = (a.brokers || []).slice(0, AUDIT_ROWS);
    const comps = (a.components || []).slice(0, AUDIT_ROWS);
    const ties = (a.cell_ties || []).slice(0, AUDIT_ROWS);
    box.replaceChildren(...[
      el("h2", {}, t("persons.audit_title")),
      el("p", { class: "muted", "data-testid": "audit-target" }, targetWords(Object.assign({}, a.target))),
      el("h3", {}, t("persons.components")),
      el("p", { class: "muted" }, t("persons.components_help")),
      grid("audit-components", [
        [t("persons.component"), (r) => fmt.num(r.component), true],
        [t("persons.persons_n"), (r) => fmt.num(r.persons), true],
        [t("persons.cells_n"), (r) => fmt.num(r.cells), true],
        [t("persons.ties"), (r) => fmt.num(r.ties), true],
      ], comps), some(a.components || [], AUDIT_ROWS),
      el("h3", {}, t("persons.brokers")),
      el("p", { class: "muted", "data-testid": "betweenness-method" }, a.betweenness_method === "exact"
        ? t("persons.betweenness_exact") : t("persons.betweenness_approx")),
      grid("audit-brokers", [
        [t("persons.rank"), (r) => fmt.num(r.rank), true],
        [t("persons.pseudonym"), (r) => r.person],
        [t("persons.cell"), (r) => r.cell],
        [t("persons.role"), (r) => role(r.role)],
        [t("persons.betweenness"), (r) => fmt.num(r.betweenness, 4), true],
        [t("persons.cross_cell"), (r) => fmt.num(r.cross_cell), true],
        [t("persons.articulation"), (r) => yesNo(r.articulation)],
      ], brokers), some(a.brokers || [], AUDIT_ROWS),
      el("h3", {}, t("persons.cell_ties")),
      grid("audit-cell-ties", [
        [t("persons.cell_a"), (r) => r.cell_a],
        [t("persons.cell_b"), (r) => r.cell_b],
        [t("persons.ties"), (r) => fmt.num(r.ties), true],
        [t("persons.tie_weight"), (r) => fmt.num(r.weight, 1), true],
      ], ties), some(a.cell_ties || [], AUDIT_ROWS),
      el("h3", {}, t("persons.succession")),
      el("p", { class: "muted" }, t("persons.succession_help")),
      grid("succession", [
        [t("persons.cell"), (r) => r.cell],
        [t("persons.leader"), (r) => r.leader],
        [t("persons.candidate"), (r) => r.candidate || "—"],
        [t("persons.role"), (r) => role(r.role)],
        [t("persons.fragments"), (r) => fmt.num(r.fragments), true],
        [t("persons.risk"), (r) => risk(r.risk), false, "risk"],
      ], firsts),
      el("h3", {}, t("persons.allies")),
      listOf(a.allies, "audit-allies"),
      el("h3", {}, t("persons.rivals")),
      listOf(a.rivals, "audit-rivals"),
      el("p", { class: "muted" }, t("persons.relations_source"))].filter(Boolean));
    box.setAttribute("data-loaded", "yes");
  }

  window.VDTO.view("persons", {
    async render(root, params, ctx) {
      const agency = ctx.me.agency;
      const base = "/agencies/" + encodeURIComponent(agency) + "/persons/";
      const asked = pick(params, KEYS);
      let p = pick(Object.assign({}, DEFAULTS, params), KEYS);

      const input = (name, attrs) => el("input", Object.assign({ name, value: p[name] || "", "data-testid": "persons-" + name }, attrs));
      const from = input("from", { type: "date", required: true });
      const to = input("to", { type: "date", required: true });
      const target = input("target", { type: "text", placeholder: t("persons.target_placeholder"), maxlength: 200, spellcheck: "false" });
      const region = input("region", { type: "text", pattern: "\\d{2}|\\d{5}", inputmode: "numeric", maxlength: 5,
        placeholder: t("persons.region_placeholder") });
      const top = input("top", { type: "number", min: 1, max: 1000, step: 1, required: true });
      const draws = input("draws", { type: "number", min: 1, max: 10000, step: 1, required: true });
      const run = el("button", { type: "submit", "data-testid": "persons-run" }, t("persons.run"));
      const form = el("form", { class: "filters", "data-testid": "persons-form", autocomplete: "off" },
        el("label", {}, el("span", {}, t("persons.from")), from),
        el("label", {}, el("span", {}, t("persons.to")), to),
        el("label", {}, el("span", {}, t("persons.target")), target),
        el("label", {}, el("span", {}, t("persons.region_code")), region),
        el("label", {}, el("span", {}, t("persons.top")), top),
        el("label", {}, el("span", {}, t("persons.draws")), draws),
        run);
      const result = el("section", { class: "persons-result", "data-testid": "persons-result" });
      root.append(el("h1", {}, t("persons.title")), dataOf(agency),
        el("div", { class: "persons-warning", role: "note", "data-testid": "persons-warning" },
          el("strong", {}, t("persons.warning_title")), " ", t("persons.warning")),
        el("p", { class: "muted" }, t("persons.help")), form, result);

      function body(extra) {
        return Object.assign({ from: p.from || null, to: p.to || null, target: p.target || null, region: p.region || null,
          draws: Number(p.draws) || 1000 }, extra);
      }

      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        p = pick({ from: from.value, to: to.value, target: target.value, region: region.value, top: top.value,
          draws: draws.value }, KEYS);
        remember("persons", p);
        show();
      });

      async function show() {
        run.disabled = true;
        result.removeAttribute("data-loaded");
        const n = Number(p.top) || 20;
        let answer;
        try {
          answer = await loadInto(result, () => api(base + "list", { method: "POST", json: body({ top: n }) }));
        } finally {
          run.disabled = false;
        }
        if (answer === null || !ctx.ticket()) return;
        const shown = body({ top: n });
        const evidence = answer.evidence || [];
        const box = el("section", { class: "panel persons-evidence", "data-testid": "person-evidence", hidden: true });
        const auditBox = el("section", { class: "persons-audit", "data-testid": "persons-audit" });
        const line = el("p", { class: "error", "data-testid": "export-error", role: "alert", hidden: true });
        const exportButton = (format) => {
          const b = el("button", { type: "button", class: "secondary", "data-testid": "persons-export-" + format },
            t("persons.export_" + format));
          b.addEventListener("click", async () => {
            b.disabled = true;
            line.hidden = true;
            try {
              await download(base + "export", null, "persons-" + agency + "-" + format + ".zip",
                { method: "POST", json: Object.assign({}, shown, { format }) });
            } catch (err) {
              line.textContent = err.message;
              line.hidden = false;
            } finally {
              b.disabled = false;
            }
          });
          return b;
        };
        const auditButton = el("button", { type: "button", "data-testid": "persons-audit-run" }, t("persons.audit_run"));
        auditButton.addEventListener("click", async () => {
          auditButton.disabled = true;
          auditBox.removeAttribute("data-loaded");
          try {
            const a = await loadInto(auditBox, () => api(base + "audit", { method: "POST", json: Object.assign({}, shown, { top: undefined }) }));
            if (a !== null) auditView(auditBox, a);
          } finally {
            auditButton.disabled = false;
          }
        });
        const target0 = Object.assign({}, answer.target);
        result.replaceChildren(...[
          el("p", { "data-testid": "persons-target-line" }, targetWords(target0)),
          el("p", { class: "muted", "data-testid": "persons-meta" }, metaLine(answer)),
          el("div", { class: "panel decision persons-decisions", "data-testid": "persons-decisions" },
            el("h2", {}, t("persons.decisions")),
            el("p", { "data-testid": "decision-persons" }, decisionLine("persons", answer, answer.persons || [], (r) => r.person)),
            el("p", { "data-testid": "decision-cells" }, decisionLine("cells", answer, answer.cells || [], (r) => r.cell)),
            el("p", { class: "muted" }, t("persons.naming_rule", { threshold: fmt.pct(answer.threshold) }))),
          excludedLine(answer.excluded_links),
          el("p", { class: "muted" }, t("persons.units")),
          el("div", { class: "persons-actions" }, auditButton, " ", exportButton("csv"), " ", exportButton("i2"), line),
          el("h2", {}, t("persons.top_cells", { n: fmt.num((answer.cells || []).length) })),
          (answer.cells || []).length ? cellsTable(answer.cells) : el("p", {}, t("core.none")),
          el("h2", {}, t("persons.top_persons", { n: fmt.num((answer.persons || []).length) })),
          (answer.persons || []).length ? personsTable(answer.persons, evidence, box) : el("p", {}, t("core.none")),
          el("p", { class: "muted" }, t("persons.click_help")),
          box, auditBox].filter(Boolean));
        result.setAttribute("data-loaded", "yes");
      }

      // a reload, or a link with the parameters in it, shows the list again (audited as any view)
      if (Object.keys(asked).length) await show();
    },
  });
})();
