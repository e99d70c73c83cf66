"""Synthesize a DWD-layout ICON-EU mirror for offline runs (tests, demos).

One bzip2-compressed file per variable, run and step, holding one GRIB2 message as DWD
publishes them: steps in minutes (``indicatorOfUnitOfTimeRange`` 0), rows south to north, the
current 1377 x 657 grid from 336.5 degrees east, product template 4.0 for instantaneous fields
and 4.8 for statistics (TOT_PREC accumulated and the fluxes averaged from step 0, the gust a
maximum since the previous output step). Run-start statistics are exact integrals (or means)
of a smooth field from step 0.
"""

from __future__ import annotations

import bz2
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from reformatters.core.sources.grid_templates import GridTemplate, template_of
from reformatters.core.sources.mirror import mirror_key
from reformatters.core.sources.smooth_field import (
    epoch_hours,
    grid_basis,
    read_patterns,
    smooth_harmonic,
)
from reformatters.core.sources.synthesis import MessageSpec, StatisticalProcess, encode_message
from reformatters.dwd.icon.common import GRID, source_url
from reformatters.dwd.icon.region_job import previous_step
from reformatters.dwd.icon.variables import IconDataVar, IconInternalAttrs

# Steps of a default synthesized run: hourly (76 -> 77 -> 78), then 3-hourly (78 -> 81).
DEFAULT_SYNTHESIS_STEPS: tuple[int, ...] = (76, 77, 78, 81)

_PATTERNS = read_patterns(Path(__file__).with_name("synthesis_patterns.toml"))
_STATISTICS = {
    "accumulated_from_start": StatisticalProcess.ACCUMULATION,
    "average_from_start": StatisticalProcess.AVERAGE,
    "max_since_previous": StatisticalProcess.MAXIMUM,
}


@cache
def icon_eu_grid() -> GridTemplate:
    """The current ICON-EU grid as DWD encodes it (rows 29.5..70.5, columns 336.5..62.5)."""
    return template_of("icon-eu", GRID)


def source_values(
    attrs: IconInternalAttrs, init_time: pd.Timestamp, step: int
) -> NDArray[np.float64]:
    """The synthesized field at one step, in source units and DWD's layout (rows south first;
    run-start statistics: their value from step 0)."""
    grid = icon_eu_grid()
    centre, amplitude = _PATTERNS[attrs.dwd_name]
    pattern = smooth_harmonic(
        attrs.dwd_name, "icon-eu", centre, amplitude, grid_basis(grid.lats, grid.lons)
    )
    start = epoch_hours(init_time.to_datetime64())
    if attrs.from_start and step == 0:
        return np.zeros(grid.shape)
    if attrs.statistic == "accumulated_from_start":
        return np.asarray(pattern.mean(start, start + step) * step * 3600.0, dtype=np.float64)
    if attrs.statistic == "average_from_start":
        return np.asarray(pattern.mean(start, start + step), dtype=np.float64)
    return np.asarray(pattern.at(start + step), dtype=np.float64)


def message_spec(attrs: IconInternalAttrs, init_time: pd.Timestamp, step: int) -> MessageSpec:
    start, end = attrs.window(step, previous_step(step))
    return MessageSpec(
        element=attrs.dwd_name,
        level="",
        forecast=str(step),
        identity=attrs.synthetic_identity(),
        end_step=end,
        start_step=start if attrs.statistic else None,
        statistic=_STATISTICS[attrs.statistic] if attrs.statistic else None,
        values=source_values(attrs, init_time, step),
        step_unit="minute",
    )


def mirror_path(folder: Path, url: str) -> Path:
    key = mirror_key(url)
    assert key is not None, url
    return folder / key


def synthesize_icon_eu_mirror(
    folder: Path,
    init_times: Sequence[pd.Timestamp],
    steps: Sequence[int],
    data_vars: Sequence[IconDataVar],
) -> list[Path]:
    """Every variable's file of every init x step, at ``<folder>/opendata.dwd.de/weather/...``."""
    return [
        write_source_file(folder, pd.Timestamp(init), step, var.internal_attrs)
        for init in init_times
        for step in steps
        for var in data_vars
    ]


def write_source_file(
    folder: Path, init_time: pd.Timestamp, step: int, attrs: IconInternalAttrs
) -> Path:
    """The ``.grib2.bz2`` file of one variable at one run and step, written atomically."""
    path = mirror_path(folder, source_url(init_time, attrs.dwd_name, step))
    path.parent.mkdir(parents=True, exist_ok=True)
    message = encode_message(message_spec(attrs, init_time, step), icon_eu_grid(), init_time)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(bz2.compress(message))
    temporary.replace(path)
    return path
