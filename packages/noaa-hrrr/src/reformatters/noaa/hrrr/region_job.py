"""What both HRRR region jobs share: the Lambert grid check and the output row order."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from reformatters.core.region_job import ArrayFloat32
from reformatters.core.sources.grib_identity import GridSpec
from reformatters.noaa.common.region_job import NoaaRegionJob
from reformatters.noaa.hrrr.common import HRRR_GRID, NX, NY, HrrrSourceFileCoord, output_rows


class HrrrRegionJob[SourceFileCoordT: HrrrSourceFileCoord](NoaaRegionJob[SourceFileCoordT]):
    """NOAA ``.idx``-driven job on HRRR's native grid: no regridding, rows flipped north-up."""

    grid: ClassVar[GridSpec] = HRRR_GRID

    @property
    def _output_shape(self) -> tuple[int, int]:
        return (NY, NX)

    def to_output_layout(self, values: NDArray[np.floating[Any]], out: ArrayFloat32) -> None:
        out[...] = output_rows(values)
