"""Entry point of reformatters-dwd-icon (group ``reformatters``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.core.hookspecs import hookimpl
from reformatters.dwd.icon.eu_forecast.dynamical_dataset import make_eu_forecast_dataset


@hookimpl
def reformatters_datasets() -> Sequence[DynamicalDataset[Any, Any]]:
    return [make_eu_forecast_dataset()]
