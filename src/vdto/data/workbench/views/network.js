/* Package and network: the target's subnetwork (its own nodes and everything within one or two
   edges of them: buyers and suppliers in the store's supply network, allies and rivals in BACRIM
   2020), drawn with Cytoscape.js (vendor/cytoscape): pan, zoom and drag, colours by kind, a node's
   attributes on click, and the GEXF or i2 file of exactly what is drawn. The server bounds the
   size (GET /agencies/{agency}/network); the whole 205k-node network never reaches the page. */
"use strict";
(function () {
  const { t, el, api, download, fmt, dataOf, remember } = window.VDTO;

  const NODE_COLOURS = {
    organization: "#b2182b", cell: "#ef8a62", wholesaler: "#2166ac", distributor: "#67a9cf", city: "#666666",
  };
  const RING = { organization: 2, cell: 2, city: 1 };
  const EDGE_COLOURS = { supplies: "#8c8c8c", alliance: "#1b7837", rivalry: "#c51b7d" };

  function kindWord(kind) {
    const words = {
      organization: t("network.kind_organization"), cell: t("network.kind_cell"),
      wholesaler: t("network.kind_wholesaler"), distributor: t("network.kind_distributor"),
      city: t("network.kind_city"), supplies: t("network.kind_supplies"),
      alliance: t("network.kind_alliance"), rivalry: t("network.kind_rivalry"),
    };
    return words[kind] || kind;
  }

  function legend() {
    const items = Object.entries(NODE_COLOURS).map(([k, c]) =>
      el("span", { class: "legend-item" }, el("i", { style: "background:" + c + ";border-radius:50%" }), kindWord(k)));
    const ties = Object.entries(EDGE_COLOURS).map(([k, c]) =>
      el("span", { class: "legend-item" }, el("i", { style: "background:" + c + ";height:.25rem" }), kindWord(k)));
    return el("div", { class: "legend network-legend", "data-testid": "network-legend" }, items, ties);
  }

  function style() {
    return [
      { selector: "node", style: {
        "background-color": (n) => NODE_COLOURS[n.data("kind")] || "#999", width: 10, height: 10,
        "border-width": 0, label: "", "font-size": 8, color: "#222", "text-valign": "top",
        "text-background-color": "#fff", "text-background-opacity": 0.7, "text-background-padding": 1 } },
      { selector: "node[kind = 'organization'], node[kind = 'cell']", style: { width: 16, height: 16, label: "data(label)" } },
      { selector: "node[hop = 0]", style: { width: 26, height: 26, "border-width": 3, "border-color": "#000", "font-size": 11,
        "font-weight": "bold" } },
      { selector: "node:selected", style: { "border-width": 3, "border-color": "#f5b800", label: "data(label)" } },
      { selector: "edge", style: { width: 1, "line-color": (e) => EDGE_COLOURS[e.data("kind")] || "#bbb",
        "curve-style": "bezier", opacity: 0.7 } },
      { selector: "edge[kind = 'supplies']", style: { "target-arrow-shape": "triangle", "arrow-scale": 0.6,
        "target-arrow-color": EDGE_COLOURS.supplies } },
      { selector: "edge[kind = 'rivalry']", style: { "line-style": "dashed" } },
    ];
  }

  /** The attributes of a node (or edge) as a small table. */
  function details(box, item, what) {
    const rows = [[t("network.id"), item.id], [t("network.kind"), kindWord(item.kind)]];
    if (what === "node") rows.push([t("network.label"), item.label], [t("network.hop"), String(item.hop)]);
    else rows.push([t("network.from"), item.source], [t("network.to"), item.target]);
    for (const [k, v] of Object.entries(item.attributes || {})) {
      rows.push([k, typeof v === "number" ? fmt.num(v, Number.isInteger(v) ? 0 : 3) : String(v)]);
    }
    box.replaceChildren(el("h2", {}, what === "node" ? t("network.node") : t("network.edge")),
      el("table", { class: "grid" }, el("tbody", {}, rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))))));
  }

  function draw(container, data, box) {
    const byId = {};
    data.nodes.forEach((n) => { byId[n.id] = n; });
    const edgesById = {};
    data.edges.forEach((e) => { edgesById[e.id] = e; });
    const elements = [
      ...data.nodes.map((n) => ({ group: "nodes", data: { id: n.id, label: n.label, kind: n.kind, hop: n.hop } })),
      ...data.edges.map((e) => ({ group: "edges", data: { id: e.id, source: e.source, target: e.target, kind: e.kind } })),
    ];
    const maxHop = Math.max(0, ...data.nodes.map((n) => n.hop));
    const cy = window.cytoscape({
      container, elements, style: style(), wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 5,
      // rings: the target in the middle, then each hop's organizations and cells, then its cities
      // and its buyers
      layout: { name: "concentric", concentric: (n) => (maxHop - n.data("hop")) * 3 + (RING[n.data("kind")] || 0),
        levelWidth: () => 1, minNodeSpacing: 6, animate: false },
    });
    cy.on("tap", "node", (ev) => details(box, byId[ev.target.id()], "node"));
    cy.on("tap", "edge", (ev) => details(box, edgesById[ev.target.id()], "edge"));
    return cy;
  }

  window.VDTO.view("network", {
    async render(root, params, ctx) {
      const agency = ctx.me.agency;
      root.append(el("h1", {}, t("network.title")), dataOf(agency));
      root.append(el("p", { class: "muted" }, t("network.help")));
      const hops = params.hops === "2" ? 2 : 1;
      const limit = Number(params.limit) >= 10 ? Math.min(1000, Number(params.limit)) : 300;
      const data = await api("/agencies/" + agency + "/network", { query: { target: params.target, hops, limit } });
      if (!ctx.ticket()) return;

      const target = el("select", { name: "target", "data-testid": "network-target" },
        data.organizations.map((o) => el("option", { value: o.id, selected: o.id === data.target }, o.name + " (" + o.id + ")")));
      const hopSel = el("select", { name: "hops", "data-testid": "network-hops" },
        [1, 2].map((h) => el("option", { value: h, selected: h === data.hops }, String(h))));
      const limitIn = el("input", { type: "number", name: "limit", min: 10, max: 1000, value: data.limit, "data-testid": "network-limit" });
      const form = el("form", { class: "filters", autocomplete: "off" },
        el("label", { class: "field" }, t("network.target"), target),
        el("label", { class: "field" }, t("network.hops"), hopSel),
        el("label", { class: "field" }, t("network.limit"), limitIn),
        el("button", { type: "submit", "data-testid": "network-apply" }, t("core.apply")));
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        window.VDTO.go("network", { target: target.value, hops: hopSel.value, limit: limitIn.value });
      });
      root.append(form);
      remember("network", { target: data.target, hops: data.hops, limit: data.limit });

      const chosen = data.chosen === "given" ? "" : " " + t("network.chosen", { how: data.chosen });
      root.append(el("p", { "data-testid": "network-summary" },
        t("network.summary", { name: data.name, id: data.target, hops: data.hops }) + chosen));
      const count = el("p", { "data-testid": "node-count", "data-nodes": data.nodes.length, "data-edges": data.edges.length },
        t("network.count", { nodes: fmt.num(data.nodes.length), edges: fmt.num(data.edges.length),
          found: fmt.num(data.found_nodes) }));
      root.append(count);
      if (data.cut) root.append(el("p", { class: "muted", "data-testid": "network-cut" }, data.cut));
      root.append(el("p", { class: "muted", "data-testid": "network-sources" },
        t("network.sources", { sources: data.sources.join(", ") }) + (data.synthetic ? " " + t("network.synthetic", { what: data.synthetic }) : "")));

      const line = el("p", { "data-testid": "export-result", hidden: true });
      const exportButton = (format, label, ext) => {
        const b = el("button", { type: "button", class: "secondary", "data-testid": "export-" + format }, label);
        b.addEventListener("click", async () => {
          b.disabled = true;
          try {
            await download("/agencies/" + agency + "/network/export",
              { target: data.target, hops: data.hops, limit: data.limit, format },
              "network-" + data.target + "-hops" + data.hops + ext);
            line.hidden = true;
          } catch (err) {
            line.textContent = err.message;
            line.className = "error";
            line.hidden = false;
          } finally {
            b.disabled = false;
          }
        });
        return b;
      };
      root.append(el("div", { class: "network-export" }, exportButton("gexf", t("network.export_gexf"), ".gexf"),
        " ", exportButton("i2", t("network.export_i2"), ".i2.zip"), line));

      const graph = el("div", { class: "graph", "data-testid": "graph", role: "img", "aria-label": t("network.graph_label") });
      const box = el("aside", { class: "panel network-details", "data-testid": "node-details" },
        el("p", { class: "muted" }, t("network.click_help")));
      root.append(legend(), el("div", { class: "network-layout" }, graph, box));
      if (!data.nodes.length) {
        graph.append(el("p", {}, t("core.none")));
        return;
      }
      const cy = draw(graph, data, box);
      graph.setAttribute("data-drawn", cy.nodes().length);
      const target0 = data.nodes.find((n) => n.hop === 0 && n.kind === "organization") || data.nodes.find((n) => n.hop === 0);
      if (target0) details(box, target0, "node");
    },
  });
})();
