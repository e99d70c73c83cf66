"""Discover installed dataset plugins through the ``reformatters`` entry-point group."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pluggy

from reformatters.core import hookspecs
from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.core.errors import UnknownDatasetError
from reformatters.core.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class PluginFailure:
    name: str
    distribution: str
    error: str


@dataclass(frozen=True)
class DatasetEntry:
    dataset: DynamicalDataset[Any, Any]
    plugin_name: str
    distribution: str
    distribution_version: str


@dataclass
class Registry:
    datasets: dict[str, DatasetEntry] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)
    # Every plugin that loaded, for hooks specified elsewhere (reformatters.tools.hookspecs).
    plugin_manager: pluggy.PluginManager | None = None

    def get(self, dataset_id: str) -> DynamicalDataset[Any, Any]:
        try:
            return self.datasets[dataset_id].dataset
        except KeyError:
            known = ", ".join(sorted(self.datasets)) or "none installed"
            raise UnknownDatasetError(
                f"unknown dataset id {dataset_id!r}; installed datasets: {known}"
            ) from None


def _plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return pm


def _provided_datasets(
    pm: pluggy.PluginManager, plugin: object
) -> list[DynamicalDataset[Any, Any]]:
    """The datasets of `plugin` alone: its ``reformatters_datasets``, the others' left out."""
    others = [p for p in pm.get_plugins() if p is not plugin]
    caller = pm.subset_hook_caller("reformatters_datasets", remove_plugins=others)
    results: list[Sequence[DynamicalDataset[Any, Any]]] = caller()
    return [dataset for result in results for dataset in result]


def load_registry() -> Registry:
    """Load every plugin on its own so that one broken plugin does not take the others down."""
    pm = _plugin_manager()
    registry = Registry(plugin_manager=pm)
    entry_points = sorted(
        importlib.metadata.entry_points(group=hookspecs.PROJECT_NAME), key=lambda ep: ep.name
    )
    for ep in entry_points:
        dist = ep.dist.name if ep.dist is not None else "?"
        dist_version = ep.dist.version if ep.dist is not None else "?"
        try:
            module = ep.load()
            pm.register(module, name=ep.name)
            provided = _provided_datasets(pm, module)
        # The plugin boundary: any error in a plugin's code is reported by name, not raised.
        except Exception as e:  # noqa: BLE001
            if pm.has_plugin(ep.name):
                pm.unregister(name=ep.name)
            registry.failures.append(PluginFailure(ep.name, dist, f"{type(e).__name__}: {e}"))
            log.debug("plugin failed to load", plugin=ep.name, distribution=dist, error=str(e))
            continue
        for dataset in provided:
            if dataset.dataset_id in registry.datasets:
                other = registry.datasets[dataset.dataset_id].distribution
                registry.failures.append(
                    PluginFailure(
                        ep.name,
                        dist,
                        f"dataset id {dataset.dataset_id!r} already provided by {other}",
                    )
                )
                continue
            registry.datasets[dataset.dataset_id] = DatasetEntry(
                dataset, ep.name, dist, dist_version
            )
    return registry


@cache
def get_registry() -> Registry:
    return load_registry()
