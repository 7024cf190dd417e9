"""Regions: violence scores by state and municipality, hot spots, region targets and maps.

The regional fallback of the strategy: when no organization can be named with confidence,
enforcement concentrates on the regions where violence is highest. Modules:

* :mod:`vdto.regional.panel`: region-month scores from events (attributed or not) and counts;
* :mod:`vdto.regional.contiguity`: queen contiguity over the bundled polygons, islands explicit;
* :mod:`vdto.regional.hotspots`: Getis-Ord Gi*, local Moran and emerging hot spots (esda);
* :mod:`vdto.regional.target`: the region targets and the evidence behind them;
* :mod:`vdto.regional.maps`: static (PNG/SVG) and interactive (HTML) choropleths, offline.
"""

from vdto.regional.panel import LEVELS, RegionScores, load_inputs, region_panel, region_scores

__all__ = ["LEVELS", "RegionScores", "load_inputs", "region_panel", "region_scores"]
