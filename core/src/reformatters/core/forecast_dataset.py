"""``ForecastDataset``: a dataset of model runs (init_time x lead_time) that records, after each
run, how far each init's forecast was read (``ingested_forecast_length``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import xarray as xr

from reformatters.core.config_models import DataVar
from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.core.errors import InvalidArgumentError
from reformatters.core.region_job import RegionJobResult, SourceFileCoord
from reformatters.core.template_bases import fill_ingested_forecast_length

__all__ = ["ForecastDataset"]


class ForecastDataset[DataVarT: DataVar[Any], SourceFileCoordT: SourceFileCoord](
    DynamicalDataset[DataVarT, SourceFileCoordT]
):
    """For a ``template_bases.ForecastTemplateConfig`` whose file coordinates' ``out_loc`` names
    ``init_time`` and ``lead_time``."""

    result_coordinates: ClassVar[tuple[str, ...]] = ("ingested_forecast_length",)

    def finalize_template(
        self, template_ds: xr.Dataset, results: Sequence[RegionJobResult]
    ) -> xr.Dataset:
        """Fill ``ingested_forecast_length`` with the longest lead read for each init.

        Inits not processed in this run keep the template's value (NaT).
        """
        return fill_ingested_forecast_length(template_ds, results)

    def synthesize_source_mirror(self, start: datetime, end: datetime, folder: Path) -> list[Path]:
        """The source files of the runs initialized in [start, end): ``synthesize_runs``."""
        frequency = self.template_config.append_dim_frequency
        inits = pd.date_range(start, end, freq=frequency, inclusive="left")
        return self.synthesize_runs(folder, list(inits))

    def synthesize_runs(self, folder: Path, inits: Sequence[pd.Timestamp]) -> list[Path]:
        """Hook: write the provider-layout source files of these runs into ``folder`` (see
        ``DynamicalDataset.synthesize_source_mirror``); datasets that run offline implement it."""
        raise InvalidArgumentError(f"{self.dataset_id} cannot synthesize its source files")
