"""Entry point of reformatters-noaa-hrrr (group ``reformatters``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.core.hookspecs import hookimpl
from reformatters.noaa.hrrr.analysis.dynamical_dataset import make_analysis_dataset
from reformatters.noaa.hrrr.forecast_48_hour.dynamical_dataset import (
    make_forecast_48_hour_dataset,
)


@hookimpl
def reformatters_datasets() -> Sequence[DynamicalDataset[Any, Any]]:
    return [make_forecast_48_hour_dataset(), make_analysis_dataset()]
