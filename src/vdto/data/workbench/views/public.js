/* Public: the published rounds and the ledger, verified by the server; no token needed. */
"use strict";
(function () {
  const { t, el, api, fmt } = window.VDTO;

  window.VDTO.view("public", {
    token: false,
    async render(root) {
      root.append(el("h1", {}, t("public.title")));
      const rounds = await api("/public/rounds");
      root.append(el("h2", {}, t("public.rounds")));
      if (!rounds.length) root.append(el("p", {}, t("core.none")));
      else {
        const body = rounds.map((r) =>
          el("tr", { "data-testid": "public-round" },
            el("td", {}, t("public.round", { id: r.round_id })),
            el("td", {}, r.window_from + " – " + r.window_to),
            el("td", {}, r.target || "—"),
            el("td", {}, r.status)));
        root.append(el("table", { class: "grid" },
          el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, t("public.window")),
            el("th", {}, t("public.target")), el("th", {}, t("public.status")))),
          el("tbody", {}, body)));
      }
      root.append(el("h2", {}, t("public.ledger")));
      const line = el("p", { "data-testid": "ledger-check" });
      root.append(line);
      try {
        const check = await api("/public/ledger/verify");
        line.textContent = check.ok
          ? t("public.verified", { n: fmt.num(check.entries), root: (check.last_hash || "").slice(0, 16) })
          : check.problem;
        line.className = check.ok ? "ok" : "error";
      } catch (err) {
        line.textContent = err.status === 404 ? t("public.no_ledger") : err.message;
      }
    },
  });
})();
