"""What a worker process does with one variable of a region job: decode every file into the
region, transform it and write its shards into the staging store."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from reformatters.core.config_models import DataVar
from reformatters.core.engine.render import wait_until_rendered
from reformatters.core.engine.shards import write_shards
from reformatters.core.engine.tasks import VariableTask
from reformatters.core.logging import get_logger
from reformatters.core.parallel import Indexer, reusable_float32_array
from reformatters.core.region_job import (
    ArrayFloat32,
    RegionJob,
    SourceFileCoord,
    SourceFileResult,
    SourceFileStatus,
)
from reformatters.core.sources.errors import MessageAbsentError, SourceError

log = get_logger(__name__)


@dataclass(frozen=True)
class VariableOutcome:
    results: list[SourceFileResult]
    # Shard files written into the staging store.
    written: list[str]
    # Values the transforms set to NaN as invalid.
    invalid: int
    # Published values kept where the new values are NaN.
    kept: int


def process_variable[DataVarT: DataVar[Any], SourceFileCoordT: SourceFileCoord](
    job: RegionJob[DataVarT, SourceFileCoordT],
    task: VariableTask[DataVarT, SourceFileCoordT],
    tmp_store: Path,
) -> VariableOutcome:
    """Runs in a worker: decode, transform and encode one variable's region into `tmp_store`."""
    values = reusable_float32_array(task.shape)
    results = read_into(job, values, task)
    data = xr.DataArray(values, coords=dict(task.coords), dims=task.dims)
    invalid = job.apply_data_transformations(data, task.data_var)
    if invalid:
        log.warning("values set to NaN as invalid", var=task.data_var.name, count=invalid)
    wait_until_rendered(tmp_store)
    reused = reused_mask(task) if task.reused else None
    written, kept = write_shards(
        _trim_to_region(job, data),
        task.data_var.name,
        job.append_dim,
        job.region,
        tmp_store,
        task.published,
        job.partition,
        None if reused is None else _trim_to_region(job, reused).values,
    )
    del data, values
    return VariableOutcome(results, written, invalid, kept)


def read_into[DataVarT: DataVar[Any], SourceFileCoordT: SourceFileCoord](
    job: RegionJob[DataVarT, SourceFileCoordT],
    values: ArrayFloat32,
    task: VariableTask[DataVarT, SourceFileCoordT],
) -> list[SourceFileResult]:
    """Decode every downloaded file of the task into `values`; NaN wherever none wrote."""
    results = []
    written: list[Indexer] = []
    for coord, downloaded, index in task.files:
        if isinstance(downloaded, SourceFileResult):
            results.append(downloaded)  # why the file has no path: that is its outcome
            continue
        try:
            job.read_data_into(coord, downloaded, task.data_var, values[index])
        except MessageAbsentError as e:
            # Reported once per run for the variable (see outcomes.OutcomeSummary).
            log.debug("message absent", url=coord.get_url(), var=task.data_var.name)
            results.append(SourceFileResult(coord, SourceFileStatus.ABSENT, e.expected))
            continue
        except (SourceError, ValueError, RuntimeError) as e:
            error = f"{type(e).__name__}: {e}"
            log.warning("read failed", url=coord.get_url(), var=task.data_var.name, error=error)
            results.append(SourceFileResult(coord, SourceFileStatus.READ_FAILED, error))
            continue
        results.append(SourceFileResult(coord, SourceFileStatus.SUCCEEDED))
        written.append(index)
    addressed = {str(d) for coord, _, _ in task.files for d in coord.out_loc()}
    fill_unwritten(values, task.dims, addressed, written)
    return results


def fill_unwritten(
    array: ArrayFloat32,
    dims: tuple[Hashable, ...],
    addressed_dims: set[str],
    written: Sequence[Indexer],
) -> None:
    """Set NaN wherever no successful read wrote (the buffer holds an earlier variable's data).

    Source files address positions along `addressed_dims` (e.g. init_time and lead_time); a
    position no file filled is NaN in every other dim.
    """
    axes = [axis for axis, dim in enumerate(dims) if str(dim) in addressed_dims]
    if not axes:
        if not written:
            array.fill(np.nan)
        return
    filled = np.zeros([array.shape[axis] for axis in axes], dtype=bool)
    for index in written:
        filled[tuple(index[axis] for axis in axes)] = True
    for position in np.argwhere(~filled):
        unwritten: list[int | slice] = [slice(None)] * array.ndim
        for axis, value in zip(axes, position, strict=True):
            unwritten[axis] = int(value)
        array[tuple(unwritten)] = np.nan


def reused_mask(task: VariableTask[Any, Any]) -> xr.DataArray:
    """True at the positions whose values are the published ones: sized along the dims the
    files address, 1 along the others (it broadcasts against the values)."""
    addressed = [
        any(isinstance(index[axis], int) for index in task.reused) for axis in range(len(task.dims))
    ]
    shape = [size if a else 1 for size, a in zip(task.shape, addressed, strict=True)]
    mask = np.zeros(shape, dtype=bool)
    for index in task.reused:
        mask[tuple(i if isinstance(i, int) else 0 for i in index)] = True
    return xr.DataArray(mask, dims=task.dims)


def _trim_to_region(job: RegionJob[Any, Any], data: xr.DataArray) -> xr.DataArray:
    processing = job.processing_region()
    start = job.region.start - processing.start
    return data.isel({job.append_dim: slice(start, start + job.region.stop - job.region.start)})
