"""engine.shards.write_shards: the bytes zarr writes by default, with zarr's whole-chunk
comparison against the fill value skipped when every chunk is known to hold data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

from reformatters.core import JobFilters
from reformatters.core.engine.shards import every_chunk_holds_data, write_shards
from reformatters.core.template_config import write_metadata
from reformatters.example_plugin.dataset import make_dataset


def testevery_chunk_holds_data_looks_past_a_chunks_first_value() -> None:
    values = np.ones((4, 6), dtype=np.float32)
    assert every_chunk_holds_data(values, (2, 3), np.float32(np.nan))
    values[0, 0] = np.nan  # first value of a chunk missing, the others present
    assert every_chunk_holds_data(values, (2, 3), np.float32(np.nan))
    values[2:, 3:] = np.nan  # a whole chunk missing
    assert not every_chunk_holds_data(values, (2, 3), np.float32(np.nan))
    # an edge block cut short by the data's extent counts only what it holds
    edge = np.ones((5, 6), dtype=np.float32)
    edge[4] = np.nan
    assert not every_chunk_holds_data(edge, (2, 3), np.float32(np.nan))
    # chunks of (lead, y, x) fields: a missing first field, or first values, are not empty
    fields = np.ones((1, 6, 4, 4), dtype=np.float32)
    fields[:, 0] = np.nan
    fields[:, 1:, 0, 0] = np.nan
    assert every_chunk_holds_data(fields, (1, 3, 2, 2), np.float32(np.nan))
    fields[:, 3:, 2:, :2] = np.nan
    assert not every_chunk_holds_data(fields, (1, 3, 2, 2), np.float32(np.nan))
    # any other fill value: left to zarr
    assert not every_chunk_holds_data(np.ones((4, 6), dtype=np.float32), (2, 3), 0.0)


def _stored(store: Path, name: str) -> dict[str, bytes]:
    folder = store / name / "c"
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("empty_chunk", [False, True])
def test_write_shards_stores_what_zarr_stores_by_default(tmp_path: Path, empty_chunk: bool) -> None:
    dataset = make_dataset()
    template = dataset.template_config.get_template(datetime(2000, 1, 3))
    job = dataset.get_jobs(template, JobFilters())[1]
    var = job.data_vars[0]
    region_template = template[var.name].isel(time=job.region)
    rng = np.random.default_rng(1)
    # 10 of the region's 24 times: the second time chunk is cut short, the rest is fill
    values = rng.standard_normal((10, *region_template.shape[1:])).astype(np.float32)
    values[0] = np.nan  # first value of every chunk in the first time chunk missing
    if empty_chunk:
        values[6:, :4, :6] = np.nan
    data = xr.DataArray(values, dims=region_template.dims)

    ours, reference = tmp_path / "ours.zarr", tmp_path / "reference.zarr"
    for store in (ours, reference):
        write_metadata(template, store)
    written, kept = write_shards(data, var.name, job.append_dim, job.region, ours)
    assert kept == 0
    zarr.open_array(zarr.storage.LocalStore(reference), path=var.name, mode="r+")[
        job.region.start : job.region.start + 10
    ] = values

    assert _stored(ours, var.name) == _stored(reference, var.name)
    assert written == sorted(f"{var.name}/c/{name}" for name in _stored(ours, var.name))
    array = zarr.open_array(zarr.storage.LocalStore(ours), path=var.name, mode="r")
    stored = np.asarray(array[job.region])
    np.testing.assert_array_equal(stored[:10], values)
    assert np.isnan(stored[10:]).all()


def test_a_partition_writes_only_its_shards_and_keeps_its_published_values(
    tmp_path: Path,
) -> None:
    """A job partitioned along a second dim (an ensemble's members) writes its data at the
    partition's offset, seeds and keeps only its own published shards; the other partitions'
    shards are neither rewritten nor listed."""
    from reformatters.core.published import PublishedExtent
    from reformatters.core.storage import StoreLocation

    shape, chunks = (2, 4, 3, 5), (1, 1, 3, 5)
    published_store, staging = tmp_path / "published.zarr", tmp_path / "staging.zarr"
    for path in (published_store, staging):
        zarr.create_array(
            zarr.storage.LocalStore(path),
            name="v",
            shape=shape,
            chunks=chunks,
            shards=(1, 2, 3, 5),
            dtype="float32",
            fill_value=np.nan,
            dimension_names=("time", "member", "y", "x"),
        )
    published = zarr.open_array(zarr.storage.LocalStore(published_store), path="v", mode="r+")
    old = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    published[...] = old
    extent = PublishedExtent(StoreLocation(str(published_store)), length=2)

    new = np.full((1, 2, 3, 5), 7.0, dtype=np.float32)
    new[0, 1] = np.nan  # member 3 missing in this run: its published values stay
    data = xr.DataArray(new, dims=("time", "member", "y", "x"))
    written, kept = write_shards(
        data, "v", "time", slice(1, 2), staging, extent, {"member": slice(2, 4)}
    )
    assert written == ["v/c/1/1/0/0"]
    assert kept == 15
    result = zarr.open_array(zarr.storage.LocalStore(staging), path="v", mode="r")
    np.testing.assert_array_equal(result[1, 2], np.full((3, 5), 7.0))
    np.testing.assert_array_equal(result[1, 3], old[1, 3])
    assert np.isnan(result[1, :2]).all()  # the other partition's shard was never written here
