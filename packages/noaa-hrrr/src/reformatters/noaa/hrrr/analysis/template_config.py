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

from reformatters.core.dataset_card import card_table_beside
from reformatters.core.template_bases import AnalysisTemplateConfig
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.hrrr.common import OUTPUT_GRID, VARIABLES


class HrrrAnalysisTemplateConfig(AnalysisTemplateConfig[NoaaDataVar]):
    grid = OUTPUT_GRID
    data_vars: tuple[NoaaDataVar, ...] = VARIABLES.data_vars(
        (24, 106, 120), (48, 1060, 1800), **card_table_beside(__file__, "variable_comments")
    )
