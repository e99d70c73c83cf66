"""Structure of ecmwf-ifs-ens-forecast-15-day-0-25-degree.

Dims (init_time, ensemble_member, lead_time, latitude, longitude). An inner chunk is one member's
17 leads over 48 x 48 points (85 = 5 x 17); a shard is one member's whole run over the whole
globe (1 x 1 x 85 x 768 x 1440, overhanging the 721-row edge). The package README gives the
numbers behind this choice for the two reads users make: all members at a point over every
lead (255 chunks, 40 MB raw) and one member's map at one lead (480 chunks, 75 MB raw).

A shard holding one member lets a region job be one init and one member (core's partition along
``ensemble_member``): a worker holds one member's run of one variable (353 MB of float32), not
the whole ensemble's (18 GB).
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
from reformatters.ecmwf.ifs.common import (
    DATASET_START,
    INIT_FREQUENCY,
    MEMBERS,
    OUTPUT_GRID,
    STEP_HOURS,
)
from reformatters.ecmwf.ifs.variables import IfsDataVar, data_vars

LEAD_TIMES = pd.TimedeltaIndex([pd.Timedelta(hours=h) for h in STEP_HOURS])
EXPECTED_FORECAST_LENGTH = pd.Timedelta(hours=360)

VAR_CHUNKS = (1, 1, 17, 48, 48)
VAR_SHARDS = (1, 1, 85, 768, 1440)
DATA_VARS = data_vars(VAR_CHUNKS, VAR_SHARDS)

ATTRIBUTION = (
    "Copyright © ECMWF. Source www.ecmwf.int. Licence: CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/). ECMWF does not accept any liability "
    "whatsoever for any error or omission in the data, their availability, or for any loss or "
    "damage arising from their use. Modified: reformatted by reformatters (units converted, "
    "accumulations turned into mean rates)."
)


class IfsEnsForecastTemplateConfig(ForecastTemplateConfig[IfsDataVar]):
    """ecmwf-ifs-ens-forecast-15-day-0-25-degree: the 00 UTC IFS ENS runs, 51 members, 15 days."""

    dims: tuple[str, ...] = ("init_time", "ensemble_member", "lead_time", "latitude", "longitude")
    append_dim_start: datetime = DATASET_START
    append_dim_frequency: timedelta = INIT_FREQUENCY
    dataset_attributes: DatasetAttributes = DatasetAttributes(
        dataset_id="ecmwf-ifs-ens-forecast-15-day-0-25-degree",
        dataset_version="0.1.0",
        name="ECMWF IFS ENS forecast, 15 day, 0.25 degree",
        description=(
            "Ensemble weather forecasts from ECMWF's Integrated Forecasting System (IFS ENS) as "
            "published in ECMWF's open data: the 00 UTC runs, control and 50 perturbed members, "
            "15 days ahead, on a 0.25 degree grid."
        ),
        attribution=ATTRIBUTION,
        license="CC-BY-4.0",
        spatial_domain="Global",
        spatial_resolution="0.25 degrees (~20km)",
        time_domain="Forecasts initialized 2024-04-01 00:00 UTC to present",
        time_resolution="Forecasts initialized every 24 hours (00 UTC)",
        forecast_domain="Forecast lead time 0-360 hours (0-15 days) ahead",
        forecast_resolution="3 hourly up to 144 hours, 6 hourly to 360 hours",
    )

    grid: ClassVar[Grid] = OUTPUT_GRID
    lead_times: ClassVar[pd.TimedeltaIndex] = LEAD_TIMES
    append_coord_chunk: ClassVar[int] = 6000
    expected_forecast_length_comment: ClassVar[str] = (
        "The forecast length ECMWF issues for its 00 UTC ENS runs."
    )
    ensemble_members: ClassVar[NDArray[np.int16] | None] = MEMBERS
    ensemble_member_comment: ClassVar[str] = (
        "0 is the control forecast (MARS type cf), 1-50 the perturbed members (type pf, number "
        "1-50)."
    )

    @property
    def data_vars(self) -> tuple[IfsDataVar, ...]:
        return DATA_VARS

    def expected_forecast_length(self, init_times: NDArray[np.datetime64]) -> NDArray[Any]:
        return np.full(len(init_times), EXPECTED_FORECAST_LENGTH.to_timedelta64())
