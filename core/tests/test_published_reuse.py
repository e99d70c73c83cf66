"""published.write_over_published: only the chunks holding new positions are rewritten, reused
positions keep their published values and NaN keeps a published value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import zarr

from reformatters.core.published import write_over_published

SHAPE = (1, 12, 4, 6)  # (init, lead, y, x): one shard of 3 lead chunks x 2 x 2 grid chunks
CHUNKS = (1, 4, 2, 3)


def _array(store: Path) -> zarr.Array:
    return zarr.create_array(
        zarr.storage.LocalStore(store),
        name="v",
        shape=SHAPE,
        chunks=CHUNKS,
        shards=SHAPE,
        dtype="float32",
        fill_value=float("nan"),
    )


def _chunk_bytes(array: zarr.Array, lead_chunk: int) -> list[bytes]:
    """The stored bytes of one lead chunk's inner chunks, through the shard index."""
    shard = (Path(str(array.store.root)) / "v" / "c" / "0" / "0" / "0" / "0").read_bytes()
    index = np.frombuffer(shard[-(3 * 2 * 2 * 16 + 4) : -4], dtype="<u8").reshape(3, 2, 2, 2)
    return [shard[o : o + n] for o, n in index[lead_chunk].reshape(-1, 2)]


def test_only_the_chunks_of_new_positions_are_rewritten(tmp_path: Path) -> None:
    array = _array(tmp_path / "store")
    published = np.arange(np.prod(SHAPE), dtype=np.float32).reshape(SHAPE)
    published[:, 9:] = np.nan  # leads 0-8 published
    published[:, 5, 0, 0] = np.nan  # a value the source lacked
    array[...] = published
    untouched = _chunk_bytes(array, 0)

    # This run: leads 0-10 in `values`; 0-7 reused (not read: NaN), 8 read again as the step
    # before the new leads 9 and 10; lead 10 failed (NaN).
    values = np.full((1, 11, 4, 6), np.nan, dtype=np.float32)
    values[:, 8] = published[:, 8] + 0.5  # a transform's output there is not kept
    values[:, 9] = -1.0
    reused = np.zeros((1, 11, 1, 1), dtype=bool)
    reused[:, :9] = True
    selection = (slice(0, 1), slice(0, 11), slice(0, 4), slice(0, 6))
    extent = (slice(0, 1), slice(0, 12), slice(0, 4), slice(0, 6))
    kept = write_over_published(array, values, selection, extent, 0, 1, reused)

    assert kept == 0
    expected = published.copy()
    expected[:, 9] = -1.0
    np.testing.assert_array_equal(array[...], expected)
    # Leads 0-3 are not in the box of the new leads (8-11): their chunks keep their bytes.
    assert _chunk_bytes(array, 0) == untouched


def test_every_position_reused_writes_nothing(tmp_path: Path) -> None:
    array = _array(tmp_path / "store")
    values = np.ones((1, 3, 4, 6), dtype=np.float32)
    reused = np.ones((1, 3, 1, 1), dtype=bool)
    selection = (slice(0, 1), slice(0, 3), slice(0, 4), slice(0, 6))
    extent = (slice(0, 1), slice(0, 12), slice(0, 4), slice(0, 6))
    assert write_over_published(array, values, selection, extent, 0, 1, reused) is None
    assert np.isnan(array[...]).all()


def test_nan_keeps_a_published_value_outside_reused_positions(tmp_path: Path) -> None:
    array = _array(tmp_path / "store")
    published = np.full(SHAPE, 7.0, dtype=np.float32)
    array[...] = published
    values = np.full((1, 12, 4, 6), np.nan, dtype=np.float32)
    values[:, 11] = 2.0
    reused = np.zeros((1, 12, 1, 1), dtype=bool)
    reused[:, :8] = True
    selection = extent = (slice(0, 1), slice(0, 12), slice(0, 4), slice(0, 6))
    kept = write_over_published(array, values, selection, extent, 0, 1, reused)
    assert kept == 3 * 4 * 6  # leads 8-10: NaN this run, published before
    expected = published.copy()
    expected[:, 11] = 2.0
    np.testing.assert_array_equal(array[...], expected)
