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

from datetime import datetime, timedelta
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from reformatters.core.config_models import DatasetAttributes
from reformatters.core.coordinates import Grid
from reformatters.core.template_bases import ForecastTemplateConfig
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.hrrr.common import (
    DATASET_START,
    INIT_FREQUENCY_FORECAST,
    OUTPUT_GRID,
    VARIABLES,
)

LEAD_TIMES = pd.timedelta_range("0h", "48h", freq="1h")
# HRRR v4 (first run 2020-12-02 12 UTC) extended the 00/06/12/18 UTC runs from 36 to 48 hours.
HRRR_V4_START = pd.Timestamp("2020-12-02T12:00")
FORECAST_LENGTH_V3 = pd.Timedelta(hours=36)
FORECAST_LENGTH_V4 = pd.Timedelta(hours=48)

VAR_CHUNKS = (1, 7, 106, 120)
VAR_SHARDS = (1, 49, 1060, 1800)
# Append-dim coordinates are small; one chunk holds about 14 years of 6-hourly inits.
APPEND_COORD_CHUNK = 20000

RATE_COMMENT = (
    "HRRR accumulates over the last hour (window 'L-1 to L hour acc'), so the value at lead L "
    "is the mean rate over lead L-1 to L. No value at lead 0."
)


DATA_VARS: tuple[NoaaDataVar, ...] = VARIABLES.data_vars(
    VAR_CHUNKS,
    VAR_SHARDS,
    rate_comment=RATE_COMMENT,
    lead_0_comment="NaN at lead 0, where HRRR writes only a constant placeholder.",
)


class HrrrForecast48HourTemplateConfig(ForecastTemplateConfig[NoaaDataVar]):
    """noaa-hrrr-forecast-48-hour: dims (init_time, lead_time, y, x), append init_time."""

    dims: tuple[str, ...] = ("init_time", "lead_time", "y", "x")
    append_dim_start: datetime = DATASET_START
    append_dim_frequency: timedelta = INIT_FREQUENCY_FORECAST
    dataset_attributes: DatasetAttributes = DatasetAttributes(
        dataset_id="noaa-hrrr-forecast-48-hour",
        dataset_version="0.2.0",
        name="NOAA HRRR forecast, 48 hour",
        description=(
            "Weather forecasts from the High-Resolution Rapid Refresh (HRRR) model operated by "
            "NOAA NCEP, 3 km over the contiguous US: the 00, 06, 12 and 18 UTC runs (0-48 "
            "hours) as issued (init_time x lead_time) on HRRR's native Lambert conformal grid."
        ),
        attribution="NOAA NWS NCEP HRRR data processed by reformatters.",
        license="CC-BY-4.0",
        spatial_domain="Continental United States",
        spatial_resolution="3km",
        time_domain="Forecasts initialized 2018-07-13 12:00 UTC to present",
        time_resolution="Forecasts initialized every 6 hours",
        forecast_domain=(
            "Forecast lead time 0-48 hours ahead (0-36 hours before 2020-12-02 12:00 UTC)"
        ),
        forecast_resolution="Hourly",
    )

    grid: ClassVar[Grid] = OUTPUT_GRID
    lead_times: ClassVar[pd.TimedeltaIndex] = LEAD_TIMES
    append_coord_chunk: ClassVar[int] = APPEND_COORD_CHUNK
    expected_forecast_length_comment: ClassVar[str] = (
        "The forecast length HRRR issues for this init time (36 h before "
        "HRRR v4 on 2020-12-02 12 UTC, 48 h since)."
    )

    @property
    def data_vars(self) -> tuple[NoaaDataVar, ...]:
        return DATA_VARS

    def expected_forecast_length(self, init_times: NDArray[np.datetime64]) -> NDArray[Any]:
        inits = pd.DatetimeIndex(init_times)
        lengths = np.where(
            inits >= HRRR_V4_START,
            FORECAST_LENGTH_V4.to_timedelta64(),
            FORECAST_LENGTH_V3.to_timedelta64(),
        )
        return lengths.astype("timedelta64[ns]")
