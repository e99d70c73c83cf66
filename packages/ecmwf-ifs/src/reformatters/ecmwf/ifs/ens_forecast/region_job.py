"""Region job of ecmwf-ifs-ens-forecast-15-day-0-25-degree: one init x one member x every
variable (all are in the same file at each step; core partitions jobs along
``ensemble_member``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import xarray as xr

from reformatters.core.coordinates import region_positions
from reformatters.core.sources.grib_identity import EnsembleRole
from reformatters.ecmwf.ifs.common import member_index_keys, member_role, member_url
from reformatters.ecmwf.ifs.reading import IfsRegionJob, IfsSourceFileCoord
from reformatters.ecmwf.ifs.variables import IfsDataVar


class IfsEnsSourceFileCoord(IfsSourceFileCoord):
    """One member's messages in the ``enfo`` ``ef`` file of one step (the control's in the
    ``oper`` ``fc`` file since IFS cycle 50r1)."""

    def get_url(self) -> str:
        return member_url(self.init_time, self.ensemble_member, self.lead_hours)


class IfsEnsForecastRegionJob(IfsRegionJob[IfsEnsSourceFileCoord]):
    partition_dims: ClassVar[tuple[str, ...]] = ("ensemble_member",)

    def generate_source_file_coords(
        self, processing_region_ds: xr.Dataset, data_var_group: Sequence[IfsDataVar]
    ) -> Sequence[IfsEnsSourceFileCoord]:
        dims = ("init_time", "ensemble_member", "lead_time")
        return [
            IfsEnsSourceFileCoord(**position)
            for position in region_positions(processing_region_ds, dims)
        ]

    def member_keys(self, coord: IfsEnsSourceFileCoord) -> dict[str, str]:
        return member_index_keys(coord.ensemble_member, coord.init_time)

    def ensemble_role(self, coord: IfsEnsSourceFileCoord) -> EnsembleRole | None:
        return member_role(coord.ensemble_member, coord.init_time)
