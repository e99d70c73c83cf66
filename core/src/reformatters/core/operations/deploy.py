"""What ``reformat deploy`` applies: every selected dataset's update and validate CronJobs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.core.operations.manifests import Manifest, dataset_cronjobs, resolve_image


def deploy_manifests(
    datasets: Mapping[str, DynamicalDataset[Any, Any]],
    dataset_ids: Sequence[str],
    image: str | None,
) -> list[Manifest]:
    manifests: list[Manifest] = []
    for dataset_id in dataset_ids:
        config = datasets[dataset_id].operations_config()
        manifests += dataset_cronjobs(dataset_id, config, resolve_image(image, config))
    return manifests
