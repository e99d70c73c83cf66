"""An update's cost follows the new data: published positions are reused, not re-read.

An update re-processes the newest published position (a forecast's newest init, an analysis'
newest shard) so that what arrived since is added. Positions of it that are already published
with data keep their published values: their source files are neither fetched nor decoded, and
the shards are rewritten only where new values land (core.published.write_over_published).

A position is *published with data* for a job when it lies within the published extent and at
least one of the job's variables holds a value there in the store. The check reads one inner
chunk's extent of the grid (the middle one) per variable, over all candidate positions at once:
a field whose middle is NaN counts as no data, which only costs a re-read (a re-read value
replaces the published one it equals); a value seen is always data. A position whose file was
missing or failed (NaN in every variable) is read again, as before. A variable NaN where another
has data (legitimately, e.g. a window statistic at lead 0, or because its message was absent
then) keeps what is published: `update --reread-published` reads every position again. A job
one of whose variables has no published shard in its region (added since, or left out of a
backfill) reads every position.

A transform that looks one step back (deaccumulation: a rate at lead L needs the accumulation
at the previous lead) gets its input: the published step before each position that is read is
read too (`RegionJob.needs_previous_step`); its own output stays the published one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import obstore
import pandas as pd
import zarr
from obstore.exceptions import NotFoundError

from reformatters.core.logging import get_logger
from reformatters.core.published import PublishedExtent, region_shard_keys
from reformatters.core.region_job import PositionKey, RegionJob, SourceFileCoord, position_key

log = get_logger(__name__)


def plan_reuse[JobT: RegionJob[Any, Any]](job: JobT, published: PublishedExtent) -> JobT:
    """`job` with the positions it reuses and the files it does not fetch set."""
    coords: list[SourceFileCoord] = job.source_file_coords()
    if not coords or not published.covers(job.region):
        return job
    group = zarr.open_group(published.primary.zarr_store(read_only=True), mode="r")
    unpublished = [v.name for v in job.data_vars if not _has_shard(job, group, v.name, published)]
    if unpublished:
        # Reusing positions would leave these variables empty there (e.g. added since).
        log.info("reading every position: no published shard", job=job.summary(), of=unpublished)
        return job
    template = job.template_ds
    dims = _addressed_dims(template, coords)
    by_position: dict[PositionKey, list[SourceFileCoord]] = defaultdict(list)
    for coord in coords:
        by_position[position_key(coord)].append(coord)
    append_index = template.indexes[job.append_dim]
    candidates = [
        key
        for key in by_position
        if _position(append_index, dict(key)[job.append_dim]) < published.length
    ]
    reused = published_with_data(job, group, dims, candidates)
    fetched = set(by_position) - reused
    if job.needs_previous_step():
        steps = job.processing_region_ds().indexes[dims[-1]]
        fetched |= {
            before
            for key in fetched
            if (before := _previous_step(steps, dims[-1], key)) is not None and before in reused
        }
    unfetched = frozenset(c for key in reused - fetched for c in by_position[key])
    log.info(
        "reusing published positions",
        job=job.summary(),
        positions=len(by_position),
        reused=len(reused),
        fetched=len(fetched),
    )
    return replace(job, reused_positions=frozenset(reused), unfetched=unfetched)


def _position(index: pd.Index, label: Any) -> int:
    position = index.get_loc(label)
    assert isinstance(position, int | np.integer), f"{label} is not one position"
    return int(position)


def _addressed_dims(template: Any, coords: Sequence[SourceFileCoord]) -> list[str]:
    """The dims the files address, in the template's dim order (the last is the step dim)."""
    addressed = {dim for coord in coords for dim in coord.out_loc()}
    order = list(template.dims)
    assert addressed <= set(order), f"files address {addressed - set(order)}"
    return sorted(addressed, key=order.index)


def _previous_step(steps: pd.Index, step_dim: str, key: PositionKey) -> PositionKey | None:
    """`key` one step earlier along `step_dim` (its values in the processing region: `steps`;
    None at its start)."""
    labels = dict(key)
    position = _position(steps, labels[step_dim])
    if position == 0:
        return None
    labels[step_dim] = _label_like(steps[position - 1], labels[step_dim])
    return tuple(sorted(labels.items()))


def _label_like(value: Any, like: Any) -> Any:
    """An index value in the type the files' `out_loc` uses (pandas or plain int)."""
    if isinstance(like, pd.Timestamp):
        return pd.Timestamp(value)
    if isinstance(like, pd.Timedelta):
        return pd.Timedelta(value)
    return type(like)(value)


def _has_shard(
    job: RegionJob[Any, Any], group: zarr.Group, name: str, published: PublishedExtent
) -> bool:
    """Whether the store holds a shard of variable `name` in the job's region and partition."""
    if name not in group:
        return False
    array = group[name]
    assert isinstance(array, zarr.Array)
    bounds = {**job.partition, job.append_dim: job.region}
    extent = tuple(
        bounds.get(str(dim), slice(0, size))
        for dim, size in zip(job.template_ds[name].dims, array.shape, strict=True)
    )
    store = published.primary.object_store()
    for key in region_shard_keys(array, name, extent):
        try:
            obstore.head(store, key)
        except (FileNotFoundError, NotFoundError):
            continue
        return True
    return False


def published_with_data(
    job: RegionJob[Any, Any],
    group: zarr.Group,
    dims: Sequence[str],
    candidates: Sequence[PositionKey],
) -> set[PositionKey]:
    """The `candidates` (published positions) where one of the job's variables holds a value
    in the middle inner chunk of the grid (see the module doc)."""
    if not candidates:
        return set()
    template = job.template_ds
    # Store positions of each candidate along each addressed dim.
    positions: dict[PositionKey, tuple[int, ...]] = {}
    for key in candidates:
        labels = dict(key)
        where = tuple(_position(template.indexes[d], labels[d]) for d in dims)
        positions[key] = where
    unresolved = dict(positions)
    found: set[PositionKey] = set()
    for var in job.data_vars:
        if not unresolved:
            break
        array = group[var.name]
        assert isinstance(array, zarr.Array)
        has_data = _fields_with_data(array, template[var.name].dims, dims, unresolved.values())
        for key, where in list(unresolved.items()):
            if where in has_data:
                found.add(key)
                del unresolved[key]
    return found


def _fields_with_data(
    array: zarr.Array[Any],
    array_dims: Sequence[Any],
    dims: Sequence[str],
    positions: Iterable[tuple[int, ...]],
) -> set[tuple[int, ...]]:
    """Of `positions` (store positions along `dims`), those whose field holds a non-NaN value
    in the middle inner chunk: one read of their bounding box."""
    wanted = set(positions)
    addressed = [str(d) for d in array_dims if str(d) in dims]
    assert addressed == list(dims), f"{array_dims} do not hold {dims} in order"
    lows = [min(p[i] for p in wanted) for i in range(len(dims))]
    highs = [max(p[i] for p in wanted) + 1 for i in range(len(dims))]
    selection: list[slice] = []
    grid_axes: list[int] = []
    for axis, (dim, size, chunk) in enumerate(
        zip(array_dims, array.shape, array.chunks, strict=True)
    ):
        if str(dim) in dims:
            i = addressed.index(str(dim))
            selection.append(slice(lows[i], highs[i]))
        else:
            start = (size // 2) // chunk * chunk
            selection.append(slice(start, min(start + chunk, size)))
            grid_axes.append(axis)
    block = np.asarray(array[tuple(selection)])
    with_data = ~np.isnan(block).all(axis=tuple(grid_axes))
    found = {
        tuple(int(i) + low for i, low in zip(index, lows, strict=True))
        for index in np.argwhere(with_data)
    }
    return found & wanted
