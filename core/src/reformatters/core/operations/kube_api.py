"""Talking to the Kubernetes API through the official client (no kubectl).

Connection, in order: ``$REFORMATTERS_KUBERNETES_API`` (an unauthenticated base URL, e.g.
``kubectl proxy``'s http://127.0.0.1:8001 or a test double), the in-cluster service account,
then the local kubeconfig.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from reformatters.core.errors import UserError
from reformatters.core.operations.manifests import (
    DATASET_LABEL,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    Manifest,
)

KUBERNETES_API_ENV = "REFORMATTERS_KUBERNETES_API"
NAMESPACE_ENV = "REFORMATTERS_NAMESPACE"
DEFAULT_NAMESPACE = "reformatters"
FIELD_MANAGER = "reformatters"


class KubernetesError(UserError):
    pass


def default_namespace() -> str:
    return os.environ.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE


def batch_api() -> client.BatchV1Api:
    url = os.environ.get(KUBERNETES_API_ENV)
    if url:
        configuration = client.Configuration(host=url.rstrip("/"))
        return client.BatchV1Api(client.ApiClient(configuration))
    try:
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config()  # type: ignore[no-untyped-call]
        else:
            config.load_kube_config()  # type: ignore[no-untyped-call]
    except ConfigException as e:
        raise KubernetesError(
            f"no Kubernetes configuration ({e}); set KUBECONFIG or {KUBERNETES_API_ENV}"
        ) from e
    return client.BatchV1Api()


@contextmanager
def _calling(action: str) -> Iterator[None]:
    """Turn API refusals and unreachable servers into one-line user errors."""
    try:
        yield
    except ApiException as e:
        raise KubernetesError(
            f"Kubernetes API: {action} failed: {e.status} {e.reason} {e.body or ''}".strip()
        ) from e
    except urllib3.exceptions.HTTPError as e:
        reason = getattr(e, "reason", None) or e
        raise KubernetesError(f"Kubernetes API: {action} failed: {reason}") from e


def _name(metadata: client.V1ObjectMeta | None) -> str:
    assert metadata is not None and metadata.name, "Kubernetes objects have names"
    return str(metadata.name)


def create_job(api: client.BatchV1Api, namespace: str, job: client.V1Job) -> str:
    """Create `job`; returns its name."""
    with _calling(f"creating job {_name(job.metadata)} in {namespace}"):
        created = api.create_namespaced_job(namespace, job, field_manager=FIELD_MANAGER)
    return _name(created.metadata)


def apply(api: client.BatchV1Api, namespace: str, manifest: Manifest) -> None:
    """Server-side apply of one CronJob manifest (creates it or updates it in place)."""
    name = manifest["metadata"]["name"]
    with _calling(f"applying cronjob {name} in {namespace}"):
        api.patch_namespaced_cron_job(
            name,
            namespace,
            manifest,
            field_manager=FIELD_MANAGER,
            force=True,
            _content_type="application/apply-patch+yaml",
        )


@dataclass(frozen=True)
class ManagedCronJob:
    name: str
    dataset_id: str | None
    labels: dict[str, str] = field(default_factory=dict)


def list_managed_cronjobs(api: client.BatchV1Api, namespace: str) -> list[ManagedCronJob]:
    with _calling(f"listing cronjobs in {namespace}"):
        listing = api.list_namespaced_cron_job(
            namespace, label_selector=f"{MANAGED_BY_LABEL}={MANAGED_BY}"
        )
    found = []
    for item in listing.items:
        item_labels: dict[str, str] = dict((item.metadata and item.metadata.labels) or {})
        found.append(
            ManagedCronJob(_name(item.metadata), item_labels.get(DATASET_LABEL), item_labels)
        )
    return found


def delete_cronjob(api: client.BatchV1Api, namespace: str, name: str) -> None:
    with _calling(f"deleting cronjob {name} in {namespace}"):
        try:
            api.delete_namespaced_cron_job(name, namespace, propagation_policy="Background")
        except ApiException as e:
            if e.status != 404:  # already gone is fine
                raise


@dataclass
class DeployResult:
    applied: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def deploy_cronjobs(
    api: client.BatchV1Api,
    namespace: str,
    manifests: Sequence[Manifest],
    selected_dataset_ids: Sequence[str],
    installed_dataset_ids: Sequence[str],
) -> DeployResult:
    """Apply `manifests`; delete managed CronJobs that belong to no installed dataset, or to a
    selected dataset but are no longer declared."""
    result = DeployResult()
    desired = {m["metadata"]["name"] for m in manifests}
    for manifest in manifests:
        apply(api, namespace, manifest)
        result.applied.append(manifest["metadata"]["name"])
    for existing in list_managed_cronjobs(api, namespace):
        if existing.name in desired:
            continue
        orphaned = existing.dataset_id not in installed_dataset_ids
        stale = existing.dataset_id in selected_dataset_ids
        if orphaned or stale:
            delete_cronjob(api, namespace, existing.name)
            result.deleted.append(existing.name)
    return result
