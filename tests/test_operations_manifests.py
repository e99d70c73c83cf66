"""Every manifest `backfill-kubernetes --dry-run` and `deploy --dry-run` print, for every installed
dataset, validates strictly against the Kubernetes 1.33 schema and has the fields we rely on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import kubernetes_validate
import pytest
import yaml
from helpers import expected_cronjob_names
from typer.testing import CliRunner

from reformatters.core.dynamical_dataset import DynamicalDataset, JobFilters
from reformatters.core.errors import InvalidArgumentError
from reformatters.core.operations.manifests import (
    MANAGED_BY_LABEL,
    BackfillJobRequest,
    backfill_job,
    operational_cronjob,
    to_manifest,
    whole_cpus,
)
from reformatters.core.operations_spec import (
    BackfillJobConfig,
    ContainerResources,
    OperationsSpec,
    PodSettings,
    UpdateSchedule,
    ValidationSpec,
)
from reformatters.core.parallel import DECODE_PROCESSES_ENV
from reformatters.core.plugins import get_registry
from reformatters.tools.cli import build_app
from reformatters.tools.testing import run_reformat

KUBERNETES_VERSION = "1.33"
SECRET_VALUE = "do-not-print-this-secret-value"
REGISTRY = get_registry()
DATASET_IDS = sorted(REGISTRY.datasets)
CREDENTIAL_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIA-do-not-print",
    "AWS_SECRET_ACCESS_KEY": SECRET_VALUE,
    "REFORMATTERS_OUTPUT_URL": "s3://example-bucket/datasets",
}


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    """Run `reformat` in this process (the same app as the console script; much faster)."""
    return CliRunner().invoke(build_app(REGISTRY), list(args), env=env, catch_exceptions=True)


def _backfill_end(dataset: DynamicalDataset[Any, Any]) -> str:
    config = dataset.template_config
    return (config.append_dim_start + 3 * config.append_dim_frequency).isoformat()


def _containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = pod_spec["containers"]
    return containers


def assert_pod_is_hardened(pod_spec: dict[str, Any], secret_names: tuple[str, ...]) -> None:
    assert pod_spec["restartPolicy"] == "Never"
    assert pod_spec["securityContext"]["runAsNonRoot"] is True
    assert pod_spec["securityContext"]["runAsUser"] != 0
    volumes = {v["name"]: v for v in pod_spec["volumes"]}
    assert volumes["dshm"]["emptyDir"]["medium"] == "Memory"
    assert volumes["dshm"]["emptyDir"]["sizeLimit"]
    assert volumes["scratch"]["emptyDir"]["sizeLimit"]
    (container,) = _containers(pod_spec)
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {"dshm": "/dev/shm", "scratch": "/scratch"}
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    for kind in ("requests", "limits"):
        assert container["resources"][kind]["memory"]
        assert container["resources"][kind]["ephemeral-storage"]
    assert container["resources"]["requests"]["cpu"]
    # Credentials only through Secret references, never as plain values.
    refs = [e["secretRef"]["name"] for e in container.get("envFrom", [])]
    assert refs == list(secret_names)
    for env in container.get("env", []):
        assert "valueFrom" in env or not any(
            hint in env["name"] for hint in ("SECRET", "PASSWORD", "TOKEN", "ACCESS_KEY")
        ), env


def assert_no_plain_credentials(text: str) -> None:
    for value in CREDENTIAL_ENV.values():
        if "s3://" not in value:
            assert value not in text


@pytest.mark.parametrize("dataset_id", DATASET_IDS)
def test_backfill_kubernetes_dry_run_manifest(dataset_id: str) -> None:
    dataset = REGISTRY.get(dataset_id)
    end = _backfill_end(dataset)
    result = invoke(
        dataset_id,
        "backfill-kubernetes",
        end,
        "--jobs-per-pod",
        "1",
        "--max-parallelism",
        "2",
        "--image",
        "registry.example/reformatters:test",
        "--dry-run",
        env=CREDENTIAL_ENV,
    )
    assert result.exit_code == 0, result.output
    assert_no_plain_credentials(result.stdout)
    (job,) = list(yaml.safe_load_all(result.stdout))
    kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)

    config = dataset.operations_config()
    template_ds = dataset.template_config.get_template(datetime.fromisoformat(end))
    n_jobs = len(dataset.get_jobs(template_ds, JobFilters()))
    spec = job["spec"]
    assert job["kind"] == "Job"
    assert job["metadata"]["labels"][MANAGED_BY_LABEL] == "reformatters"
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == n_jobs
    assert spec["parallelism"] == min(2, n_jobs)
    assert spec["backoffLimitPerIndex"] == config.backfill.backoff_limit_per_index
    assert "backoffLimit" not in spec
    assert spec["podFailurePolicy"]["rules"] == [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}
    ]
    assert spec["ttlSecondsAfterFinished"] > 0
    assert spec["activeDeadlineSeconds"] > 0
    pod_spec = spec["template"]["spec"]
    assert_pod_is_hardened(pod_spec, config.pod.secret_names)
    (container,) = _containers(pod_spec)
    assert container["image"] == "registry.example/reformatters:test"
    assert container["command"] == ["reformat"]
    assert container["args"][:3] == [dataset_id, "process-backfill-region-jobs", end]
    assert container["args"][-2:] == ["--output-url", "s3://example-bucket/datasets"]
    # The worker that completes the run publishes the final metadata under the Job's name.
    assert container["args"][container["args"].index("--run-id") + 1] == job["metadata"]["name"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["WORKERS_TOTAL"] == str(n_jobs)
    assert env[DECODE_PROCESSES_ENV] == config.pod.env.get(
        DECODE_PROCESSES_ENV, str(whole_cpus(config.backfill.resources.cpu))
    )
    assert int(env[DECODE_PROCESSES_ENV]) >= 1


def test_deploy_dry_run_manifests() -> None:
    result = run_reformat("deploy", "--dry-run", env=CREDENTIAL_ENV)
    assert_no_plain_credentials(result.stdout)
    manifests = list(yaml.safe_load_all(result.stdout))
    names = {m["metadata"]["name"] for m in manifests}
    assert names == expected_cronjob_names(REGISTRY)
    assert "dwd-icon-eu-forecast-5-day-archive" in names
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        labels = manifest["metadata"]["labels"]
        dataset_id, component = (
            labels["reformatters.dynamical.org/dataset-id"],
            labels["app.kubernetes.io/component"],
        )
        config = REGISTRY.get(dataset_id).operations_config()
        declared = {"update": config.update, "validate": config.validation}.get(
            component, config.archive
        )
        assert declared is not None
        spec = manifest["spec"]
        assert manifest["kind"] == "CronJob"
        assert labels[MANAGED_BY_LABEL] == "reformatters"
        assert spec["schedule"] == declared.cron
        assert spec["timeZone"] == "Etc/UTC"
        assert spec["concurrencyPolicy"] == "Forbid"
        assert spec["startingDeadlineSeconds"] > 0
        job_spec = spec["jobTemplate"]["spec"]
        assert job_spec["activeDeadlineSeconds"] == declared.active_deadline.total_seconds()
        pod_spec = job_spec["template"]["spec"]
        assert_pod_is_hardened(pod_spec, config.pod.secret_names)
        (container,) = _containers(pod_spec)
        if component == "archive":
            assert config.archive is not None
            hours = config.archive.lookback.total_seconds() / 3600
            assert container["args"] == [
                dataset_id,
                "archive-sources",
                "--lookback-hours",
                f"{hours:g}",
            ]
        else:
            assert container["args"] == [dataset_id, component]
        assert container["resources"]["requests"]["memory"] == declared.resources.memory
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env[DECODE_PROCESSES_ENV] == config.pod.env.get(
            DECODE_PROCESSES_ENV, str(whole_cpus(declared.resources.cpu))
        )


def test_deploy_selects_datasets_and_rejects_unknown_ids() -> None:
    result = invoke("deploy", "--dry-run", "--dataset-id", "example-tiny")
    assert result.exit_code == 0, result.output
    names = [m["metadata"]["name"] for m in yaml.safe_load_all(result.stdout)]
    assert names == ["example-tiny-update", "example-tiny-validate"]
    bad = run_reformat("deploy", "--dry-run", "--dataset-id", "nope", check=False)
    assert bad.returncode == 1
    assert "unknown dataset id 'nope'" in bad.stderr


def test_schemas_before_1_28_reject_backoff_limit_per_index() -> None:
    """The validation is strict for real: an older schema refuses the per-index backoff."""
    result = invoke(
        "example-tiny", "backfill-kubernetes", "2000-01-03", "--dry-run", env=CREDENTIAL_ENV
    )
    job = yaml.safe_load(result.stdout)
    kubernetes_validate.validate(job, "1.28", strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, "1.27", strict=True)


def test_backfill_kubernetes_rejects_bad_arguments() -> None:
    for args, fragment in (
        (("--jobs-per-pod", "0"), "--jobs-per-pod must be at least 1"),
        (("--max-parallelism", "0"), "--max-parallelism must be at least 1"),
    ):
        result = invoke("example-tiny", "backfill-kubernetes", "2000-01-03", *args, "--dry-run")
        assert isinstance(result.exception, InvalidArgumentError)
        assert fragment in str(result.exception)


def _operations(cpu: str, pod_env: dict[str, str] | None = None) -> OperationsSpec:
    resources = ContainerResources(cpu=cpu)
    return OperationsSpec(
        update=UpdateSchedule(cron="0 * * * *", resources=resources),
        validation=ValidationSpec(cron="30 * * * *", resources=resources),
        backfill=BackfillJobConfig(resources=resources),
        pod=PodSettings(env=pod_env or {}),
    )


def _decode_processes_of_every_container(config: OperationsSpec) -> dict[str, str | None]:
    """REFORMATTERS_DECODE_PROCESSES of the backfill, update and validate containers."""
    request = BackfillJobRequest(
        dataset_id="example-tiny",
        job_name="example-tiny-backfill-test",
        image="image:1",
        worker_args=("example-tiny", "process-backfill-region-jobs", "2000-01-03"),
        workers=3,
        parallelism=2,
        env={},
    )
    pod_specs = {
        "backfill": to_manifest(backfill_job(request, config))["spec"]["template"]["spec"],
        **{
            component: to_manifest(operational_cronjob("example-tiny", component, config, "i:1"))[
                "spec"
            ]["jobTemplate"]["spec"]["template"]["spec"]
            for component in ("update", "validate")
        },
    }
    values = {}
    for component, pod_spec in pod_specs.items():
        (container,) = _containers(pod_spec)
        env = {e["name"]: e.get("value") for e in container["env"]}
        values[component] = env.get(DECODE_PROCESSES_ENV)
    return values


@pytest.mark.parametrize(
    ("cpu", "processes"),
    [("2", "2"), ("500m", "1"), ("1500m", "2"), ("1.5", "2"), ("100m", "1"), ("16", "16")],
)
def test_decode_processes_come_from_the_cpu_request(cpu: str, processes: str) -> None:
    assert _decode_processes_of_every_container(_operations(cpu)) == {
        "backfill": processes,
        "update": processes,
        "validate": processes,
    }


def test_decode_processes_set_by_the_dataset_are_kept() -> None:
    config = _operations("4", pod_env={DECODE_PROCESSES_ENV: "1"})
    assert _decode_processes_of_every_container(config) == {
        "backfill": "1",
        "update": "1",
        "validate": "1",
    }


@pytest.mark.parametrize(
    ("quantity", "cpus"),
    [("1", 1), ("0", 1), ("2000m", 2), ("2001m", 3), ("0.25", 1), ("2.5", 3), ("1k", 1000)],
)
def test_whole_cpus(quantity: str, cpus: int) -> None:
    assert whole_cpus(quantity) == cpus


@pytest.mark.parametrize("quantity", ["", "two", "-1", "2 cpus", "1.5x"])
def test_whole_cpus_rejects_what_is_not_a_quantity(quantity: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes CPU quantity"):
        whole_cpus(quantity)
