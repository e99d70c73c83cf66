"""Backfills of the provider-free example dataset: values, workers, readers, S3 output."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from reformatters.core import JobFilters
from reformatters.core.region_job import (
    Downloads,
    RegionJobResult,
    SourceFileCoord,
    SourceFileStatus,
)
from reformatters.core.rounding import round_float32_mantissa
from reformatters.core.storage import StoreLocation
from reformatters.core.testing.fixtures import MotoS3Server
from reformatters.example_plugin.dataset import (
    DATA_VARS,
    LATITUDES,
    LONGITUDES,
    ExampleDataVar,
    ExampleRegionJob,
    ExampleSourceFileCoord,
    make_dataset,
    source_value,
    write_example_source,
)
from reformatters.tools.testing import reformat_command, run_reformat

WITHHELD = pd.Timestamp("2000-01-01T05")
SOURCE_TIMES = pd.date_range("2000-01-01", "2000-01-06", freq="h", inclusive="left")


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    path = tmp_path / "mirror"
    write_example_source(path, SOURCE_TIMES, skip=[WITHHELD])
    return path


@pytest.fixture
def env(tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "REFORMATTERS_SOURCE_MIRROR": str(mirror),
        "REFORMATTERS_OUTPUT_URL": str(tmp_path / "output"),
        "REFORMATTERS_SCRATCH": str(tmp_path / "scratch"),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def open_store(url: str) -> xr.Dataset:
    return xr.open_zarr(StoreLocation(url).zarr_store(read_only=True), decode_timedelta=True)


def expected_values(var_name: str, times: pd.DatetimeIndex) -> np.ndarray:
    var = next(v for v in DATA_VARS if v.name == var_name)
    lat, lon = np.meshgrid(LATITUDES, LONGITUDES, indexing="ij")
    fields = []
    for t in times:
        raw = source_value(var.internal_attrs.source_key, np.datetime64(t), lat, lon)
        value = raw.astype(np.float32) * np.float32(var.internal_attrs.scale) + np.float32(
            var.internal_attrs.offset
        )
        value = value.astype(np.float32)
        if t == WITHHELD:
            value[:] = np.nan
        fields.append(value)
    stacked = np.stack(fields)
    if var.internal_attrs.keep_mantissa_bits != "no-rounding":
        round_float32_mantissa(stacked, var.internal_attrs.keep_mantissa_bits)
    return stacked


def test_backfill_local_writes_expected_values(env: dict[str, str]) -> None:
    dataset = make_dataset()
    report = dataset.backfill_local(datetime(2000, 1, 2, 12))
    assert report.jobs_run == 2
    ds = open_store(dataset.output_stores().primary.url)
    times = pd.date_range("2000-01-01", "2000-01-02T12", freq="h", inclusive="left")
    np.testing.assert_array_equal(ds["time"].values, times.values)
    np.testing.assert_array_equal(ds["latitude"].values, LATITUDES)
    for var in DATA_VARS:
        np.testing.assert_array_equal(ds[var.name].values, expected_values(var.name, times))
        assert ds[var.name].attrs["units"] == var.attrs.units
        assert ds[var.name].encoding["shards"] == var.encoding.shards
    assert ds.attrs["dataset_id"] == "example-tiny"
    assert ds["temperature_2m"].sel(time=WITHHELD).isnull().all()
    assert ds["temperature_2m"].drop_sel(time=WITHHELD).notnull().all()


def test_store_opens_without_reformatters(env: dict[str, str]) -> None:
    dataset = make_dataset()
    dataset.backfill_local(datetime(2000, 1, 1, 12))
    store = dataset.output_stores().primary.url
    code = (
        "import sys, xarray as xr; sys.modules['reformatters'] = None\n"
        f"ds = xr.open_zarr({store!r}); print(ds.sizes['time'], float(ds.temperature_2m.mean()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split()[0] == "12"


def test_variable_filter_writes_only_that_variable(env: dict[str, str]) -> None:
    dataset = make_dataset()
    dataset.backfill_local(
        datetime(2000, 1, 2), JobFilters(filter_variable_names=("wind_speed_10m",))
    )
    ds = open_store(dataset.output_stores().primary.url)
    assert ds["wind_speed_10m"].sel(time="2000-01-01T03").notnull().all()
    assert ds["temperature_2m"].isnull().all()


def _load_all(url: str) -> xr.Dataset:
    return open_store(url).load()


@pytest.mark.slow
def test_workers_write_the_same_store_as_one_process(env: dict[str, str], tmp_path: Path) -> None:
    end = "2000-01-04T06"
    single = str(tmp_path / "single")
    result = run_reformat(
        "example-tiny", "backfill-local", end, "--output-url", single, env=env, check=False
    )
    assert result.returncode == 1 and "error: 1 source file(s) missing" in result.stderr
    expected = _load_all(f"{single}/example-tiny/v0.1.0.zarr")
    for workers in (1, 2, 3):
        out = str(tmp_path / f"workers-{workers}")
        processes = [
            subprocess.Popen(
                reformat_command(
                    "example-tiny", "process-backfill-region-jobs", end, "--output-url", out
                ),
                env={
                    **os.environ,
                    **env,
                    "WORKER_INDEX": str(i),
                    "WORKERS_TOTAL": str(workers),
                    "REFORMATTERS_LOG_LEVEL": "WARNING",
                },
            )
            for i in range(workers)
        ]
        # Worker 0 has the first region, with the withheld file: it says so and exits 1.
        assert [p.wait(timeout=300) for p in processes] == [1] + [0] * (workers - 1)
        actual = _load_all(f"{out}/example-tiny/v0.1.0.zarr")
        xr.testing.assert_identical(actual, expected)


def test_reader_never_sees_inconsistent_data_while_backfill_extends(
    env: dict[str, str],
) -> None:
    dataset = make_dataset()
    # Published store ending mid-shard, so the extension rewrites a published shard too.
    dataset.backfill_local(datetime(2000, 1, 2, 12))
    url = dataset.output_stores().primary.url
    expected = {var.name: expected_values(var.name, SOURCE_TIMES) for var in DATA_VARS}
    stop = threading.Event()
    seen_lengths: list[int] = []
    errors: list[str] = []

    def read_loop() -> None:
        while not stop.is_set():
            try:
                ds = open_store(url).load()
            except Exception as e:  # noqa: BLE001 - the test records any reader failure
                errors.append(f"{type(e).__name__}: {e}")
                continue
            n = ds.sizes["time"]
            seen_lengths.append(n)
            np.testing.assert_array_equal(ds["time"].values, SOURCE_TIMES[:n].values)
            for name, values in expected.items():
                try:
                    np.testing.assert_array_equal(ds[name].values, values[:n])
                except AssertionError as e:
                    errors.append(f"{name} at length {n}: {e}")

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        process = subprocess.run(
            reformat_command("example-tiny", "backfill-local", "2000-01-06"),
            env={**os.environ, **env, "REFORMATTERS_LOG_LEVEL": "WARNING"},
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        # The withheld source file is missing: the run says so, and exits 1.
        assert process.returncode == 1, process.stderr
        assert "error: 1 source file(s) missing" in process.stderr
        time.sleep(0.2)
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert set(seen_lengths) <= {36, 120}
    assert seen_lengths[-1] == 120
    assert len(seen_lengths) > 3


def test_backfill_to_s3_output(
    env: dict[str, str], moto_s3_server: MotoS3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in moto_s3_server.env().items():
        monkeypatch.setenv(key, value)
    dataset = make_dataset()
    output = f"s3://{moto_s3_server.bucket}/datasets"
    dataset.backfill_local(datetime(2000, 1, 1, 12), output_url=output)
    ds = open_store(f"{output}/example-tiny/v0.1.0.zarr")
    times = pd.date_range("2000-01-01", "2000-01-01T12", freq="h", inclusive="left")
    np.testing.assert_array_equal(
        ds["temperature_2m"].values, expected_values("temperature_2m", times)
    )


def test_published_extent_never_shrinks(env: dict[str, str]) -> None:
    dataset = make_dataset()
    dataset.backfill_local(datetime(2000, 1, 3))
    dataset.backfill_local(datetime(2000, 1, 2))
    ds = open_store(dataset.output_stores().primary.url)
    assert ds.sizes["time"] == 48


def test_decoding_in_worker_processes_gives_the_same_values(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ExampleRegionJob, "decode_in_processes", True)
    monkeypatch.setenv("REFORMATTERS_DECODE_PROCESSES", "2")
    dataset = make_dataset()
    dataset.backfill_local(datetime(2000, 1, 1, 12))
    ds = open_store(dataset.output_stores().primary.url)
    times = pd.date_range("2000-01-01", "2000-01-01T12", freq="h", inclusive="left")
    for var in DATA_VARS:
        np.testing.assert_array_equal(ds[var.name].values, expected_values(var.name, times))


def _store_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _one_batch_per_variable(
    job: ExampleRegionJob, scratch: Path
) -> Iterator[tuple[tuple[ExampleDataVar, ...], Downloads[ExampleSourceFileCoord]]]:
    for i, var in enumerate(job.data_vars):
        folder = scratch / f"batch-{i}"
        folder.mkdir()
        yield (var,), job.download(folder)


@pytest.mark.parametrize("processes", [0, 2])
def test_variables_downloaded_in_batches_write_the_same_store(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    """`process` queues each batch of `download_batches` as it arrives (the first job's; later
    jobs are downloaded ahead, whole): one batch per variable, the withheld file missing in
    each, writes the same store, byte for byte, with the same report as one download."""
    dataset = make_dataset()
    end = datetime(2000, 1, 2, 12)
    one = dataset.backfill_local(end, output_url=str(tmp_path / "one"))
    monkeypatch.setattr(ExampleRegionJob, "download_batches", _one_batch_per_variable)
    if processes:
        monkeypatch.setattr(ExampleRegionJob, "decode_in_processes", True)
        monkeypatch.setenv("REFORMATTERS_DECODE_PROCESSES", str(processes))
    batched = dataset.backfill_local(end, output_url=str(tmp_path / "batched"))
    assert batched.jobs_run == 2
    assert batched.count(SourceFileStatus.MISSING) == one.count(SourceFileStatus.MISSING) > 0
    assert _file_statuses(batched.results) == _file_statuses(one.results)
    assert _store_files(tmp_path / "batched") == _store_files(tmp_path / "one")


def test_a_variable_left_out_of_every_batch_is_an_error(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def first_variable_only(
        job: ExampleRegionJob, scratch: Path
    ) -> Iterator[tuple[tuple[ExampleDataVar, ...], Downloads[ExampleSourceFileCoord]]]:
        yield job.data_vars[:1], job.download(scratch)

    monkeypatch.setattr(ExampleRegionJob, "download_batches", first_variable_only)
    with pytest.raises(AssertionError, match="a variable in no batch"):
        make_dataset().backfill_local(datetime(2000, 1, 1, 12))


def _file_statuses(
    results: list[RegionJobResult],
) -> list[dict[str, list[tuple[SourceFileCoord, SourceFileStatus]]]]:
    return [
        {name: [(r.coord, r.status) for r in files] for name, files in result.files.items()}
        for result in results
    ]
