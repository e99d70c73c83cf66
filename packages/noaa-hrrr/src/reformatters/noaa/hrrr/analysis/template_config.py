"""Structure of noaa-hrrr-analysis.

Every hour ``time`` holds HRRR's analysis (f00) of the run initialized at that hour for
instantaneous fields, and the first forecast hour (f01) of the previous hour's run for
accumulations (the 0-1 hour APCP, stored as the mean rate over the hour ending at ``time``) and
for the categorical precipitation types (constant placeholders in f00).

Chunks and shards serve two access patterns on the 1799 x 1059 Lambert grid:

- a point's time series: an inner chunk is (24 hours, 106 y, 120 x), so a year at a point is
  365 small chunk reads (~1.2 MB raw, ~0.3 MB compressed each, byte ranges of 183 shards);
- a whole map at one hour: the 10 x 15 = 150 chunks of one day (24 map-sizes, 183 MB raw).
  Smaller time chunks would cut that but multiply the requests of the (usually longer) point
  series; the spatial chunk is kept small so that point reads fetch little beyond the point.

One shard is 48 hours of the whole grid (48 x 1060 x 1800, overhanging the 1059 x 1799 array
edge): a region job is two days (366 MB of float32 per variable in memory) and a day's update
rewrites at most two objects per variable.
"""

from __future__ import annotations

from reformatters.core.template_bases import AnalysisTemplateConfig
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.hrrr.common import OUTPUT_GRID, VARIABLES

VAR_CHUNKS = (24, 106, 120)
VAR_SHARDS = (48, 1060, 1800)

RATE_COMMENT = (
    "Mean rate over the hour ending at time, from the 0-1 hour accumulation of the run "
    "initialized one hour earlier."
)


LEAD_0_COMMENT = (
    "From the 1-hour forecast (f01) of the run initialized one hour earlier: HRRR's analysis "
    "(f00) holds only a constant placeholder for it."
)


DATA_VARS: tuple[NoaaDataVar, ...] = VARIABLES.data_vars(
    VAR_CHUNKS, VAR_SHARDS, rate_comment=RATE_COMMENT, lead_0_comment=LEAD_0_COMMENT
)


class HrrrAnalysisTemplateConfig(AnalysisTemplateConfig[NoaaDataVar]):
    grid = OUTPUT_GRID
    data_vars: tuple[NoaaDataVar, ...] = DATA_VARS
