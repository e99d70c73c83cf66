"""``backfill-kubernetes``: publish the expanded metadata, then start one Indexed Job.

Each pod runs ``reformat <dataset-id> process-backfill-region-jobs --run-id <job name>`` with its
index from JOB_COMPLETION_INDEX and the worker count from WORKERS_TOTAL; every pod computes the
same job list and takes its round-robin share, so a re-run index rewrites the same shards. The
pod that completes the run publishes the final metadata (see reformatters.core.backfill_runs).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import xarray as xr
from kubernetes import client

from reformatters.core.dynamical_dataset import DynamicalDataset, JobFilters
from reformatters.core.errors import InvalidArgumentError
from reformatters.core.lease import StoreLease
from reformatters.core.lease import break_lease as break_existing_lease
from reformatters.core.metadata import PublishGuard, publish_metadata
from reformatters.core.operations.manifests import (
    BackfillJobRequest,
    backfill_job,
    resolve_image,
    resource_name,
)
from reformatters.core.storage import DEFAULT_OUTPUT_BASE, OUTPUT_URL_ENV, REPLICA_URLS_ENV

# How long the lease taken for a Kubernetes backfill lasts before its first pod renews it.
FIRST_POD_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class KubernetesBackfillPlan:
    job: client.V1Job
    template_ds: xr.Dataset
    append_dim_end: datetime
    jobs_total: int
    workers: int
    parallelism: int
    output_base: str

    @property
    def job_name(self) -> str:
        assert self.job.metadata is not None
        return str(self.job.metadata.name)


def resolve_output_base(output_url: str | None, pod_env: dict[str, str]) -> str:
    """Where driver and pods write: --output-url, $REFORMATTERS_OUTPUT_URL, the pods' env."""
    return (
        output_url
        or os.environ.get(OUTPUT_URL_ENV)
        or pod_env.get(OUTPUT_URL_ENV)
        or DEFAULT_OUTPUT_BASE
    )


def worker_args(
    dataset_id: str, append_dim_end: datetime, filters: JobFilters, output_base: str, run_id: str
) -> tuple[str, ...]:
    args = [dataset_id, "process-backfill-region-jobs", append_dim_end.isoformat()]
    if filters.filter_start is not None:
        args += ["--filter-start", filters.filter_start.isoformat()]
    if filters.filter_end is not None:
        args += ["--filter-end", filters.filter_end.isoformat()]
    for name in filters.filter_variable_names:
        args += ["--filter-variable-names", name]
    for member in filters.filter_ensemble_members:
        args += ["--filter-ensemble-members", str(member)]
    args += ["--run-id", run_id, "--output-url", output_base]
    return tuple(args)


def plan_kubernetes_backfill(
    dataset: DynamicalDataset[Any, Any],
    append_dim_end: datetime,
    filters: JobFilters,
    jobs_per_pod: int,
    max_parallelism: int,
    image: str | None,
    output_url: str | None,
    now: datetime,
) -> KubernetesBackfillPlan:
    if jobs_per_pod < 1:
        raise InvalidArgumentError(f"--jobs-per-pod must be at least 1, not {jobs_per_pod}")
    if max_parallelism < 1:
        raise InvalidArgumentError(f"--max-parallelism must be at least 1, not {max_parallelism}")
    dataset.validate_job_arguments(append_dim_end, filters)
    config = dataset.operations_config()
    template_ds = dataset.template_config.get_template(append_dim_end)
    jobs = dataset.get_jobs(template_ds, filters)
    if not jobs:
        raise InvalidArgumentError(f"{dataset.dataset_id}: no region jobs match the filters")
    workers = math.ceil(len(jobs) / jobs_per_pod)
    parallelism = min(max_parallelism, workers)
    output_base = resolve_output_base(output_url, config.pod.env)
    env = {}
    if replicas := os.environ.get(REPLICA_URLS_ENV):
        env[REPLICA_URLS_ENV] = replicas
    job_name = resource_name(dataset.dataset_id, "backfill", f"{now:%Y%m%d-%H%M%S}")
    request = BackfillJobRequest(
        dataset_id=dataset.dataset_id,
        job_name=job_name,
        image=resolve_image(image, config),
        worker_args=worker_args(
            dataset.dataset_id, append_dim_end, filters, output_base, run_id=job_name
        ),
        workers=workers,
        parallelism=parallelism,
        env=env,
    )
    return KubernetesBackfillPlan(
        job=backfill_job(request, config),
        template_ds=template_ds,
        append_dim_end=append_dim_end,
        jobs_total=len(jobs),
        workers=workers,
        parallelism=parallelism,
        output_base=output_base,
    )


def prepare_store(
    dataset: DynamicalDataset[Any, Any], plan: KubernetesBackfillPlan, *, break_lease: bool = False
) -> None:
    """Take the store's lease for the run and write the expanded metadata to the final store
    before any pod starts.

    The lease carries the Job's name as its run id: the pods share it and renew it while they
    run, and the pod that completes the run releases it. It lasts an hour before the first pod
    renews it (pods may wait that long for a node). A new store is not read by anyone yet, so
    its full extent is published up front. A published store is never extended ahead of its
    data: the workers may only rewrite published regions.
    """
    if "://" not in plan.output_base or plan.output_base.startswith("file://"):
        raise InvalidArgumentError(
            f"Kubernetes pods cannot write to the local path {plan.output_base!r}; "
            f"use --output-url s3://bucket/prefix (or set {OUTPUT_URL_ENV})"
        )
    outputs = dataset.output_stores(plan.output_base)
    for location in outputs.write_order:
        location.check_writable()
    published_end = dataset.published_append_dim_end(outputs)
    if published_end is not None and plan.append_dim_end > published_end:
        raise InvalidArgumentError(
            f"{outputs.primary.url} is published up to {published_end.isoformat()}; a Kubernetes "
            f"backfill cannot extend a published store (readers would see unwritten data). Use "
            f"`update` or `backfill-local` to extend it, or an end at or before "
            f"{published_end.isoformat()} to rewrite published regions."
        )
    if break_lease:
        break_existing_lease(outputs.primary)
    lease = StoreLease(outputs.primary, plan.job_name, "backfill-kubernetes", shared=True)
    lease.acquire(ttl=FIRST_POD_GRACE)
    if published_end is None:
        publish_metadata(plan.template_ds, PublishGuard.read(outputs, dataset.append_dim, lease))
