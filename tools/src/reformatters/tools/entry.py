"""The ``reformat`` executable: when the command runs region jobs, start the worker processes
once the command line is built (forked with the libraries and plugins loaded), then run it."""

import atexit
import gc
import os
import sys


def main() -> None:
    # Registered first, so that it runs after every other exit handler (pool shutdown, temporary
    # files, log handlers); see _end_without_finalizing.
    status: list[int] = []
    atexit.register(_end_without_finalizing, status)
    # Before numpy loads (here and in the worker processes, which inherit it): OpenBLAS
    # starts a thread per core that spins for a while after loading, 0.1 s of CPU per process
    # on this 2-core machine, and nothing here multiplies matrices. One worker process per core
    # does the parallel work. A caller's own setting wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # The modules' objects live as long as the process: no collections while they load (0.1 s
    # of the 1.2 s), and frozen afterwards, so that the collector does not traverse them again
    # at every full collection (0.15 s per backfill).
    gc.disable()
    from reformatters.core.parallel import start_workers
    from reformatters.tools.cli import main as cli_main

    def ready(runs_region_jobs: bool) -> None:
        # The command line is built: every library and plugin module is loaded.
        gc.freeze()
        if runs_region_jobs:
            # Now, while this process has one thread: the workers are forked with every library
            # and plugin loaded (see decode_pool).
            start_workers()
        gc.enable()

    try:
        cli_main(on_ready=ready)
    except SystemExit as exiting:
        status.append(_exit_status(exiting.code))
        raise
    else:
        status.append(0)
    finally:
        # Exempt everything from the garbage collection at interpreter exit: with xarray, zarr,
        # pandas (and dask, then) loaded, that collection took 0.4 s of every run; the process ends.
        gc.freeze()


def _exit_status(code: object) -> int:
    # As Python maps SystemExit's code (a message was printed already).
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def _end_without_finalizing(status: list[int]) -> None:
    """End the process once the exit handlers ran, without tearing down the interpreter's
    modules (pandas, xarray, zarr: 0.1 s of every run with dask too). Only after a command ended
    normally or by SystemExit: any other exception keeps Python's own ending (e.g. SIGINT's)."""
    if not status:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status[0])
