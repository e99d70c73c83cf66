"""Structure of noaa-gfs-forecast.

Chunks and shards serve two access patterns:

- a whole map at one init and lead: an inner chunk is (1 init, 42 leads, 121 lat, 121 lon),
  6 x 12 chunks cover the globe, so a map reads 72 compressed chunks (2.5 MB raw, well under
  1 MB compressed each) by byte range from a single shard object;
- a point's full forecast: the 209 leads of one init sit in 5 chunks of the same shard, so a
  point's time series is 5 small reads per init.

42 leads per chunk (rather than all 209 or 105) keeps a single map's read amplification at 42
fields instead of 105-209, and makes writing a partially available run (the first leads of a
new init) cheap: chunks without data are not stored.

One shard is one init with all leads and the whole grid (1 x 210 x 726 x 1452: shards are whole
multiples of the chunk and overhang the 209 x 721 x 1440 array edge), so a run is written as one
object per variable and a region job is one init. The template keeps its append dimension at
length 1; it is expanded at run time.
"""

from __future__ import annotations

import pandas as pd

from reformatters.core.dataset_card import card_table_beside
from reformatters.core.template_bases import ForecastTemplateConfig
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.gfs.common import OUTPUT_GRID, VARIABLES

# 0-120 h hourly, then 3-hourly to 384 h: 121 + 88 = 209 leads.
LEAD_TIMES = pd.TimedeltaIndex([pd.Timedelta(hours=h) for h in (*range(121), *range(123, 385, 3))])


class GfsForecastTemplateConfig(ForecastTemplateConfig[NoaaDataVar]):
    grid = OUTPUT_GRID
    lead_times = LEAD_TIMES
    data_vars: tuple[NoaaDataVar, ...] = VARIABLES.data_vars(
        (1, 42, 121, 121), (1, 210, 726, 1452), **card_table_beside(__file__, "variable_comments")
    )
