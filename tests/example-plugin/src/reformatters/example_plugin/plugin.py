"""Entry point of the example plugin (group ``reformatters``)."""

from collections.abc import Sequence
from typing import Any

from reformatters.core import DynamicalDataset, hookimpl
from reformatters.example_plugin.dataset import make_dataset


@hookimpl
def reformatters_datasets() -> Sequence[DynamicalDataset[Any, Any]]:
    return [make_dataset()]
