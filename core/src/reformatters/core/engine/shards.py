"""One variable's region encoded into its shards in the local staging store."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr
import zarr
from numpy.typing import NDArray

from reformatters.core.published import (
    PublishedExtent,
    every_chunk_holds_data,
    fill_from_published,
    seed_published_shards,
    write_over_published,
)


def write_shards(
    data: xr.DataArray,
    name: str,
    append_dim: str,
    region: slice,
    tmp_store: Path,
    published: PublishedExtent | None = None,
    partition: Mapping[str, slice] | None = None,
    reused: NDArray[np.bool_] | None = None,
) -> tuple[list[str], int]:
    """Encode `data` (the `region` of the variable `name`, within `partition` along other dims)
    into its shards in `tmp_store`; returns the shard files written, relative to `tmp_store`,
    and how many published values were kept where `data` is NaN (see core.published).

    `reused` (True where `data`'s values are to be the published ones, broadcasting against
    it; see core.reuse) limits the rewrite to the chunks that receive new values."""
    var_dir = tmp_store / name / "c"
    if var_dir.exists():
        shutil.rmtree(var_dir)
    if 0 in data.shape:
        return [], 0  # nothing to write: the published shards stay as they are
    array = zarr.open_array(zarr.storage.LocalStore(tmp_store), path=name, mode="r+")
    assert len(data.dims) == array.ndim
    # `data` starts at the region along the append dim, at the partition along partitioned
    # dims and at 0 along every other dim; it may stop early (see tasks.populated_extent): the
    # rest of the shard is fill, or published values where the shard was published.
    bounds = {**(partition or {}), append_dim: region}
    selection = tuple(
        slice(bounds[str(dim)].start, bounds[str(dim)].start + size)
        if dim in bounds
        else slice(0, size)
        for dim, size in zip(data.dims, data.shape, strict=True)
    )
    extent = tuple(
        bounds.get(str(dim), slice(0, length))
        for dim, length in zip(data.dims, array.shape, strict=True)
    )
    assert all(s.start % c == 0 for s, c in zip(selection, array.chunks, strict=True))
    values = np.ascontiguousarray(data.values)
    kept = 0
    axis = data.dims.index(append_dim)
    seeded = published is not None and seed_published_shards(
        array, name, tmp_store, published, axis, extent
    )
    if reused is not None and reused.any():
        assert published is not None, f"{name}: reused values but no published extent"
        kept_or_none = write_over_published(
            array, values, selection, extent, axis, published.length, reused
        )
        if kept_or_none is None:  # every position reused: the published shards stay
            shutil.rmtree(var_dir)
            return [], 0
        return _relative_files(tmp_store, var_dir), kept_or_none
    if seeded:
        assert published is not None
        kept = fill_from_published(array, values, selection, axis, published.length)
    elif every_chunk_holds_data(values, array.chunks, array.fill_value):
        # zarr skips chunks that equal the fill value by comparing each whole chunk with it
        # (0.7 ms per 42 x 121 x 121 chunk for a NaN fill: 8 % of a worker's time). Same
        # bytes: the test above found no such chunk, stopping at a chunk's first value.
        array = array.with_config({"write_empty_chunks": True})
    array[selection] = values
    return _relative_files(tmp_store, var_dir), kept


def _relative_files(root: Path, folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in folder.rglob("*") if p.is_file())
