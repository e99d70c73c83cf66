"""The noaa-hrrr-analysis dataset: binds its template and region job, and synthesizes the files
an hour is built from (its run's f00 and the previous run's f01) for offline runs. Its
operations are declared in ``dataset.toml``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.hrrr.analysis.region_job import (
    WINDOW_LEAD,
    HrrrAnalysisRegionJob,
    HrrrAnalysisSourceFileCoord,
)
from reformatters.noaa.hrrr.analysis.template_config import HrrrAnalysisTemplateConfig
from reformatters.noaa.hrrr.synthesis import synthesize_hrrr_mirror


class HrrrAnalysisDataset(DynamicalDataset[NoaaDataVar, HrrrAnalysisSourceFileCoord]):
    def synthesize_source_mirror(self, start: datetime, end: datetime, folder: Path) -> list[Path]:
        """The f00 files of the runs at every hour in [start, end) and the f01 files of the
        runs one hour earlier."""
        times = pd.date_range(
            start, end, freq=self.template_config.append_dim_frequency, inclusive="left"
        )
        lead_hours = int(WINDOW_LEAD / pd.Timedelta(hours=1))
        files = [(t, 0) for t in times] + [(t - WINDOW_LEAD, lead_hours) for t in times]
        return synthesize_hrrr_mirror(folder, files, self.template_config.data_vars)


def make_analysis_dataset() -> HrrrAnalysisDataset:
    return HrrrAnalysisDataset(HrrrAnalysisTemplateConfig.declared(), HrrrAnalysisRegionJob)
