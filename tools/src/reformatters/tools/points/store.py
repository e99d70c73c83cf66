"""Opening a dataset store for reading, and counting the requests and bytes it serves."""

from __future__ import annotations

import threading
import warnings
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Self

import xarray as xr
from zarr.abc.store import ByteRequest, Store
from zarr.core.buffer import Buffer, BufferPrototype
from zarr.storage import WrapperStore


@dataclass
class ReadStats:
    """Requests and bytes a store served (shared by every copy of a CountingStore)."""

    requests: int = 0
    bytes_read: int = 0
    keys: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, key: str, buffers: Iterable[Buffer | None]) -> None:
        with self._lock:
            for buffer in buffers:
                self.requests += 1
                if buffer is not None:
                    self.bytes_read += len(buffer)
                    self.keys.add(key)


class CountingStore(WrapperStore[Store]):
    """A read-through Zarr store wrapper that counts the requests and bytes it serves."""

    def __init__(self, store: Store, stats: ReadStats | None = None) -> None:
        super().__init__(store)
        self.stats = stats if stats is not None else ReadStats()

    def _with_store(self, store: Store) -> Self:
        return type(self)(store, self.stats)

    async def get(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        buffer = await self._store.get(key, prototype, byte_range)
        self.stats.record(key, [buffer])
        return buffer

    def get_sync(
        self,
        key: str,
        *,
        prototype: BufferPrototype | None = None,
        byte_range: ByteRequest | None = None,
    ) -> Buffer | None:
        buffer = super().get_sync(key, prototype=prototype, byte_range=byte_range)
        self.stats.record(key, [buffer])
        return buffer

    async def get_partial_values(
        self,
        prototype: BufferPrototype,
        key_ranges: Iterable[tuple[str, ByteRequest | None]],
    ) -> list[Buffer | None]:
        ranges = list(key_ranges)
        buffers = await self._store.get_partial_values(prototype, ranges)
        for (key, _), buffer in zip(ranges, buffers, strict=True):
            self.stats.record(key, [buffer])
        return buffers

    async def get_ranges(
        self,
        key: str,
        byte_ranges: Sequence[ByteRequest | None],
        *,
        prototype: BufferPrototype,
        max_concurrency: int | None = None,
        max_gap_bytes: int | None = None,
        max_coalesced_bytes: int | None = None,
    ) -> AsyncIterator[Sequence[tuple[int, Buffer | None]]]:
        async for group in super().get_ranges(
            key,
            byte_ranges,
            prototype=prototype,
            max_concurrency=max_concurrency,
            max_gap_bytes=max_gap_bytes,
            max_coalesced_bytes=max_coalesced_bytes,
        ):
            self.stats.record(key, [buffer for _, buffer in group])
            yield group


def open_store(store: Store) -> xr.Dataset:
    """Lazily open a dataset store (no dask; arrays are read on indexing)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
        warnings.filterwarnings("ignore", message="Failed to open Zarr store with consolidated")
        ds: xr.Dataset = xr.open_zarr(store, decode_timedelta=True, chunks=None)
    return ds
