"""Where a region job's variables run: the worker pool, or inline for cheap readers."""

from __future__ import annotations

import threading
from concurrent.futures import Executor
from typing import Any

from reformatters.core.parallel import InlineExecutor, decode_pool, decode_processes, tune_malloc
from reformatters.core.region_job import RegionJob


def executor(job_class: type[RegionJob[Any, Any]]) -> Executor:
    """Where variables of `job_class` run: the worker pool, or inline for cheap readers."""
    tune_malloc()
    processes = decode_processes() if job_class.decode_in_processes else 0
    return decode_pool(processes) if processes > 0 else InlineExecutor()


def start_workers(job_class: type[RegionJob[Any, Any]]) -> None:
    """Start the worker processes without waiting for them, so callers can overlap that
    with other work (from a fork server, each start waits for its imports). `reformat`
    has created them already, right after its imports (`parallel.start_workers`)."""
    pool = executor(job_class)
    if isinstance(pool, InlineExecutor):
        return

    def spawn() -> None:
        for _ in range(decode_processes()):
            pool.submit(tune_malloc)  # any task spawns a worker; a no-op there

    threading.Thread(target=spawn, name="start-workers", daemon=True).start()
