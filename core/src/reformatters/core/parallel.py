"""Worker processes for the CPU-bound part of region jobs (pygrib holds the GIL)."""

from __future__ import annotations

import atexit
import ctypes
import gc
import math
import multiprocessing
import multiprocessing.forkserver
import os
import select
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

DECODE_PROCESSES_ENV = "REFORMATTERS_DECODE_PROCESSES"

type Indexer = tuple[int | slice, ...]

# What a worker needs loaded; pyproj before anything that may load eccodes (see the README's
# library facts).
_LIBRARIES = [
    "pyproj",
    "numpy",
    "pandas",
    "xarray",
    "zarr",
    "pygrib",
    "reformatters.core.region_job",
]
# A fork server's: "__main__" as by default (tasks defined in the main script), the libraries,
# and the module that makes the fork server's exit quick.
_PRELOAD = ["__main__", *_LIBRARIES, "reformatters.core._fork_server_exit"]


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


# The `reformat` sub-commands that run region jobs (see start_workers).
REGION_JOB_COMMANDS = frozenset(
    {"backfill-local", "process-backfill-region-jobs", "update", "demo"}
)


def _worker_context() -> multiprocessing.context.ForkServerContext:
    # The fork server imports the heavy libraries once; workers fork from it with them loaded
    # instead of each importing them again (CPU that competes with decoding on small machines).
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def _single_threaded() -> bool:
    """Whether this process runs one thread, native threads included (Linux)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return int(fields[17]) == 1 and threading.active_count() == 1


def start_workers() -> None:
    """Create the worker pool now (see decode_pool): `reformat` calls this right after its
    imports, when its process still has a single thread, so that the workers are forked from
    it with every library loaded."""
    if decode_processes() > 0:
        decode_pool(decode_processes())


# zarr's synchronous codec pipeline: encodes a shard's chunks in the calling thread, where the
# default pipeline runs one coroutine and one thread-pool task per chunk. Same bytes; measured
# 12 % less CPU per shard alone, and no threads oversubscribing cores the worker processes fill.
_WORKER_ZARR_CONFIG = {
    "codec_pipeline.path": "zarr.core.codec_pipeline.FusedCodecPipeline",
    "codec_pipeline.max_workers": 1,
}


def init_worker(owner_pid: int | None = None) -> None:
    """Runs once in every worker process; `owner_pid` is the process that owns the pool."""
    import importlib

    import zarr

    # Forked from the pool's owner, a worker has what the owner imported, not pygrib yet.
    for module in _LIBRARIES:
        importlib.import_module(module)
    # What the worker inherited and imported lives as long as it: exempt from collection. The
    # full collections during a 24-lead backfill traversed it for 0.21 s per worker (0.01 s now).
    gc.freeze()
    tune_malloc()
    zarr.config.set(_WORKER_ZARR_CONFIG)
    if owner_pid is not None:
        exit_with(owner_pid)


def exit_with(pid: int) -> None:
    """End this process when process `pid` ends (Linux pidfd; elsewhere nothing happens).

    A worker's parent is the fork server, not the pool's owner. If the owner is killed
    (SIGKILL), nothing tells the workers: each holds the write end of its own task queue and
    the fork server's liveness pipe, so the workers wait for tasks forever and keep the fork
    server alive with them."""
    if not hasattr(os, "pidfd_open"):
        return
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)

    def wait() -> None:
        select.select([pidfd], [], [])  # readable once the process has ended
        os._exit(1)

    threading.Thread(target=wait, name=f"exit-with-{pid}", daemon=True).start()


@cache
def decode_pool(processes: int) -> ProcessPoolExecutor:
    """One pool per process, reused by every region job.

    A process with a single thread forks the workers itself, at once: they start with its
    libraries loaded, where a fork server would import them all again (a second of CPU on a
    core the caller's own imports then compete for: `reformat`'s imports took 1.04-1.12 s
    beside a fork server, 0.85-0.89 s alone). Forking a process that runs other threads (an
    object store's runtime, zarr's event loop, a test runner) could copy a lock another thread
    holds: workers then come from a fork server.
    """
    return worker_pool(processes, forking=_single_threaded())


def worker_pool(processes: int, *, forking: bool) -> ProcessPoolExecutor:
    """A new pool of `processes` workers, forked from this process or from the fork server."""
    context = multiprocessing.get_context("fork") if forking else _worker_context()
    pool = ProcessPoolExecutor(
        processes, mp_context=context, initializer=init_worker, initargs=(os.getpid(),)
    )
    atexit.register(pool.shutdown, wait=False, cancel_futures=True)
    if forking:
        # With fork, the first task forks every worker, before the pool starts its own threads.
        pool.submit(tune_malloc)
    return pool


class InlineExecutor(Executor):
    """Runs tasks in the calling thread (no process pool for tiny datasets and tests)."""

    def submit[T](self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


_REUSABLE: list[NDArray[np.float32]] = []


def reusable_float32_array(shape: tuple[int, ...]) -> NDArray[np.float32]:
    """An uninitialised float32 array of `shape` backed by one buffer per process, reused by
    every call (so at most one caller at a time may hold it: a worker runs one task at a time).

    Reuse matters: the first touch of fresh pages costs a page fault and the kernel's zeroing per
    4 KiB; a region of one variable is 100 MB to 1 GB, allocated for every variable otherwise.
    """
    size = math.prod(shape)
    if not _REUSABLE or _REUSABLE[0].size < size:
        _REUSABLE[:] = []
        _REUSABLE.append(np.empty(max(1, size), dtype=np.float32))
    return _REUSABLE[0][:size].reshape(shape)
