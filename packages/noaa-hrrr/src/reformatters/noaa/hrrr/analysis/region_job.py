"""Region job of noaa-hrrr-analysis: one shard of hours x one group of variables.

Instantaneous variables come from the f00 file of the run initialized at each hour; window
variables (HRRR's last-hour accumulations) and the categorical precipitation types (constant
placeholders in f00) from the f01 file of the run one hour earlier, so the two kinds are
separate source groups.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from reformatters.noaa.common.analysis import NoaaAnalysisFileCoord, NoaaAnalysisRegionJob
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.hrrr.common import HrrrSourceFileCoord
from reformatters.noaa.hrrr.region_job import HrrrRegionJob

_SECOND = np.timedelta64(1, "s")
# The forecast hour that holds a window statistic ending one hour after init.
WINDOW_LEAD = pd.Timedelta(hours=1)


class HrrrAnalysisSourceFileCoord(HrrrSourceFileCoord, NoaaAnalysisFileCoord):
    pass


class HrrrAnalysisRegionJob(
    HrrrRegionJob[HrrrAnalysisSourceFileCoord], NoaaAnalysisRegionJob[HrrrAnalysisSourceFileCoord]
):
    def generate_source_file_coords(
        self, processing_region_ds: xr.Dataset, data_var_group: Sequence[NoaaDataVar]
    ) -> Sequence[HrrrAnalysisSourceFileCoord]:
        at_f00 = {v.internal_attrs.has_lead_0_value for v in data_var_group}
        assert len(at_f00) == 1, "a group mixes f00 and f01 variables"
        lead = pd.Timedelta(0) if at_f00.pop() else WINDOW_LEAD
        return [
            HrrrAnalysisSourceFileCoord(init_time=pd.Timestamp(time) - lead, lead_time=lead)
            for time in processing_region_ds["time"].values
        ]

    def accumulation_steps(
        self, data: xr.DataArray, data_var: NoaaDataVar
    ) -> tuple[int, NDArray[np.int64], NDArray[np.int64]]:
        """Along time: each hour's window starts at the previous run's init (time - 1 h)."""
        attrs = data_var.internal_attrs
        lead_hours = int(WINDOW_LEAD / pd.Timedelta(hours=1))
        window_hours = lead_hours - attrs.window_start_hour(lead_hours)
        ends = (data["time"].values.astype("datetime64[s]") - np.datetime64(0, "s")) // _SECOND
        ends = ends.astype(np.int64)
        return data.dims.index("time"), ends, ends - window_hours * 3600
