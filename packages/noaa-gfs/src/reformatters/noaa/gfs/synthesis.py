"""Synthesize a GFS-layout source mirror for offline runs (``reformat demo``, tests).

Files are written with core's NOAA synthesis (message order and identities modelled on real
GFS f000/f007 inventories, full 0.25 degree grid): the messages the datasets read carry smooth
``synthetic_field`` values, every other message is cheap constant filler.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Collection, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from reformatters.core.sources.noaa_synthesis import GFS_0P25, NoaaMessage, synthesize_noaa_file
from reformatters.core.sources.synthesis import gfs_0p25_grid, synthetic_field
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.gfs.common import SOURCE_BUCKET, gfs_source_url

DEFAULT_SYNTHESIS_LEADS: tuple[int, ...] = (0, 1, 2, 3)

type Wanted = frozenset[tuple[str, str, str]]


def _wanted(data_vars: Sequence[NoaaDataVar], lead: int) -> Wanted:
    wanted = set()
    for var in data_vars:
        attrs = var.internal_attrs
        forecast = attrs.forecast_description(lead)
        if forecast is not None:
            wanted.add((attrs.grib_element, attrs.grib_level, forecast))
    return frozenset(wanted)


def mirror_path(folder: Path, init_time: pd.Timestamp, lead: int) -> Path:
    """Where the file of ``init_time`` + ``lead`` hours lives in a mirror folder."""
    url = gfs_source_url(init_time, lead)
    return folder / url.removeprefix("s3://")


def _write_one(folder: Path, init_time: pd.Timestamp, lead: int, wanted: Wanted) -> Path:
    path = mirror_path(folder, init_time, lead)

    def fill(message: NoaaMessage) -> bool:
        return (message.element, message.level, message.forecast) in wanted

    synthesize_noaa_file(path, GFS_0P25, init_time.to_pydatetime(), lead, fill)
    return path


def synthesize_gfs_mirror(
    folder: Path,
    init_times: Sequence[pd.Timestamp],
    leads: Sequence[int],
    data_vars: Sequence[NoaaDataVar],
    *,
    skip: Collection[tuple[pd.Timestamp, int]] = (),
    workers: int | None = None,
) -> list[Path]:
    """Write GFS pgrb2.0p25 files (+ ``.idx``) for every init x lead except ``skip``.

    Files land at ``<folder>/noaa-gfs-bdp-pds/gfs.YYYYMMDD/HH/atmos/...`` so
    ``REFORMATTERS_SOURCE_MIRROR=<folder>`` (or a server over it) replaces NOAA's bucket.
    """
    jobs = [
        (pd.Timestamp(init), lead)
        for init in init_times
        for lead in leads
        if (pd.Timestamp(init), lead) not in skip
    ]
    workers = workers or min(len(jobs), os.cpu_count() or 1) or 1
    (folder / SOURCE_BUCKET).mkdir(parents=True, exist_ok=True)
    if workers == 1:
        return [_write_one(folder, i, lead, _wanted(data_vars, lead)) for i, lead in jobs]
    # forkserver: forking a process that runs threads (servers, obstore) can deadlock.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        futures = [
            pool.submit(_write_one, folder, i, lead, _wanted(data_vars, lead)) for i, lead in jobs
        ]
        return [f.result() for f in futures]


def synthetic_source_values(
    data_var: NoaaDataVar, init_time: pd.Timestamp, lead: int
) -> np.ndarray[tuple[int, int], np.dtype[np.float32]] | None:
    """The values the synthesized file holds for ``data_var`` at a lead, in the source layout
    (lat 90..-90, lon 0..359.75) and source units; None where the file has no message."""
    attrs = data_var.internal_attrs
    forecast = attrs.forecast_description(lead)
    if forecast is None:
        return None
    grid = gfs_0p25_grid()
    start = timedelta(hours=attrs.window_start_hour(lead)) if attrs.is_window else None
    return synthetic_field(
        attrs.grib_element,
        attrs.grib_level,
        init_time.to_pydatetime(),
        start,
        timedelta(hours=lead),
        attrs.source_step_type,
        grid.lats,
        grid.lons,
    )
