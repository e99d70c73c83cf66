"""The noaa-gfs-analysis dataset: template, region job and offline sources; its operations
are declared in ``dataset.toml``."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.gfs.analysis.region_job import (
    GfsAnalysisRegionJob,
    GfsAnalysisSourceFileCoord,
    source_run,
)
from reformatters.noaa.gfs.analysis.template_config import GfsAnalysisTemplateConfig
from reformatters.noaa.gfs.synthesis import synthesize_gfs_mirror


class GfsAnalysisDataset(DynamicalDataset[NoaaDataVar, GfsAnalysisSourceFileCoord]):
    def synthesize_source_mirror(self, start: datetime, end: datetime, folder: Path) -> list[Path]:
        """The GFS files (runs and leads 0-6) that hours [start, end) are built from."""
        times = pd.date_range(start, end, freq=timedelta(hours=1), inclusive="left")
        runs: dict[pd.Timestamp, set[int]] = {}
        for time in times:
            for window in (False, True):
                init, lead = source_run(time, window=window)
                runs.setdefault(init, set()).add(int(lead / pd.Timedelta(hours=1)))
        paths: list[Path] = []
        for init, leads in sorted(runs.items()):
            paths += synthesize_gfs_mirror(
                folder, [init], sorted(leads), self.template_config.data_vars
            )
        return paths


def make_analysis_dataset() -> GfsAnalysisDataset:
    return GfsAnalysisDataset(GfsAnalysisTemplateConfig.declared(), GfsAnalysisRegionJob)
