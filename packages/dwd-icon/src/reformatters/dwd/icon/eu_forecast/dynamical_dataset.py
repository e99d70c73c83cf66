"""The dwd-icon-eu-forecast-5-day dataset: template, region job, operations and offline
sources."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pandas as pd

from reformatters.core.forecast_dataset import ForecastDataset
from reformatters.core.operations.validation import STANDARD_VALIDATORS, check_forecast_complete
from reformatters.core.operations_spec import (
    ArchiveSchedule,
    BackfillJobConfig,
    ContainerResources,
    OperationsSpec,
    UpdateSchedule,
    ValidationSpec,
)
from reformatters.dwd.icon.eu_forecast.template_config import IconEuForecastTemplateConfig
from reformatters.dwd.icon.region_job import IconRegionJob, IconSourceFileCoord
from reformatters.dwd.icon.synthesis import DEFAULT_SYNTHESIS_STEPS, synthesize_icon_eu_mirror
from reformatters.dwd.icon.variables import IconDataVar

# A job is one run of one variable: 93 files of ~1-2 MB (bz2) and a 336 MB float32 region.
_WORKER_RESOURCES = ContainerResources(cpu="2", memory="6Gi", ephemeral_storage="10Gi")


class IconEuForecastDataset(ForecastDataset[IconDataVar, IconSourceFileCoord]):
    # DWD starts uploading an ICON-EU run about 2 h 15 min after its init time and has the
    # whole 120 h forecast on opendata.dwd.de by about 3 h 50 min (dynamical.org's measured
    # p99 for the same files). The update runs at init + 3 h 55 min, the validator 50 min later.
    operations: ClassVar[OperationsSpec] = OperationsSpec(
        update=UpdateSchedule(
            cron="55 3,9,15,21 * * *",
            run_hours_utc=(0, 6, 12, 18),
            typical_latency=timedelta(hours=4),
            active_deadline=timedelta(minutes=45),
            resources=_WORKER_RESOURCES,
        ),
        validation=ValidationSpec(
            cron="45 4,10,16,22 * * *",
            validators=(*STANDARD_VALIDATORS, check_forecast_complete),
            # The newest init is at most 6 h (cadence) + 4 h 45 min (validation) + slack old.
            max_latest_age=timedelta(hours=12),
            max_nan_fraction=0.0,
            # Interval means have no value at lead 0, by design.
            nan_check_exclude_leads=(timedelta(0),),
            # Runs on DWD's older, narrower grid are NaN east of 45 E; the current grid is full.
            resources=ContainerResources(cpu="1", memory="4Gi"),
            active_deadline=timedelta(minutes=30),
        ),
        backfill=BackfillJobConfig(resources=_WORKER_RESOURCES),
        # DWD deletes a run's files about a day after publishing them: each run is copied, as
        # published, 15 min after the update (and caught up on the next three schedules if
        # files were missing). The location comes from $REFORMATTERS_ARCHIVE_URL.
        archive=ArchiveSchedule(
            cron="10 4,10,16,22 * * *",
            lookback=timedelta(hours=23),
            resources=ContainerResources(cpu="1", memory="2Gi", ephemeral_storage="4Gi"),
            active_deadline=timedelta(minutes=50),
        ),
    )

    def synthesize_source_mirror(self, start: datetime, end: datetime, folder: Path) -> list[Path]:
        """DWD-layout files (bz2, steps in minutes) for inits in [start, end), steps
        ``DEFAULT_SYNTHESIS_STEPS`` only, at ``<folder>/opendata.dwd.de/weather/...``."""
        inits = pd.date_range(
            start, end, freq=self.template_config.append_dim_frequency, inclusive="left"
        )
        return synthesize_icon_eu_mirror(
            folder, list(inits), DEFAULT_SYNTHESIS_STEPS, self.template_config.data_vars
        )


def make_eu_forecast_dataset() -> IconEuForecastDataset:
    return IconEuForecastDataset(IconEuForecastTemplateConfig(), IconRegionJob)
