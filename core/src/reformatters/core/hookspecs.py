"""Hook specifications of reformatters-core (pluggy project name ``reformatters``).

A distribution that provides datasets names a module under the entry-point group
``reformatters`` in its ``pyproject.toml``::

    [project.entry-points.reformatters]
    example = "reformatters.example_plugin.plugin"

That module implements hooks with the ``hookimpl`` marker below (or with
``pluggy.HookimplMarker("reformatters")``)::

    from reformatters.core.hookspecs import hookimpl

    @hookimpl
    def reformatters_datasets() -> Sequence[DynamicalDataset[Any, Any]]:
        return [make_dataset()]

Every installed plugin is loaded, on its own, by ``reformatters.core.plugins.load_registry``:
a plugin whose import or hook fails is reported and left out, the others still load. The
command-line hook, ``reformatters_cli``, is specified by reformatters-tools (see
``reformatters.tools.hookspecs``) and registered on the same plugin manager.
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
    """Return the datasets this plugin provides.

    Called once per plugin, in the process that loads the plugins (``reformat`` and each of its
    Kubernetes pods, or any program calling ``load_registry``), right after the plugin's module is
    imported and before any command runs. Only this plugin's implementation is called, so that
    its datasets are attributed to it.

    :return: The datasets, each with a ``dataset_id`` that no other installed plugin provides (a
        repeated id is reported as a failure of the plugin loaded later, by entry-point name, and
        its dataset is left out). An exception raised here leaves the whole plugin out and is
        reported with the plugin's name and distribution.
    """
