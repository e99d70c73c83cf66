"""Hook specifications of reformatters-tools: what a plugin adds to the ``reformat`` command line.

They are added to the plugin manager of reformatters-core (project name ``reformatters``,
see ``reformatters.core.hookspecs``), so a plugin implements them in the same module as its
``reformatters_datasets``, with the same marker::

    from reformatters.core.hookspecs import hookimpl

    @hookimpl
    def reformatters_cli(app: typer.Typer) -> Sequence[str]:
        from reformatters.example_plugin.tour import add_tour_command

        add_tour_command(app)
        return ["tour"]

Commands of one dataset (``reformat <dataset-id> ...``) are ``reformat``'s own, built from the
dataset's methods and its ``OperationsSpec``; plugins add top-level commands only.
"""

from __future__ import annotations

from collections.abc import Sequence

import pluggy
import typer

from reformatters.core.hookspecs import PROJECT_NAME

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@hookspec
def reformatters_cli(app: typer.Typer) -> Sequence[str] | None:
    """Add top-level commands to the ``reformat`` app (e.g. ``reformat tour``).

    Called once per plugin, in the ``reformat`` process, after every plugin is loaded and
    before the command line is parsed; not called when the command is one dataset's
    (``reformat <dataset-id> ...``), nor in programs that only load the registry.

    :param app: The ``reformat`` typer app; register commands with ``@app.command(name)`` or
        sub-apps with ``app.add_typer``. Names already taken (``list``, ``deploy``, ``mirror``,
        ``scaffold``, the dataset ids) must not be reused.
    :return: The names of the commands added here that run region jobs in the ``reformat``
        process: its decode worker processes are then started before the command runs, while
        the process has a single thread (otherwise they start on first use). None or an empty
        sequence if there are none.
    """
