"""The noaa-hrrr-forecast-48-hour dataset: template, region job and offline sources; its
operations are declared in ``dataset.toml``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from reformatters.noaa.common.forecast import NoaaForecastDataset
from reformatters.noaa.hrrr.forecast_48_hour.region_job import (
    HrrrForecast48HourRegionJob,
    HrrrForecastSourceFileCoord,
)
from reformatters.noaa.hrrr.forecast_48_hour.template_config import (
    HrrrForecast48HourTemplateConfig,
)
from reformatters.noaa.hrrr.synthesis import synthesize_hrrr_mirror

# Leads written by ``reformat mirror synthesize`` (a full 49-lead run is ~1 minute per file).
DEFAULT_SYNTHESIS_LEADS: tuple[int, ...] = (0, 1, 2)


class HrrrForecast48HourDataset(NoaaForecastDataset[HrrrForecastSourceFileCoord]):
    def synthesize_runs(self, folder: Path, inits: Sequence[pd.Timestamp]) -> list[Path]:
        """HRRR files of these runs, leads ``DEFAULT_SYNTHESIS_LEADS`` only."""
        files = [(init, lead) for init in inits for lead in DEFAULT_SYNTHESIS_LEADS]
        return synthesize_hrrr_mirror(folder, files, self.template_config.data_vars)


def make_forecast_48_hour_dataset() -> HrrrForecast48HourDataset:
    return HrrrForecast48HourDataset(
        HrrrForecast48HourTemplateConfig.declared(), HrrrForecast48HourRegionJob
    )
