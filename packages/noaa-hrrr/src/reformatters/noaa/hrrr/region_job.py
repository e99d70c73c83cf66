"""What both HRRR region jobs share: the Lambert grid check and the output row order."""

from __future__ import annotations

from typing import ClassVar

from reformatters.core.region_job import ArrayFloat32
from reformatters.core.sources.grib import GridSpec
from reformatters.noaa.common.region_job import NoaaRegionJob
from reformatters.noaa.hrrr.common import HRRR_GRID, NX, NY, HrrrSourceFileCoord, to_output_layout


class HrrrRegionJob[SourceFileCoordT: HrrrSourceFileCoord](NoaaRegionJob[SourceFileCoordT]):
    """NOAA ``.idx``-driven job on HRRR's native grid: no regridding, rows flipped north-up."""

    grid: ClassVar[GridSpec] = HRRR_GRID

    @property
    def _output_shape(self) -> tuple[int, int]:
        return (NY, NX)

    def to_output_layout(self, values: ArrayFloat32) -> ArrayFloat32:
        return to_output_layout(values)
