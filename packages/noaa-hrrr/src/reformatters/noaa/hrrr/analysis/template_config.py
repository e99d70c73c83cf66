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

from datetime import datetime, timedelta
from typing import ClassVar

from reformatters.core.config_models import DatasetAttributes
from reformatters.core.coordinates import Grid
from reformatters.core.template_bases import AnalysisTemplateConfig
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.hrrr.common import (
    DATASET_START,
    OUTPUT_GRID,
    VARIABLES,
)

VAR_CHUNKS = (24, 106, 120)
VAR_SHARDS = (48, 1060, 1800)
# About 11 years of hours per coordinate chunk (a few hundred kB).
APPEND_COORD_CHUNK = 100_000

RATE_COMMENT = (
    "Mean rate over the hour ending at time, from the 0-1 hour accumulation of the run "
    "initialized one hour earlier."
)


DATA_VARS: tuple[NoaaDataVar, ...] = VARIABLES.data_vars(
    VAR_CHUNKS,
    VAR_SHARDS,
    rate_comment=RATE_COMMENT,
    lead_0_comment=(
        "From the 1-hour forecast (f01) of the run initialized one hour earlier: HRRR's analysis "
        "(f00) holds only a constant placeholder for it."
    ),
)


class HrrrAnalysisTemplateConfig(AnalysisTemplateConfig[NoaaDataVar]):
    """noaa-hrrr-analysis: dims (time, y, x), append time (hourly)."""

    dims: tuple[str, ...] = ("time", "y", "x")
    append_dim_start: datetime = DATASET_START
    append_dim_frequency: timedelta = timedelta(hours=1)
    dataset_attributes: DatasetAttributes = DatasetAttributes(
        dataset_id="noaa-hrrr-analysis",
        dataset_version="0.2.0",
        name="NOAA HRRR analysis",
        description=(
            "Hourly analysis from the High-Resolution Rapid Refresh (HRRR) model operated by "
            "NOAA NCEP, 3 km over the contiguous US on HRRR's native Lambert conformal grid: "
            "each run's analysis (f00) for instantaneous fields and the previous run's first "
            "hour (f01) for accumulations and precipitation types."
        ),
        attribution="NOAA NWS NCEP HRRR data processed by reformatters.",
        license="CC-BY-4.0",
        spatial_domain="Continental United States",
        spatial_resolution="3km",
        time_domain="2018-07-13 12:00 UTC to present",
        time_resolution="1 hour",
    )

    grid: ClassVar[Grid] = OUTPUT_GRID
    append_coord_chunk: ClassVar[int] = APPEND_COORD_CHUNK

    @property
    def data_vars(self) -> tuple[NoaaDataVar, ...]:
        return DATA_VARS
