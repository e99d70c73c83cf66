"""Entry point of reformatters-ecmwf-ifs (group ``reformatters``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.core.hookspecs import hookimpl
from reformatters.ecmwf.ifs.ens_forecast.dynamical_dataset import make_ens_forecast_dataset


@hookimpl
def reformatters_datasets() -> Sequence[DynamicalDataset[Any, Any]]:
    return [make_ens_forecast_dataset()]
