"""Completion records of distributed backfill workers: round trip, merge, completeness."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from reformatters.core.backfill_runs import (
    RUNS_PREFIX,
    WorkerRecord,
    apply_records,
    complete_run_records,
    record_from_results,
    validate_run_id,
    write_record,
)
from reformatters.core.errors import InvalidArgumentError
from reformatters.core.storage import StoreLocation

HOUR = np.timedelta64(1, "h")
NAT = np.timedelta64("NaT", "ns")


def _ds(values: list[np.timedelta64]) -> xr.Dataset:
    inits = pd.date_range("2024-01-01", periods=len(values), freq="6h")
    ds = xr.Dataset(coords={"init_time": inits})
    ds = ds.assign_coords(
        ingested=("init_time", np.array(values, dtype="timedelta64[ns]"), {"long_name": "x"})
    )
    ds["ingested"].encoding = {"units": "seconds"}
    return ds


def test_record_round_trip_and_apply() -> None:
    finalized = _ds([3 * HOUR, NAT, 5 * HOUR, 7 * HOUR])
    record = record_from_results(
        finalized, ["ingested"], "init_time", [slice(0, 2)], worker_index=0, workers_total=2
    )
    assert record.values["ingested"][1] == {(0,): 3 * 3600 * 10**9, (1,): None}
    assert WorkerRecord.from_json(record.to_json()) == record

    other = record_from_results(
        finalized, ["ingested"], "init_time", [slice(3, 4)], worker_index=1, workers_total=2
    )
    template = _ds([NAT, 9 * HOUR, 9 * HOUR, NAT])
    out = apply_records(template, [record, other])
    # Recorded positions are replaced (also by NaT); others keep the template's values.
    np.testing.assert_array_equal(
        out["ingested"].values, np.array([3 * HOUR, NAT, 9 * HOUR, 7 * HOUR], "m8[ns]")
    )
    assert out["ingested"].attrs == {"long_name": "x"}
    assert out["ingested"].encoding == {"units": "seconds"}
    assert "ingested" in out.coords


def test_records_of_partitioned_jobs_cover_only_their_members() -> None:
    """An ensemble's ingested length is per (init, member); a worker whose jobs covered member
    1 of init 0 records that position only, and the merge leaves the others alone."""
    members = np.array([[1, 2, 3], [4, 5, 6]]) * HOUR
    finalized = xr.Dataset(
        coords={
            "init_time": pd.date_range("2024-01-01", periods=2, freq="D"),
            "ensemble_member": [0, 1, 2],
            "ingested": (("init_time", "ensemble_member"), members.astype("m8[ns]")),
        }
    )
    job = {"init_time": slice(0, 1), "ensemble_member": slice(1, 2)}
    record = record_from_results(finalized, ["ingested"], "init_time", [job], 0, 1)
    assert record.values["ingested"][1] == {(0, 1): 2 * 3600 * 10**9}
    assert WorkerRecord.from_json(record.to_json()) == record
    template = finalized.copy()
    template["ingested"] = (("init_time", "ensemble_member"), np.full((2, 3), NAT))
    out = apply_records(template.set_coords("ingested"), [record])
    expected = np.full((2, 3), NAT)
    expected[0, 1] = 2 * HOUR
    np.testing.assert_array_equal(out["ingested"].values, expected)


def test_two_workers_recording_one_position_merge_to_the_largest() -> None:
    a = record_from_results(_ds([2 * HOUR]), ["ingested"], "init_time", [slice(0, 1)], 0, 2)
    b = record_from_results(_ds([6 * HOUR]), ["ingested"], "init_time", [slice(0, 1)], 1, 2)
    none = record_from_results(_ds([NAT]), ["ingested"], "init_time", [slice(0, 1)], 1, 2)
    for records in ([a, b], [b, a], [none, b, a], [a, none]):
        expected = 6 * HOUR if b in records else 2 * HOUR
        assert apply_records(_ds([NAT]), records)["ingested"].values[0] == expected


def test_run_completes_when_every_index_recorded(tmp_path: Path) -> None:
    store = StoreLocation(str(tmp_path / "store.zarr"))
    finalized = _ds([HOUR, 2 * HOUR, 3 * HOUR])
    assert complete_run_records(store, "run-1") is None
    for index in (2, 0):
        write_record(
            store,
            "run-1",
            record_from_results(
                finalized, ["ingested"], "init_time", [slice(index, index + 1)], index, 3
            ),
        )
        assert complete_run_records(store, "run-1") is None
    # A re-run of an index rewrites its record; another run's records do not count.
    write_record(store, "run-2", WorkerRecord(1, 3, {}))
    last = record_from_results(finalized, ["ingested"], "init_time", [slice(1, 2)], 1, 3)
    write_record(store, "run-1", last)
    write_record(store, "run-1", last)
    records = complete_run_records(store, "run-1")
    assert records is not None
    assert [r.worker_index for r in records] == [0, 1, 2]
    out = apply_records(_ds([NAT, NAT, NAT]), records)
    np.testing.assert_array_equal(out["ingested"].values, finalized["ingested"].values)
    assert (tmp_path / "store.zarr" / RUNS_PREFIX / "run-1" / "worker-1.json").exists()


def test_mismatched_worker_totals_are_refused(tmp_path: Path) -> None:
    store = StoreLocation(str(tmp_path / "store.zarr"))
    write_record(store, "run", WorkerRecord(0, 2, {}))
    write_record(store, "run", WorkerRecord(1, 3, {}))
    with pytest.raises(InvalidArgumentError, match="different WORKERS_TOTAL"):
        complete_run_records(store, "run")


@pytest.mark.parametrize("run_id", ["", "../x", "a/b", "x" * 129, "-leading"])
def test_bad_run_ids(run_id: str) -> None:
    with pytest.raises(InvalidArgumentError, match="--run-id"):
        validate_run_id(run_id)


def test_zarr_ignores_the_records(tmp_path: Path) -> None:
    path = tmp_path / "store.zarr"
    _ds([HOUR, NAT]).to_zarr(path, zarr_format=3, consolidated=True)
    write_record(StoreLocation(str(path)), "run", WorkerRecord(0, 1, {}))
    import zarr

    group = zarr.open_group(path, mode="r", use_consolidated=False)
    with pytest.warns(UserWarning, match="not recognized as a component"):
        members = sorted(name for name, _ in group.members())
    assert members == ["ingested", "init_time"]
    assert set(xr.open_zarr(path, decode_timedelta=True).coords) == {"init_time", "ingested"}
