/* Language switch of the vdto scorecard site: Spanish by default, English with #en or ?lang=en.
   Every translated piece of text is written twice, once per language, with data-lang="es" or
   data-lang="en"; this script shows one language and hides the other. No network, no storage. */
(function () {
  "use strict";
  var LANGS = ["es", "en"];
  var root = document.documentElement;

  function fromUrl() {
    var hash = (window.location.hash || "").replace(/^#/, "").toLowerCase();
    if (LANGS.indexOf(hash) >= 0) {
      return hash;
    }
    var match = /(?:^|[?&])lang=(es|en)(?:&|$)/i.exec((window.location.search || "").replace(/^\?/, ""));
    return match ? match[1].toLowerCase() : null;
  }

  function apply(lang) {
    root.setAttribute("lang", lang);
    var nodes = document.querySelectorAll("[data-lang]");
    for (var i = 0; i < nodes.length; i++) {
      if (nodes[i].getAttribute("data-lang") === lang) {
        nodes[i].removeAttribute("hidden");
      } else {
        nodes[i].setAttribute("hidden", "");
      }
    }
    var buttons = document.querySelectorAll("[data-set-lang]");
    for (var j = 0; j < buttons.length; j++) {
      var on = buttons[j].getAttribute("data-set-lang") === lang;
      buttons[j].setAttribute("aria-current", on ? "true" : "false");
    }
    var title = root.getAttribute("data-title-" + lang);
    if (title) {
      document.title = title;
    }
  }

  var current = fromUrl() || "es";
  apply(current);

  window.addEventListener("hashchange", function () {
    var lang = fromUrl();
    if (lang && lang !== current) {
      current = lang;
      apply(lang);
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a") : null;
    if (!link) {
      return;
    }
    var lang = link.getAttribute("data-set-lang");
    if (lang) {
      event.preventDefault();
      current = lang;
      apply(lang);
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", "#" + lang);
      } else {
        window.location.hash = lang;
      }
      return;
    }
    /* in-page links keep the language: scroll without touching the address's #es / #en */
    var target = link.getAttribute("href") || "";
    if (target.charAt(0) === "#" && target.length > 1 && LANGS.indexOf(target.slice(1)) < 0) {
      var section = document.getElementById(target.slice(1));
      if (section) {
        event.preventDefault();
        section.scrollIntoView();
      }
    }
    /* links to the other page of the site carry the language along */
    if (link.hasAttribute("data-keep-lang")) {
      link.setAttribute("href", link.getAttribute("href").replace(/#.*$/, "") + "#" + current);
    }
  });
})();
