"""Entry point of reformatters-noaa-gefs (group ``reformatters``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.core.hookspecs import hookimpl
from reformatters.noaa.gefs.forecast.dynamical_dataset import make_forecast_dataset


@hookimpl
def reformatters_datasets() -> Sequence[DynamicalDataset[Any, Any]]:
    return [make_forecast_dataset()]
