"""Region job of noaa-hrrr-forecast-48-hour: one init time (one shard) x a group of variables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from reformatters.noaa.common.forecast import (
    forecast_source_file_coords,
    lead_time_accumulation_steps,
)
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.hrrr.common import HrrrSourceFileCoord
from reformatters.noaa.hrrr.region_job import HrrrRegionJob


class HrrrForecastSourceFileCoord(HrrrSourceFileCoord):
    def out_loc(self) -> Mapping[str, Any]:
        return {"init_time": self.init_time, "lead_time": self.lead_time}


class HrrrForecast48HourRegionJob(HrrrRegionJob[HrrrForecastSourceFileCoord]):
    """Reads every lead of the region's init(s); all variables share the same files."""

    def generate_source_file_coords(
        self, processing_region_ds: xr.Dataset, data_var_group: Sequence[NoaaDataVar]
    ) -> Sequence[HrrrForecastSourceFileCoord]:
        return forecast_source_file_coords(HrrrForecastSourceFileCoord, processing_region_ds)

    def accumulation_steps(
        self, data: xr.DataArray, data_var: NoaaDataVar
    ) -> tuple[int, NDArray[np.int64], NDArray[np.int64]]:
        """Deaccumulate along lead_time; HRRR's windows are the last hour (lead L: L-1 to L)."""
        return lead_time_accumulation_steps(data, data_var)
