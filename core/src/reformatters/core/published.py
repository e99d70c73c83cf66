"""Published values are never replaced by NaN.

A region job that rewrites positions readers already see (a backfill over a published store, an
update re-processing the newest position) starts each variable's shards from the published ones
and fills every NaN of its new values from them: a missing or failed file, an absent message or
a deaccumulation whose previous step is missing never turns a published value into NaN, while
new values (a source that now has better data) still replace old ones. Chunks the shard holds
beyond the published extent (left by a run that never published them) are dropped.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import obstore
import zarr
from numpy.typing import NDArray
from obstore.exceptions import NotFoundError

from reformatters.core.storage import StoreLocation


@dataclass(frozen=True)
class PublishedExtent:
    """The primary store and its published length along the append dimension."""

    primary: StoreLocation
    length: int

    def covers(self, region: slice) -> bool:
        return bool(region.start < self.length)


def region_shard_keys(array: zarr.Array[Any], name: str, extent: tuple[slice, ...]) -> list[str]:
    """The keys of `array`'s shards that hold `extent` (a slice per axis; default key encoding)."""
    shards = array.shards or array.chunks
    indexes = [
        range(where.start // shard, (where.stop - 1) // shard + 1)
        for where, shard in zip(extent, shards, strict=True)
    ]
    return ["/".join([name, "c", *map(str, index)]) for index in itertools.product(*indexes)]


def seed_published_shards(
    array: zarr.Array[Any],
    name: str,
    tmp_store: Path,
    published: PublishedExtent,
    axis: int,
    extent: tuple[slice, ...],
) -> bool:
    """Copy the published shards holding `extent` (a slice per axis: the region along the append
    `axis`) into `tmp_store` (returns whether any existed) and drop what they hold beyond the
    published extent."""
    store = published.primary.object_store()
    seeded = False
    region = extent[axis]
    for key in region_shard_keys(array, name, extent):
        try:
            data = obstore.get(store, key).bytes()
        except (FileNotFoundError, NotFoundError):
            continue
        path = tmp_store / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(data))
        seeded = True
    if seeded and region.stop > published.length:
        unpublished = list(extent)
        unpublished[axis] = slice(max(region.start, published.length), region.stop)
        array[tuple(unpublished)] = np.nan
    return seeded


def fill_from_published(
    array: zarr.Array[Any],
    values: NDArray[np.float32],
    selection: tuple[slice, ...],
    axis: int,
    published_length: int,
    reused: NDArray[np.bool_] | None = None,
) -> int:
    """Where `values` (to be written at `selection` of `array`) are NaN at published positions,
    put the published value back; returns how many values were kept. Where `reused` (True at
    positions whose values are the published ones; it broadcasts against `values`) is True,
    every value becomes the published one, uncounted. Works slab by slab along the longest
    chunked axis, so memory stays at a few chunks beyond `values`."""
    stop = min(selection[axis].stop, published_length)
    if stop <= selection[axis].start:
        return 0
    within = list(selection)
    within[axis] = slice(selection[axis].start, stop)
    steps = [
        (s.stop - s.start) / c for s, c in zip(within, array.chunks, strict=True)
    ]  # chunks per axis
    slab_axis = int(np.argmax(steps))
    chunk = array.chunks[slab_axis]
    kept = 0
    start, end = within[slab_axis].start, within[slab_axis].stop
    for slab_start in range(start, end, chunk):
        slab = list(within)
        slab[slab_axis] = slice(slab_start, min(slab_start + chunk, end))
        local = tuple(
            slice(s.start - base.start, s.stop - base.start)
            for s, base in zip(slab, selection, strict=True)
        )
        new = values[local]
        if reused is not None:
            kept += _copy_reused(array, new, tuple(slab), reused[_broadcast_slice(reused, local)])
            continue
        if not np.isnan(new).any():
            continue
        kept += _keep_published(new, np.asarray(array[tuple(slab)]))
    return kept


def _keep_published(new: NDArray[np.float32], existing: NDArray[np.float32]) -> int:
    """Where ``new`` is NaN and ``existing`` (the published values) is not, the published value
    stays; returns how many."""
    keep = np.isnan(new) & ~np.isnan(existing)
    new[keep] = existing[keep]
    return int(np.count_nonzero(keep))


def _copy_reused(
    array: zarr.Array[Any],
    new: NDArray[np.float32],
    slab: tuple[slice, ...],
    reuse: NDArray[np.bool_],
) -> int:
    """`fill_from_published` of one slab, position by position along the axes `reuse` is
    sized along: published values at reused positions, NaN keeping a published value at the
    others; returns how many values were kept."""
    if not reuse.any() and not np.isnan(new).any():
        return 0
    existing = np.asarray(array[slab])
    kept = 0
    for index in np.ndindex(reuse.shape):
        part = tuple(
            slice(None) if size == 1 else slice(i, i + 1)
            for i, size in zip(index, reuse.shape, strict=True)
        )
        if reuse[index]:
            new[part] = existing[part]
            continue
        kept += _keep_published(new[part], existing[part])
    return kept


def write_over_published(
    array: zarr.Array[Any],
    values: NDArray[np.float32],
    selection: tuple[slice, ...],
    extent: tuple[slice, ...],
    axis: int,
    published_length: int,
    reused: NDArray[np.bool_],
) -> int | None:
    """Write `values` at `selection` of `array` (seeded with the published shards) where they
    hold new values: the whole chunks (within `extent`, what the shards hold) of the box that
    covers every position not `reused` (True at positions whose values are the published ones;
    sized along the dims the source files address, 1 along the others). Within the box, reused
    positions and those beyond `values` get the published values and NaN keeps a published
    value (`fill_from_published`); whole chunks are encoded without reading them again. Outside
    the box the shards keep their published chunks' bytes. Returns how many values were kept,
    or None when every position is reused (nothing to write)."""
    fresh = np.argwhere(~reused)
    if len(fresh) == 0:
        return None
    box: list[slice] = []
    for i, (where, limit, chunk, size) in enumerate(
        zip(selection, extent, array.chunks, values.shape, strict=True)
    ):
        if reused.shape[i] == 1:
            box.append(slice(0, size))
            continue
        assert where.start % chunk == 0 and where.start == limit.start
        low = int(fresh[:, i].min()) // chunk * chunk
        high = min(-(-(int(fresh[:, i].max()) + 1) // chunk) * chunk, limit.stop - where.start)
        box.append(slice(low, high))
    inside = tuple(
        slice(b.start, min(b.stop, size)) for b, size in zip(box, values.shape, strict=True)
    )
    shape = tuple(b.stop - b.start for b in box)
    if shape == values[inside].shape:
        box_values, box_reused = values[inside], reused[_broadcast_slice(reused, inside)]
    else:  # the box's last chunks reach beyond `values`: published values (or fill) there
        overlap = tuple(slice(0, s.stop - s.start) for s in inside)
        box_values = np.full(shape, np.nan, dtype=values.dtype)
        box_values[overlap] = values[inside]
        box_reused = np.ones(
            [n if m != 1 else 1 for n, m in zip(shape, reused.shape, strict=True)], dtype=bool
        )
        box_reused[_broadcast_slice(reused, overlap)] = reused[_broadcast_slice(reused, inside)]
    box_selection = tuple(
        slice(where.start + b.start, where.start + b.stop)
        for where, b in zip(selection, box, strict=True)
    )
    kept = fill_from_published(array, box_values, box_selection, axis, published_length, box_reused)
    if every_chunk_holds_data(box_values, array.chunks, array.fill_value):
        array = array.with_config({"write_empty_chunks": True})  # see engine.shards
    array[box_selection] = box_values
    return kept


def every_chunk_holds_data(values: NDArray[Any], chunks: tuple[int, ...], fill_value: Any) -> bool:
    """Whether every chunk-shaped block of `values` (tiled from its origin, edge blocks cut
    short) holds a value other than a NaN `fill_value`. False for any other fill value."""
    if not (values.dtype.kind == "f" and np.isnan(fill_value)):
        return False
    starts = [range(0, size, chunk) for size, chunk in zip(values.shape, chunks, strict=True)]
    for origin in itertools.product(*starts):
        block = values[tuple(slice(o, o + c) for o, c in zip(origin, chunks, strict=True))]
        # The first value of each field (a missing lead 0 is NaN), then all of them.
        corners = block[(..., 0, 0)] if block.ndim >= 2 else block[:1]
        if np.isnan(corners).all() and np.isnan(block).all():
            return False
    return True


def _broadcast_slice(mask: NDArray[np.bool_], local: tuple[slice, ...]) -> tuple[slice, ...]:
    """`local` for a mask that has size 1 along the axes it broadcasts along."""
    return tuple(
        slice(None) if size == 1 else where for size, where in zip(mask.shape, local, strict=True)
    )
