"""Synthesize an ECMWF-layout ENS mirror for offline runs (tests, demos).

Each step's ``ef`` file holds every member's message of every variable the dataset reads, in
member-major order as ECMWF's files do, with a JSON-lines ``.index`` beside it (ECMWF's keys,
``_offset``/``_length``; the control's lines without ``number``). Messages use the ensemble
product templates (4.1 instantaneous, 4.11 accumulated from step 0) and CCSDS packing
(``grid_ccsds``) on ECMWF's grid (columns from 180 degrees east). Members differ: member m's
fields are a smooth pattern turned eastward by ``MEMBER_SHIFT_DEG`` x m degrees. Messages of the
members not asked for are constant fillers (cheap to write; the index still lists all 51).
Accumulations are exact integrals of a positive smooth rate from step 0.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from functools import cache, partial
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from reformatters.core.sources.grib_identity import EnsembleRole
from reformatters.core.sources.grid_templates import GridTemplate, template_of
from reformatters.core.sources.smooth_field import (
    epoch_hours,
    grid_basis,
    read_patterns,
    smooth_harmonic,
)
from reformatters.core.sources.synthesis import (
    MessageSpec,
    StatisticalProcess,
    WrittenMessage,
    write_grib_file,
    write_in_processes,
)
from reformatters.ecmwf.ifs.common import (
    GRID,
    MEMBERS,
    control_in_oper,
    index_url,
    member_url,
    step_url,
)
from reformatters.ecmwf.ifs.variables import IfsDataVar, IfsInternalAttrs

MEMBER_SHIFT_DEG = 7.5
# Steps of a default synthesized run: deaccumulation over 3 h (141 -> 144) and 6 h (144 -> 150).
DEFAULT_SYNTHESIS_STEPS: tuple[int, ...] = (141, 144, 150)

_PATTERNS = read_patterns(Path(__file__).with_name("synthesis_patterns.toml"))


@cache
def ccsds_grid() -> GridTemplate:
    """ECMWF's 0.25 degree grid (rows 90..-90, columns 180..179.75) with CCSDS packing."""
    import pygrib

    message = pygrib.fromstring(template_of("ecmwf-0p25", GRID).template)
    message["packingType"] = "grid_ccsds"
    return GridTemplate("ecmwf-0p25-ccsds", bytes(message.tostring()))


def synthetic_role(member: int) -> EnsembleRole:
    """What a synthesized message says it is: code table 4.6 type 1 (unperturbed control) for
    member 0, 3 (positively perturbed) for the others; the reader checks numbers only."""
    return EnsembleRole(1, 0) if member == 0 else EnsembleRole(3, member)


def source_values(
    attrs: IfsInternalAttrs, init_time: pd.Timestamp, member: int, step: int
) -> NDArray[np.float64]:
    """The synthesized field of one member at one step, in source units and ECMWF's layout
    (an accumulation: its total from step 0)."""
    grid = ccsds_grid()
    lons = (grid.lons + MEMBER_SHIFT_DEG * member) % 360.0
    centre, amplitude = _PATTERNS[attrs.param]
    pattern = smooth_harmonic(
        attrs.param, attrs.levtype, centre, amplitude, grid_basis(grid.lats, lons)
    )
    start = epoch_hours(init_time.to_datetime64())
    if attrs.accumulated_from_start:
        if step == 0:
            return np.zeros(grid.shape)
        return np.asarray(pattern.mean(start, start + step) * step * 3600.0, dtype=np.float64)
    return np.asarray(pattern.at(start + step), dtype=np.float64)


def _spec(
    attrs: IfsInternalAttrs, init_time: pd.Timestamp, member: int, step: int, filled: bool
) -> MessageSpec:
    accumulated = attrs.accumulated_from_start
    return MessageSpec(
        element=attrs.param,
        level=attrs.levtype,
        forecast=str(step),
        identity=attrs.synthetic_identity(),
        end_step=timedelta(hours=step),
        start_step=timedelta(0) if accumulated else None,
        statistic=StatisticalProcess.ACCUMULATION if accumulated else None,
        values=source_values(attrs, init_time, member, step) if filled else None,
        # Since 50r1 the control is the deterministic ``oper`` forecast (template 4.0/4.8).
        ensemble=None if member == 0 and control_in_oper(init_time) else synthetic_role(member),
        ensemble_size=len(MEMBERS),
    )


def _index_text(init_time: pd.Timestamp, written: Sequence[WrittenMessage]) -> str:
    lines = []
    for message in written:
        spec = message.spec
        member = 0 if spec.ensemble is None else spec.ensemble.number
        oper = spec.ensemble is None
        keys: dict[str, str | int] = {
            "domain": "g",
            "date": f"{init_time:%Y%m%d}",
            "time": f"{init_time:%H}00",
            "expver": "0001",
            "class": "od",
            "type": "fc" if oper else ("cf" if member == 0 else "pf"),
            "stream": "oper" if oper else "enfo",
            "step": spec.forecast,
            "levtype": spec.level,
            **({} if member == 0 else {"number": str(member)}),
            "param": spec.element,
            "_offset": message.offset,
            "_length": message.length,
        }
        lines.append(json.dumps(keys))
    return "\n".join(lines) + "\n"


def _inventory(
    path: Path, init_time: pd.Timestamp, written: Sequence[WrittenMessage]
) -> tuple[Path, str]:
    return path, _index_text(init_time, written)


def write_step_file(
    folder: Path,
    init_time: pd.Timestamp,
    step: int,
    members: Sequence[int],
    data_vars: Sequence[IfsDataVar],
) -> Path:
    """The ``ef`` file of one step (every member; values for ``members``) and its ``.index``;
    since 50r1 the control's ``oper`` ``fc`` file beside it."""
    files: dict[str, list[int]] = {}
    for member in MEMBERS:
        files.setdefault(member_url(init_time, int(member), step), []).append(int(member))
    for url, in_file in files.items():
        path = folder / url.removeprefix("s3://")
        specs = [
            _spec(var.internal_attrs, init_time, member, step, member in members)
            for member in in_file
            for var in data_vars
        ]
        index_path = folder / index_url(url).removeprefix("s3://")
        write_grib_file(
            path,
            specs,
            init_time=init_time.to_pydatetime(),
            grid=ccsds_grid(),
            inventory=partial(_inventory, index_path, init_time),
        )
    return folder / step_url(init_time, step).removeprefix("s3://")


def synthesize_ifs_ens_mirror(
    folder: Path,
    init_times: Sequence[pd.Timestamp],
    members: Sequence[int],
    steps: Sequence[int],
    data_vars: Sequence[IfsDataVar],
    *,
    workers: int | None = None,
) -> list[Path]:
    """The ``ef`` file (+ ``.index``) of every init x step, at
    ``<folder>/ecmwf-forecasts/YYYYMMDD/HHz/ifs/0p25/enfo/...``."""
    jobs = [(pd.Timestamp(init), step) for init in init_times for step in steps]
    return write_in_processes(
        write_step_file, [(folder, *job, members, data_vars) for job in jobs], workers
    )
