"""IconRegionJob: one job per variable (one file per variable, run and step), each file
downloaded whole and bzip2-decompressed as it streams in.

Reading checks each message's GRIB2 identity (parameter, level, statistic and its window in
DWD's minute steps, run) and its grid: the current 1377-column grid, or the older 1097-column
one, placed in the current grid's first columns (NaN east of 45 E). Rows are flipped to run
north first. Run-start statistics become means over each lead's interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from reformatters.core.coordinates import ForecastFileCoord, region_positions
from reformatters.core.deaccumulation import deaccumulate_to_rates
from reformatters.core.region_job import ArrayFloat32, RegionJob
from reformatters.core.rounding import round_fields
from reformatters.core.sources.compressed import download_bz2_decompressed
from reformatters.core.sources.grib import decode_message
from reformatters.core.sources.grib_identity import GribGridMismatchError, GridSpec
from reformatters.core.sources.mirror import resolve_source_url
from reformatters.dwd.icon.common import SOURCE_GRIDS, STEP_HOURS, source_url
from reformatters.dwd.icon.variables import IconDataVar, IconInternalAttrs

_KELVIN_OFFSET = np.float32(273.15)


def previous_step(step_hours: int) -> int:
    """The output step before ``step_hours`` (0 for step 0)."""
    position = STEP_HOURS.index(step_hours)
    return STEP_HOURS[max(position - 1, 0)]


class IconSourceFileCoord(ForecastFileCoord):
    """One variable's file at one run and step."""

    dwd_name: str

    def get_url(self) -> str:
        return source_url(self.init_time, self.dwd_name, self.lead_hours)


def source_grid(raw: bytes, url: str) -> GridSpec:
    """The declared grid whose column count (Ni, template 3.0) the message's section 3 gives."""
    position = 16
    while position + 5 <= len(raw) and raw[position : position + 4] != b"7777":
        length = int.from_bytes(raw[position : position + 4], "big")
        if raw[position + 4] == 3:
            ni = int.from_bytes(raw[position + 30 : position + 34], "big")
            if ni in SOURCE_GRIDS:
                return SOURCE_GRIDS[ni]
            raise GribGridMismatchError(url, f"{url}: {ni} columns, not an ICON-EU grid")
        position += max(length, 5)
    raise GribGridMismatchError(url, f"{url}: no grid definition section")


def read_icon_field(
    path: Path, attrs: IconInternalAttrs, init_time: pd.Timestamp, step_hours: int, url: str
) -> ArrayFloat32:
    """The message of ``path`` as the output layout wants it (north first, 1377 columns from
    -23.5 E, float32, units converted)."""
    grid = source_grid(path.read_bytes()[:512], url)
    values = decode_message(
        path,
        expected=attrs.identity(step_hours, previous_step(step_hours), init_time.to_pydatetime()),
        grid=grid,
        url=url,
        missing_values=attrs.source_missing_values,
    )
    out = np.full((grid.nj, max(SOURCE_GRIDS)), np.nan, dtype=np.float32)
    out[:, : grid.ni] = values[::-1, :]
    if attrs.unit_conversion == "kelvin_to_celsius":
        out -= _KELVIN_OFFSET
    return out


def interval_means(data: xr.DataArray, attrs: IconInternalAttrs) -> int:
    """Replace run-start accumulations or averages by each lead interval's mean, in place;
    returns how many increments were more negative than the tolerance (set to NaN)."""
    seconds = (data["lead_time"].values // np.timedelta64(1, "s")).astype(np.int64)
    axis = data.dims.index("lead_time")
    totals = data.values
    if attrs.statistic == "average_from_start":
        shape = [1] * totals.ndim
        shape[axis] = len(seconds)
        totals = totals * seconds.reshape(shape).astype(np.float32)
    data.values[...], invalid = deaccumulate_to_rates(
        totals,
        seconds,
        np.zeros_like(seconds),
        axis=axis,
        negative_tolerance=attrs.deaccumulation_negative_tolerance,
        signed=attrs.signed,
    )
    return invalid


class IconRegionJob(RegionJob[IconDataVar, IconSourceFileCoord]):
    @classmethod
    def source_groups(cls, data_vars: Sequence[IconDataVar]) -> list[list[IconDataVar]]:
        """One group per variable: each has its own files."""
        return [[var] for var in data_vars]

    def generate_source_file_coords(
        self, processing_region_ds: xr.Dataset, data_var_group: Sequence[IconDataVar]
    ) -> Sequence[IconSourceFileCoord]:
        positions = list(region_positions(processing_region_ds, ("init_time", "lead_time")))
        return [
            IconSourceFileCoord(**position, dwd_name=var.internal_attrs.dwd_name)
            for var in data_var_group
            for position in positions
        ]

    def download_file(self, coord: IconSourceFileCoord, scratch: Path) -> Path:
        path = scratch / f"{coord.init_time:%Y%m%d%H}-{coord.lead_hours:03d}-{coord.dwd_name}.grib2"
        download_bz2_decompressed(resolve_source_url(coord.get_url()), path)
        return path

    def read_data(
        self, coord: IconSourceFileCoord, path: Path, data_var: IconDataVar
    ) -> ArrayFloat32:
        attrs = data_var.internal_attrs
        assert attrs.dwd_name == coord.dwd_name, f"{coord.get_url()} is not {data_var.name}"
        return read_icon_field(path, attrs, coord.init_time, coord.lead_hours, coord.get_url())

    def apply_data_transformations(self, data: xr.DataArray, data_var: IconDataVar) -> int:
        attrs = data_var.internal_attrs
        invalid = interval_means(data, attrs) if attrs.from_start else 0
        round_fields(data.values, attrs.keep_mantissa_bits)
        return invalid
