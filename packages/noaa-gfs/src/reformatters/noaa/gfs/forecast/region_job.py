"""Region job of noaa-gfs-forecast: one init time (one shard) x a group of variables."""

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
from reformatters.noaa.common.region_job import NoaaRegionJob
from reformatters.noaa.gfs.common import GFS_GRID, LATITUDES, LONGITUDES, GfsSourceFileCoord


class GfsForecastSourceFileCoord(GfsSourceFileCoord):
    def out_loc(self) -> Mapping[str, Any]:
        return {"init_time": self.init_time, "lead_time": self.lead_time}


class GfsForecastRegionJob(NoaaRegionJob[GfsForecastSourceFileCoord]):
    """Reads every lead of the region's init(s); all variables share the same files."""

    grid = GFS_GRID
    output_latitudes = LATITUDES
    output_longitudes = LONGITUDES

    def generate_source_file_coords(
        self, processing_region_ds: xr.Dataset, data_var_group: Sequence[NoaaDataVar]
    ) -> Sequence[GfsForecastSourceFileCoord]:
        return forecast_source_file_coords(GfsForecastSourceFileCoord, processing_region_ds)

    def accumulation_steps(
        self, data: xr.DataArray, data_var: NoaaDataVar
    ) -> tuple[int, NDArray[np.int64], NDArray[np.int64]]:
        """Deaccumulate along lead_time; each window starts at the last 6-hourly reset."""
        return lead_time_accumulation_steps(data, data_var)
