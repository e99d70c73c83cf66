"""The ecmwf-ifs-ens-forecast-15-day-0-25-degree dataset: template, region job, operations and
offline sources."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pandas as pd

from reformatters.core.forecast_dataset import ForecastDataset
from reformatters.core.operations.validation import STANDARD_VALIDATORS, check_forecast_complete
from reformatters.core.operations_spec import (
    BackfillJobConfig,
    ContainerResources,
    OperationsSpec,
    UpdateSchedule,
    ValidationSpec,
)
from reformatters.ecmwf.ifs.common import MEMBERS
from reformatters.ecmwf.ifs.ens_forecast.region_job import (
    IfsEnsForecastRegionJob,
    IfsEnsSourceFileCoord,
)
from reformatters.ecmwf.ifs.ens_forecast.template_config import IfsEnsForecastTemplateConfig
from reformatters.ecmwf.ifs.synthesis import DEFAULT_SYNTHESIS_STEPS, synthesize_ifs_ens_mirror
from reformatters.ecmwf.ifs.variables import IfsDataVar

# A worker holds one member's run of one variable (85 x 721 x 1440 float32: 353 MB) plus its
# encoded shard; a run is 51 member jobs, each reading 85 steps x 11 messages (~0.7 MB each,
# ~33 GB per run in all).
_WORKER_RESOURCES = ContainerResources(cpu="8", memory="16Gi", ephemeral_storage="20Gi")


class IfsEnsForecastDataset(ForecastDataset[IfsDataVar, IfsEnsSourceFileCoord]):
    # ECMWF disseminates a 00 UTC ENS run until about 07:40 UTC and releases open data one hour
    # after its dissemination schedule: the run is complete around 08:40 UTC. The update runs
    # at 09:30 UTC for that day's run, the validator at 13:00 UTC.
    operations: ClassVar[OperationsSpec] = OperationsSpec(
        update=UpdateSchedule(
            cron="30 9 * * *",
            run_hours_utc=(0,),
            typical_latency=timedelta(hours=9),
            active_deadline=timedelta(hours=3),
            resources=_WORKER_RESOURCES,
        ),
        validation=ValidationSpec(
            cron="0 13 * * *",
            validators=(*STANDARD_VALIDATORS, check_forecast_complete),
            # The newest init is at most 24 h (cadence) + 13 h (validation time) + slack old.
            max_latest_age=timedelta(hours=40),
            recent_window=timedelta(0),
            max_nan_fraction=0.0,
            # Accumulations (now rates) have no value at lead 0, by design.
            nan_check_exclude_leads=(timedelta(0),),
            # A run is 51 x 85 fields per variable: the control and the last member are read;
            # check_forecast_complete covers every member's extent.
            check_positions={"ensemble_member": (0, 50)},
            resources=ContainerResources(cpu="1", memory="8Gi"),
            active_deadline=timedelta(hours=1),
        ),
        backfill=BackfillJobConfig(resources=_WORKER_RESOURCES),
    )

    def synthesize_source_mirror(self, start: datetime, end: datetime, folder: Path) -> list[Path]:
        """ENS ``ef`` files (every member) for inits in [start, end), steps
        ``DEFAULT_SYNTHESIS_STEPS`` only."""
        inits = pd.date_range(
            start, end, freq=self.template_config.append_dim_frequency, inclusive="left"
        )
        return synthesize_ifs_ens_mirror(
            folder,
            list(inits),
            [int(m) for m in MEMBERS],
            DEFAULT_SYNTHESIS_STEPS,
            self.template_config.data_vars,
        )


def make_ens_forecast_dataset() -> IfsEnsForecastDataset:
    return IfsEnsForecastDataset(IfsEnsForecastTemplateConfig(), IfsEnsForecastRegionJob)
