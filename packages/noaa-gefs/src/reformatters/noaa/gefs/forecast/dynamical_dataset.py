"""The noaa-gefs-forecast-35-day dataset: template, region job, operations and offline sources."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pandas as pd

from reformatters.core.operations.validation import STANDARD_VALIDATORS, check_forecast_complete
from reformatters.core.operations_spec import (
    BackfillJobConfig,
    ContainerResources,
    OperationsSpec,
    UpdateSchedule,
    ValidationSpec,
)
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

# A worker holds one member's run of one variable (750 MB float32) plus its encoded shard.
_WORKER_RESOURCES = ContainerResources(cpu="8", memory="24Gi")


class GefsForecastDataset(NoaaForecastDataset[GefsSourceFileCoord]):
    # GEFS's 00 UTC files are complete about a day after init: the update runs at 01:00 UTC for
    # the previous day's run (what is still missing is picked up the next day, as the update
    # always re-processes the newest published init), the validator three hours later.
    operations: ClassVar[OperationsSpec] = OperationsSpec(
        update=UpdateSchedule(
            cron="0 1 * * *",
            run_hours_utc=(0,),
            typical_latency=timedelta(hours=24),
            active_deadline=timedelta(hours=3),
            resources=_WORKER_RESOURCES,
        ),
        validation=ValidationSpec(
            cron="0 4 * * *",
            validators=(*STANDARD_VALIDATORS, check_forecast_complete),
            # The newest init is at most 24 h (cadence) + 25 h (update) + slack old.
            max_latest_age=timedelta(hours=52),
            recent_window=timedelta(0),
            max_nan_fraction=0.0,
            # Window statistics have no value at lead 0, by design.
            nan_check_exclude_leads=(timedelta(0),),
            nan_check_max_lead={
                name: timedelta(hours=LAST_QUARTER_DEGREE_LEAD)
                for name, source in SOURCES.items()
                if source == SURFACE_TO_240H
            },
            # A whole run is 31 x 181 fields per variable: the control and the last member are
            # read; check_forecast_complete covers every member's extent.
            check_positions={"ensemble_member": (0, 30)},
            resources=ContainerResources(cpu="1", memory="8Gi"),
            active_deadline=timedelta(hours=1),
        ),
        backfill=BackfillJobConfig(resources=_WORKER_RESOURCES),
    )

    def synthesize_source_mirror(self, start: datetime, end: datetime, folder: Path) -> list[Path]:
        """GEFS files of every member for inits in [start, end), leads
        ``DEFAULT_SYNTHESIS_LEADS`` only."""
        inits = pd.date_range(
            start, end, freq=self.template_config.append_dim_frequency, inclusive="left"
        )
        return synthesize_gefs_mirror(
            folder,
            list(inits),
            [int(m) for m in MEMBERS],
            DEFAULT_SYNTHESIS_LEADS,
            self.template_config.data_vars,
        )


def make_forecast_dataset() -> GefsForecastDataset:
    return GefsForecastDataset(GefsForecastTemplateConfig(), GefsForecastRegionJob)
