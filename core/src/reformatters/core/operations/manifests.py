"""Kubernetes manifests (built with the client's V1 models) for backfills, updates and validation.

Every object carries the ``managed-by`` label, every pod runs as non-root with a memory-backed
/dev/shm and an ephemeral /scratch volume, and credentials only arrive through Secret references.
Every container sets REFORMATTERS_DECODE_PROCESSES from its CPU request.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal

import yaml
from kubernetes import client

from reformatters.core.operations_spec import (
    DEFAULT_IMAGE,
    BackfillJobConfig,
    ContainerResources,
    OperationsSpec,
    PodSettings,
    ScheduledCommand,
)
from reformatters.core.parallel import DECODE_PROCESSES_ENV

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "reformatters"
DATASET_LABEL = "reformatters.dynamical.org/dataset-id"
COMPONENT_LABEL = "app.kubernetes.io/component"
SCRATCH_PATH = "/scratch"
CONTAINER_NAME = "reformat"
_MAX_CRONJOB_NAME = 52
_MAX_NAME = 63
_CPU_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_BINARY_SUFFIXES = ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_CPU_SUFFIXES = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    **{suffix: Decimal(1000) ** power for power, suffix in enumerate("kMGTPE", 1)},
    **{suffix: Decimal(1024) ** power for power, suffix in enumerate(_BINARY_SUFFIXES, 1)},
}

type Component = Literal["backfill", "update", "validate", "archive"]
type ScheduledComponent = Literal["update", "validate", "archive"]
SCHEDULED_COMPONENTS: tuple[ScheduledComponent, ...] = ("update", "validate", "archive")
type Manifest = dict[str, Any]


def labels(dataset_id: str, component: Component) -> dict[str, str]:
    return {
        MANAGED_BY_LABEL: MANAGED_BY,
        DATASET_LABEL: dataset_id,
        COMPONENT_LABEL: component,
        "app.kubernetes.io/name": "reformatters",
    }


def resource_name(*parts: str, max_length: int = _MAX_NAME) -> str:
    """A DNS-1123 name from `parts` (lowercase, '-' separated, at most `max_length`)."""
    name = re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")
    return name[:max_length].rstrip("-")


def cronjob_name(dataset_id: str, component: Component) -> str:
    return resource_name(dataset_id, component, max_length=_MAX_CRONJOB_NAME)


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


def _resources(resources: ContainerResources) -> client.V1ResourceRequirements:
    limits = {"memory": resources.memory, "ephemeral-storage": resources.ephemeral_storage}
    if resources.cpu_limit is not None:
        limits["cpu"] = resources.cpu_limit
    return client.V1ResourceRequirements(
        requests={
            "cpu": resources.cpu,
            "memory": resources.memory,
            "ephemeral-storage": resources.ephemeral_storage,
        },
        limits=limits,
    )


def whole_cpus(quantity: str) -> int:
    """The CPUs of a Kubernetes CPU quantity ("2", "500m", "1.5"), rounded up, at least 1."""
    match = _CPU_QUANTITY.match(quantity)
    if match is None:
        raise ValueError(f"{quantity!r} is not a Kubernetes CPU quantity (e.g. '2', '500m')")
    return max(1, math.ceil(Decimal(match[1]) * _CPU_SUFFIXES[match[2] or ""]))


def _container(
    image: str,
    args: Sequence[str],
    resources: ContainerResources,
    pod: PodSettings,
    env: Mapping[str, str],
) -> client.V1Container:
    # Decode workers from the CPU request, not the node's cores (the dataset's pod env may
    # set its own).
    plain_env = {
        "REFORMATTERS_SCRATCH": SCRATCH_PATH,
        "TMPDIR": SCRATCH_PATH,
        "HOME": SCRATCH_PATH,
        DECODE_PROCESSES_ENV: str(whole_cpus(resources.cpu)),
        **pod.env,
        **env,
    }
    return client.V1Container(
        name=CONTAINER_NAME,
        image=image,
        image_pull_policy=pod.image_pull_policy,
        command=["reformat"],
        args=list(args),
        env=[client.V1EnvVar(name=k, value=v) for k, v in sorted(plain_env.items())],
        env_from=[
            client.V1EnvFromSource(secret_ref=client.V1SecretEnvSource(name=name))
            for name in pod.secret_names
        ],
        resources=_resources(resources),
        volume_mounts=[
            client.V1VolumeMount(name="dshm", mount_path="/dev/shm"),
            client.V1VolumeMount(name="scratch", mount_path=SCRATCH_PATH),
        ],
        security_context=client.V1SecurityContext(
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            run_as_non_root=True,
            capabilities=client.V1Capabilities(drop=["ALL"]),
        ),
    )


def _pod_template(
    dataset_id: str,
    component: Component,
    image: str,
    args: Sequence[str],
    resources: ContainerResources,
    pod: PodSettings,
    env: Mapping[str, str],
) -> client.V1PodTemplateSpec:
    return client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels(dataset_id, component)),
        spec=client.V1PodSpec(
            restart_policy="Never",
            service_account_name=pod.service_account_name,
            node_selector=dict(pod.node_selector) or None,
            security_context=client.V1PodSecurityContext(
                run_as_non_root=True,
                run_as_user=pod.run_as_user,
                run_as_group=pod.run_as_user,
                fs_group=pod.run_as_user,
                seccomp_profile=client.V1SeccompProfile(type="RuntimeDefault"),
            ),
            containers=[_container(image, args, resources, pod, env)],
            volumes=[
                client.V1Volume(
                    name="dshm",
                    empty_dir=client.V1EmptyDirVolumeSource(
                        medium="Memory", size_limit=resources.shared_memory
                    ),
                ),
                client.V1Volume(
                    name="scratch",
                    empty_dir=client.V1EmptyDirVolumeSource(size_limit=resources.ephemeral_storage),
                ),
            ],
        ),
    )


def _ignore_disruptions() -> client.V1PodFailurePolicy:
    """Evictions, preemptions and spot reclaims do not count against the backoff limit."""
    return client.V1PodFailurePolicy(
        rules=[
            client.V1PodFailurePolicyRule(
                action="Ignore",
                on_pod_conditions=[
                    client.V1PodFailurePolicyOnPodConditionsPattern(
                        type="DisruptionTarget", status="True"
                    )
                ],
            )
        ]
    )


@dataclass(frozen=True)
class BackfillJobRequest:
    dataset_id: str
    job_name: str
    image: str
    worker_args: tuple[str, ...]
    workers: int
    parallelism: int
    env: Mapping[str, str]


def backfill_job(request: BackfillJobRequest, config: OperationsSpec) -> client.V1Job:
    """An Indexed Job: pod `i` runs worker `i` of `workers` (JOB_COMPLETION_INDEX)."""
    backfill: BackfillJobConfig = config.backfill
    env = {**request.env, "WORKERS_TOTAL": str(request.workers)}
    return client.V1Job(
        api_version="batch/v1",
        kind="Job",
        metadata=client.V1ObjectMeta(
            name=request.job_name, labels=labels(request.dataset_id, "backfill")
        ),
        spec=client.V1JobSpec(
            completion_mode="Indexed",
            completions=request.workers,
            parallelism=request.parallelism,
            backoff_limit_per_index=backfill.backoff_limit_per_index,
            pod_failure_policy=_ignore_disruptions(),
            ttl_seconds_after_finished=_seconds(backfill.ttl_after_finished),
            active_deadline_seconds=_seconds(backfill.active_deadline),
            template=_pod_template(
                request.dataset_id,
                "backfill",
                request.image,
                request.worker_args,
                backfill.resources,
                config.pod,
                env,
            ),
        ),
    )


def _scheduled(
    dataset_id: str, component: ScheduledComponent, config: OperationsSpec
) -> tuple[ScheduledCommand, tuple[str, ...]]:
    """The schedule and the container's arguments of one of the dataset's CronJobs."""
    match component:
        case "update":
            return config.update, (dataset_id, "update")
        case "validate":
            return config.validation, (dataset_id, "validate")
        case "archive":
            archive = config.archive
            assert archive is not None, f"{dataset_id} declares no archive schedule"
            url = ("--archive-url", archive.archive_url) if archive.archive_url else ()
            hours = archive.lookback / timedelta(hours=1)
            return archive, (dataset_id, "archive-sources", *url, "--lookback-hours", f"{hours:g}")


def operational_cronjob(
    dataset_id: str, component: ScheduledComponent, config: OperationsSpec, image: str
) -> client.V1CronJob:
    cron, args = _scheduled(dataset_id, component, config)
    return client.V1CronJob(
        api_version="batch/v1",
        kind="CronJob",
        metadata=client.V1ObjectMeta(
            name=cronjob_name(dataset_id, component), labels=labels(dataset_id, component)
        ),
        spec=client.V1CronJobSpec(
            schedule=cron.cron,
            time_zone="Etc/UTC",
            concurrency_policy="Forbid",
            starting_deadline_seconds=_seconds(cron.starting_deadline),
            successful_jobs_history_limit=3,
            failed_jobs_history_limit=3,
            suspend=cron.suspend,
            job_template=client.V1JobTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels(dataset_id, component)),
                spec=client.V1JobSpec(
                    backoff_limit=cron.backoff_limit,
                    active_deadline_seconds=_seconds(cron.active_deadline),
                    ttl_seconds_after_finished=_seconds(cron.ttl_after_finished),
                    pod_failure_policy=_ignore_disruptions(),
                    template=_pod_template(
                        dataset_id,
                        component,
                        image,
                        args,
                        cron.resources,
                        config.pod,
                        {},
                    ),
                ),
            ),
        ),
    )


def dataset_cronjobs(dataset_id: str, config: OperationsSpec, image: str) -> list[Manifest]:
    return [
        to_manifest(operational_cronjob(dataset_id, component, config, image))
        for component in SCHEDULED_COMPONENTS
        if component != "archive" or config.archive is not None
    ]


def resolve_image(image: str | None, config: OperationsSpec) -> str:
    return image or os.environ.get("REFORMATTERS_IMAGE") or config.image or DEFAULT_IMAGE


def to_manifest(obj: Any) -> Manifest:
    manifest: Manifest = client.ApiClient().sanitize_for_serialization(obj)  # type: ignore[no-untyped-call]
    return manifest


def to_yaml(manifests: Sequence[Manifest]) -> str:
    return yaml.safe_dump_all(list(manifests), sort_keys=False, default_flow_style=False)
