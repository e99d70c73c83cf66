"""The noaa-hrrr-forecast-48-hour dataset: template, region job, operations, offline sources."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pandas as pd

from reformatters.core.operations_spec import (
    ContainerResources,
    OperationsSpec,
    UpdateSchedule,
    ValidationSpec,
)
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
    # The 00/06/12/18 UTC runs reach f48 on NOAA's bucket about 2 h after init; the update runs
    # 3 h after each of them. One init (a shard per variable) holds 22 x 373 MB of float32 while
    # it is processed, two variables at a time.
    operations: ClassVar[OperationsSpec] = OperationsSpec(
        update=UpdateSchedule(
            cron="0 3,9,15,21 * * *",
            run_hours_utc=(0, 6, 12, 18),
            typical_latency=timedelta(hours=3),
            active_deadline=timedelta(hours=2),
            resources=ContainerResources(cpu="2", memory="8Gi", shared_memory="2Gi"),
        ),
        validation=ValidationSpec(
            cron="30 3,9,15,21 * * *",
            # The newest init is at most 6 h (cadence) + 3 h (latency) + slack old.
            max_latest_age=timedelta(hours=10),
            recent_window=timedelta(0),
            max_nan_fraction=0.0,
            # NaN where HRRR diagnoses no ceiling (clear sky); a map without any ceiling is not.
            nan_fraction_limits={"geopotential_height_cloud_ceiling": 0.999},
            # Precipitation (a last-hour accumulation) has no value at lead 0, by design.
            nan_check_exclude_leads=(timedelta(0),),
        ),
    )

    def synthesize_source_mirror(self, start: datetime, end: datetime, folder: Path) -> list[Path]:
        """HRRR files for inits in [start, end), leads ``DEFAULT_SYNTHESIS_LEADS`` only."""
        inits = pd.date_range(
            start, end, freq=self.template_config.append_dim_frequency, inclusive="left"
        )
        return synthesize_hrrr_mirror(
            folder,
            [(init, lead) for init in inits for lead in DEFAULT_SYNTHESIS_LEADS],
            self.template_config.data_vars,
        )


def make_forecast_48_hour_dataset() -> HrrrForecast48HourDataset:
    return HrrrForecast48HourDataset(
        HrrrForecast48HourTemplateConfig(), HrrrForecast48HourRegionJob
    )
