"""Where the repository is, for the cross-package tests that read its files (workflows, lock,
pyproject tables). Running ``reformat`` in a test: ``reformatters.tools.testing``."""

from __future__ import annotations

from pathlib import Path

from reformatters.core.plugins import Registry

REPO_ROOT = Path(__file__).resolve().parent.parent


def expected_cronjob_names(registry: Registry) -> set[str]:
    """What ``reformat deploy`` applies: update and validate of every dataset, and archive of
    those that declare a source archiver."""
    return {
        f"{dataset_id}-{component}"
        for dataset_id, entry in registry.datasets.items()
        for component in ("update", "validate", "archive")
        if component != "archive" or entry.dataset.operations_config().archive is not None
    }
