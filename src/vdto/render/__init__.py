"""One rendering stack for every page and chart vdto writes (the public scorecard site, the
analyst's report, maps and figures).

* :mod:`vdto.render.fmt`: numbers, percentages, probabilities, money and dates as text, in
  English or Spanish; a missing value is always "—";
* :mod:`vdto.render.jsonout`: frames and values as plain JSON (published and reported files,
  JSON inside a page);
* :mod:`vdto.render.charts`: Altair charts rendered offline by vl-convert (PNG, SVG, HTML,
  static inline SVG, Vega specs and the Vega bundle);
* :mod:`vdto.render.pages`: the Jinja2 environment and the page templates
  (``vdto/render/templates``).

A support layer: it imports only the standard library, third-party libraries, :mod:`vdto.errors`
and :mod:`vdto.files`, never the domain packages that use it.
"""
