"""The dwd-icon-eu-forecast-5-day dataset: template, region job and offline sources; its
operations (with the source archiver: DWD keeps a run's files about a day) are declared in
``dataset.toml``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from reformatters.core.forecast_dataset import ForecastDataset
from reformatters.core.operations.validation import STANDARD_VALIDATORS, check_forecast_complete
from reformatters.dwd.icon.eu_forecast.template_config import IconEuForecastTemplateConfig
from reformatters.dwd.icon.region_job import IconRegionJob, IconSourceFileCoord
from reformatters.dwd.icon.synthesis import DEFAULT_SYNTHESIS_STEPS, synthesize_icon_eu_mirror
from reformatters.dwd.icon.variables import IconDataVar


class IconEuForecastDataset(ForecastDataset[IconDataVar, IconSourceFileCoord]):
    validators = (*STANDARD_VALIDATORS, check_forecast_complete)

    def synthesize_runs(self, folder: Path, inits: Sequence[pd.Timestamp]) -> list[Path]:
        """DWD-layout files (bz2, steps in minutes) of these runs, steps
        ``DEFAULT_SYNTHESIS_STEPS`` only, at ``<folder>/opendata.dwd.de/weather/...``."""
        data_vars = self.template_config.data_vars
        return synthesize_icon_eu_mirror(folder, inits, DEFAULT_SYNTHESIS_STEPS, data_vars)


def make_eu_forecast_dataset() -> IconEuForecastDataset:
    return IconEuForecastDataset(IconEuForecastTemplateConfig.declared(), IconRegionJob)
