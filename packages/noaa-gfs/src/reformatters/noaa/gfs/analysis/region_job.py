"""Region job of noaa-gfs-analysis: one shard of hours x one group of variables.

Which run and lead each hour H comes from:

- instantaneous variables: the run at I = floor(H / 6 h) * 6 h, lead H - I (0-5 h), so every hour
  is the freshest run's analysis (lead 0) or a short forecast from it;
- window statistics and accumulations (and any variable whose lead 0 is a placeholder): the
  window must end at H, and GFS windows reset at each
  6-hourly run, so they come from the run at I = floor((H - 1 h) / 6 h) * 6 h, lead H - I (1-6 h).
  Hours 01-06 after a run take its leads 1-6 (window (I, H]); lead 0 never holds a window.
  Accumulations are deaccumulated along time: hour H and H - 1 h share the run unless H - 1 h is
  a run time, in which case the accumulation since that run is exactly the last hour's.

The two groups read different files for the same hour, so they are separate variable groups.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from reformatters.noaa.common.analysis import NoaaAnalysisFileCoord, NoaaAnalysisRegionJob
from reformatters.noaa.common.global_grid import LATITUDES, LONGITUDES
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.gfs.common import GFS_GRID, INIT_FREQUENCY, GfsSourceFileCoord

_RUN = pd.Timedelta(INIT_FREQUENCY)
_HOUR = pd.Timedelta(hours=1)


def source_run(time: pd.Timestamp, *, window: bool) -> tuple[pd.Timestamp, pd.Timedelta]:
    """(init time, lead time) of the GFS file that provides hour ``time`` (see module doc)."""
    init = (time - _HOUR).floor(_RUN) if window else time.floor(_RUN)
    return init, time - init


class GfsAnalysisSourceFileCoord(GfsSourceFileCoord, NoaaAnalysisFileCoord):
    pass


class GfsAnalysisRegionJob(NoaaAnalysisRegionJob[GfsAnalysisSourceFileCoord]):
    grid = GFS_GRID
    output_latitudes = LATITUDES
    output_longitudes = LONGITUDES

    def _deaccumulates(self) -> bool:
        return any(v.internal_attrs.deaccumulate_to_rate for v in self.data_vars)

    def processing_region(self) -> slice:
        """One hour earlier than the region when deaccumulating (the first hour needs it)."""
        if self._deaccumulates() and self.region.start > 0:
            return slice(self.region.start - 1, self.region.stop)
        return self.region

    def generate_source_file_coords(
        self, processing_region_ds: xr.Dataset, data_var_group: Sequence[NoaaDataVar]
    ) -> Sequence[GfsAnalysisSourceFileCoord]:
        window = not data_var_group[0].internal_attrs.has_lead_0_value
        assert all(v.internal_attrs.has_lead_0_value != window for v in data_var_group)
        coords = []
        for time in pd.DatetimeIndex(processing_region_ds["time"].values):
            init, lead = source_run(time, window=window)
            coords.append(GfsAnalysisSourceFileCoord(init_time=init, lead_time=lead))
        return coords

    def accumulation_steps(
        self, data: xr.DataArray, data_var: NoaaDataVar
    ) -> tuple[int, NDArray[np.int64], NDArray[np.int64]]:
        times = pd.DatetimeIndex(data["time"].values)
        starts = pd.DatetimeIndex([source_run(t, window=True)[0] for t in times])
        seconds = np.timedelta64(1, "s")
        epoch = np.datetime64("1970-01-01T00:00:00")
        return (
            data.dims.index("time"),
            ((times.values - epoch) // seconds).astype(np.int64),
            ((starts.values - epoch) // seconds).astype(np.int64),
        )

    def apply_data_transformations(self, data: xr.DataArray, data_var: NoaaDataVar) -> int:
        invalid = super().apply_data_transformations(data, data_var)
        if data.sizes["time"] == 0:
            return invalid
        if data_var.internal_attrs.deaccumulate_to_rate and self.processing_region().start == 0:
            # The dataset's first hour has no previous hour to deaccumulate from (its window
            # started at the run before the dataset start).
            first_time = pd.Timestamp(data["time"].values[0])
            if source_run(first_time, window=True)[0] != first_time - _HOUR:
                data.values[0] = np.nan
        return invalid
