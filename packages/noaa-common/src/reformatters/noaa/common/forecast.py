"""The NOAA forecast datasets (init_time x lead_time): file coordinates, region job, dataset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, cast

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from reformatters.core.forecast_dataset import ForecastDataset
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.common.region_job import NoaaRegionJob, NoaaSourceFileCoord

_HOUR = np.timedelta64(1, "h")


class NoaaForecastFileCoord(NoaaSourceFileCoord):
    def out_loc(self) -> Mapping[str, Any]:
        return {"init_time": self.init_time, "lead_time": self.lead_time}


class NoaaForecastRegionJob[CoordT: NoaaForecastFileCoord](NoaaRegionJob[CoordT]):
    """Reads every lead of the region's init(s); all variables share the same files."""

    file_coord: ClassVar[type[NoaaForecastFileCoord]]

    def generate_source_file_coords(
        self, processing_region_ds: xr.Dataset, data_var_group: Sequence[NoaaDataVar]
    ) -> Sequence[CoordT]:
        return [
            cast(
                CoordT, self.file_coord(init_time=pd.Timestamp(init), lead_time=pd.Timedelta(lead))
            )
            for init in processing_region_ds["init_time"].values
            for lead in processing_region_ds["lead_time"].values
        ]

    def accumulation_steps(
        self, data: xr.DataArray, data_var: NoaaDataVar
    ) -> tuple[int, NDArray[np.int64], NDArray[np.int64]]:
        """Deaccumulate along lead_time; each window starts where the variable's reset rule
        says (the model's ``window_reset_hours``)."""
        leads = (data["lead_time"].values // _HOUR).astype(np.int64)
        attrs = data_var.internal_attrs
        starts = np.array([attrs.window_start_hour(h) if h > 0 else 0 for h in leads])
        return data.dims.index("lead_time"), leads * 3600, starts.astype(np.int64) * 3600


class NoaaForecastDataset[CoordT: NoaaForecastFileCoord](ForecastDataset[NoaaDataVar, CoordT]):
    """Core's ``ForecastDataset`` of NOAA variables read from NOAA forecast files."""
