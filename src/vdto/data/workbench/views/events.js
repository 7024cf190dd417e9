/* Events: the signed-in agency's own events, filtered, counted, paged and downloaded.

   The filters live in the address (#/events?from=...&entity=...), so a reload or a shared link
   shows the same page. The list, its totals and the downloads all come from the same filters:
   /agencies/A/events (a page and the totals), /agencies/A/events/facets (the choices of the
   drop-downs, each counted under the other filters) and /agencies/A/events/download (every
   event the filters select, as CSV or Parquet). Only the agency's own events are ever read. */
"use strict";
(function () {
  const { t, el, api, fmt, download, dataOf, remember, showError } = window.VDTO;

  const FILTERS = ["from", "to", "entity", "municipality", "organization", "category", "source"];
  const KEYS = [...FILTERS, "sort", "limit", "offset"];
  const SIZES = [25, 50, 100, 250];
  const SORTS = [["-date", "events.sort_newest"], ["date", "events.sort_oldest"], ["-deaths", "events.sort_deaths"]];
  const DEFAULTS = { sort: "-date", limit: "50", offset: "0" };

  /** The parameters in a fixed order, empty ones left out (what the address and calls carry). */
  function clean(p) {
    return window.VDTO.pick(p, KEYS);
  }

  function filtersOf(p) {
    const out = {};
    for (const k of FILTERS) if (p[k]) out[k] = p[k];
    return out;
  }

  function queryString(p) {
    return new URLSearchParams(clean(p)).toString();
  }

  /** A download's file name: events-AGENCY-KEY-VALUE....FORMAT (what the server names it too). */
  function fileName(agency, filters, format) {
    const parts = ["events", agency];
    for (const [k, v] of Object.entries(filters)) parts.push(k, v);
    const safe = parts.map((x) => String(x).normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9.-]+/g, "_").replace(/^[_.]+|[_.]+$/g, "") || "_");
    return safe.join("-").slice(0, 180) + "." + format;
  }

  function select(name, label, testid, choices, value) {
    const node = el("select", { name, "data-testid": testid },
      el("option", { value: "" }, t("events.all")),
      choices.map(([v, text]) => el("option", { value: v }, text)));
    if (value && !choices.some(([v]) => v === value)) node.append(el("option", { value }, value));
    node.value = value || "";
    return el("label", {}, el("span", {}, t(label)), node);
  }

  window.VDTO.view("events", {
    async render(root, params, ctx) {
      const agency = ctx.me.agency;
      const base = "/agencies/" + encodeURIComponent(agency) + "/events";
      let p = clean(Object.assign({}, DEFAULTS, params));

      const form = el("form", { class: "filters", "data-testid": "events-filters", autocomplete: "off" });
      const results = el("section", { class: "events-results", "data-testid": "events-results" });
      const totals = el("p", { class: "totals", "data-testid": "events-totals" });
      const table = el("div", { class: "table-wrap", "data-testid": "events-table-wrap" });
      const pager = el("div", { class: "pager" });
      const downloads = el("div", { class: "pager downloads" },
        el("span", { class: "muted" }, t("events.download_help")),
        el("button", { type: "button", class: "secondary", "data-testid": "events-download-csv",
          on: { click: () => save("csv") } }, t("events.download_csv")),
        el("button", { type: "button", class: "secondary", "data-testid": "events-download-parquet",
          on: { click: () => save("parquet") } }, t("events.download_parquet")));
      const status = el("p", { class: "error", role: "alert", "data-testid": "events-download-error", hidden: true });
      results.append(totals, downloads, status, table, pager);
      root.append(el("h1", {}, t("events.title")), dataOf(agency), form, results);

      async function save(format) {
        status.hidden = true;
        const filters = filtersOf(p);
        try {
          await download(base + "/download", Object.assign({}, filters, { sort: p.sort, format }),
            fileName(agency, filters, format));
        } catch (err) {
          status.textContent = err.message;
          status.hidden = false;
        }
      }

      function drawForm(facets, applied) {
        const v = Object.assign({}, filtersOf(p), applied || {});
        const states = facets ? facets.entity.map((s) => [s.code, s.name + " (" + fmt.num(s.events) + ")"]) : [];
        const orgs = facets ? facets.organization.map((o) => [o.id, o.name + " (" + fmt.num(o.events) + ")"]) : [];
        const cats = facets ? facets.category.map((c) => [c.value, c.value + " (" + fmt.num(c.events) + ")"]) : [];
        const sources = facets ? facets.source.map((s) => [s.value, s.value + " (" + fmt.num(s.events) + ")"]) : [];
        const span = facets && facets.first ? { min: facets.first, max: facets.last } : {};
        form.replaceChildren(
          el("label", {}, el("span", {}, t("events.from")),
            el("input", { type: "date", name: "from", value: v.from || "", "data-testid": "events-from", ...span })),
          el("label", {}, el("span", {}, t("events.to")),
            el("input", { type: "date", name: "to", value: v.to || "", "data-testid": "events-to", ...span })),
          select("entity", "events.entity", "events-entity", states, v.entity),
          el("label", {}, el("span", {}, t("events.municipality")),
            el("input", { type: "text", name: "municipality", value: v.municipality || "", inputmode: "numeric",
              maxlength: 5, size: 6, placeholder: "14039", title: t("events.municipality_help"),
              "data-testid": "events-municipality" })),
          select("organization", "events.organization", "events-organization", orgs, v.organization),
          select("category", "events.category", "events-category", cats, v.category),
          select("source", "events.source", "events-source", sources, v.source),
          el("label", {}, el("span", {}, t("events.sort")),
            el("select", { name: "sort", "data-testid": "events-sort" },
              SORTS.map(([s, key]) => el("option", { value: s, selected: s === p.sort }, t(key))))),
          el("label", {}, el("span", {}, t("events.page_size")),
            el("select", { name: "limit", "data-testid": "events-limit" },
              SIZES.map((n) => el("option", { value: String(n), selected: String(n) === p.limit }, fmt.num(n))))),
          el("button", { type: "submit", "data-testid": "events-apply" }, t("core.apply")),
          el("button", { type: "button", class: "secondary", "data-testid": "events-reset",
            on: { click: () => apply(clean(DEFAULTS)) } }, t("events.reset")));
      }

      function drawTable(page) {
        if (!page.events.length) {
          table.replaceChildren(el("p", { class: "muted", "data-testid": "events-empty" }, t("core.none")));
          return;
        }
        const head = el("tr", {},
          el("th", {}, t("events.date")), el("th", {}, t("events.entity")), el("th", {}, t("events.municipality")),
          el("th", {}, t("events.organization")), el("th", {}, t("events.category")), el("th", {}, t("events.source")),
          el("th", { class: "n" }, t("events.deaths")), el("th", { class: "n" }, t("events.deaths_range")),
          el("th", {}, t("events.id")));
        const rows = page.events.map((e) =>
          el("tr", { "data-testid": "event-row", "data-id": e.id },
            el("td", { class: "nowrap" }, e.date_start === e.date_end ? e.date_start : e.date_start + " – " + e.date_end),
            el("td", {}, e.state || "—"),
            el("td", {}, e.municipality ? e.municipality + " (" + e.mun_code + ")" : e.mun_code || "—"),
            el("td", {}, (e.perpetrators || []).map((o) =>
              el("div", {}, o.name + " ", el("span", { class: "muted" }, fmt.pct(o.probability))))),
            el("td", {}, e.category),
            el("td", {}, e.source),
            el("td", { class: "n" }, fmt.num(e.deaths_best)),
            el("td", { class: "n" }, fmt.interval(e.deaths_low, e.deaths_high)),
            el("td", { class: "nowrap" }, e.source_id)));
        table.replaceChildren(el("table", { class: "grid", "data-testid": "events-table" },
          el("thead", {}, head), el("tbody", {}, rows)));
      }

      function drawPager(page) {
        const first = page.total ? page.offset + 1 : 0;
        const last = Math.min(page.offset + page.events.length, page.total);
        const prev = Math.max(0, page.offset - page.limit);
        const next = page.offset + page.limit;
        pager.replaceChildren(
          el("button", { type: "button", class: "secondary", "data-testid": "events-prev", disabled: page.offset <= 0,
            on: { click: () => apply(Object.assign({}, p, { offset: String(prev) })) } }, t("events.prev")),
          el("span", { "data-testid": "events-range" },
            t("events.range", { first: fmt.num(first), last: fmt.num(last), total: fmt.num(page.total) })),
          el("button", { type: "button", class: "secondary", "data-testid": "events-next",
            disabled: next >= page.total,
            on: { click: () => apply(Object.assign({}, p, { offset: String(next) })) } }, t("events.next")));
      }

      let seq = 0;
      async function refresh() {
        const mine = ++seq;
        results.removeAttribute("data-ready");
        results.setAttribute("aria-busy", "true");
        const filters = filtersOf(p);
        try {
          const [page, facets] = await Promise.all([
            api(base, { query: Object.assign({}, filters, { sort: p.sort, limit: p.limit, offset: p.offset }) }),
            api(base + "/facets", { query: filters }),
          ]);
          if (mine !== seq || !ctx.ticket()) return;
          drawForm(facets, page.filters);
          totals.replaceChildren(
            t("events.totals", { events: fmt.num(page.total), deaths: fmt.num(page.deaths) }));
          totals.dataset.total = String(page.total);
          totals.dataset.deaths = String(page.deaths);
          downloads.hidden = page.total === 0;
          drawTable(page);
          drawPager(page);
        } catch (err) {
          if (mine !== seq || !ctx.ticket()) return;
          drawForm(null, null);
          totals.replaceChildren();
          delete totals.dataset.total;
          delete totals.dataset.deaths;
          table.replaceChildren();
          pager.replaceChildren();
          downloads.hidden = true;
          showError(table, err);
        }
        results.dataset.query = queryString(p);
        results.removeAttribute("aria-busy");
        results.dataset.ready = "yes";
      }

      function apply(next) {
        p = clean(Object.assign({}, DEFAULTS, next));
        remember("events", p);
        return refresh();
      }

      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        const data = Object.fromEntries(new FormData(form).entries());
        apply(Object.assign({}, data, { offset: "0" }));
      });

      drawForm(null, null);
      await refresh();
    },
  });
})();
