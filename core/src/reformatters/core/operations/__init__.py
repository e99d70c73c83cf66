"""Operations: Kubernetes backfills, the operational update, validators and deployment.

Modules: ``config`` (what datasets declare), ``schedule`` (cron arithmetic), ``manifests``
(Kubernetes objects), ``kube_api`` (applying them), ``backfill`` (the Indexed Job driver),
``update`` (the operational update) and ``validation`` (validators). The commands that run them
are ``reformat``'s, in reformatters-tools.
"""

from reformatters.core.operations.config import (
    BackfillJobConfig,
    ContainerResources,
    OperationsSpec,
    PodSettings,
    ScheduledCommand,
    UpdateSchedule,
    ValidationSpec,
)

__all__ = [
    "BackfillJobConfig",
    "ContainerResources",
    "OperationsSpec",
    "PodSettings",
    "ScheduledCommand",
    "UpdateSchedule",
    "ValidationSpec",
]
