"""`reformat <id> update` on a published example-tiny store (local S3 server, loopback mirror)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import obstore
import pandas as pd
import pytest
import xarray as xr

from reformatters.core.operations.update import run_update
from reformatters.core.operations.validation import StoreNotFoundError
from reformatters.core.region_job import SourceFileStatus
from reformatters.core.rounding import round_float32_mantissa
from reformatters.core.sources.server import FaultConfig, serve_mirror
from reformatters.core.storage import StoreLocation
from reformatters.core.testing.fixtures import MotoS3Server
from reformatters.example_plugin.dataset import (
    DATA_VARS,
    LATITUDES,
    LONGITUDES,
    SOURCE_BUCKET,
    ExampleDataset,
    make_dataset,
    source_key_path,
    source_value,
    write_example_source,
)
from reformatters.tools.testing import reformat_command, run_reformat


def obstore_bytes(store: Any, key: str) -> bytes:
    return bytes(obstore.get(store, key).bytes())


START = pd.Timestamp("2000-01-01")
BACKFILL_END = datetime(2000, 1, 2, 12)  # 36 hourly positions, the second shard half full


def hours(first: str, last: str) -> pd.DatetimeIndex:
    return pd.date_range(first, last, freq="h")


def expected(var_name: str, times: pd.DatetimeIndex) -> np.ndarray:
    var = next(v for v in DATA_VARS if v.name == var_name)
    lat, lon = np.meshgrid(LATITUDES, LONGITUDES, indexing="ij")
    attrs = var.internal_attrs
    fields = [
        source_value(attrs.source_key, np.datetime64(t), lat, lon).astype(np.float32)
        * np.float32(attrs.scale)
        + np.float32(attrs.offset)
        for t in times
    ]
    stacked = np.stack(fields).astype(np.float32)
    if attrs.keep_mantissa_bits != "no-rounding":
        round_float32_mantissa(stacked, attrs.keep_mantissa_bits)
    return stacked


def open_store(url: str) -> xr.Dataset:
    return xr.open_zarr(StoreLocation(url).zarr_store(read_only=True), decode_timedelta=True)


def assert_store_matches_sources(url: str, last: str) -> None:
    ds = open_store(url).load()
    times = hours("2000-01-01", last)
    np.testing.assert_array_equal(ds["time"].values, times.values)
    for var in DATA_VARS:
        np.testing.assert_array_equal(ds[var.name].values, expected(var.name, times))


def source_file(mirror: Path, time: str) -> Path:
    return mirror / SOURCE_BUCKET / source_key_path(pd.Timestamp(time))


@contextmanager
def published_example(
    tmp_path: Path,
    moto_s3_server: MotoS3Server,
    monkeypatch: pytest.MonkeyPatch,
    skip: tuple[pd.Timestamp, ...] = (),
) -> Iterator[tuple[ExampleDataset, Path, str, dict[str, str]]]:
    """A backfilled store on S3 and the loopback mirror it reads (files added later appear;
    those of `skip` were missing when the store was backfilled)."""
    mirror = tmp_path / "mirror"
    write_example_source(mirror, hours("2000-01-01", "2000-01-02T11"), skip=skip)
    with serve_mirror(mirror, faults=FaultConfig(delay_seconds=0.01)) as server:
        env = {
            **moto_s3_server.env(),
            "REFORMATTERS_SOURCE_MIRROR": server.url,
            "REFORMATTERS_OUTPUT_URL": f"s3://{moto_s3_server.bucket}/{uuid.uuid4().hex}",
            "REFORMATTERS_SCRATCH": str(tmp_path / "scratch"),
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        dataset = make_dataset()
        dataset.backfill_local(BACKFILL_END)
        yield dataset, mirror, dataset.output_stores().primary.url, env


@pytest.fixture
def published(
    tmp_path: Path, moto_s3_server: MotoS3Server, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ExampleDataset, Path, str, dict[str, str]]]:
    with published_example(tmp_path, moto_s3_server, monkeypatch) as example:
        yield example


def test_update_appends_trims_fills_in_and_keeps_published_values(
    published: tuple[ExampleDataset, Path, str, dict[str, str]],
) -> None:
    dataset, mirror, url, _ = published
    assert_store_matches_sources(url, "2000-01-02T11")

    # New data on the mirror: exactly those positions are appended (run scheduled at 17:00).
    write_example_source(mirror, hours("2000-01-02T12", "2000-01-02T17"))
    report = run_update(dataset, datetime(2000, 1, 2, 17, 20))
    assert report.scheduled_time == datetime(2000, 1, 2, 17)
    assert report.added == list(hours("2000-01-02T12", "2000-01-02T17").to_pydatetime())
    assert report.ok and report.withheld == [] and not report.missing
    assert_store_matches_sources(url, "2000-01-02T17")

    # The newest files are not there yet: the published extent is trimmed to what succeeded.
    write_example_source(mirror, hours("2000-01-02T18", "2000-01-02T19"))
    report = run_update(dataset, datetime(2000, 1, 2, 21, 5))
    assert report.added == list(hours("2000-01-02T18", "2000-01-02T19").to_pydatetime())
    assert report.withheld == list(hours("2000-01-02T20", "2000-01-02T21").to_pydatetime())
    assert report.file_counts[SourceFileStatus.MISSING] == 2 * len(DATA_VARS)
    assert report.ok
    assert_store_matches_sources(url, "2000-01-02T19")

    # A later run fills them in.
    write_example_source(mirror, hours("2000-01-02T20", "2000-01-02T21"))
    report = run_update(dataset, datetime(2000, 1, 2, 21, 40))
    assert report.added == list(hours("2000-01-02T20", "2000-01-02T21").to_pydatetime())
    assert_store_matches_sources(url, "2000-01-02T21")

    # Transient trouble on already-published positions of the re-processed shard: one file gone,
    # one unreadable. By default published positions are not read again, so nothing is
    # noticed; read again (`--reread-published`), their published values stay; the new
    # position is appended either way; the rereading run reports the real failure, not ok.
    source_file(mirror, "2000-01-02T03").unlink()
    source_file(mirror, "2000-01-02T21").unlink()
    source_file(mirror, "2000-01-02T04").write_bytes(b"not an npz file")
    write_example_source(mirror, hours("2000-01-02T22", "2000-01-02T22"))
    report = run_update(dataset, datetime(2000, 1, 2, 22, 10), reuse_published=False)
    assert report.added == [datetime(2000, 1, 2, 22)]
    assert report.file_counts[SourceFileStatus.MISSING] == 2 * len(DATA_VARS)
    assert report.file_counts[SourceFileStatus.READ_FAILED] == len(DATA_VARS)
    assert not report.ok
    assert_store_matches_sources(url, "2000-01-02T22")
    # The console script, as the CronJob runs it: a real failure is a non-zero exit.
    cli = run_reformat(
        "example-tiny", "update", "--now", "2000-01-02T22:10", "--reread-published", check=False
    )
    assert cli.returncode == 1, cli.stderr
    assert "read_failed 3" in cli.stdout
    assert "error: 1 source file(s) failed; published values were kept" in cli.stderr
    assert "2000/01/02/04.npz" in cli.stderr
    assert report.kept_published_values == 3 * sum(  # 03, 04 and 21: every variable's field
        LATITUDES.size * LONGITUDES.size for _ in DATA_VARS
    )
    # Reusing the published positions, none is read again: nothing new, no file fetched.
    report = run_update(dataset, datetime(2000, 1, 2, 22, 10))
    assert report.ok and report.added == []
    assert report.file_counts == {SourceFileStatus.REUSED: 23 * len(DATA_VARS)}
    assert report.kept_published_values == 0
    assert_store_matches_sources(url, "2000-01-02T22")


def test_update_reads_only_new_positions_and_published_holes(
    tmp_path: Path, moto_s3_server: MotoS3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An update reads the positions after the published end (and the step before the first,
    for transforms that look back) and published positions without data (a file that was
    missing); the rest keep their published values, read back from the store."""
    hole = pd.Timestamp("2000-01-02T05")
    with published_example(tmp_path, moto_s3_server, monkeypatch, skip=(hole,)) as example:
        dataset, mirror, url, _ = example
        assert np.isnan(open_store(url)["temperature_2m"].sel(time=hole).values).all()
        first_shard = StoreLocation(url).object_store()
        before = {v.name: obstore_bytes(first_shard, f"{v.name}/c/0/0/0") for v in DATA_VARS}

        write_example_source(mirror, [hole, *hours("2000-01-02T12", "2000-01-02T14")])
        with serve_mirror(mirror) as server:
            monkeypatch.setenv("REFORMATTERS_SOURCE_MIRROR", server.url)
            report = run_update(dataset, datetime(2000, 1, 2, 14, 10))
            fetched = sorted(path.rsplit("/", 1)[-1] for path in server.stats.bytes_by_path)
    # 04 and 11: the steps before the hole and before the new positions.
    assert fetched == ["04.npz", "05.npz", "11.npz", "12.npz", "13.npz", "14.npz"]
    assert report.added == list(hours("2000-01-02T12", "2000-01-02T14").to_pydatetime())
    assert report.file_counts[SourceFileStatus.REUSED] == 9 * len(DATA_VARS)
    assert report.ok and report.kept_published_values == 0
    assert_store_matches_sources(url, "2000-01-02T14")
    # The first shard (2000-01-01) is not the newest: untouched.
    assert before == {v.name: obstore_bytes(first_shard, f"{v.name}/c/0/0/0") for v in DATA_VARS}


def test_update_never_shrinks_and_needs_a_published_store(
    published: tuple[ExampleDataset, Path, str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    moto_s3_server: MotoS3Server,
) -> None:
    dataset, mirror, url, _ = published
    # Every source file vanished: nothing succeeds, nothing is lost or shortened.
    for path in (mirror / SOURCE_BUCKET).rglob("*.npz"):
        path.unlink()
    report = run_update(dataset, datetime(2000, 1, 2, 15))
    assert report.added == []
    assert_store_matches_sources(url, "2000-01-02T11")
    # A schedule tick before the published end re-processes only the newest shard.
    assert run_update(dataset, datetime(2000, 1, 2, 1)).added == []
    assert_store_matches_sources(url, "2000-01-02T11")
    monkeypatch.setenv("REFORMATTERS_OUTPUT_URL", f"s3://{moto_s3_server.bucket}/empty")
    with pytest.raises(StoreNotFoundError, match="run a backfill"):
        run_update(dataset, datetime(2000, 1, 2, 15))


def test_reader_polling_during_update_sees_consistent_datasets(
    published: tuple[ExampleDataset, Path, str, dict[str, str]],
) -> None:
    _, mirror, url, env = published
    write_example_source(mirror, hours("2000-01-02T12", "2000-01-03T12"))
    all_times = hours("2000-01-01", "2000-01-03T12")
    values = {var.name: expected(var.name, all_times) for var in DATA_VARS}
    stop = threading.Event()
    seen: list[int] = []
    read_started: list[float] = []
    errors: list[str] = []

    def poll() -> None:
        while not stop.is_set():
            started = time.monotonic()
            ds = open_store(url).load()
            n = ds.sizes["time"]
            seen.append(n)
            read_started.append(started)
            if not np.array_equal(ds["time"].values, all_times[:n].values):
                errors.append(f"time coordinate wrong at length {n}")
            for name, full in values.items():
                if not np.array_equal(ds[name].values, full[:n], equal_nan=True):
                    errors.append(f"{name} differs at length {n}")

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        result = subprocess.run(
            reformat_command("example-tiny", "update", "--now", "2000-01-03T12:10"),
            env={**os.environ, **env, "REFORMATTERS_LOG_LEVEL": "WARNING", "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        # One more whole read, begun after the update ended.
        ended = time.monotonic()
        while not (read_started and read_started[-1] > ended) and reader.is_alive():
            time.sleep(0.05)
    finally:
        stop.set()
        reader.join()
    assert result.returncode == 0, result.stderr
    assert "added 25 time value(s): 2000-01-02T12:00 .. 2000-01-03T12:00" in result.stdout
    assert errors == []
    assert set(seen) == {36, 61}, sorted(set(seen))
    assert seen[-1] == 61 and len(seen) > 3
