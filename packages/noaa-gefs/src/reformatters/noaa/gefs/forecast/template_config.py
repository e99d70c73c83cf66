"""Structure of noaa-gefs-forecast-35-day.

Dims (init_time, ensemble_member, lead_time, latitude, longitude). An inner chunk is one member's
16 leads over 48 x 48 points; a shard is one member's whole run over the whole globe
(1 x 1 x 192 x 768 x 1440, overhanging the 181 x 721 x 1440 array edge). The package README
gives the numbers behind this choice for the two reads users make: all members at a point over
every lead (372 chunks, 55 MB raw) and one member's map at one lead (480 chunks, 71 MB raw).

A shard holding one member lets a region job be one init and one member (core's partition along
``ensemble_member``): a worker holds one member's run of one variable (750 MB of float32), not
the whole ensemble's (23 GB). The template keeps its append dimension at length 1; it is
expanded at run time.
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
from reformatters.noaa.gefs.common import (
    DATASET_START,
    INIT_FREQUENCY,
    LAST_QUARTER_DEGREE_LEAD,
    MEMBERS,
    OUTPUT_GRID,
    SOURCES,
    SURFACE,
    SURFACE_TO_240H,
    VARIABLES,
)

# 0-240 h 3-hourly, then 6-hourly to 840 h: 81 + 100 = 181 leads.
LEAD_TIMES = pd.TimedeltaIndex(
    [pd.Timedelta(hours=h) for h in (*range(0, 241, 3), *range(246, 841, 6))]
)
EXPECTED_FORECAST_LENGTH = pd.Timedelta(hours=840)

VAR_CHUNKS = (1, 1, 16, 48, 48)
VAR_SHARDS = (1, 1, 192, 768, 1440)

WINDOW_COMMENT = (
    "GEFS window statistic as issued: the window resets every 6 hours and ends at the valid "
    "time, so the value at lead L covers lead floor((L-1)/6)*6 to L (lead 3: 0-3 h; lead 6: "
    "0-6 h; lead 252: 246-252 h). No value at lead 0."
)
RATE_COMMENT = (
    "Mean rate over the interval since the previous lead (3 hours up to lead 240, 6 hours "
    "after). No value at lead 0."
)
_BILINEAR = (
    "placed on this 0.25 degree grid by bilinear interpolation: values at the 0.5 degree points "
    "are the source's, a point between two (or four) of them is their mean."
)
SOURCE_COMMENTS = {
    SURFACE: f"Leads 0-240 h from NOAA's 0.25 degree files; 246-840 h from its 0.5 degree files, "
    f"{_BILINEAR}",
    SURFACE_TO_240H: "Leads 0-240 h only, from NOAA's 0.25 degree files (its 0.5 degree files "
    "do not carry it): NaN after 240 h.",
}
HALF_DEGREE_COMMENT = f"From NOAA's 0.5 degree files at every lead, {_BILINEAR}"
CATEGORICAL_COMMENT = (
    "Where interpolated from 0.5 degree, values between 0 and 1 are the fraction of the "
    "neighbouring source points flagged."
)


def _with_source(var: NoaaDataVar) -> NoaaDataVar:
    source = SOURCES[var.name]
    notes = [var.attrs.comment, SOURCE_COMMENTS.get(source, HALF_DEGREE_COMMENT)]
    if var.attrs.units == "1" and var.name.startswith("categorical_"):
        notes.append(CATEGORICAL_COMMENT)
    return var.model_copy(
        update={"attrs": var.attrs.model_copy(update={"comment": " ".join(n for n in notes if n)})}
    )


DATA_VARS: tuple[NoaaDataVar, ...] = tuple(
    _with_source(var)
    for var in VARIABLES.data_vars(
        VAR_CHUNKS, VAR_SHARDS, window_comment=WINDOW_COMMENT, rate_comment=RATE_COMMENT
    )
)


class GefsForecastTemplateConfig(ForecastTemplateConfig[NoaaDataVar]):
    """noaa-gefs-forecast-35-day: the 00 UTC GEFS runs, 31 members, 35 days."""

    dims: tuple[str, ...] = ("init_time", "ensemble_member", "lead_time", "latitude", "longitude")
    append_dim_start: datetime = DATASET_START
    append_dim_frequency: timedelta = INIT_FREQUENCY
    dataset_attributes: DatasetAttributes = DatasetAttributes(
        dataset_id="noaa-gefs-forecast-35-day",
        dataset_version="0.1.0",
        name="NOAA GEFS forecast, 35 day",
        description=(
            "Ensemble weather forecasts from the Global Ensemble Forecast System (GEFS v12) "
            "operated by NOAA NCEP: the 00 UTC runs, control and 30 perturbed members, 35 days "
            "ahead, on a 0.25 degree grid."
        ),
        attribution="NOAA NWS NCEP GEFS data processed by reformatters.",
        license="CC-BY-4.0",
        spatial_domain="Global",
        spatial_resolution=(
            f"0.25 degrees (~20km). Leads after {LAST_QUARTER_DEGREE_LEAD} h, 500 hPa "
            "geopotential height and 100 m winds come from NOAA's 0.5 degree files and are "
            "interpolated bilinearly onto the 0.25 degree grid."
        ),
        time_domain="Forecasts initialized 2020-10-01 00:00 UTC to present",
        time_resolution="Forecasts initialized every 24 hours (00 UTC)",
        forecast_domain="Forecast lead time 0-840 hours (0-35 days) ahead",
        forecast_resolution="3 hourly up to 240 hours, 6 hourly to 840 hours",
    )

    grid: ClassVar[Grid] = OUTPUT_GRID
    lead_times: ClassVar[pd.TimedeltaIndex] = LEAD_TIMES
    # Daily inits: one chunk of the append-dim coordinates holds about 16 years.
    append_coord_chunk: ClassVar[int] = 6000
    expected_forecast_length_comment: ClassVar[str] = (
        "The forecast length GEFS issues for its 00 UTC runs."
    )
    ensemble_members: ClassVar[NDArray[np.int16] | None] = MEMBERS
    ensemble_member_comment: ClassVar[str] = (
        "0 is the control forecast (NOAA's gec00 files), 1-30 the perturbed members (gep01-gep30)."
    )

    @property
    def data_vars(self) -> tuple[NoaaDataVar, ...]:
        return DATA_VARS

    def expected_forecast_length(self, init_times: NDArray[np.datetime64]) -> NDArray[Any]:
        return np.full(len(init_times), EXPECTED_FORECAST_LENGTH.to_timedelta64())
