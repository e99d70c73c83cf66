"""The noaa-gefs-forecast-35-day dataset: template, region job and offline sources; its
operations are declared in ``dataset.toml``, but for the NaN check's per-variable lead limits,
which follow from the variables' source files."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pandas as pd

from reformatters.core.operations.validation import STANDARD_VALIDATORS, check_forecast_complete
from reformatters.core.operations_spec import OperationsSpec
from reformatters.noaa.common.forecast import NoaaForecastDataset
from reformatters.noaa.gefs.common import (
    LAST_QUARTER_DEGREE_LEAD,
    MEMBERS,
    SOURCES,
    SURFACE_TO_240H,
)
from reformatters.noaa.gefs.forecast.region_job import GefsForecastRegionJob, GefsSourceFileCoord
from reformatters.noaa.gefs.forecast.template_config import GefsForecastTemplateConfig
from reformatters.noaa.gefs.synthesis import DEFAULT_SYNTHESIS_LEADS, synthesize_gefs_mirror


class GefsForecastDataset(NoaaForecastDataset[GefsSourceFileCoord]):
    validators = (*STANDARD_VALIDATORS, check_forecast_complete)

    def operations_config(self) -> OperationsSpec:
        """The card's operations; variables NOAA's 0.5 degree files do not carry are NaN after
        ``LAST_QUARTER_DEGREE_LEAD`` by design, left out of the NaN check there."""
        spec = super().operations_config()
        to_240h = [name for name, source in SOURCES.items() if source == SURFACE_TO_240H]
        max_lead = dict.fromkeys(to_240h, timedelta(hours=LAST_QUARTER_DEGREE_LEAD))
        validation = spec.validation.model_copy(update={"nan_check_max_lead": max_lead})
        return spec.model_copy(update={"validation": validation})

    def synthesize_runs(self, folder: Path, inits: Sequence[pd.Timestamp]) -> list[Path]:
        """GEFS files of every member of these runs, leads ``DEFAULT_SYNTHESIS_LEADS`` only."""
        members = [int(m) for m in MEMBERS]
        data_vars = self.template_config.data_vars
        return synthesize_gefs_mirror(folder, inits, members, DEFAULT_SYNTHESIS_LEADS, data_vars)


def make_forecast_dataset() -> GefsForecastDataset:
    return GefsForecastDataset(GefsForecastTemplateConfig.declared(), GefsForecastRegionJob)
