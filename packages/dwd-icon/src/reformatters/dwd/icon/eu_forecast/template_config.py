"""Structure of dwd-icon-eu-forecast-5-day.

Dims (init_time, lead_time, latitude, longitude). An inner chunk is a third of one run's 93
leads over 219 x 153 points (3 x 3 x 9 chunks cover a run); a shard is one run of one variable
over the whole grid (1 x 93 x 657 x 1377, 336 MB of float32). Version 0.2.0: chunks of 31 leads
instead of 93 (maps 3-4x faster, points unchanged; the package README has the numbers).
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
from reformatters.dwd.icon.common import DATASET_START, INIT_FREQUENCY, OUTPUT_GRID, STEP_HOURS
from reformatters.dwd.icon.variables import IconDataVar, data_vars

LEAD_TIMES = pd.TimedeltaIndex([pd.Timedelta(hours=h) for h in STEP_HOURS])
EXPECTED_FORECAST_LENGTH = pd.Timedelta(hours=120)

DATA_VARS = data_vars((1, 31, 219, 153), (1, 93, 657, 1377))

ATTRIBUTION = (
    "Source: Deutscher Wetterdienst (DWD), ICON-EU open data, licence CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/). Modified: reformatted by reformatters "
    "(units converted, run-start accumulations and averages turned into interval means, rows "
    "flipped to run north first)."
)


class IconEuForecastTemplateConfig(ForecastTemplateConfig[IconDataVar]):
    """dwd-icon-eu-forecast-5-day: the 00/06/12/18 UTC ICON-EU runs, 5 days, 0.0625 degree."""

    dims: tuple[str, ...] = ("init_time", "lead_time", "latitude", "longitude")
    append_dim_start: datetime = DATASET_START
    append_dim_frequency: timedelta = INIT_FREQUENCY
    dataset_attributes: DatasetAttributes = DatasetAttributes(
        dataset_id="dwd-icon-eu-forecast-5-day",
        dataset_version="0.2.0",
        name="DWD ICON-EU forecast, 5 day",
        description=(
            "Weather forecasts from Deutscher Wetterdienst's ICON-EU model as published in "
            "DWD's open data: the 00, 06, 12 and 18 UTC runs, 5 days ahead, on a regular "
            "0.0625 degree grid over Europe."
        ),
        attribution=ATTRIBUTION,
        license="CC-BY-4.0",
        spatial_domain="Europe (29.5..70.5 N, 23.5 W..62.5 E)",
        spatial_resolution="0.0625 degrees (~7km)",
        time_domain=f"Forecasts initialized {DATASET_START:%Y-%m-%d %H:%M} UTC to present",
        time_resolution="Forecasts initialized every 6 hours (00, 06, 12, 18 UTC)",
        forecast_domain="Forecast lead time 0-120 hours (0-5 days) ahead",
        forecast_resolution="Hourly up to 78 hours, 3 hourly to 120 hours",
    )

    grid: ClassVar[Grid] = OUTPUT_GRID
    lead_times: ClassVar[pd.TimedeltaIndex] = LEAD_TIMES
    append_coord_chunk: ClassVar[int] = 20000
    expected_forecast_length_comment: ClassVar[str] = (
        "The forecast length DWD publishes on its open data server for every ICON-EU run."
    )

    @property
    def data_vars(self) -> tuple[IconDataVar, ...]:
        return DATA_VARS

    def expected_forecast_length(self, init_times: NDArray[np.datetime64]) -> NDArray[Any]:
        return np.full(len(init_times), EXPECTED_FORECAST_LENGTH.to_timedelta64())
