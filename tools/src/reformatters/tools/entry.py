"""The ``reformat`` executable: when the command runs region jobs, start the worker processes
once the command line is built (forked with the libraries and plugins loaded), then run it."""

import os


def main() -> None:
    # Before numpy loads (here and in the worker processes, which inherit it): OpenBLAS
    # starts a thread per core that spins for a while after loading, 0.1 s of CPU per process
    # on this 2-core machine, and nothing here multiplies matrices. One worker process per core
    # does the parallel work. A caller's own setting wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from reformatters.core.parallel import start_workers
    from reformatters.tools.cli import main as cli_main

    def ready(runs_region_jobs: bool) -> None:
        # The command line is built: every library and plugin module is loaded. Now, while this
        # process has one thread, the workers are forked with all of it (see decode_pool).
        if runs_region_jobs:
            start_workers()

    cli_main(on_ready=ready)
