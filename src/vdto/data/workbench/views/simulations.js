/* Simulations: compare policies on the simulator (the run `vdto compare` makes, by the same
   service), launched on the server's local runner. The page posts the comparison
   (POST /agencies/{agency}/simulations), then follows the job with long polls
   (GET .../simulations/{job}?wait=...&after=REVISION: the server answers when the job changes),
   so the progress bar moves as replicates finish; once done it shows the comparison table, the
   chart (static SVG drawn by the server) and the claims with their verdicts. The job's id stays
   in the address (#/simulations?job=ID), so a reload follows it again while the server holds it. */
"use strict";
(function () {
  const { t, el, api, fmt, dataOf, remember } = window.VDTO;

  const POLICIES = ["none", "volume", "kingpin", "targeted", "regional", "caribbean"];
  const CHECKED = ["none", "volume", "targeted"];
  const SCENARIOS = ["small", "default"];
  const WAIT = 20; // seconds a long poll may wait for a change
  const STATUS = { queued: t("simulations.status_queued"), running: t("simulations.status_running"),
    done: t("simulations.status_done"), failed: t("simulations.status_failed") };
  const STAGES = { queued: t("simulations.stage_queued"), world: t("simulations.stage_world"),
    policies: t("simulations.stage_policies"), claims: t("simulations.stage_claims"), chart: t("simulations.stage_chart"),
    ended: t("simulations.stage_ended") };
  const SCENARIO_WORDS = { small: t("simulations.scenario_small"), default: t("simulations.scenario_default") };
  const POLICY_WORDS = { none: t("simulations.policy_none"), volume: t("simulations.policy_volume"),
    kingpin: t("simulations.policy_kingpin"), targeted: t("simulations.policy_targeted"),
    regional: t("simulations.policy_regional"), caribbean: t("simulations.policy_caribbean") };
  const VERDICTS = {
    supports: t("simulations.verdict_supports"),
    "supports, on most runs but not all,": t("simulations.verdict_most"),
    "does not support": t("simulations.verdict_not"),
    contradicts: t("simulations.verdict_contradicts"),
  };

  function base(agency) {
    return "/agencies/" + encodeURIComponent(agency) + "/simulations";
  }

  function when(ts) {
    return ts ? String(ts).replace("T", " ").slice(0, 16) : "—";
  }

  function statusWord(status) {
    return STATUS[status] || status;
  }

  function runLine(req) {
    return t("simulations.run_line", { scenario: req.scenario, policies: req.policies.join(", "),
      replicates: fmt.num(req.replicates), seed: req.seed });
  }

  /** The launch form (analysts; others read why they cannot). */
  function form(me, launch) {
    const section = el("section", { class: "panel", "data-testid": "sim-form" }, el("h2", {}, t("simulations.form")));
    if (me.role !== "analyst") {
      section.append(el("p", { class: "muted", "data-testid": "sim-needs" }, t("simulations.needs_analyst")));
      return section;
    }
    const scenario = el("select", { name: "scenario", "data-testid": "sim-scenario" },
      SCENARIOS.map((s) => el("option", { value: s }, SCENARIO_WORDS[s])));
    const boxes = POLICIES.map((p) => el("input", { type: "checkbox", name: "policy", value: p,
      checked: CHECKED.includes(p), "data-testid": "sim-policy-" + p }));
    const replicates = el("input", { type: "number", name: "replicates", min: 1, max: 200, value: 20, required: true,
      "data-testid": "sim-replicates" });
    const seed = el("input", { type: "number", name: "seed", min: 0, value: 1, required: true, "data-testid": "sim-seed" });
    const claims = el("input", { type: "checkbox", name: "claims", checked: true, "data-testid": "sim-claims-option" });
    const submit = el("button", { type: "submit", "data-testid": "sim-launch" }, t("simulations.launch"));
    const line = el("p", { class: "error", role: "alert", "data-testid": "sim-form-error", hidden: true });
    const f = el("form", { class: "filters sim-form", autocomplete: "off" },
      el("label", { class: "field" }, t("simulations.scenario"), scenario),
      el("fieldset", { class: "sim-policies" }, el("legend", {}, t("simulations.policies")),
        boxes.map((b) => el("label", {}, b, " ", POLICY_WORDS[b.value]))),
      el("label", { class: "field" }, t("simulations.replicates"), replicates),
      el("label", { class: "field" }, t("simulations.seed"), seed),
      el("label", { class: "field sim-check" }, el("span", {}, claims, " ", t("simulations.with_claims"))),
      submit);
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      line.hidden = true;
      const policies = boxes.filter((b) => b.checked).map((b) => b.value);
      if (!policies.length) {
        line.textContent = t("simulations.pick_policy");
        line.hidden = false;
        return;
      }
      submit.disabled = true;
      try {
        await launch({ scenario: scenario.value, policies, replicates: Number(replicates.value),
          seed: Number(seed.value), claims: claims.checked });
      } catch (err) {
        line.textContent = err.message;
        line.hidden = false;
      } finally {
        submit.disabled = false;
      }
    });
    section.append(f, line);
    return section;
  }

  /** The comparison table: every homicide column with its statistic, in the run's unit. */
  function table(result) {
    const meta = result.meta;
    const h = result.horizon;
    const months = meta.months;
    const rows = result.table;
    const hasTotal = h !== months;
    const hasBelow = rows.some((r) => r.p_below_volume !== null && r.p_below_volume !== undefined);
    const hasFocal = rows.some((r) => r.focal_deaths_vs_none !== null && r.focal_deaths_vs_none !== undefined);
    const n = (x, d) => el("td", { class: "n" }, fmt.num(x, d));
    const span = (r, col) => el("td", { class: "n" }, fmt.interval(r[col + "_lo90"], r[col + "_hi90"], 0));
    const head = [el("th", {}, t("simulations.col_policy")),
      el("th", { class: "n" }, t("simulations.col_by", { h })), el("th", { class: "n" }, t("simulations.col_interval")),
      hasTotal && el("th", { class: "n" }, t("simulations.col_total", { months })),
      hasTotal && el("th", { class: "n" }, t("simulations.col_interval")),
      el("th", { class: "n" }, t("simulations.col_per_month")), el("th", { class: "n" }, t("simulations.col_interval")),
      el("th", { class: "n" }, t("simulations.col_last_year")),
      el("th", { class: "n" }, t("simulations.col_alive")), el("th", { class: "n" }, t("simulations.col_members")),
      hasBelow && el("th", { class: "n" }, t("simulations.col_below")),
      hasFocal && el("th", { class: "n" }, t("simulations.col_focal"))];
    const body = rows.map((r) => el("tr", { "data-testid": "sim-row" },
      el("td", {}, el("code", {}, r.policy)),
      n(r["deaths_by_" + h]), span(r, "deaths_by_" + h),
      hasTotal && n(r.deaths_total), hasTotal && span(r, "deaths_total"),
      n(r.deaths_per_month), span(r, "deaths_per_month"),
      n(r.deaths_per_month_last_year),
      n(r.alive_end, 1), n(r.members_end),
      hasBelow && el("td", { class: "n" }, fmt.pct(r.p_below_volume)),
      hasFocal && el("td", { class: "n" }, fmt.num(r.focal_deaths_vs_none, 2) + "×")));
    const unit = meta.unit === "homicides (people) per month" ? t("simulations.unit_people") : t("simulations.unit_model");
    return el("section", { class: "panel", "data-testid": "sim-table" },
      el("h2", {}, t("simulations.table")),
      el("p", { "data-testid": "sim-unit" }, t("simulations.caption", { unit, replicates: fmt.num(meta.replicates) })),
      result.synthetic && el("p", { class: "muted", "data-testid": "sim-synthetic" }, t("simulations.synthetic")),
      el("div", { class: "table-wrap" }, el("table", { class: "grid" }, el("thead", {}, el("tr", {}, head)),
        el("tbody", {}, body))),
      el("p", { class: "muted", "data-testid": "sim-provenance" }, t("simulations.provenance", {
        version: meta.vdto_version, scenario: meta.scenario, scenario_sha: String(meta.scenario_sha256).slice(0, 16),
        world_sha: String(meta.world_sha256).slice(0, 16), seed: meta.seed, replicates: fmt.num(meta.replicates),
        months: fmt.num(months) })));
  }

  /** The server's SVG chart as an image (an <img> runs no script; the blob stays on this page). */
  function chart(result) {
    const section = el("section", { class: "panel", "data-testid": "sim-charts" }, el("h2", {}, t("simulations.chart")));
    for (const [name, svg] of Object.entries(result.charts || {})) {
      const url = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
      const img = el("img", { class: "sim-chart", src: url, alt: t("simulations.chart_alt"), "data-testid": "sim-chart",
        "data-chart": name });
      img.addEventListener("load", () => URL.revokeObjectURL(url), { once: true });
      section.append(el("div", { class: "sim-chart-wrap" }, img));
    }
    section.append(el("p", { class: "muted" }, t("simulations.chart_note")));
    return section;
  }

  /** The claims with their verdicts (the claims' words are vdto's own, in English). */
  function claims(result) {
    const section = el("section", { class: "panel", "data-testid": "sim-claims" }, el("h2", {}, t("simulations.claims")));
    if (!result.claims) {
      section.append(el("p", { class: "muted" }, t("simulations.claims_none")));
      return section;
    }
    section.append(el("p", { class: "muted" }, t("simulations.claims_lead")));
    const sig = (x) => fmt.num(x, Math.abs(Number(x)) >= 100 ? 0 : 2);
    section.append(el("ul", { class: "claims" }, result.claims.map((c) =>
      el("li", { "data-testid": "sim-claim", "data-verdict": c.verdict },
        el("span", { lang: "en", class: "sim-claim" }, c.claim), " — ",
        el("span", { class: "sim-verdict", "data-testid": "sim-verdict" }, VERDICTS[c.verdict] || c.verdict), ". ",
        el("br"),
        t("simulations.holds", { share: fmt.pct(c.holds), lo: fmt.pct(c.holds_lo90), hi: fmt.pct(c.holds_hi90) }), ". ",
        t("simulations.effect", { median: sig(c.effect_median), lo: sig(c.effect_lo90), hi: sig(c.effect_hi90) }), " ",
        el("span", { lang: "en", class: "muted" }, "(" + c.unit + ")"), ". ",
        el("span", { class: "muted" }, t("simulations.who", { who: c.who }))))));
    return section;
  }

  /** The box of one job: its run, status, progress bar and, once done, its result. */
  function jobBox() {
    const title = el("h2", {}, "");
    const run = el("p", { "data-testid": "sim-run" });
    const bar = el("progress", { class: "progress", max: 1, value: 0, "data-testid": "sim-progress" });
    const count = el("span", { "data-testid": "sim-count" });
    const stage = el("p", { class: "muted", role: "status", "data-testid": "sim-stage" });
    const problem = el("p", { class: "error", role: "alert", "data-testid": "sim-error", hidden: true });
    const result = el("div", { "data-testid": "sim-result" });
    const box = el("section", { class: "panel", "data-testid": "sim-job", hidden: true },
      title, run, el("div", { class: "sim-bar" }, bar, count), stage, problem, result);
    function show(job) {
      box.hidden = false;
      box.setAttribute("data-status", job.status);
      title.textContent = t("simulations.job", { id: job.job }) + " · " + statusWord(job.status);
      run.textContent = runLine(job.request);
      bar.max = Math.max(1, job.progress.total);
      bar.value = Math.min(job.progress.done, job.progress.total);
      bar.setAttribute("aria-valuetext", t("simulations.progress", { done: job.progress.done, total: job.progress.total }));
      count.textContent = t("simulations.progress", { done: fmt.num(job.progress.done), total: fmt.num(job.progress.total) });
      stage.textContent = STAGES[job.stage] || job.stage;
      problem.hidden = job.status !== "failed";
      problem.textContent = job.status === "failed" ? t("simulations.failed", { error: job.error }) : "";
      if (job.status === "done" && job.result && !result.childElementCount) {
        result.append(table(job.result), chart(job.result), claims(job.result));
      }
    }
    function fail(err) {
      box.hidden = false;
      problem.textContent = err.message;
      problem.hidden = false;
    }
    return { box, result, show, fail };
  }

  /** The agency's jobs this server holds, each openable. */
  async function jobList(me, holder, open) {
    const jobs = await api(base(me.agency));
    const rows = jobs.map((j) => el("tr", { "data-testid": "sim-listed" },
      el("td", {}, el("code", {}, j.job)),
      el("td", {}, statusWord(j.status)),
      el("td", {}, runLine(j.request)),
      el("td", {}, when(j.created_at)),
      el("td", {}, el("button", { type: "button", class: "secondary", on: { click: () => open(j.job) } }, t("simulations.open")))));
    holder.replaceChildren(el("h2", {}, t("simulations.jobs", { agency: me.agency })),
      jobs.length
        ? el("div", { class: "table-wrap" }, el("table", { class: "grid" },
          el("thead", {}, el("tr", {}, el("th", {}, t("simulations.col_job")), el("th", {}, t("simulations.col_status")),
            el("th", {}, t("simulations.col_run")), el("th", {}, t("simulations.col_created")), el("th", {}, ""))),
          el("tbody", {}, rows)))
        : el("p", { class: "muted" }, t("simulations.jobs_none")));
  }

  window.VDTO.view("simulations", {
    async render(root, params, ctx) {
      const me = ctx.me;
      root.append(el("h1", {}, t("simulations.title")), dataOf(me.agency),
        el("p", { class: "muted", "data-testid": "sim-no-data" }, t("simulations.no_agency_data")),
        el("p", {}, t("simulations.lead")));
      const list = el("section", { class: "panel", "data-testid": "sim-jobs" });
      let current = null;
      let following = 0;

      /** Follow a job until it ends (or the page shows something else): long polls, each answered
          when the job changes, so there is no timer and no busy loop. */
      async function follow(id) {
        const mine = ++following;
        const live = () => ctx.ticket() && mine === following;
        if (current) current.box.remove();
        current = jobBox();
        list.before(current.box);
        const box = current;
        try {
          let job = await api(base(me.agency) + "/" + encodeURIComponent(id));
          while (live()) {
            box.show(job);
            if (job.status === "done" || job.status === "failed") break;
            const seen = job.revision;
            job = await api(base(me.agency) + "/" + encodeURIComponent(id), { query: { wait: WAIT, after: seen } });
            // a busy server answers a long poll at once: then wait a second before asking again
            if (job.revision === seen) await new Promise((resolve) => setTimeout(resolve, 1000));
          }
          if (live()) await jobList(me, list, open);
        } catch (err) {
          if (live()) box.fail(err);
        }
      }

      function open(id) {
        remember("simulations", { job: id });
        follow(id);
      }

      async function launch(body) {
        const job = await api(base(me.agency), { method: "POST", json: body });
        open(job.job);
        await jobList(me, list, open);
      }

      root.append(form(me, launch), list);
      await jobList(me, list, open);
      if (params.job) follow(params.job); // not awaited: the view is ready while the job runs
    },
  });
})();
