"""The noaa-gfs-analysis dataset: template, region job, operations and offline sources."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pandas as pd

from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.core.operations_spec import OperationsSpec, UpdateSchedule, ValidationSpec
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.gfs.analysis.region_job import (
    GfsAnalysisRegionJob,
    GfsAnalysisSourceFileCoord,
    source_run,
)
from reformatters.noaa.gfs.analysis.template_config import GfsAnalysisTemplateConfig
from reformatters.noaa.gfs.synthesis import synthesize_gfs_mirror


class GfsAnalysisDataset(DynamicalDataset[NoaaDataVar, GfsAnalysisSourceFileCoord]):
    # Each run's f000-f006 are published about 3.5-4 h after init; the update runs 4 h after
    # each run and the validator 30 minutes later.
    operations: ClassVar[OperationsSpec] = OperationsSpec(
        update=UpdateSchedule(
            cron="0 4,10,16,22 * * *",
            run_hours_utc=(0, 6, 12, 18),
            typical_latency=timedelta(hours=4),
        ),
        validation=ValidationSpec(
            cron="30 4,10,16,22 * * *",
            # Newest hour: run time + 6 h, available ~4 h after the run; 6 h cadence + slack.
            max_latest_age=timedelta(hours=12),
            recent_window=timedelta(hours=6),
            max_nan_fraction=0.0,
        ),
    )

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
    return GfsAnalysisDataset(GfsAnalysisTemplateConfig(), GfsAnalysisRegionJob)
