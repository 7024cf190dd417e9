"""Regions: violence scores by state and municipality, hot spots, region targets and maps.

The regional fallback of the strategy: when no organization can be named with confidence,
enforcement concentrates on the regions where violence is highest. Modules:

* :mod:`vdto.regional.panel`: region-month scores from events (attributed or not) and counts;
* :mod:`vdto.regional.contiguity`: queen contiguity over the bundled polygons, islands explicit;
* :mod:`vdto.regional.hotspots`: Getis-Ord Gi* and local Moran over one map (esda);
* :mod:`vdto.regional.cube`: the space-time cube (regions x time bins, counts and populations);
* :mod:`vdto.regional.rates`: rates per 100,000 and their empirical-Bayes smoothing;
* :mod:`vdto.regional.trend`: the Mann-Kendall trend test;
* :mod:`vdto.regional.emerging`: emerging hot and cold spots (space-time Gi*, ESRI's 17 classes);
* :mod:`vdto.regional.target`: the region targets and the evidence behind them;
* :mod:`vdto.regional.maps`: static (PNG/SVG) and interactive (HTML) choropleths, offline.
"""

from vdto.regional.panel import LEVELS, RegionScores, load_inputs, region_panel, region_scores

__all__ = ["LEVELS", "RegionScores", "load_inputs", "region_panel", "region_scores"]
