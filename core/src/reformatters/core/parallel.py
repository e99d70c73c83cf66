"""Decoding in worker processes into shared memory (pygrib holds the GIL while it decodes)."""

from __future__ import annotations

import atexit
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from functools import cache
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import numpy as np
from numpy.typing import NDArray

DECODE_PROCESSES_ENV = "REFORMATTERS_DECODE_PROCESSES"

type Indexer = tuple[int | slice, ...]

# "__main__" as by default (tasks defined in the main script); pyproj before anything that may
# load eccodes (see the README's library facts).
_PRELOAD = [
    "__main__",
    "pyproj",
    "numpy",
    "pandas",
    "xarray",
    "zarr",
    "pygrib",
    "reformatters.core.region_job",
]


def decode_processes() -> int:
    """Worker processes for decoding: $REFORMATTERS_DECODE_PROCESSES or the CPUs we may use."""
    configured = os.environ.get(DECODE_PROCESSES_ENV)
    if configured:
        return max(0, int(configured))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@cache
def decode_pool(processes: int) -> ProcessPoolExecutor:
    """One pool per process, reused by every region job; forkserver avoids forking our threads."""
    context = multiprocessing.get_context("forkserver")
    # The fork server imports the heavy libraries once; workers fork from it with them loaded
    # instead of each importing them again (CPU that competes with decoding on small machines).
    context.set_forkserver_preload(_PRELOAD)
    pool = ProcessPoolExecutor(processes, mp_context=context)
    atexit.register(pool.shutdown, wait=False, cancel_futures=True)
    return pool


class InlineExecutor(Executor):
    """Runs tasks in the calling thread (no process pool for tiny datasets and tests)."""

    def submit[T](self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@contextmanager
def shared_float32_array(shape: tuple[int, ...]) -> Iterator[str]:
    """A NaN-filled float32 array in shared memory; yields its name for `attach_float32_array`.

    The creator holds no numpy view of it, so it can always be closed: every user attaches by name
    and drops its views before detaching.
    """
    shm = SharedMemory(create=True, size=max(1, int(np.prod(shape)) * 4))
    try:
        np.ndarray(shape, dtype=np.float32, buffer=shm.buf).fill(np.nan)
        yield shm.name
    finally:
        # A failed user's traceback may still hold a view; the mapping goes with it.
        with suppress(BufferError):
            shm.close()
        shm.unlink()


@contextmanager
def attach_float32_array(name: str, shape: tuple[int, ...]) -> Iterator[NDArray[np.float32]]:
    """A view of a shared array. Callers must not keep references to it after the block."""
    shm = SharedMemory(name=name, track=False)
    try:
        yield np.ndarray(shape, dtype=np.float32, buffer=shm.buf)
    finally:
        shm.close()


def write_into_shared(
    name: str, shape: tuple[int, ...], index: Indexer, values: NDArray[np.float32]
) -> None:
    with attach_float32_array(name, shape) as array:
        array[index] = values
        del array
