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

from reformatters.core.errors import InsufficientMemoryError

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
    "reformatters.core.engine.worker",
]
# A fork server's: "__main__" as by default (tasks defined in the main script), the libraries.
_PRELOAD = ["__main__", *_LIBRARIES]


CGROUP_ROOT = Path("/sys/fs/cgroup")
# cgroup v1 reports "no memory limit" as the largest page-aligned counter (about 8 EiB).
_NO_MEMORY_LIMIT = 1 << 60


def decode_processes() -> int:
    """Worker processes for decoding: $REFORMATTERS_DECODE_PROCESSES or the CPUs we may use
    (see usable_cpus)."""
    configured = os.environ.get(DECODE_PROCESSES_ENV)
    if configured:
        return max(0, int(configured))
    return _default_decode_processes()


@cache
def _default_decode_processes() -> int:
    return usable_cpus(CGROUP_ROOT)


def usable_cpus(cgroup_root: Path = CGROUP_ROOT) -> int:
    """The CPUs this process may run on (its affinity), at most the cgroup's CPU quota."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quota = cgroup_cpu_quota(cgroup_root)
    return cpus if quota is None else min(cpus, quota)


def _read_cgroup_file(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:  # no such controller or cgroup version here (or not Linux): no limit
        return None


def _whole_cpus(quota: str, period: str) -> int | None:
    try:
        quota_us, period_us = int(quota), int(period)
    except ValueError:  # "max" (v2)
        return None
    if quota_us <= 0 or period_us <= 0:  # -1 (v1)
        return None
    return max(1, -(-quota_us // period_us))


def cgroup_cpu_quota(cgroup_root: Path = CGROUP_ROOT) -> int | None:
    """The cgroup's CPU quota in whole CPUs (rounded up, at least 1), None without a quota.

    cgroup v2's cpu.max holds "<quota> <period>" ("max 100000": none, "200000 100000": 2 CPUs);
    without it, cgroup v1's cpu/cpu.cfs_quota_us (-1: none) and cpu/cpu.cfs_period_us.
    """
    cpu_max = _read_cgroup_file(cgroup_root / "cpu.max")
    if cpu_max is not None:
        fields = cpu_max.split()
        return _whole_cpus(fields[0], fields[1]) if len(fields) == 2 else None
    quota = _read_cgroup_file(cgroup_root / "cpu" / "cpu.cfs_quota_us")
    period = _read_cgroup_file(cgroup_root / "cpu" / "cpu.cfs_period_us")
    if quota is None or period is None:
        return None
    return _whole_cpus(quota, period)


def cgroup_memory_limit(cgroup_root: Path = CGROUP_ROOT) -> int | None:
    """The cgroup's memory limit in bytes, None without one.

    cgroup v2's memory.max ("max": none); without it, cgroup v1's memory/memory.limit_in_bytes
    (a value near 2**63: none).
    """
    text = _read_cgroup_file(cgroup_root / "memory.max")
    if text is None:
        text = _read_cgroup_file(cgroup_root / "memory" / "memory.limit_in_bytes")
    if text is None:
        return None
    try:
        limit = int(text)
    except ValueError:  # "max" (v2)
        return None
    return limit if 0 < limit < _NO_MEMORY_LIMIT else None


def _size(n_bytes: int) -> str:
    if n_bytes >= 1 << 30:
        return f"{n_bytes / (1 << 30):.1f} GiB"
    return f"{n_bytes / (1 << 20):.1f} MiB"


def check_worker_memory(
    workers: int, bytes_per_worker: int, *, cgroup_root: Path = CGROUP_ROOT
) -> None:
    """Raise InsufficientMemoryError if `workers` decode workers, each needing `bytes_per_worker`,
    do not fit in the cgroup's memory limit (no limit, or no workers: nothing to check).

    A worker holds one variable's region as float32 at a time (reusable_float32_array) plus
    the decode buffers of the messages it is decoding, so a caller estimates
    bytes_per_worker = math.prod(one variable's region shape) * 4 + decode buffers (a few
    fields as decoded, e.g. math.prod(one field's shape) * 8 each when decoded as float64).
    """
    limit = cgroup_memory_limit(cgroup_root)
    need = workers * bytes_per_worker
    if limit is None or workers < 1 or need <= limit:
        return
    fitting = limit // bytes_per_worker
    if fitting >= 1:
        advice = (
            f"set {DECODE_PROCESSES_ENV}={fitting} or lower, "
            f"or raise the memory limit to at least {_size(need)}"
        )
    else:
        advice = (
            f"not even one worker fits: raise the memory limit to at least {_size(need)}, "
            f"or to {_size(bytes_per_worker)} with {DECODE_PROCESSES_ENV}=1"
        )
    raise InsufficientMemoryError(
        f"{workers} decode workers at {_size(bytes_per_worker)} each need {_size(need)}, "
        f"more than the container's memory limit of {_size(limit)}: {advice}"
    )


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
    """Create the worker pool now (see decode_pool): a command line that is about to run region
    jobs calls this once its modules are loaded, while its process still has a single thread,
    so that the workers are forked from it with every library loaded."""
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
