/* The analyst's report: draws every chart from its Vega spec, shows errors in #report-errors,
   and shows only the sections named in #only=ID[,ID...]. */
(function () {
  var box = document.getElementById("report-errors");
  var errors = 0;
  function fail(msg) { errors += 1; box.hidden = false; box.textContent += msg + "\n"; }
  var original = console.error;
  console.error = function () { fail(Array.prototype.join.call(arguments, " ")); original.apply(console, arguments); };
  window.addEventListener("error", function (e) { fail("error: " + e.message); });
  var m = /^#only=([\w,-]+)$/.exec(location.hash);
  if (m) {
    m[1].split(",").forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { document.body.classList.add("focus"); el.classList.add("focused"); }
    });
  }
  var warnings = [];
  function logger(name) {
    var level = 2;
    var self = {
      level: function (l) { if (l === undefined) return level; level = l; return self; },
      error: function () { fail(name + ": " + Array.prototype.join.call(arguments, " ")); return self; },
      warn: function () { warnings.push(name + ": " + Array.prototype.join.call(arguments, " ")); return self; },
      info: function () { return self; },
      debug: function () { return self; }
    };
    return self;
  }
  var specs = document.querySelectorAll("script[type='application/json'][data-chart]");
  var jobs = [];
  specs.forEach(function (s) {
    var name = s.dataset.chart;
    var el = document.getElementById("chart-" + name);
    var options = {renderer: "svg", actions: false, mode: "vega", logger: logger(name)};
    jobs.push(vegaEmbed(el, JSON.parse(s.textContent), options)
      .catch(function (err) { fail(name + ": " + err); }));
  });
  Promise.all(jobs).then(function () {
    document.documentElement.setAttribute("data-rendered", String(specs.length));
    document.documentElement.setAttribute("data-errors", String(errors));
    document.documentElement.setAttribute("data-warnings", warnings.join(" | "));
  });
})();
