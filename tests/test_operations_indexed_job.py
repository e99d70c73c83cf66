"""Indexed-Job semantics on one machine: `backfill-kubernetes` publishes the metadata and creates
the Job (through the Kubernetes API test double); its pods are then run here as W separate
`process-backfill-region-jobs` processes, one per completion index, against a loopback source
mirror and a local S3 server. The store equals a single-process backfill, also after one worker
is killed with SIGKILL mid-run and its index re-run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import obstore
import pandas as pd
import pytest
import xarray as xr
from kubernetes_api_double import ApiState, api_env

from reformatters.core.dynamical_dataset import DynamicalDataset, JobFilters
from reformatters.core.errors import InvalidArgumentError
from reformatters.core.operations.backfill import plan_kubernetes_backfill, prepare_store
from reformatters.core.plugins import get_registry
from reformatters.core.region_job import get_worker_jobs
from reformatters.core.sources.server import FaultConfig, serve_mirror
from reformatters.core.storage import StoreLocation
from reformatters.core.testing.fixtures import MotoS3Server
from reformatters.example_plugin.dataset import write_example_source
from reformatters.tools.testing import reformat_command, run_reformat

__all__ = ["api_env"]

ALL_DATASETS_ENV = "REFORMATTERS_OPERATIONS_ALL_DATASETS"
REGISTRY = get_registry()


def _example_mirror(folder: Path, start: datetime, end: datetime) -> None:
    times = pd.date_range(start, end + timedelta(days=1), freq="h", inclusive="left")
    # One file withheld: missing data must come out the same way in both runs.
    write_example_source(folder, times, skip=[times[30]])


def _synthesized_mirror(dataset_id: str) -> Callable[[Path, datetime, datetime], None]:
    def write(folder: Path, start: datetime, end: datetime) -> None:
        REGISTRY.get(dataset_id).synthesize_source_mirror(start, end, folder)

    return write


GEFS_MEMBERS = (0, 1, 30)


def _gefs_mirror(folder: Path, start: datetime, end: datetime) -> None:
    from reformatters.noaa.gefs.synthesis import synthesize_gefs_mirror

    inits = pd.date_range(start, end, freq="D", inclusive="left")
    data_vars = REGISTRY.get("noaa-gefs-forecast-35-day").template_config.data_vars
    synthesize_gefs_mirror(folder, list(inits), GEFS_MEMBERS, (3, 6), data_vars, workers=2)


def _cases() -> Iterator[Any]:
    # (dataset id, mirror writer, shards along the append dim, region jobs per pod, filters)
    yield pytest.param("example-tiny", _example_mirror, 5, 2, JobFilters(), id="example-tiny")
    # noaa-gfs-forecast on three variables (an instant field, a deaccumulated rate and a window
    # statistic with no value at lead 0) keeps the full-grid case within CI's budget.
    yield pytest.param(
        "noaa-gfs-forecast",
        _synthesized_mirror("noaa-gfs-forecast"),
        2,
        1,
        JobFilters(
            filter_variable_names=(
                "temperature_2m",
                "precipitation_surface",
                "maximum_temperature_2m",
            )
        ),
        id="noaa-gfs-forecast-3-variables",
    )
    # noaa-gefs-forecast-35-day: jobs are one init x one member x one group of variables (core's
    # partition along ensemble_member); three members, one variable of each group, two leads.
    yield pytest.param(
        "noaa-gefs-forecast-35-day",
        _gefs_mirror,
        1,
        3,
        JobFilters(
            filter_variable_names=(
                "precipitation_surface",
                "geopotential_height_500hpa",
                "wind_u_100m",
            ),
            filter_ensemble_members=GEFS_MEMBERS,
        ),
        id="noaa-gefs-forecast-35-day-3-members",
    )
    # Every installed dataset that can synthesize its sources, all variables, on request: they
    # are much larger (noaa-gfs-forecast: about 7 minutes on 2 cores).
    for dataset_id in sorted(REGISTRY.datasets):
        if dataset_id == "example-tiny":
            continue
        yield pytest.param(
            dataset_id,
            _synthesized_mirror(dataset_id),
            2,
            1,
            JobFilters(),
            id=dataset_id,
            marks=pytest.mark.skipif(
                os.environ.get(ALL_DATASETS_ENV) != "1", reason=f"set {ALL_DATASETS_ENV}=1"
            ),
        )


def _shards_per_region(dataset: DynamicalDataset[Any, Any]) -> int:
    var = dataset.template_config.data_vars[0]
    assert var.encoding.shards is not None
    return var.encoding.shards[dataset.template_config.dims.index(dataset.append_dim)]


def _only_missing_files(returncode: int, stderr: str) -> None:
    """The mirror lacks some files on purpose: a run exits 0, or 1 naming only missing ones."""
    if returncode == 0:
        return
    last = stderr.strip().splitlines()[-1]
    assert returncode == 1 and last.startswith("error: ") and "missing" in last, stderr
    assert "failed" not in last and "absent" not in last, stderr


def _objects(url: str) -> dict[str, bytes]:
    store = StoreLocation(url).object_store()
    paths = [m["path"] for batch in obstore.list(store) for m in batch]
    return {p: bytes(obstore.get(store, p).bytes()) for p in paths if not p.startswith(".")}


def _region_shard_prefixes(
    dataset: DynamicalDataset[Any, Any],
    end: datetime,
    filters: JobFilters,
    index: int,
    workers: int,
) -> list[str]:
    template_ds = dataset.template_config.get_template(end)
    jobs = get_worker_jobs(dataset.get_jobs(template_ds, filters), index, workers)
    size = _shards_per_region(dataset)
    prefixes = []
    for job in jobs:
        # Shard keys along the append dim and any partition dim that follows it (GEFS's members).
        parts = [str(job.region.start // size)]
        for dim in dataset.template_config.dims[1:]:
            if dim not in job.partition:
                break
            var = job.data_vars[0]
            assert var.encoding.shards is not None
            shard = var.encoding.shards[dataset.template_config.dims.index(dim)]
            parts.append(str(job.partition[dim].start // shard))
        prefixes += [f"{v.name}/c/{'/'.join(parts)}/" for v in job.data_vars]
    return prefixes


def _start_worker(args: list[str], env: dict[str, str], index: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        reformat_command(*args),
        env={**os.environ, **env, "JOB_COMPLETION_INDEX": str(index)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_mid_run(
    process: subprocess.Popen[str], store: StoreLocation, prefixes: list[str], rng: random.Random
) -> str:
    """SIGKILL `process` at a random point shortly after it wrote its first shard."""
    deadline = time.monotonic() + 240
    object_store = store.object_store()
    while process.poll() is None and time.monotonic() < deadline:
        written = [
            m["path"]
            for prefix in prefixes
            for batch in obstore.list(object_store, prefix=prefix)
            for m in batch
        ]
        if written:
            time.sleep(rng.uniform(0.0, 0.4))
            break
        time.sleep(0.05)
    if process.poll() is not None:
        return f"finished before the kill (exit {process.returncode})"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    return f"killed (exit {process.returncode})"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("dataset_id", "write_mirror", "n_regions", "jobs_per_pod", "filters"), list(_cases())
)
def test_indexed_job_workers_equal_single_process_even_after_sigkill(
    dataset_id: str,
    write_mirror: Callable[[Path, datetime, datetime], None],
    n_regions: int,
    jobs_per_pod: int,
    filters: JobFilters,
    tmp_path: Path,
    moto_s3_server: MotoS3Server,
    api_env: tuple[dict[str, str], ApiState],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in moto_s3_server.env().items():
        monkeypatch.setenv(key, value)
    dataset = REGISTRY.get(dataset_id)
    config = dataset.template_config
    start = config.append_dim_start
    # n_regions shards along the append dim, the last one partial where shards allow.
    shard = _shards_per_region(dataset)
    end = start + config.append_dim_frequency * (shard * (n_regions - 1) + min(2, shard))
    filter_args = [
        *(
            arg
            for name in filters.filter_variable_names
            for arg in ("--filter-variable-names", name)
        ),
        *(
            arg
            for member in filters.filter_ensemble_members
            for arg in ("--filter-ensemble-members", str(member))
        ),
    ]
    n_jobs = len(dataset.get_jobs(config.get_template(end), filters))
    write_mirror(tmp_path / "mirror", start, end)
    base = f"s3://{moto_s3_server.bucket}/{uuid.uuid4().hex}"
    single, indexed = f"{base}/single", f"{base}/indexed"
    api, state = api_env
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)

    with serve_mirror(tmp_path / "mirror", faults=FaultConfig(delay_seconds=0.02)) as mirror:
        env = {
            **moto_s3_server.env(),
            **api,
            "REFORMATTERS_SOURCE_MIRROR": mirror.url,
            "REFORMATTERS_SCRATCH": str(tmp_path / "scratch"),
        }
        single_run = run_reformat(
            dataset_id,
            "backfill-local",
            end.isoformat(),
            *filter_args,
            "--output-url",
            single,
            env=env,
            check=False,
        )
        _only_missing_files(single_run.returncode, single_run.stderr)

        driver = run_reformat(
            dataset_id,
            "backfill-kubernetes",
            end.isoformat(),
            *filter_args,
            "--jobs-per-pod",
            str(jobs_per_pod),
            "--max-parallelism",
            "2",
            "--output-url",
            indexed,
            env=env,
        )
        assert "created job weather/" in driver.stderr
        # The metadata is published before any pod runs: full extent, no data yet.
        store = StoreLocation(f"{indexed}/{dataset_id}/v{config.version}.zarr")
        published = xr.open_zarr(store.zarr_store(read_only=True), decode_timedelta=True)
        assert published.sizes[dataset.append_dim] == len(config.append_dim_coordinates(end))
        data_var_names = {v.name for v in config.data_vars}
        objects = _objects(store.url)
        assert [p for p in objects if p.split("/")[0] in data_var_names and "/c/" in p] == []

        (job,) = state.stored("jobs", "weather").values()
        spec = job["spec"]
        workers = spec["completions"]
        assert workers == -(-n_jobs // jobs_per_pod) >= 2
        assert spec["completionMode"] == "Indexed"
        (container,) = spec["template"]["spec"]["containers"]
        pod_env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
        assert pod_env["WORKERS_TOTAL"] == str(workers)
        worker_env = {**env, "WORKERS_TOTAL": pod_env["WORKERS_TOTAL"]}
        args = container["args"]

        victim = rng.randrange(workers)
        processes = {i: _start_worker(args, worker_env, i) for i in range(workers)}
        outcome = _kill_mid_run(
            processes[victim],
            store,
            _region_shard_prefixes(dataset, end, filters, victim, workers),
            rng,
        )
        for i, process in processes.items():
            if i != victim:
                _, stderr = process.communicate(timeout=600)
                _only_missing_files(process.returncode, stderr)
        # Kubernetes would start a new pod for the failed index; so do we.
        rerun = _start_worker(args, worker_env, victim)
        _, stderr = rerun.communicate(timeout=600)
        _only_missing_files(rerun.returncode, stderr)

    expected = _objects(f"{single}/{dataset_id}/v{config.version}.zarr")
    actual = _objects(store.url)
    assert sorted(actual) == sorted(expected), f"seed {seed}, victim {victim}: {outcome}"
    different = [p for p in expected if actual[p] != expected[p]]
    assert different == [], f"seed {seed}, victim {victim}: {outcome}"
    print(f"seed {seed}: worker {victim} of {workers} {outcome}")

    # Rewriting published regions is fine; extending the published store this way is refused.
    again = plan_kubernetes_backfill(dataset, end, JobFilters(), 1, 1, None, indexed, start)
    prepare_store(dataset, again)
    later = end + config.append_dim_frequency
    extend = plan_kubernetes_backfill(dataset, later, JobFilters(), 1, 1, None, indexed, start)
    with pytest.raises(InvalidArgumentError, match="cannot extend a published store"):
        prepare_store(dataset, extend)
