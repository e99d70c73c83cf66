"""Structure of noaa-hrrr-forecast-48-hour.

Chunks and shards serve two access patterns on the 1799 x 1059 Lambert grid:

- a whole map at one init and lead: an inner chunk is (1 init, 7 leads, 106 y, 120 x), so a
  map reads the 10 x 15 = 150 chunks of one lead block (each ~350 kB raw, ~100 kB compressed)
  by byte range from one shard object: 7 map-sizes (53 MB raw) rather than the whole 49-lead
  run (373 MB) that lead-complete chunks would cost;
- a point's forecast: the 49 leads of one init sit in 7 small chunks of the same shard
  (2.5 MB raw in all), where one chunk per lead would need 49 requests per init.

One shard is one init with all leads and the whole grid (1 x 49 x 1060 x 1800: whole multiples
of the chunk, overhanging the 1059 x 1799 array edge by one row and column), so a run is one
object per variable and a region job is one init (373 MB of float32 per variable in memory).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from reformatters.core.dataset_card import card_table_beside
from reformatters.core.template_bases import ForecastTemplateConfig
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.hrrr.common import OUTPUT_GRID, VARIABLES

LEAD_TIMES = pd.timedelta_range("0h", "48h", freq="1h")
# HRRR v4 (first run 2020-12-02 12 UTC) extended the 00/06/12/18 UTC runs from 36 to 48 hours.
HRRR_V4_START = pd.Timestamp("2020-12-02T12:00")
FORECAST_LENGTH_V3 = pd.Timedelta(hours=36)
FORECAST_LENGTH_V4 = pd.Timedelta(hours=48)


class HrrrForecast48HourTemplateConfig(ForecastTemplateConfig[NoaaDataVar]):
    grid = OUTPUT_GRID
    lead_times = LEAD_TIMES
    data_vars: tuple[NoaaDataVar, ...] = VARIABLES.data_vars(
        (1, 7, 106, 120), (1, 49, 1060, 1800), **card_table_beside(__file__, "variable_comments")
    )

    def expected_forecast_length(self, init_times: NDArray[np.datetime64]) -> NDArray[Any]:
        inits = pd.DatetimeIndex(init_times)
        lengths = np.where(
            inits >= HRRR_V4_START,
            FORECAST_LENGTH_V4.to_timedelta64(),
            FORECAST_LENGTH_V3.to_timedelta64(),
        )
        return lengths.astype("timedelta64[ns]")
