"""Synthesize a GFS-layout source mirror for offline runs (``reformat demo``, tests).

Files are written with noaa-common's synthesis (message order and identities modelled on real
GFS f000/f007 inventories in ``synthesis_data/``, full 0.25 degree grid). Mirrors of many runs
and leads (benchmarks at scale) are relabelled copies of a small pool of such files.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from reformatters.core.sources.grid_templates import load_grid_template
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.common.mirror_synthesis import NoaaMirror
from reformatters.noaa.common.pooled_mirror import PooledNoaaMirror
from reformatters.noaa.common.synthesis import NoaaInventoryModel
from reformatters.noaa.gfs.common import SOURCE_BUCKET, WINDOW_RESET_HOURS, gfs_source_url

DATA_DIR = Path(__file__).with_name("synthesis_data")
DEFAULT_SYNTHESIS_LEADS: tuple[int, ...] = (0, 1, 2, 3)


# GFS 0.25 degree regular lat/lon, 1440x721, lat 90..-90, lon 0..359.75 (real GDAS message).
gfs_0p25_grid = partial(load_grid_template, "gfs-0p25", DATA_DIR / "gfs_0p25_template.grib2")
# Modelled on the real f000 and f007 inventories.
GFS_0P25 = NoaaInventoryModel.shipped(
    "gfs-pgrb2-0p25", DATA_DIR, gfs_source_url, 7, WINDOW_RESET_HOURS, gfs_0p25_grid
)
GFS_MIRROR = NoaaMirror(GFS_0P25, SOURCE_BUCKET, gfs_source_url)
# Two 6-hour windows and lead 0: 13 synthesized files serve any number of runs and leads.
GFS_POOLED_MIRROR = PooledNoaaMirror(GFS_MIRROR, windows=2)


def mirror_path(folder: Path, init_time: pd.Timestamp, lead: int) -> Path:
    """Where the file of ``init_time`` + ``lead`` hours lives in a mirror folder."""
    return GFS_MIRROR.path(folder, init_time, lead)


def synthesize_gfs_mirror(
    folder: Path,
    init_times: Sequence[pd.Timestamp],
    leads: Sequence[int],
    data_vars: Sequence[NoaaDataVar],
    *,
    skip: Collection[tuple[pd.Timestamp, int]] = (),
    workers: int | None = None,
) -> list[Path]:
    """Write GFS pgrb2.0p25 files (+ ``.idx``) for every init x lead except ``skip``, at
    ``<folder>/noaa-gfs-bdp-pds/gfs.YYYYMMDD/HH/atmos/...``."""
    files = [(pd.Timestamp(init), lead) for init in init_times for lead in leads]
    return GFS_MIRROR.synthesize(folder, files, data_vars, skip=skip, workers=workers)


def synthetic_source_values(
    data_var: NoaaDataVar, init_time: pd.Timestamp, lead: int
) -> np.ndarray[tuple[int, int], np.dtype[np.float32]] | None:
    """The values the synthesized file holds for ``data_var`` at a lead, in the source layout
    (lat 90..-90, lon 0..359.75) and source units; None where the file has no message."""
    grid = gfs_0p25_grid()
    return GFS_MIRROR.source_values(data_var, init_time, lead, grid.lats, grid.lons)


def synthesize_pooled_gfs_mirror(
    folder: Path,
    init_times: Sequence[pd.Timestamp],
    leads: Sequence[int],
    data_vars: Sequence[NoaaDataVar],
    *,
    workers: int | None = None,
    pool_folder: Path | None = None,
) -> list[Path]:
    """``synthesize_gfs_mirror`` at a small fraction of the cost: every file is a relabelled
    copy of a pool file (see ``PooledNoaaMirror``, ``pool_folder``); values are
    ``pooled_source_values``."""
    files = [(pd.Timestamp(init), lead) for init in init_times for lead in leads]
    return GFS_POOLED_MIRROR.synthesize(
        folder, files, data_vars, workers=workers, pool_folder=pool_folder
    )


def pooled_source_values(
    data_var: NoaaDataVar, init_time: pd.Timestamp, lead: int
) -> np.ndarray[tuple[int, int], np.dtype[np.float32]] | None:
    """``synthetic_source_values`` of a mirror written by ``synthesize_pooled_gfs_mirror``."""
    grid = gfs_0p25_grid()
    return GFS_POOLED_MIRROR.source_values(data_var, init_time, lead, grid.lats, grid.lons)
