"""The noaa-hrrr-analysis dataset: template, region job, operations and offline sources."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pandas as pd

from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.core.operations_spec import (
    ContainerResources,
    OperationsSpec,
    UpdateSchedule,
    ValidationSpec,
)
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.hrrr.analysis.region_job import (
    WINDOW_LEAD,
    HrrrAnalysisRegionJob,
    HrrrAnalysisSourceFileCoord,
)
from reformatters.noaa.hrrr.analysis.template_config import HrrrAnalysisTemplateConfig
from reformatters.noaa.hrrr.synthesis import synthesize_hrrr_mirror


class HrrrAnalysisDataset(DynamicalDataset[NoaaDataVar, HrrrAnalysisSourceFileCoord]):
    # HRRR runs every hour; f00 and f01 reach NOAA's bucket about 50-55 minutes after init, so
    # hour t is complete (its f00 and the previous run's f01) about 55 minutes after t.
    operations: ClassVar[OperationsSpec] = OperationsSpec(
        update=UpdateSchedule(
            cron="10 * * * *",
            run_hours_utc=tuple(range(24)),
            typical_latency=timedelta(minutes=70),
            active_deadline=timedelta(minutes=50),
            resources=ContainerResources(cpu="2", memory="8Gi", shared_memory="2Gi"),
        ),
        validation=ValidationSpec(
            cron="40 * * * *",
            max_latest_age=timedelta(hours=3),
            recent_window=timedelta(0),
            max_nan_fraction=0.0,
            # NaN where HRRR diagnoses no ceiling (clear sky); a map without any ceiling is not.
            nan_fraction_limits={"geopotential_height_cloud_ceiling": 0.999},
        ),
    )

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
    return HrrrAnalysisDataset(HrrrAnalysisTemplateConfig(), HrrrAnalysisRegionJob)
