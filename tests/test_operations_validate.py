"""`reformat <id> validate`: passes on a good store, fails clearly on stale data, NaN holes,
missing shards and replicas that differ from the primary."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from reformatters.core.operations.validation import ValidationReport, validate_dataset
from reformatters.core.plugins import get_registry
from reformatters.example_plugin.dataset import ExampleDataset, make_dataset, write_example_source
from reformatters.tools.cli import build_app
from reformatters.tools.testing import run_reformat

END = datetime(2000, 1, 2, 12)  # newest published time 2000-01-02T11
GOOD_NOW = datetime(2000, 1, 2, 13)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(build_app(get_registry()), list(args), catch_exceptions=False)


def backfill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, skip: tuple[str, ...] = ()
) -> ExampleDataset:
    mirror = tmp_path / "mirror"
    times = pd.date_range("2000-01-01", END, freq="h", inclusive="left")
    write_example_source(mirror, times, skip=[pd.Timestamp(t) for t in skip])
    monkeypatch.setenv("REFORMATTERS_SOURCE_MIRROR", str(mirror))
    monkeypatch.setenv("REFORMATTERS_OUTPUT_URL", str(tmp_path / "primary"))
    monkeypatch.setenv("REFORMATTERS_REPLICA_URLS", str(tmp_path / "replica"))
    monkeypatch.setenv("REFORMATTERS_SCRATCH", str(tmp_path / "scratch"))
    dataset = make_dataset()
    dataset.backfill_local(END)
    return dataset


def failed(report: ValidationReport) -> dict[str, str]:
    return {c.name: c.detail for c in report.checks if not c.passed}


def test_good_store_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = backfill(tmp_path, monkeypatch)
    report = validate_dataset(dataset, GOOD_NOW)
    assert report.passed, failed(report)
    names = [c.name for c in report.checks]
    assert names[0] == "latest data within latency"
    assert "shards of temperature_2m" in names
    assert any(n.startswith("replica ") for n in names)
    result = invoke("example-tiny", "validate", "--now", GOOD_NOW.isoformat())
    assert result.exit_code == 0
    assert "all 9 checks passed" in result.stdout


def test_stale_store_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = backfill(tmp_path, monkeypatch)
    report = validate_dataset(dataset, datetime(2000, 1, 5))
    assert failed(report) == {
        "latest data within latency": "newest time 2000-01-02T11:00 is 2d13h0m old at "
        "2000-01-05T00:00 (limit 1d0m)"
    }
    # The console script, as the CronJob runs it: a failed check is a non-zero exit.
    result = run_reformat("example-tiny", "validate", "--now", "2000-01-05", check=False)
    assert result.returncode == 1, result.stderr
    assert "FAIL" in result.stdout
    assert "1 of 9 checks failed" in result.stdout


def test_nan_hole_in_newest_data_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = backfill(tmp_path, monkeypatch, skip=("2000-01-02T11",))
    problems = failed(validate_dataset(dataset, GOOD_NOW))
    assert set(problems) == {
        "NaN fraction of temperature_2m",
        "NaN fraction of wind_speed_10m",
        "NaN fraction of categorical_rain_surface",
    }
    assert problems["NaN fraction of temperature_2m"].startswith("100.0% NaN at time 2000-01-02T11")


def test_missing_shard_and_differing_replica_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = backfill(tmp_path, monkeypatch)
    (tmp_path / "primary/example-tiny/v0.1.0.zarr/wind_speed_10m/c/0/0/0").unlink()
    replica_shard = tmp_path / "replica/example-tiny/v0.1.0.zarr/temperature_2m/c/1/0/0"
    replica_shard.write_bytes(replica_shard.read_bytes() + b"x")
    problems = failed(validate_dataset(dataset, GOOD_NOW))
    assert problems["shards of wind_speed_10m"] == (
        "1 of 2 shards present; missing: wind_speed_10m/c/0/0/0"
    )
    (replica_name,) = [n for n in problems if n.startswith("replica ")]
    assert problems[replica_name] == (
        "extra: wind_speed_10m/c/0/0/0; size differs: temperature_2m/c/1/0/0"
    )


def test_a_negative_wind_speed_in_the_newest_data_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-negative variable (valid_min 0) below 0 in the newest data: a decoding or
    deaccumulation bug, or bad source data, which no NaN check sees."""
    import zarr

    dataset = backfill(tmp_path, monkeypatch)
    for store in ("primary", "replica"):
        array = zarr.open_array(
            tmp_path / store / "example-tiny/v0.1.0.zarr", path="wind_speed_10m"
        )
        array[-1, 2, 3] = -3.0
    assert failed(validate_dataset(dataset, GOOD_NOW)) == {
        "values of wind_speed_10m >= 0": "1 value(s) below 0 (lowest -3)"
    }
