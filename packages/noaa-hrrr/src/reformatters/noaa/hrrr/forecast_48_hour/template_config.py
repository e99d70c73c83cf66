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

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from reformatters.core.config_models import (
    Coordinate,
    CoordinateAttrs,
    DatasetAttributes,
    Encoding,
)
from reformatters.core.template_config import TemplateConfig
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.hrrr.common import (
    DATASET_START,
    INIT_FREQUENCY_FORECAST,
    derive_spatial_coordinates,
    hrrr_data_vars,
    spatial_coords,
    spatial_dimension_coordinates,
    time_encoding,
    timedelta_encoding,
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


def _var_encoding() -> Encoding:
    return Encoding(dtype="float32", fill_value=float("nan"), chunks=VAR_CHUNKS, shards=VAR_SHARDS)


DATA_VARS: tuple[NoaaDataVar, ...] = hrrr_data_vars(
    _var_encoding(),
    rate_comment=RATE_COMMENT,
    lead_0_comment="NaN at lead 0, where HRRR writes only a constant placeholder.",
)


def expected_forecast_length(init_times: Any) -> np.ndarray[Any, np.dtype[np.timedelta64]]:
    inits = pd.DatetimeIndex(init_times)
    lengths = np.where(
        inits >= HRRR_V4_START,
        FORECAST_LENGTH_V4.to_timedelta64(),
        FORECAST_LENGTH_V3.to_timedelta64(),
    )
    return lengths.astype("timedelta64[ns]")


class HrrrForecast48HourTemplateConfig(TemplateConfig[NoaaDataVar]):
    """noaa-hrrr-forecast-48-hour: dims (init_time, lead_time, y, x), append init_time."""

    dims: tuple[str, ...] = ("init_time", "lead_time", "y", "x")
    append_dim: str = "init_time"
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

    @property
    def coords(self) -> Sequence[Coordinate]:
        return (
            Coordinate(
                name="init_time",
                encoding=time_encoding((APPEND_COORD_CHUNK,)),
                attrs=CoordinateAttrs(
                    long_name="Forecast initialization time",
                    standard_name="forecast_reference_time",
                ),
            ),
            Coordinate(
                name="lead_time",
                encoding=timedelta_encoding((len(LEAD_TIMES),)),
                attrs=CoordinateAttrs(
                    long_name="Forecast lead time", standard_name="forecast_period"
                ),
            ),
            *spatial_coords(),
            Coordinate(
                name="valid_time",
                encoding=time_encoding((APPEND_COORD_CHUNK, len(LEAD_TIMES))),
                attrs=CoordinateAttrs(long_name="Valid time", standard_name="time"),
            ),
            Coordinate(
                name="expected_forecast_length",
                encoding=timedelta_encoding((APPEND_COORD_CHUNK,)),
                attrs=CoordinateAttrs(
                    long_name="Expected forecast length",
                    comment="The forecast length HRRR issues for this init time (36 h before "
                    "HRRR v4 on 2020-12-02 12 UTC, 48 h since).",
                ),
            ),
            Coordinate(
                name="ingested_forecast_length",
                encoding=timedelta_encoding((APPEND_COORD_CHUNK,)),
                attrs=CoordinateAttrs(
                    long_name="Ingested forecast length",
                    comment=(
                        "The longest lead time for which source data was ingested; NaT if none "
                        "yet. Smaller than expected_forecast_length when files were missing."
                    ),
                ),
            ),
        )

    @property
    def data_vars(self) -> Sequence[NoaaDataVar]:
        return DATA_VARS

    def dimension_coordinates(self) -> dict[str, Any]:
        return {
            "init_time": self.append_dim_coordinates(
                self.append_dim_start + self.append_dim_frequency
            ),
            "lead_time": LEAD_TIMES,
            **spatial_dimension_coordinates(),
        }

    def derive_coordinates(self, ds: xr.Dataset) -> dict[str, tuple[tuple[str, ...], Any]]:
        init = ds["init_time"].values
        lead = ds["lead_time"].values
        n = len(init)
        return {
            "valid_time": (("init_time", "lead_time"), init[:, None] + lead[None, :]),
            "expected_forecast_length": (("init_time",), expected_forecast_length(init)),
            "ingested_forecast_length": (
                ("init_time",),
                np.full(n, np.timedelta64("NaT", "ns"), dtype="timedelta64[ns]"),
            ),
            **derive_spatial_coordinates(),
        }
