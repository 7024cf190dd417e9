/* Rounds: open a round (analyst), its status and history, and the signing of its announcement
   and closing (publisher). Signing stays with the agency: the page downloads the round's signing
   request, the publisher signs it on the agency's own machine (`vdto sign REQUEST --key
   AGENCY.key`) and uploads the signature file `vdto sign` wrote; the private key never reaches
   the browser. Every action is the API's own endpoint (GET/POST /rounds, /rounds/{id}/...), so the
   API's role and agency checks decide; a refusal shows its one-line detail. */
"use strict";
(function () {
  const { t, el, api, download, dataOf } = window.VDTO;


  /** One line under a round (or the form) saying what happened, or why the API refused. */
  function say(box, text, ok) {
    box.textContent = text;
    box.className = ok ? "ok" : "error";
    box.setAttribute("role", ok ? "status" : "alert");
    box.hidden = !text;
  }

  function when(ts) {
    return ts ? String(ts).replace("T", " ").slice(0, 16) : "—";
  }

  function statusWord(status) {
    const words = { open: t("rounds.status_open"), announced: t("rounds.status_announced"),
      closed: t("rounds.status_closed") };
    return words[status] || status;
  }

  /** The form to open a round (analysts only: others see why they cannot). */
  function openForm(me, refresh) {
    const section = el("section", { class: "panel", "data-testid": "round-open" }, el("h2", {}, t("rounds.open")));
    if (me.role !== "analyst") {
      section.append(el("p", { class: "muted", "data-testid": "open-needs" }, t("rounds.open_needs_analyst")));
      return section;
    }
    const year = new Date().getFullYear() - 1;
    const from = el("input", { type: "date", name: "from", required: true, value: year + "-01-01", "data-testid": "open-from" });
    const to = el("input", { type: "date", name: "to", required: true, value: year + "-12-31", "data-testid": "open-to" });
    const agencies = el("input", { type: "text", name: "agencies", required: true, value: me.agency,
      spellcheck: "false", "data-testid": "open-agencies" });
    const agree = el("input", { type: "checkbox", name: "require_agreement", checked: true, "data-testid": "open-agreement" });
    const draws = el("input", { type: "number", name: "draws", min: 1, max: 10000, value: 2000, "data-testid": "open-draws" });
    const line = el("p", { "data-testid": "open-result", hidden: true });
    const submit = el("button", { type: "submit", "data-testid": "open-submit" }, t("rounds.open_submit"));
    const form = el("form", { class: "filters", autocomplete: "off" },
      el("label", { class: "field" }, t("rounds.from"), from),
      el("label", { class: "field" }, t("rounds.to"), to),
      el("label", { class: "field", title: t("rounds.agencies_help") }, t("rounds.agencies"), agencies),
      el("label", { class: "field" }, t("rounds.draws"), draws),
      el("label", { class: "field" }, t("rounds.require_agreement"), agree),
      submit);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      say(line, t("rounds.opening"), true);
      try {
        const body = {
          from: from.value, to: to.value, require_agreement: agree.checked, draws: Number(draws.value),
          agencies: agencies.value.split(/[\s,]+/).filter(Boolean),
        };
        const rnd = await api("/rounds", { method: "POST", json: body });
        say(line, t("rounds.opened", { id: rnd.round_id, target: rnd.target || "—" }), true);
        await refresh();
      } catch (err) {
        say(line, err.message, false);
      } finally {
        submit.disabled = false;
      }
    });
    section.append(form, line);
    return section;
  }

  /** A button that runs `action` and reports in `line`; disabled (with the reason) for a role
      that cannot do it. */
  function actionButton(label, testid, allowed, why, line, action) {
    const b = el("button", { type: "button", class: "secondary", "data-testid": testid, disabled: !allowed,
      title: allowed ? null : why }, label);
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await action();
      } catch (err) {
        say(line, err.message, false);
      } finally {
        b.disabled = !allowed;
      }
    });
    return b;
  }

  /** What a publisher (or anyone, disabled) can do with one round. */
  function actions(r, me, refresh) {
    const box = el("div", { class: "round-actions" });
    const line = el("p", { "data-testid": "round-message", hidden: true });
    if (!r.agencies.includes(me.agency)) {
      box.append(el("p", { class: "muted" }, t("rounds.not_ours", { agency: me.agency })));
      return box;
    }
    if (r.status === "closed") {
      box.append(el("p", { class: "muted" }, t("rounds.closed_note", { outcome: r.outcome || "—" })));
      return box;
    }
    const publisher = me.role === "publisher";
    const why = t("rounds.needs_publisher", { role: me.role });
    const purpose = el("select", { "data-testid": "purpose", disabled: !publisher, "aria-label": t("rounds.purpose") },
      el("option", { value: "announce", selected: r.status === "open" }, t("rounds.purpose_announce")),
      el("option", { value: "close", selected: r.status === "announced" }, t("rounds.purpose_close")));
    const sign = el("div", { class: "round-sign" },
      el("label", { class: "field" }, t("rounds.purpose"), purpose),
      actionButton(t("rounds.download_request"), "download-request", publisher, why, line, async () => {
        const p = purpose.value;
        await download("/rounds/" + r.round_id + "/signing-request", { purpose: p },
          "round-" + r.round_id + "-" + p + ".request.json");
        say(line, t("rounds.downloaded", { id: r.round_id, agency: me.agency }), true);
      }));
    const file = el("input", { type: "file", accept: ".json,application/json", "data-testid": "signature-file",
      disabled: !publisher, title: publisher ? null : why });
    file.addEventListener("change", async () => {
      const chosen = file.files && file.files[0];
      if (!chosen) return;
      let signature;
      try {
        signature = JSON.parse(await chosen.text());
      } catch (err) {
        say(line, t("rounds.not_json", { file: chosen.name }), false);
        file.value = "";
        return;
      }
      try {
        const done = await api("/rounds/" + r.round_id + "/signatures", { method: "POST", json: signature });
        await refresh(r.round_id, done.next);
      } catch (err) {
        say(line, err.message, false);
      } finally {
        file.value = "";
      }
    });
    sign.append(el("label", { class: "field" }, t("rounds.upload_signature"), file));
    box.append(sign);

    const announce = actionButton(t("rounds.announce"), "announce", publisher && r.status === "open", why, line,
      async () => {
        const done = await api("/rounds/" + r.round_id + "/announce", { method: "POST" });
        const text = done.announced
          ? t("rounds.announced", { hash: done.round.ledger_hash })
          : t("rounds.waiting", { agencies: done.waiting_for.join(", ") });
        await refresh(r.round_id, text);
      });
    announce.title = publisher ? t("rounds.announce_help") : why;
    box.append(el("div", { class: "round-sign" }, announce));

    const outcome = el("select", { "data-testid": "close-outcome", disabled: !publisher },
      el("option", { value: "dismantled" }, t("rounds.dismantled")),
      el("option", { value: "withdrawn" }, t("rounds.withdrawn")));
    const reason = el("input", { type: "text", maxlength: 1000, "data-testid": "close-reason", disabled: !publisher,
      placeholder: t("rounds.reason_help") });
    const on = el("input", { type: "date", "data-testid": "close-on", disabled: !publisher });
    const close = actionButton(t("rounds.close"), "close", publisher, why, line, async () => {
      const body = { outcome: outcome.value, reason: reason.value };
      if (on.value) body.on = on.value;
      const done = await api("/rounds/" + r.round_id + "/close", { method: "POST", json: body });
      // 202: an announced round's closing waits for every agency's signature of its request
      const text = done.vdto_request
        ? t("rounds.close_pending", { sha: done.sha256.slice(0, 12) })
        : done.status === "closed"
          ? t("rounds.closed_now", { outcome: done.outcome })
          : t("rounds.close_asked");
      await refresh(r.round_id, text);
    });
    box.append(el("div", { class: "round-close" },
      el("label", { class: "field" }, t("rounds.outcome"), outcome),
      el("label", { class: "field" }, t("rounds.reason"), reason),
      el("label", { class: "field" }, t("rounds.on"), on),
      close));
    box.append(line);
    return box;
  }

  function roundRow(r, me, refresh) {
    const hash = r.ledger_hash
      ? el("code", { "data-testid": "ledger-hash", title: r.ledger_hash }, r.ledger_hash.slice(0, 16))
      : el("span", { class: "muted" }, "—");
    const history = [
      t("rounds.opened_at", { at: when(r.opened_at) }),
      r.announced_at ? t("rounds.announced_at", { at: when(r.announced_at) }) : null,
      r.closed_at ? t("rounds.closed_at", { at: when(r.closed_at), outcome: r.outcome || "—" }) : null,
      r.reason ? t("rounds.reason_was", { reason: r.reason }) : null,
      r.dissents && r.dissents.length ? t("rounds.dissents", { agencies: r.dissents.join(", ") }) : null,
    ].filter(Boolean);
    return el("tr", { "data-testid": "round-row", "data-round": r.round_id, "data-status": r.status },
      el("td", {}, String(r.round_id)),
      el("td", { "data-testid": "round-status" }, statusWord(r.status)),
      el("td", {}, r.window_from + " – " + r.window_to),
      el("td", {}, r.agencies.join(", ") + (r.require_agreement ? " (" + t("rounds.agreement") + ")" : "")),
      el("td", { "data-testid": "round-target" }, r.target || "—"),
      el("td", { "data-testid": "signed-by" }, (r.signed_by || []).join(", ") || "—"),
      el("td", {}, hash),
      el("td", { class: "muted" }, history.map((h) => el("div", {}, h))),
      el("td", {}, actions(r, me, refresh)));
  }

  window.VDTO.view("rounds", {
    async render(root, params, ctx) {
      const me = ctx.me;
      root.append(el("h1", {}, t("rounds.title")), dataOf(me.agency));
      root.append(el("p", { class: "muted" }, t("rounds.help")));
      const list = el("section", { "data-testid": "round-list" });
      const note = el("p", { "data-testid": "rounds-note", hidden: true });

      async function refresh(roundId, message) {
        const rounds = await api("/rounds");
        if (!ctx.ticket()) return;
        rounds.sort((a, b) => b.round_id - a.round_id);
        list.replaceChildren(el("h2", {}, t("rounds.list")));
        if (!rounds.length) {
          list.append(el("p", { "data-testid": "no-rounds" }, t("rounds.none")));
        } else {
          const head = ["#", t("rounds.status"), t("rounds.window"), t("rounds.agencies"), t("rounds.target"),
            t("rounds.signed_by"), t("rounds.ledger_hash"), t("rounds.history"), t("rounds.actions")];
          list.append(el("div", { class: "table-wrap" }, el("table", { class: "grid rounds" },
            el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))),
            el("tbody", {}, rounds.map((r) => roundRow(r, me, refresh))))));
        }
        if (roundId !== undefined && message) {
          const row = list.querySelector('tr[data-round="' + roundId + '"] [data-testid="round-message"]');
          if (row) say(row, message, true);
          else say(note, message, true);
        }
      }

      root.append(openForm(me, refresh), note, list);
      await refresh();
    },
  });
})();
