"""The noaa-gfs-forecast dataset: template, region job and offline sources; its operations are
declared in ``dataset.toml``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from reformatters.noaa.common.forecast import NoaaForecastDataset
from reformatters.noaa.gfs.forecast.region_job import (
    GfsForecastRegionJob,
    GfsForecastSourceFileCoord,
)
from reformatters.noaa.gfs.forecast.template_config import GfsForecastTemplateConfig
from reformatters.noaa.gfs.synthesis import DEFAULT_SYNTHESIS_LEADS, synthesize_gfs_mirror


class GfsForecastDataset(NoaaForecastDataset[GfsForecastSourceFileCoord]):
    def synthesize_runs(self, folder: Path, inits: Sequence[pd.Timestamp]) -> list[Path]:
        """GFS files of these runs, leads ``DEFAULT_SYNTHESIS_LEADS`` only."""
        data_vars = self.template_config.data_vars
        return synthesize_gfs_mirror(folder, inits, DEFAULT_SYNTHESIS_LEADS, data_vars)


def make_forecast_dataset() -> GfsForecastDataset:
    return GfsForecastDataset(GfsForecastTemplateConfig.declared(), GfsForecastRegionJob)
