"""Decoding in worker processes into shared memory (pygrib holds the GIL while it decodes)."""

from __future__ import annotations

import atexit
import ctypes
import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import suppress
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


_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


@cache
def tune_malloc() -> bool:
    """Keep large freed blocks in the heap for reuse (glibc only; returns whether it applied).

    Every decoded field is a fresh 4-8 MB array. Above glibc's mmap threshold each one is a new
    mapping whose pages are faulted in and zeroed by the kernel, then unmapped on free: measured
    2.8 s of system time per decode worker for 295 messages, 0.25 s with this. The threshold's
    maximum on 64-bit glibc is 32 MiB; freed memory above the heap top is returned to the system
    only beyond 1 GiB, so a worker's memory stays at its high-water mark (a few fields).
    """
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # not glibc (e.g. musl)
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)) and bool(
        mallopt(_M_TRIM_THRESHOLD, 1024 * 1024 * 1024)
    )


def _init_decode_worker() -> None:
    tune_malloc()


@cache
def decode_pool(processes: int) -> ProcessPoolExecutor:
    """One pool per process, reused by every region job; forkserver avoids forking our threads."""
    context = multiprocessing.get_context("forkserver")
    # The fork server imports the heavy libraries once; workers fork from it with them loaded
    # instead of each importing them again (CPU that competes with decoding on small machines).
    context.set_forkserver_preload(_PRELOAD)
    pool = ProcessPoolExecutor(processes, mp_context=context, initializer=_init_decode_worker)
    atexit.register(pool.shutdown, wait=False, cancel_futures=True)
    return pool


class InlineExecutor(Executor):
    """Runs tasks in the calling thread (no process pool for tiny datasets and tests)."""

    def submit[T](self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


# Shared float32 buffers this process created, by name; reused by every region job. Reuse matters:
# the first touch of fresh shared pages costs a page fault and the kernel's zeroing per 4 KiB in
# every process that maps them, which was a large share of a backfill's CPU time. Pages are only
# allocated when touched, so a buffer sized for a whole region costs only what is written.
_OWNED: dict[str, SharedMemory] = {}
# Buffers other processes created, mapped once by decode workers; only the newest few stay.
_ATTACHED: dict[str, SharedMemory] = {}
_ATTACHED_MAX = 2


def shared_buffers(count: int, size: int) -> list[str]:
    """Names of `count` shared buffers of at least `size` float32 values, reused across calls
    (replaced by larger ones when needed). Contents are whatever the previous user left."""
    owned = list(_OWNED.values())
    if len(owned) < count or any(shm.size < size * 4 for shm in owned[:count]):
        release_shared_buffers()
        for _ in range(count):
            shm = SharedMemory(create=True, size=max(1, size * 4))
            _OWNED[shm.name] = shm
        owned = list(_OWNED.values())
    return [shm.name for shm in owned[:count]]


def release_shared_buffers() -> None:
    for shm in _OWNED.values():
        # A failed user's traceback may still hold a view; the mapping goes with the process.
        with suppress(BufferError):
            shm.close()
        shm.unlink()
    _OWNED.clear()


atexit.register(release_shared_buffers)


def _mapping(name: str) -> SharedMemory:
    if (owned := _OWNED.get(name)) is not None:
        return owned
    shm = _ATTACHED.pop(name, None)
    if shm is None:
        shm = SharedMemory(name=name, track=False)
        while len(_ATTACHED) >= _ATTACHED_MAX:
            _ATTACHED.pop(next(iter(_ATTACHED))).close()
    _ATTACHED[name] = shm
    return shm


def shared_array(name: str, shape: tuple[int, ...]) -> NDArray[np.float32]:
    """A view of the first prod(shape) values of shared buffer `name` as an array of `shape`.
    Callers drop their views before the buffer is released."""
    return np.ndarray(shape, dtype=np.float32, buffer=_mapping(name).buf)


def write_into_shared(
    name: str, shape: tuple[int, ...], index: Indexer, values: NDArray[np.float32]
) -> None:
    """Set `index` of the array of `shape` held in shared buffer `name` (in a decode worker)."""
    array = shared_array(name, shape)
    array[index] = values
    del array
