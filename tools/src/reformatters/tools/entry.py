"""The ``reformat`` executable: start the worker server first when the command runs region jobs,
so that its imports overlap ours, then run the command line."""

import gc
import sys


def main() -> None:
    # The modules' objects live as long as the process: no collections while they load (0.1 s
    # of the 1.2 s), and frozen afterwards, so that the collector does not traverse them again
    # at every full collection (0.15 s per backfill).
    gc.disable()
    from reformatters.core.parallel import REGION_JOB_COMMANDS, start_worker_server

    if REGION_JOB_COMMANDS.intersection(sys.argv[1:3]):
        start_worker_server()
    from reformatters.tools.cli import main as cli_main

    gc.freeze()
    gc.enable()
    try:
        cli_main()
    finally:
        # Exempt everything from the garbage collection at interpreter exit: with xarray, zarr,
        # pandas and dask loaded, that collection takes 0.4 s of every run; the process ends.
        gc.freeze()
