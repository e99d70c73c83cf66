"""Entry point of reformatters-noaa-gfs (group ``reformatters``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.core.hookspecs import hookimpl
from reformatters.noaa.gfs.analysis.dynamical_dataset import make_analysis_dataset
from reformatters.noaa.gfs.forecast.dynamical_dataset import make_forecast_dataset

if TYPE_CHECKING:
    import typer


@hookimpl
def reformatters_datasets() -> Sequence[DynamicalDataset[Any, Any]]:
    return [make_forecast_dataset(), make_analysis_dataset()]


@hookimpl
def reformatters_cli(app: typer.Typer) -> Sequence[str]:
    """``reformat demo``, which runs region jobs (see reformatters.tools.hookspecs)."""
    from reformatters.noaa.gfs.demo import add_demo_command

    add_demo_command(app)
    return ["demo"]
