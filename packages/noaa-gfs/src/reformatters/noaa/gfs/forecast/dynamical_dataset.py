"""The noaa-gfs-forecast dataset: template, region job, operations and offline sources."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import xarray as xr

from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.core.operations.config import OperationsSpec, UpdateSchedule, ValidationSpec
from reformatters.core.region_job import RegionJobResult, SourceFileStatus
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.gfs.forecast.region_job import (
    GfsForecastRegionJob,
    GfsForecastSourceFileCoord,
)
from reformatters.noaa.gfs.forecast.template_config import GfsForecastTemplateConfig
from reformatters.noaa.gfs.synthesis import DEFAULT_SYNTHESIS_LEADS, synthesize_gfs_mirror


class GfsForecastDataset(DynamicalDataset[NoaaDataVar, GfsForecastSourceFileCoord]):
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

    def finalize_template(
        self, template_ds: xr.Dataset, results: Sequence[RegionJobResult]
    ) -> xr.Dataset:
        """Fill ``ingested_forecast_length`` with the longest lead read for each init.

        Inits not processed in this run keep the template's value (NaT).
        """
        ingested = template_ds["ingested_forecast_length"].values.copy()
        init_index = pd.DatetimeIndex(template_ds["init_time"].values)
        for result in results:
            for file_results in result.files.values():
                for file_result in file_results:
                    coord = file_result.coord
                    if file_result.status != SourceFileStatus.SUCCEEDED:
                        continue
                    assert isinstance(coord, GfsForecastSourceFileCoord)
                    i = init_index.get_loc(coord.init_time)
                    assert isinstance(i, int)
                    lead = coord.lead_time.to_timedelta64()
                    if np.isnat(ingested[i]) or ingested[i] < lead:
                        ingested[i] = lead
        ds = template_ds.copy()
        ds["ingested_forecast_length"] = (
            ("init_time",),
            ingested,
            dict(template_ds["ingested_forecast_length"].attrs),
        )
        ds["ingested_forecast_length"].encoding = dict(
            template_ds["ingested_forecast_length"].encoding
        )
        return ds.set_coords("ingested_forecast_length")

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
