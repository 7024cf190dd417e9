/* Regions: a map of the agency's states or municipalities (Leaflet over the bundled borders, no
   tile server: the page draws only GET /public/geography/{level} on a plain background), coloured
   by score, events, rate or Gi* hot-spot class from GET /agencies/{agency}/regions (the analysis
   of `vdto hotspots`, on the agency's own events). Clicking a region (or a row of the table under
   the map) opens its panel: its organizations and a page of the agency's own events in it
   (GET /agencies/{agency}/regions/{code}). The address keeps level, year, layer and region. */
"use strict";
(function () {
  const { t, el, api, fmt, dataOf, go, remember } = window.VDTO;

  const LEVELS = ["state", "municipality"];
  const LAYERS = ["score", "events", "rate", "hotspot"];
  const FIRST_YEAR = 1989;
  const DEFAULT_YEAR = 2021;
  const ZERO = "#e6e6e6";
  const BLANK = "#ffffff";
  const RAMP = ["#dadaeb", "#bcbddc", "#9e9ac8", "#756bb1", "#54278f"];
  const HOT = [
    { key: "hot99", color: "#a50f15" },
    { key: "hot95", color: "#ef6548" },
    { key: "none", color: "#eeeeee" },
    { key: "cold95", color: "#6baed6" },
    { key: "cold99", color: "#08519c" },
    { key: "untested", color: BLANK },
  ];
  const geometry = {};  // level -> GeoJSON (the server's ETag lets the browser revalidate it)
  let current = null;  // the Leaflet map on the page (removed before the view is drawn again)

  function settings(p) {
    const year = Number.parseInt(p.year, 10);
    const now = new Date().getFullYear();
    return {
      level: LEVELS.includes(p.level) ? p.level : "state",
      year: year >= FIRST_YEAR && year <= now ? year : DEFAULT_YEAR,
      layer: LAYERS.includes(p.layer) ? p.layer : "score",
      region: /^\d{2}(\d{3})?$/.test(p.region || "") ? p.region : "",
    };
  }

  function address(s) {
    return { level: s.level, year: s.year, layer: s.layer, region: s.region || null };
  }

  async function borders(level) {
    if (!geometry[level]) geometry[level] = await api("/public/geography/" + level);
    return geometry[level];
  }

  /** The hot-spot class of a region, with its confidence (p <= 0.01 or the analysis's alpha). */
  function hotClass(r) {
    if (!r || r.hotspot === "not tested" || r.gi_p === null) return "untested";
    const strong = r.gi_p <= 0.01;
    if (r.hotspot === "hot spot") return strong ? "hot99" : "hot95";
    if (r.hotspot === "cold spot") return strong ? "cold99" : "cold95";
    return "none";
  }

  function valueOf(r, layer) {
    if (!r) return 0;
    return layer === "score" ? r.score : layer === "events" ? r.events : r.rate;
  }

  /** Five classes over the positive values (quantile breaks, so a few violent regions do not
      leave every other one in the palest class); zero and no figure apart. */
  function breaks(values) {
    const positive = values.filter((v) => v !== null && v > 0).sort((a, b) => a - b);
    if (!positive.length) return [];
    const out = [];
    for (let i = 1; i <= RAMP.length; i += 1) {
      const v = positive[Math.min(positive.length - 1, Math.ceil((i / RAMP.length) * positive.length) - 1)];
      if (!out.length || v > out[out.length - 1]) out.push(v);
    }
    return out;
  }

  function colour(v, cuts) {
    if (v === null || v === undefined) return BLANK;
    if (v <= 0) return ZERO;
    const i = cuts.findIndex((c) => v <= c);
    const shift = RAMP.length - cuts.length;
    return RAMP[shift + (i < 0 ? cuts.length - 1 : i)];
  }

  function digits(layer) {
    return layer === "events" ? 0 : layer === "rate" ? 2 : 1;
  }

  function unit(layer) {
    return { score: t("regions.unit_score"), events: t("regions.unit_events"), rate: t("regions.unit_rate") }[layer];
  }

  function layerWord(layer) {
    return { score: t("regions.layer_score"), events: t("regions.layer_events"), rate: t("regions.layer_rate"),
      hotspot: t("regions.layer_hotspot") }[layer];
  }

  function levelWord(level) {
    return level === "state" ? t("regions.level_state") : t("regions.level_municipality");
  }

  function hotWord(key) {
    return { hot99: t("regions.hot_hot99"), hot95: t("regions.hot_hot95"), none: t("regions.hot_none"),
      cold95: t("regions.hot_cold95"), cold99: t("regions.hot_cold99"), untested: t("regions.hot_untested") }[key];
  }

  function legend(layer, cuts) {
    const box = el("div", { class: "legend region-legend", "data-testid": "region-legend" });
    if (layer === "hotspot") {
      box.append(el("strong", {}, t("regions.layer_hotspot")), el("br"));
      for (const h of HOT.filter((x) => x.key !== "untested")) {  // a region without a polygon is not drawn
        box.append(el("span", { class: "item" }, el("i", { style: "background:" + h.color }), hotWord(h.key)), el("br"));
      }
      return box;
    }
    box.append(el("strong", {}, layerWord(layer)), el("br"), el("span", { class: "unit" }, unit(layer)), el("br"));
    const shift = RAMP.length - cuts.length;
    let lo = 0;
    cuts.forEach((c, i) => {
      const range = (i === 0 ? "> 0" : "> " + fmt.num(lo, digits(layer))) + " – " + fmt.num(c, digits(layer));
      box.append(el("span", { class: "item" }, el("i", { style: "background:" + RAMP[shift + i] }), range), el("br"));
      lo = c;
    });
    box.append(el("span", { class: "item" }, el("i", { style: "background:" + ZERO }), t("regions.zero")), el("br"));
    if (layer === "rate") {
      box.append(el("span", { class: "item" }, el("i", { style: "background:" + BLANK }), t("regions.no_population")));
    }
    return box;
  }

  function tip(f, r, layer) {
    const lines = [el("strong", {}, f.properties.name)];
    if (layer === "hotspot") {
      lines.push(hotWord(hotClass(r)));
      if (r && r.gi_z !== null) lines.push("Gi* z " + fmt.num(r.gi_z, 2) + " · p " + fmt.num(r.gi_p, 3));
    } else {
      const v = valueOf(r, layer);
      lines.push(v === null ? t("regions.no_population") : fmt.num(v, digits(layer)) + " " + unit(layer));
    }
    return el("div", {}, lines.flatMap((x, i) => (i ? [el("br"), x] : [x])));
  }

  /** A label and a value, as one row of the panel's figures. */
  function fact(label, value) {
    return [el("dt", {}, label), el("dd", {}, value)];
  }

  async function showRegion(panel, me, s, code, byCode, onMore) {
    const r = byCode[code];
    panel.hidden = false;
    panel.replaceChildren(el("p", { class: "muted" }, t("core.loading")));
    const q = { from: s.year + "-01-01", to: s.year + "-12-31", limit: 20 };
    let detail;
    try {
      detail = await api("/agencies/" + encodeURIComponent(me.agency) + "/regions/" + code, { query: q });
    } catch (err) {
      panel.replaceChildren(el("p", { class: "error", role: "alert" }, err.message));
      return;
    }
    const reg = detail.region;
    const close = el("button", { type: "button", class: "secondary close", "data-testid": "region-close",
      "aria-label": t("regions.close") }, "×");
    close.addEventListener("click", () => {
      panel.hidden = true;
      onMore(null);
    });
    panel.replaceChildren(
      el("div", { class: "region-head" }, el("h2", { "data-testid": "region-name" }, reg.name || code), close),
      el("p", { class: "muted" }, (detail.level === "state" ? t("regions.state") : t("regions.municipality")) + " " + code +
        " · " + detail.from + " – " + detail.to),
      el("dl", { class: "facts" },
        fact(t("regions.layer_score"), fmt.num(reg.score, 1) + " " + t("regions.unit_score")),
        fact(t("regions.layer_events"), fmt.num(reg.events)),
        fact(t("regions.deaths"), fmt.num(reg.deaths)),
        fact(t("regions.layer_rate"), reg.rate === null ? t("regions.no_population") : fmt.num(reg.rate, 2) + " " + t("regions.unit_rate")),
        fact(t("regions.layer_hotspot"), hotWord(hotClass(r || reg)) +
          (reg.gi_z === null ? "" : " (z " + fmt.num(reg.gi_z, 2) + ", p " + fmt.num(reg.gi_p, 3) + ")"))),
      el("h3", {}, t("regions.orgs")));
    if (!detail.orgs.length) panel.append(el("p", { class: "muted", "data-testid": "region-orgs" }, t("regions.no_orgs")));
    else {
      panel.append(el("div", { class: "table-wrap" }, el("table", { class: "grid", "data-testid": "region-orgs" },
        el("thead", {}, el("tr", {}, el("th", {}, t("regions.org")), el("th", { class: "n" }, t("regions.share")),
          el("th", { class: "n" }, t("regions.layer_events")))),
        el("tbody", {}, detail.orgs.map((o) => el("tr", { "data-testid": "region-org", "data-org": o.org },
          el("td", {}, o.name), el("td", { class: "n" }, fmt.pct(o.share)), el("td", { class: "n" }, fmt.num(o.events, 1))))))));
    }
    panel.append(el("h3", {}, t("regions.events", { n: fmt.num(detail.total) })));
    const body = el("tbody");
    const more = el("button", { type: "button", class: "secondary", "data-testid": "region-more" }, t("regions.more"));
    const addRows = (rows) => {
      body.append(...rows.map((e) => el("tr", { "data-testid": "region-event" },
        el("td", {}, String(e.date_start).slice(0, 10)),
        el("td", {}, String(e.category || "—").replace(/_/g, " ")),
        el("td", { class: "n" }, fmt.num(e.deaths_best)),
        el("td", {}, (e.perpetrators || []).map((p) => (p.name || p.raw_name) + " (" + fmt.pct(p.probability) + ")").join(", ") || "—"))));
    };
    addRows(detail.events);
    let shown = detail.events.length;
    more.hidden = shown >= detail.total;
    more.addEventListener("click", async () => {
      more.disabled = true;
      try {
        const next = await api("/agencies/" + encodeURIComponent(me.agency) + "/regions/" + code,
          { query: Object.assign({}, q, { offset: shown }) });
        addRows(next.events);
        shown += next.events.length;
        more.hidden = shown >= next.total || !next.events.length;
      } catch (err) {
        panel.append(el("p", { class: "error", role: "alert" }, err.message));
      } finally {
        more.disabled = false;
      }
    });
    if (detail.total) {
      panel.append(el("div", { class: "table-wrap" }, el("table", { class: "grid", "data-testid": "region-events" },
        el("thead", {}, el("tr", {}, el("th", {}, t("regions.date")), el("th", {}, t("regions.category")),
          el("th", { class: "n" }, t("regions.deaths")), el("th", {}, t("regions.perpetrators")))),
        body)), more);
    } else {
      panel.append(el("p", { class: "muted", "data-testid": "region-events" }, t("regions.no_events")));
    }
    onMore(code);
  }

  window.VDTO.view("regions", {
    async render(root, params, ctx) {
      if (current) {
        current.remove();
        current = null;
      }
      const me = ctx.me;
      const s = settings(params);
      root.append(el("h1", {}, t("regions.title")), dataOf(me.agency));

      const now = new Date().getFullYear();
      const years = [];
      for (let y = now; y >= FIRST_YEAR; y -= 1) years.push(y);
      const select = (name, values, chosen, word) => el("select", { name, "data-testid": "region-" + name },
        values.map((v) => el("option", { value: v, selected: String(v) === String(chosen) }, word(v))));
      const level = select("level", LEVELS, s.level, levelWord);
      const year = select("year", years, s.year, (v) => String(v));
      const layer = select("layer", LAYERS, s.layer, layerWord);
      root.append(el("form", { class: "filters", autocomplete: "off", "data-testid": "region-controls" },
        el("label", { class: "field" }, t("regions.level"), level),
        el("label", { class: "field" }, t("regions.year"), year),
        el("label", { class: "field" }, t("regions.layer"), layer)));
      level.addEventListener("change", () => go("regions", address(Object.assign(s, { level: level.value, region: "" }))));
      year.addEventListener("change", () => go("regions", address(Object.assign(s, { year: year.value }))));

      const status = el("p", { class: "muted", "data-testid": "region-status" }, t("core.loading"));
      const mapBox = el("div", { class: "map region-map", "data-testid": "region-map", role: "region",
        "aria-label": t("regions.map_label") });
      const panel = el("aside", { class: "panel region-panel", "data-testid": "region-panel", hidden: true });
      const list = el("section", { class: "region-list" });
      root.append(status, el("div", { class: "region-layout" }, mapBox, panel), list);

      const q = { level: s.level, from: s.year + "-01-01", to: s.year + "-12-31" };
      const [doc, data] = await Promise.all([
        borders(s.level),
        api("/agencies/" + encodeURIComponent(me.agency) + "/regions", { query: q }),
      ]);
      if (!ctx.ticket()) return;
      const byCode = {};
      for (const r of data.regions) byCode[r.code] = r;
      const m = data.meta;
      status.textContent = t("regions.status", {
        level: levelWord(s.level), from: data.from, to: data.to, events: fmt.num(m.events),
        unlocated: fmt.num(m.events_unlocated), permutations: fmt.num(m.permutations), seed: m.seed,
        alpha: m.alpha,
      });

      const map = L.map(mapBox, { zoomSnap: 0.25, minZoom: 3, maxZoom: 12, attributionControl: true,
        renderer: L.svg({ padding: 0.5 }) });
      current = map;
      map.attributionControl.setPrefix(false);
      map.attributionControl.addAttribution(t("regions.attribution"));
      let selected = null;
      let cuts = [];
      let legendControl = null;

      const styleOf = (f) => {
        const r = byCode[f.properties.code];
        const fill = s.layer === "hotspot"
          ? HOT.find((h) => h.key === hotClass(r)).color
          : colour(valueOf(r, s.layer), cuts);
        const chosen = f.properties.code === selected;
        return { className: "region region-" + f.properties.code, fillColor: fill, fillOpacity: 0.9,
          color: chosen ? "#111111" : "#ffffff", weight: chosen ? 2.5 : s.level === "state" ? 1 : 0.3 };
      };

      const paint = () => {
        cuts = breaks(data.regions.map((r) => valueOf(r, s.layer)));
        shapes.setStyle(styleOf);
        if (legendControl) legendControl.remove();
        legendControl = L.control({ position: "bottomright" });
        legendControl.onAdd = () => {
          const box = legend(s.layer, cuts);
          L.DomEvent.disableClickPropagation(box);
          return box;
        };
        legendControl.addTo(map);
        fillList();
      };

      const open = (code) => {
        selected = code;
        shapes.setStyle(styleOf);
        shapes.eachLayer((l) => {
          if (l.feature.properties.code === code) l.bringToFront();
        });
        return showRegion(panel, me, s, code, byCode, (c) => {
          s.region = c || "";
          if (!c) {
            selected = null;
            shapes.setStyle(styleOf);
          }
          remember("regions", address(s));
        });
      };

      const shapes = L.geoJSON(doc, {
        style: styleOf,
        onEachFeature: (f, l) => {
          l.bindTooltip(() => tip(f, byCode[f.properties.code], s.layer), { sticky: true, direction: "top" });
          l.on("click", () => open(f.properties.code));
        },
      });
      shapes.addTo(map);
      shapes.eachLayer((l) => {
        const path = l.getElement();
        if (path) {
          path.setAttribute("data-region", l.feature.properties.code);
          path.setAttribute("data-testid", "region-shape");
        }
      });
      const [x0, y0, x1, y1] = doc.bbox;
      map.fitBounds([[y0, x0], [y1, x1]]);

      function fillList() {
        const rows = data.regions.filter((r) => (s.layer === "hotspot" ? r.hotspot === "hot spot" : (valueOf(r, s.layer) || 0) > 0));
        rows.sort((a, b) => s.layer === "hotspot" ? a.gi_p - b.gi_p || b.gi_z - a.gi_z : valueOf(b, s.layer) - valueOf(a, s.layer));
        const top = rows.slice(0, 10);
        list.replaceChildren(el("h2", {}, t("regions.top", { layer: layerWord(s.layer) })));
        if (!top.length) {
          list.append(el("p", { class: "muted" }, t("core.none")));
          return;
        }
        list.append(el("div", { class: "table-wrap" }, el("table", { class: "grid", "data-testid": "region-top" },
          el("thead", {}, el("tr", {}, el("th", {}, t("regions.region")), el("th", { class: "n" }, t("regions.layer_score")),
            el("th", { class: "n" }, t("regions.layer_events")), el("th", { class: "n" }, t("regions.layer_rate")),
            el("th", {}, t("regions.layer_hotspot")))),
          el("tbody", {}, top.map((r) => el("tr", {},
            el("td", {}, el("button", { type: "button", class: "link", "data-testid": "region-row", "data-region": r.code,
              on: { click: () => open(r.code) } }, r.name || r.code)),
            el("td", { class: "n" }, fmt.num(r.score, 1)),
            el("td", { class: "n" }, fmt.num(r.events)),
            el("td", { class: "n" }, fmt.num(r.rate, 2)),
            el("td", {}, hotWord(hotClass(r)))))))));
      }

      layer.addEventListener("change", () => {
        s.layer = layer.value;
        remember("regions", address(s));
        paint();
      });
      paint();
      if (s.region && byCode[s.region]) await open(s.region);
    },
  });
})();
