"""`reformat deploy` against a local test double of the Kubernetes API (no cluster needed)."""

from __future__ import annotations

from typing import Any

import yaml
from helpers import expected_cronjob_names
from kubernetes_api_double import ApiState, api_env
from typer.testing import CliRunner

from reformatters.core.operations.kube_api import KubernetesError
from reformatters.core.operations.manifests import (
    DATASET_LABEL,
    MANAGED_BY_LABEL,
    operational_cronjob,
    to_manifest,
)
from reformatters.core.plugins import get_registry
from reformatters.tools.cli import build_app
from reformatters.tools.testing import run_reformat

NAMESPACE = "weather"
__all__ = ["api_env"]  # the fixture
REGISTRY = get_registry()
DATASET_IDS = sorted(REGISTRY.datasets)


def invoke(*args: str, env: dict[str, str]) -> Any:
    return CliRunner().invoke(build_app(REGISTRY), list(args), env=env, catch_exceptions=True)


def _strip_bookkeeping(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = {
        k: v
        for k, v in obj["metadata"].items()
        if k not in ("namespace", "resourceVersion", "uid", "creationTimestamp")
    }
    return {**obj, "metadata": metadata}


def _cronjob(name: str, labels: dict[str, str]) -> dict[str, Any]:
    config = REGISTRY.get("example-tiny").operations_config()
    manifest = to_manifest(operational_cronjob("example-tiny", "update", config, "image:1"))
    return {**manifest, "metadata": {"name": name, "labels": labels}}


def _managed(name: str, dataset_id: str) -> dict[str, Any]:
    return _cronjob(name, {MANAGED_BY_LABEL: "reformatters", DATASET_LABEL: dataset_id})


def test_deploy_applies_every_dataset_and_prunes_uninstalled(
    api_env: tuple[dict[str, str], ApiState],
) -> None:
    env, state = api_env
    result = run_reformat("deploy", env=env)
    expected = expected_cronjob_names(REGISTRY)
    assert set(state.stored("cronjobs", NAMESPACE)) == expected
    assert {m for m, r, _ in state.requests if r == "cronjobs"} <= {"PATCH", "GET"}
    assert "applied cronjob weather/example-tiny-update" in result.stderr

    dry_run = run_reformat("deploy", "--dry-run", env=env)
    for manifest in yaml.safe_load_all(dry_run.stdout):
        stored = state.stored("cronjobs", NAMESPACE)[manifest["metadata"]["name"]]
        assert _strip_bookkeeping(stored) == manifest

    # A dataset that is no longer installed, a CronJob an installed dataset no longer declares,
    # and an object reformatters does not manage.
    state.put("cronjobs", NAMESPACE, _managed("gone-dataset-update", "gone-dataset"))
    state.put("cronjobs", NAMESPACE, _managed("example-tiny-old", "example-tiny"))
    state.put("cronjobs", NAMESPACE, _cronjob("someone-elses", {}))
    versions_before = {
        name: obj["metadata"]["resourceVersion"]
        for name, obj in state.stored("cronjobs", NAMESPACE).items()
    }
    second = invoke("deploy", "--dataset-id", "example-tiny", env=env)
    assert second.exit_code == 0, second.output
    remaining = state.stored("cronjobs", NAMESPACE)
    assert "gone-dataset-update" not in remaining
    assert "example-tiny-old" not in remaining
    assert "someone-elses" in remaining
    assert set(remaining) == expected | {"someone-elses"}
    # Only the selected dataset was re-applied; other installed datasets were left alone.
    for name, obj in remaining.items():
        changed = obj["metadata"]["resourceVersion"] != versions_before[name]
        assert changed == name.startswith("example-tiny-"), name


def test_apply_errors_are_one_clear_line(api_env: tuple[dict[str, str], ApiState]) -> None:
    env, _ = api_env
    result = invoke("deploy", "--namespace", "", env={**env, "REFORMATTERS_NAMESPACE": ""})
    # An empty namespace falls back to the default one, which the double accepts.
    assert result.exit_code == 0, result.output
    broken = {**env, "REFORMATTERS_KUBERNETES_API": env["REFORMATTERS_KUBERNETES_API"] + "/nope"}
    failed = invoke("deploy", "--dataset-id", "example-tiny", env=broken)
    assert isinstance(failed.exception, KubernetesError)
    assert "404" in str(failed.exception)
