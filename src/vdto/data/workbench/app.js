/* vdto workbench: the core every view uses (sign-in, the API, words, routing, formatting).

   A view registers itself with VDTO.view(name, {render(root, params)}) in views/NAME.js; the core
   shows it when the address ends with #/NAME?key=value... Every call goes to this server's own
   API with the token the analyst pasted (kept for the tab only, in sessionStorage), so the API's
   access rules and audit log apply to the interface exactly as to any other client. */
"use strict";

(function () {
  const words = JSON.parse(document.getElementById("vdto-words").textContent);
  const lang = document.documentElement.lang === "en" ? "en" : "es";
  const views = {};
  const state = { token: sessionStorage.getItem("vdto.token") || "", me: null };

  /** The word for `key` in the page's language, with {name} filled from `vars`. */
  function t(key, vars) {
    let text = (words[lang] && words[lang][key]) || (words.en && words.en[key]) || key;
    if (vars) {
      text = text.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
    }
    return text;
  }

  /** An element: el("td", {class: "n", "data-testid": "x"}, "text", child, ...). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "on") {
        for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
      } else if (k === "text") {
        node.textContent = v;
      } else {
        node.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  class ApiError extends Error {
    constructor(status, detail, problems) {
      super(detail);
      this.status = status;
      this.problems = problems || [];
    }
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) {
      if (v === null || v === undefined || v === "") continue;
      if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
      else q.append(k, v);
    }
    const s = q.toString();
    return s ? "?" + s : "";
  }

  /** Call the API: api("/agencies/mx/events", {query: {...}}) or {method: "POST", json: {...}}.
      Answers the parsed JSON; raises ApiError with the API's one-line detail otherwise. */
  async function api(path, opts) {
    opts = opts || {};
    const headers = {};
    if (state.token) headers.Authorization = "Bearer " + state.token;
    let body;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    } else if (opts.form !== undefined) {
      body = opts.form;
    }
    const res = await fetch(path + query(opts.query), { method: opts.method || "GET", headers, body });
    if (opts.raw) {
      if (!res.ok) throw await failure(res);
      return res;
    }
    if (!res.ok) throw await failure(res);
    const type = res.headers.get("Content-Type") || "";
    return type.includes("json") ? res.json() : res.text();
  }

  async function failure(res) {
    let detail = res.status + " " + res.statusText;
    let problems = [];
    try {
      const data = await res.json();
      if (data && data.detail) detail = String(data.detail);
      problems = (data && data.problems) || [];
    } catch (e) {
      /* not JSON: keep the status line */
    }
    if (res.status === 401) signOut(t("core.session_ended"));
    return new ApiError(res.status, detail, problems);
  }

  /** Fetch `path` with the token and save it as `filename` (what a download link cannot do);
      `opts` as for api(), e.g. {method: "POST", json: {...}} for an export answered to a POST. */
  async function download(path, params, filename, opts) {
    const res = await api(path, Object.assign({ query: params, raw: true }, opts));
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: filename || "download" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 0);
    return blob;
  }

  const fmt = {
    /** A number with `digits` decimals in the page's language ("—" for none). */
    num(x, digits) {
      if (x === null || x === undefined || Number.isNaN(Number(x))) return "—";
      const d = digits === undefined ? 0 : digits;
      return Number(x).toLocaleString(lang === "es" ? "es-MX" : "en-US", {
        minimumFractionDigits: d,
        maximumFractionDigits: d,
      });
    },
    /** A probability as a percentage ("87%", "<1%"). */
    pct(p, digits) {
      if (p === null || p === undefined) return "—";
      const v = Number(p) * 100;
      if (v > 0 && v < 1 && !digits) return "<1%";
      return fmt.num(v, digits || 0) + "%";
    },
    /** [lo, hi] as "lo–hi". */
    interval(lo, hi, digits) {
      return fmt.num(lo, digits) + "–" + fmt.num(hi, digits);
    },
  };

  /** A one-line error box (role=alert) in `root`. */
  function showError(root, err) {
    const box = el("p", { class: "error", role: "alert", "data-testid": "error" }, String(err && err.message ? err.message : err));
    root.append(box);
    return box;
  }

  /** The parameters `keys` of `p`, in that order, trimmed, empty ones left out (what a view
      keeps in the address and sends). */
  function pick(p, keys) {
    const out = {};
    for (const k of keys) {
      const v = p[k] === undefined || p[k] === null ? "" : String(p[k]).trim();
      if (v !== "") out[k] = v;
    }
    return out;
  }

  /** Show "loading" in `box` while `call()` runs; its answer, or null after showing the
      API's one-line error in `box` instead. */
  async function loadInto(box, call) {
    box.replaceChildren(el("p", { class: "muted" }, t("core.loading")));
    box.setAttribute("aria-busy", "true");
    try {
      return await call();
    } catch (err) {
      box.replaceChildren();
      showError(box, err);
      return null;
    } finally {
      box.removeAttribute("aria-busy");
    }
  }

  /** The line every agency view starts with: whose data it shows. */
  function dataOf(agency) {
    return el("p", { class: "data-of", "data-testid": "data-of" }, t("core.data_of", { agency }));
  }

  function params() {
    const hash = location.hash.replace(/^#\/?/, "");
    const [name, q] = hash.split("?");
    return { name: name || "", params: Object.fromEntries(new URLSearchParams(q || "")) };
  }

  /** Go to view `name` with `p` in the address (so a view can be linked and reloaded). */
  function go(name, p) {
    const target = "#/" + name + query(p);
    if (location.hash === target) route();
    else location.hash = target;
  }

  /** Put `p` into the address without showing the view again. */
  function remember(name, p) {
    history.replaceState(null, "", "#/" + name + query(p));
  }

  function translatePage() {
    document.querySelectorAll("[data-i18n]").forEach((node) => {
      node.textContent = t(node.getAttribute("data-i18n"));
    });
  }

  async function signIn(token) {
    state.token = token;
    try {
      state.me = await api("/me");
    } catch (err) {
      state.token = "";
      state.me = null;
      throw err;
    }
    sessionStorage.setItem("vdto.token", token);
    showWho();
  }

  function signOut(message) {
    state.token = "";
    state.me = null;
    sessionStorage.removeItem("vdto.token");
    showWho();
    if (message) {
      const box = document.getElementById("sign-in-error");
      box.textContent = message;
      box.hidden = false;
    }
  }

  function showWho() {
    const badge = document.getElementById("agency-badge");
    const out = document.getElementById("sign-out");
    if (state.me) {
      badge.textContent = t("core.badge", { agency: state.me.agency, role: state.me.role });
      badge.hidden = false;
      out.hidden = false;
    } else {
      badge.hidden = true;
      out.hidden = true;
    }
  }

  let rendering = 0;
  async function route() {
    const { name, params: p } = params();
    const first = document.querySelector("[data-view-link]");
    const wanted = views[name] ? name : first ? first.getAttribute("data-view-link") : "public";
    const view = views[wanted];
    const signInBox = document.getElementById("sign-in");
    const root = document.getElementById("view");
    document.querySelectorAll("[data-view-link]").forEach((a) => {
      a.classList.toggle("active", a.getAttribute("data-view-link") === wanted);
    });
    const ticket = ++rendering;
    root.replaceChildren();
    root.setAttribute("data-view", wanted);
    root.removeAttribute("data-ready");
    if (view.token !== false && !state.me) {
      signInBox.hidden = false;
      return;
    }
    signInBox.hidden = true;
    document.title = "vdto · " + t(wanted + ".title");
    try {
      await view.render(root, p, { me: state.me, ticket: () => ticket === rendering });
    } catch (err) {
      showError(root, err);
    }
    if (ticket === rendering) root.setAttribute("data-ready", "yes");
  }

  /** Register a view: spec = {render(root, params, ctx), token: true|false}. */
  function view(name, spec) {
    views[name] = Object.assign({ token: true }, spec);
  }

  async function start() {
    translatePage();
    document.getElementById("lang").addEventListener("click", () => {
      const other = lang === "es" ? "en" : "es";
      location.href = "/?lang=" + other + location.hash;
    });
    document.getElementById("sign-out").addEventListener("click", () => {
      signOut();
      route();
    });
    document.getElementById("sign-in-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const box = document.getElementById("sign-in-error");
      box.hidden = true;
      try {
        await signIn(document.getElementById("token").value.trim());
        document.getElementById("token").value = "";
        route();
      } catch (err) {
        box.textContent = err.status === 401 ? t("core.bad_token") : err.message;
        box.hidden = false;
      }
    });
    window.addEventListener("hashchange", route);
    if (state.token) {
      try {
        await signIn(state.token);
      } catch (err) {
        signOut();
      }
    }
    route();
  }

  window.VDTO = { t, el, api, download, fmt, showError, loadInto, pick, dataOf, go, remember, view, start, lang, state, ApiError };
})();
