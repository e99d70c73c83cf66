"""The ``reformat`` executable: start the worker server first when the command runs region jobs,
so that its imports overlap ours, then run the command line."""

import gc
import sys


def main() -> None:
    from reformatters.core.parallel import REGION_JOB_COMMANDS, start_worker_server

    if REGION_JOB_COMMANDS.intersection(sys.argv[1:3]):
        start_worker_server()
    from reformatters.tools.cli import main as cli_main

    try:
        cli_main()
    finally:
        # Exempt everything from the garbage collection at interpreter exit: with xarray, zarr,
        # pandas and dask loaded, that collection takes 0.4 s of every run; the process ends.
        gc.freeze()
