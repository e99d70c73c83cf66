"""Synthesize an HRRR-layout source mirror for offline runs (tests, demos).

Files are written with noaa-common's synthesis (message order and identities modelled on real
HRRR wrfsfc f00/f08 inventories in ``synthesis_data/``, full 1799 x 1059 Lambert grid).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from reformatters.core.sources.grid_templates import load_grid_template
from reformatters.noaa.common.catalog import NO_CEILING_HGT
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.common.mirror_synthesis import NoaaMirror
from reformatters.noaa.common.synthesis import NoaaInventoryModel
from reformatters.noaa.hrrr.common import (
    SOURCE_BUCKET,
    WINDOW_RESET_HOURS,
    hrrr_source_url,
    output_rows,
)

DATA_DIR = Path(__file__).with_name("synthesis_data")

# HRRR CONUS Lambert conformal 1799x1059, 3 km (grid section of a real HRRR message).
hrrr_conus_grid = partial(load_grid_template, "hrrr-conus", DATA_DIR / "hrrr_conus_template.grib2")
# HRRR marks "no ceiling" as missing points, where GFS writes 20000 m.
_NO_CEILING = {("HGT", "cloud ceiling"): NO_CEILING_HGT}
# Modelled on the real f00 and f08 inventories.
HRRR_SFC = NoaaInventoryModel.shipped(
    "hrrr-wrfsfc", DATA_DIR, hrrr_source_url, 8, WINDOW_RESET_HOURS, hrrr_conus_grid, _NO_CEILING
)
HRRR_MIRROR = NoaaMirror(HRRR_SFC, SOURCE_BUCKET, hrrr_source_url)


def mirror_path(folder: Path, init_time: pd.Timestamp, lead: int) -> Path:
    """Where the file of ``init_time`` + ``lead`` hours lives in a mirror folder."""
    return HRRR_MIRROR.path(folder, init_time, lead)


# Write HRRR wrfsfc files (+ ``.idx``) for every (init, lead) in ``files`` except ``skip``, at
# ``<folder>/noaa-hrrr-bdp-pds/hrrr.YYYYMMDD/conus/...``.
synthesize_hrrr_mirror = HRRR_MIRROR.synthesize


def synthetic_source_values(
    data_var: NoaaDataVar, init_time: pd.Timestamp, lead: int, stride: int = 1
) -> NDArray[np.float32] | None:
    """The values a synthesized file holds for ``data_var`` at a lead, in the *output* layout
    (rows north to south) and source units, NaN where the file marks points missing; None where
    the file has no message.

    ``stride`` > 1 evaluates only every stride-th output row and column (``[::stride, ::stride]``
    of the output), which is much cheaper for checks.
    """
    grid = hrrr_conus_grid()
    lats = output_rows(grid.lats)[::stride, ::stride]
    lons = output_rows(grid.lons)[::stride, ::stride]
    return HRRR_MIRROR.source_values(data_var, init_time, lead, lats, lons)
