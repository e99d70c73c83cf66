"""The noaa-gfs-forecast dataset: template, region job, operations and offline sources."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pandas as pd

from reformatters.core.operations_spec import OperationsSpec, UpdateSchedule, ValidationSpec
from reformatters.noaa.common.forecast import NoaaForecastDataset
from reformatters.noaa.gfs.forecast.region_job import (
    GfsForecastRegionJob,
    GfsForecastSourceFileCoord,
)
from reformatters.noaa.gfs.forecast.template_config import GfsForecastTemplateConfig
from reformatters.noaa.gfs.synthesis import DEFAULT_SYNTHESIS_LEADS, synthesize_gfs_mirror


class GfsForecastDataset(NoaaForecastDataset[GfsForecastSourceFileCoord]):
    # GFS runs at 00/06/12/18 UTC; NOAA publishes f000 about 3.5 h and f384 about 5 h after init,
    # so the update runs 5 h after each init and the validator 30 minutes later.
    operations: ClassVar[OperationsSpec] = OperationsSpec(
        update=UpdateSchedule(
            cron="0 5,11,17,23 * * *",
            run_hours_utc=(0, 6, 12, 18),
            typical_latency=timedelta(hours=5),
            active_deadline=timedelta(hours=2),
        ),
        validation=ValidationSpec(
            cron="30 5,11,17,23 * * *",
            # The newest init is at most 6 h (cadence) + 5 h (latency) + slack old.
            max_latest_age=timedelta(hours=12),
            recent_window=timedelta(0),
            max_nan_fraction=0.0,
            # Window statistics have no value at lead 0, by design.
            nan_check_exclude_leads=(timedelta(0),),
        ),
    )

    def synthesize_source_mirror(self, start: datetime, end: datetime, folder: Path) -> list[Path]:
        """GFS files for inits in [start, end), leads ``DEFAULT_SYNTHESIS_LEADS`` only."""
        inits = pd.date_range(
            start, end, freq=self.template_config.append_dim_frequency, inclusive="left"
        )
        return synthesize_gfs_mirror(
            folder, list(inits), DEFAULT_SYNTHESIS_LEADS, self.template_config.data_vars
        )


def make_forecast_dataset() -> GfsForecastDataset:
    return GfsForecastDataset(GfsForecastTemplateConfig(), GfsForecastRegionJob)
