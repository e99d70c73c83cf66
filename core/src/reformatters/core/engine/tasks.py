"""What a worker process gets for one variable of a region job: no template, no data."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from reformatters.core.config_models import DataVar
from reformatters.core.parallel import Indexer
from reformatters.core.published import PublishedExtent
from reformatters.core.region_job import (
    Downloads,
    RegionJob,
    SourceFileCoord,
    SourceFileResult,
    position_key,
)


@dataclass(frozen=True)
class VariableTask[DataVarT: DataVar[Any], SourceFileCoordT: SourceFileCoord]:
    """One variable of a region job, as sent to a worker process (no template, no data)."""

    data_var: DataVarT
    dims: tuple[str, ...]
    coords: Mapping[str, Any]
    shape: tuple[int, ...]
    # (file, its local path or why it has none, the position it fills)
    files: Sequence[tuple[SourceFileCoordT, Path | SourceFileResult, Indexer]]
    # Where the region rewrites published positions: their values are kept where new are NaN.
    published: PublishedExtent | None = None
    # Positions (within `shape`) whose values are the published ones (see core.reuse).
    reused: tuple[Indexer, ...] = ()


def variable_tasks[DataVarT: DataVar[Any], SourceFileCoordT: SourceFileCoord](
    job: RegionJob[DataVarT, SourceFileCoordT],
    data_vars: Sequence[DataVarT],
    downloaded: Downloads[SourceFileCoordT],
    published: PublishedExtent | None = None,
) -> list[tuple[DataVarT, VariableTask[DataVarT, SourceFileCoordT]]]:
    """What the workers need for each of `data_vars`, costliest first."""
    coords = list(downloaded)
    processing_ds = job.processing_region_ds()
    # Only the leading block that holds downloaded files is allocated, transformed and
    # written: the rest is NaN, which is the fill value, so its chunks are never stored
    # (a forecast with 24 of 209 leads published holds 24/209 of the region in memory).
    populated = [c for c in coords if isinstance(downloaded[c], Path)]
    processing_ds = processing_ds.isel(populated_extent(processing_ds, coords, populated))
    reused_locs = {
        position_key(c): c.out_loc()
        for c in coords
        if position_key(c) in job.reused_positions and _holds(processing_ds, c.out_loc())
    }
    costs = job.variable_costs(downloaded)
    tasks = []
    for data_var in sorted(data_vars, key=lambda v: -costs.get(v.name, 0.0)):
        template = processing_ds[data_var.name]
        dims = tuple(str(d) for d in template.dims)
        files = [
            (
                coord,
                downloaded[coord],
                positional_index(processing_ds, dims, coord.out_loc())
                if isinstance(downloaded[coord], Path)
                else (),
            )
            for coord in coords
        ]
        task = VariableTask(
            data_var=data_var,
            dims=dims,
            coords={str(k): (v.dims, v.values) for k, v in template.coords.items()},
            shape=template.shape,
            files=files,
            published=published if published and published.covers(job.region) else None,
            reused=tuple(
                positional_index(processing_ds, dims, loc) for loc in reused_locs.values()
            ),
        )
        tasks.append((data_var, task))
    return tasks


def positional_index(
    ds: xr.Dataset, dims: tuple[Hashable, ...], labels: Mapping[str, Any]
) -> Indexer:
    unknown = set(labels) - {str(d) for d in dims}
    assert not unknown, f"out_loc names dims {unknown} that are not in {dims}"
    index: list[int | slice] = []
    for dim in dims:
        if dim in labels:
            position = ds.indexes[dim].get_loc(labels[str(dim)])
            assert isinstance(position, int | np.integer), f"{dim}={labels[str(dim)]} not unique"
            index.append(int(position))
        else:
            index.append(slice(None))
    return tuple(index)


def _holds(ds: xr.Dataset, labels: Mapping[str, Any]) -> bool:
    return all(label in ds.indexes[dim] for dim, label in labels.items())


def populated_extent(
    ds: xr.Dataset, coords: Sequence[SourceFileCoord], populated: Sequence[SourceFileCoord]
) -> dict[str, slice]:
    """For every dim `coords` address: from 0 to just past the last position `populated` fill."""
    stops = {dim: 0 for coord in coords for dim in coord.out_loc()}
    for coord in populated:
        for dim, label in coord.out_loc().items():
            position = ds.indexes[dim].get_loc(label)
            assert isinstance(position, int | np.integer), f"{dim}={label} not unique"
            stops[dim] = max(stops[dim], int(position) + 1)
    return {dim: slice(0, stop) for dim, stop in stops.items()}
