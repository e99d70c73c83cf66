"""Region job of noaa-gefs-forecast-35-day: one init x one member x a group of variables that
share source files (core partitions jobs along ``ensemble_member``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from reformatters.core.sources.grib_identity import EnsembleRole, GridSpec
from reformatters.noaa.common.forecast import NoaaForecastFileCoord, NoaaForecastRegionJob
from reformatters.noaa.common.global_grid import LATITUDES, LONGITUDES
from reformatters.noaa.common.idx import MessageSelector
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.gefs.common import (
    QUARTER_DEGREE,
    SOURCES,
    Product,
    Source,
    member_role,
    upsample_half_degree,
)


class GefsSourceFileCoord(NoaaForecastFileCoord):
    """One member's file of one product at one lead."""

    ensemble_member: int
    product: Product

    def get_url(self) -> str:
        return self.product.url(self.init_time, self.ensemble_member, self.lead_hours)

    def out_loc(self) -> Mapping[str, Any]:
        return {**super().out_loc(), "ensemble_member": self.ensemble_member}


class GefsForecastRegionJob(NoaaForecastRegionJob[GefsSourceFileCoord]):
    file_coord = GefsSourceFileCoord
    grid = QUARTER_DEGREE
    output_latitudes = LATITUDES
    output_longitudes = LONGITUDES
    partition_dims: ClassVar[tuple[str, ...]] = ("ensemble_member",)

    @classmethod
    def source_groups(cls, data_vars: Sequence[NoaaDataVar]) -> list[list[NoaaDataVar]]:
        """Variables read from the same file at every lead: one file per position per job (the
        0.25 degree surface fields and their 0.5 degree continuation; 500 hPa height; the
        ``pgrb2b`` fields)."""
        groups: dict[Product | None, list[NoaaDataVar]] = defaultdict(list)
        for var in data_vars:
            groups[SOURCES[var.name].early].append(var)
        return list(groups.values())

    def generate_source_file_coords(
        self, processing_region_ds: xr.Dataset, data_var_group: Sequence[NoaaDataVar]
    ) -> Sequence[GefsSourceFileCoord]:
        sources = {SOURCES[var.name] for var in data_var_group}
        coords = []
        for init in processing_region_ds["init_time"].values:
            for member in processing_region_ds["ensemble_member"].values:
                for lead in processing_region_ds["lead_time"].values:
                    hours = int(pd.Timedelta(lead) / pd.Timedelta(hours=1))
                    products = {s.product(hours) for s in sources} - {None}
                    assert len(products) <= 1, f"a job's variables read {products} at {hours} h"
                    for product in products:
                        assert product is not None
                        coords.append(
                            GefsSourceFileCoord(
                                init_time=pd.Timestamp(init),
                                lead_time=pd.Timedelta(lead),
                                ensemble_member=int(member),
                                product=product,
                            )
                        )
        return coords

    def _wanted(self, coord: GefsSourceFileCoord) -> list[tuple[NoaaDataVar, MessageSelector]]:
        """Only the variables this product carries at this lead (a 0-240 h field has no
        message in the 0.5 degree files: NaN there, by declaration)."""
        return [
            (var, selector)
            for var, selector in super()._wanted(coord)
            if _source(var).product(coord.lead_hours) is coord.product
        ]

    def source_grid(self, coord: GefsSourceFileCoord) -> GridSpec:
        return coord.product.grid

    def on_model_grid(
        self, coord: GefsSourceFileCoord, values: NDArray[np.floating[Any]]
    ) -> NDArray[np.floating[Any]]:
        return values if coord.product is Product.S else upsample_half_degree(values)

    def ensemble_role(self, coord: GefsSourceFileCoord) -> EnsembleRole:
        return member_role(coord.ensemble_member)


def _source(var: NoaaDataVar) -> Source:
    return SOURCES[var.name]
