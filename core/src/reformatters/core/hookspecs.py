"""The plugin surface of reformatters (pluggy project name "reformatters").

A dataset distribution registers a module under the entry-point group ``reformatters`` in its
``pyproject.toml``::

    [project.entry-points.reformatters]
    noaa-gfs = "reformatters.noaa.gfs.plugin"

and that module implements the hooks below with ``@hookimpl``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pluggy

from reformatters.core.dynamical_dataset import DynamicalDataset

PROJECT_NAME = "reformatters"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def reformatters_datasets() -> Sequence[DynamicalDataset[Any, Any]]:  # type: ignore[empty-body]
    """Return the datasets this plugin provides (each with a unique ``dataset_id``)."""


@hookspec
def reformatters_cli(app: Any) -> None:
    """Add top-level commands to the ``reformat`` typer app (e.g. a package's ``demo``)."""
