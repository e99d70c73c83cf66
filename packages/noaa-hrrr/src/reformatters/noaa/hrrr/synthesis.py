"""Synthesize an HRRR-layout source mirror for offline runs (tests, demos).

Files are written with core's NOAA synthesis (message order and identities modelled on real
HRRR wrfsfc f00/f08 inventories, full 1799 x 1059 Lambert grid): the messages the datasets read
carry smooth ``synthetic_field`` values, every other message is cheap constant filler.
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
from numpy.typing import NDArray

from reformatters.core.sources.noaa_synthesis import HRRR_SFC, NoaaMessage, synthesize_noaa_file
from reformatters.core.sources.synthesis import hrrr_conus_grid, synthetic_field
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.hrrr.common import SOURCE_BUCKET, hrrr_source_url, output_rows

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
    return folder / hrrr_source_url(init_time, lead).removeprefix("s3://")


def _write_one(folder: Path, init_time: pd.Timestamp, lead: int, wanted: Wanted) -> Path:
    path = mirror_path(folder, init_time, lead)

    def fill(message: NoaaMessage) -> bool:
        return (message.element, message.level, message.forecast) in wanted

    synthesize_noaa_file(path, HRRR_SFC, init_time.to_pydatetime(), lead, fill)
    return path


def synthesize_hrrr_mirror(
    folder: Path,
    files: Sequence[tuple[pd.Timestamp, int]],
    data_vars: Sequence[NoaaDataVar],
    *,
    skip: Collection[tuple[pd.Timestamp, int]] = (),
    workers: int | None = None,
) -> list[Path]:
    """Write HRRR wrfsfc files (+ ``.idx``) for every (init, lead) in ``files`` except ``skip``.

    Files land at ``<folder>/noaa-hrrr-bdp-pds/hrrr.YYYYMMDD/conus/...`` so
    ``REFORMATTERS_SOURCE_MIRROR=<folder>`` (or a server over it) replaces NOAA's bucket.
    """
    jobs = sorted(
        {(pd.Timestamp(init), lead) for init, lead in files}
        - {(pd.Timestamp(init), lead) for init, lead in skip}
    )
    (folder / SOURCE_BUCKET).mkdir(parents=True, exist_ok=True)
    workers = workers or min(len(jobs), os.cpu_count() or 1) or 1
    if workers == 1:
        return [_write_one(folder, i, lead, _wanted(data_vars, lead)) for i, lead in jobs]
    # forkserver: callers (tests, the CLI) may have threads running; fork would copy their locks.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
        futures = [
            pool.submit(_write_one, folder, i, lead, _wanted(data_vars, lead)) for i, lead in jobs
        ]
        return [f.result() for f in futures]


def synthetic_source_values(
    data_var: NoaaDataVar, init_time: pd.Timestamp, lead: int, stride: int = 1
) -> NDArray[np.float32] | None:
    """The values a synthesized file holds for ``data_var`` at a lead, in the *output* layout
    (rows north to south) and source units, NaN where the file marks points missing; None where
    the file has no message.

    ``stride`` > 1 evaluates only every stride-th output row and column (``[::stride, ::stride]``
    of the output), which is much cheaper for checks.
    """
    attrs = data_var.internal_attrs
    forecast = attrs.forecast_description(lead)
    if forecast is None:
        return None
    grid = hrrr_conus_grid()
    start = timedelta(hours=attrs.window_start_hour(lead)) if attrs.is_window else None
    lats = output_rows(grid.lats)[::stride, ::stride]
    lons = output_rows(grid.lons)[::stride, ::stride]
    values = synthetic_field(
        attrs.grib_element,
        attrs.grib_level,
        init_time.to_pydatetime(),
        start,
        timedelta(hours=lead),
        attrs.source_step_type,
        lats,
        lons,
    )
    return HRRR_SFC.as_issued(attrs.grib_element, attrs.grib_level, values)
