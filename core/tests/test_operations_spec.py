"""Operations declarations, cron arithmetic and manifest naming (no I/O)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pydantic
import pytest
import xarray as xr

from reformatters.core.metadata import carry_published_coords
from reformatters.core.operations.manifests import cronjob_name, resource_name
from reformatters.core.operations.update import published_extent_after
from reformatters.core.operations.validation import (
    check_forecast_complete,
    check_newest_nan_fraction,
    recent_data,
)
from reformatters.core.operations_spec import (
    ContainerResources,
    OperationsSpec,
    PodSettings,
    UpdateSchedule,
    ValidationContext,
    ValidationSpec,
)
from reformatters.core.region_job import (
    RegionJobResult,
    SourceFileCoord,
    SourceFileResult,
    SourceFileStatus,
)
from reformatters.core.schedule import append_dim_end_at, most_recent_tick
from reformatters.core.storage import OutputStores, StoreLocation


@pytest.mark.parametrize(
    ("cron", "now", "tick"),
    [
        ("0 * * * *", datetime(2024, 1, 1, 5, 0), datetime(2024, 1, 1, 5, 0)),
        ("0 * * * *", datetime(2024, 1, 1, 5, 59, 59), datetime(2024, 1, 1, 5, 0)),
        ("0 5,11,17,23 * * *", datetime(2024, 1, 1, 10, 59), datetime(2024, 1, 1, 5, 0)),
        ("0 5,11,17,23 * * *", datetime(2024, 1, 1, 4, 0), datetime(2023, 12, 31, 23, 0)),
        ("30 */6 * * *", datetime(2024, 3, 1, 0, 29), datetime(2024, 2, 29, 18, 30)),
    ],
)
def test_most_recent_tick_is_at_or_before_now(cron: str, now: datetime, tick: datetime) -> None:
    assert most_recent_tick(cron, now) == tick


def test_most_recent_tick_accepts_aware_times() -> None:
    now = pd.Timestamp("2024-01-01T07:10+02:00").to_pydatetime()
    assert most_recent_tick("0 * * * *", now) == datetime(2024, 1, 1, 5)


def test_append_dim_end_includes_positions_at_or_before_the_time() -> None:
    start, six_hours = datetime(2021, 5, 1), timedelta(hours=6)
    assert append_dim_end_at(start, six_hours, datetime(2024, 1, 1, 5)) == datetime(2024, 1, 1, 6)
    assert append_dim_end_at(start, six_hours, datetime(2024, 1, 1, 6)) == datetime(2024, 1, 1, 12)
    assert append_dim_end_at(start, six_hours, datetime(2020, 1, 1)) == start


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: UpdateSchedule(cron="0 * * *"), "five fields"),
        (lambda: UpdateSchedule(cron="61 * * * *"), "cron"),
        (lambda: ContainerResources(memory="4 GB"), "Kubernetes quantity"),
        (lambda: PodSettings(env={"AWS_SECRET_ACCESS_KEY": "x"}), "looks like a credential"),
        (lambda: PodSettings(env={"1BAD": "x"}), "not a valid environment variable"),
        (lambda: ValidationSpec(cron="0 * * * *", max_nan_fraction=2), "less than or equal"),
    ],
)
def test_bad_declarations_are_rejected(build: object, message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        build()  # type: ignore[operator]


def test_specs_are_frozen() -> None:
    spec = OperationsSpec()
    with pytest.raises(pydantic.ValidationError):
        spec.update = UpdateSchedule(cron="0 0 * * *")  # type: ignore[misc]
    changed = spec.model_copy(update={"image": "x:1"})
    assert changed.image == "x:1" and spec.image is None


def test_names_are_dns_labels() -> None:
    assert resource_name("NOAA_GFS", "backfill", "20240101-000000") == (
        "noaa-gfs-backfill-20240101-000000"
    )
    long_id = "a-very-long-dataset-identifier-that-keeps-going-and-going"
    assert len(cronjob_name(long_id, "validate")) <= 52
    assert not cronjob_name(long_id, "validate").endswith("-")


def _forecast_context(spec: ValidationSpec) -> ValidationContext:
    inits = pd.date_range("2024-01-01", periods=4, freq="6h")
    leads = pd.to_timedelta([0, 3, 6], unit="h")
    data = np.zeros((4, 3, 2), dtype=np.float32)
    ds = xr.Dataset(
        {"t": (("init_time", "lead_time", "x"), data)},
        coords={"init_time": inits, "lead_time": leads, "x": [0, 1]},
    )
    return ValidationContext(
        dataset_id="f",
        append_dim="init_time",
        append_dim_frequency=timedelta(hours=6),
        data_vars=(),
        spec=spec,
        outputs=OutputStores(primary=StoreLocation("unused")),
        ds=ds,
        now=datetime(2024, 1, 2),
    )


def test_recent_data_window_and_excluded_leads() -> None:
    newest_only = recent_data(_forecast_context(ValidationSpec(cron="0 * * * *")))
    assert newest_only.sizes == {"init_time": 1, "lead_time": 3, "x": 2}
    spec = ValidationSpec(
        cron="0 * * * *",
        recent_window=timedelta(hours=6),
        nan_check_exclude_leads=(timedelta(0),),
    )
    window = recent_data(_forecast_context(spec))
    assert list(window["init_time"].values) == list(
        pd.to_datetime(["2024-01-01T12", "2024-01-01T18"]).values
    )
    assert list(window["lead_time"].values) == list(pd.to_timedelta([3, 6], unit="h").values)


def _ensemble_context(spec: ValidationSpec, ingested_hours: list[float]) -> ValidationContext:
    inits = pd.date_range("2024-01-01", periods=2, freq="D")
    leads = pd.to_timedelta([0, 3, 6], unit="h")
    data = np.zeros((2, 3, 3), dtype=np.float32)
    data[:, 1, 2] = np.nan  # member 1: its last lead missing
    data[:, :, 0] = np.nan  # lead 0: a window statistic, no value by design
    ingested = np.tile(pd.to_timedelta(ingested_hours, unit="h").values, (2, 1))
    ds = xr.Dataset(
        {"t": (("init_time", "ensemble_member", "lead_time"), data)},
        coords={
            "init_time": inits,
            "ensemble_member": [0, 1, 2],
            "lead_time": leads,
            "expected_forecast_length": (("init_time",), np.full(2, leads[-1].to_timedelta64())),
            "ingested_forecast_length": (("init_time", "ensemble_member"), ingested),
        },
    )
    return ValidationContext(
        dataset_id="e",
        append_dim="init_time",
        append_dim_frequency=timedelta(days=1),
        data_vars=(),
        spec=spec,
        outputs=OutputStores(primary=StoreLocation("unused")),
        ds=ds,
        now=datetime(2024, 1, 3),
    )


def test_ensemble_checks_every_members_extent_and_a_sample_of_values() -> None:
    complete = check_forecast_complete(_ensemble_context(ValidationSpec(cron="0 * * * *"), [6] * 3))
    assert [r.passed for r in complete] == [True]
    (short,) = check_forecast_complete(
        _ensemble_context(ValidationSpec(cron="0 * * * *"), [6, 3, float("nan")])
    )
    assert not short.passed and "2 of 3" in short.detail and "ensemble_member 1, 2" in short.detail

    spec = ValidationSpec(
        cron="0 * * * *", nan_check_exclude_leads=(timedelta(0),), nan_check_variables=("t",)
    )
    (all_members,) = check_newest_nan_fraction(_ensemble_context(spec, [6] * 3))
    assert not all_members.passed
    sampled = spec.model_copy(update={"check_positions": {"ensemble_member": (0, 2)}})
    assert [r.passed for r in check_newest_nan_fraction(_ensemble_context(sampled, [6] * 3))] == [
        True
    ]
    # A variable the source carries only to lead 3 h: its later leads are not checked.
    limited = spec.model_copy(update={"nan_check_max_lead": {"t": timedelta(hours=3)}})
    assert [r.passed for r in check_newest_nan_fraction(_ensemble_context(limited, [6] * 3))] == [
        True
    ]


def test_update_carries_published_result_coordinates(tmp_path: Path) -> None:
    times = pd.date_range("2024-01-01", periods=5, freq="6h")
    nat = np.full(5, np.timedelta64("NaT", "ns"))
    template = xr.Dataset(
        {"t": (("init_time",), np.zeros(5, np.float32))},
        coords={"init_time": times, "ingested": (("init_time",), nat)},
    )
    published = template.isel(init_time=slice(0, 3)).copy()
    published["ingested"] = (("init_time",), pd.to_timedelta([6, 12, 3], unit="h").values)
    published = published.set_coords("ingested")
    published.to_zarr(tmp_path / "store.zarr", zarr_format=3, consolidated=True)
    carried = carry_published_coords(
        template, StoreLocation(str(tmp_path / "store.zarr")), "init_time"
    )
    assert list(carried["ingested"].values[:3]) == list(
        pd.to_timedelta([6, 12, 3], unit="h").values
    )
    assert np.isnat(carried["ingested"].values[3:]).all()
    assert "ingested" in carried.coords


class _Coord(SourceFileCoord):
    time: pd.Timestamp

    def get_url(self) -> str:
        return f"file:///{self.time:%H}"

    def out_loc(self) -> dict[str, pd.Timestamp]:
        return {"time": self.time}


def test_published_extent_stops_at_the_first_position_without_data() -> None:
    times = pd.date_range("2024-01-01", periods=6, freq="h")
    template = xr.Dataset(coords={"time": times})
    statuses = ["succeeded", "succeeded", "missing", "succeeded", "missing", "missing"]
    result = RegionJobResult(
        region=slice(0, 6),
        files={
            "t": [
                SourceFileResult(_Coord(time=t), SourceFileStatus(s))
                for t, s in zip(times, statuses, strict=True)
            ]
        },
    )
    # Published: the first position. Positions 1 and 2 follow; 3 had data but after a gap.
    assert published_extent_after(template, "time", 1, [result]) == 2
    # Never shorter than what is published.
    assert published_extent_after(template, "time", 5, [result]) == 5
