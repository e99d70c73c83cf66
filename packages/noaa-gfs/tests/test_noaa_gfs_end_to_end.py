"""noaa-gfs-forecast and noaa-gfs-analysis end to end, offline.

A synthesized GFS mirror (full 0.25 degree grid, real message layout) is served on loopback or
from a local S3 server; ``backfill_local`` writes the store; every value must equal the
synthesized value after the declared transforms (unit conversion, deaccumulation, rounding).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import zarr.storage

from reformatters.core.dynamical_dataset import JobFilters
from reformatters.core.region_job import SourceFileResult, SourceFileStatus
from reformatters.core.sources.mirror import SOURCE_MIRROR_ENV
from reformatters.core.sources.server import serve_mirror
from reformatters.core.sources.synthesis import packing_tolerance
from reformatters.core.storage import OUTPUT_URL_ENV, StoreLocation
from reformatters.core.testing.backfill import open_store
from reformatters.core.testing.expected import assert_matches, rounding_tolerance
from reformatters.core.testing.fixtures import MotoS3Server
from reformatters.noaa.common.global_grid import LATITUDES, LONGITUDES
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.gfs.analysis.dynamical_dataset import make_analysis_dataset
from reformatters.noaa.gfs.analysis.region_job import source_run
from reformatters.noaa.gfs.forecast.dynamical_dataset import make_forecast_dataset
from reformatters.noaa.gfs.forecast.region_job import GfsForecastRegionJob
from reformatters.noaa.gfs.synthesis import synthetic_source_values
from reformatters.noaa.gfs.testing import (
    ANALYSIS_HOURS,
    FORECAST_LEADS,
    INIT_00,
    INIT_06,
    mirror_files,
)

# CF standard names we use and the units UDUNITS accepts for them (canonical unit first),
# transcribed from the CF standard name table v84; cf_xarray's table lookup needs the internet.
CF_UNITS: dict[str, set[str]] = {
    "surface_air_pressure": {"Pa"},
    "air_pressure": {"Pa"},
    "air_pressure_at_mean_sea_level": {"Pa"},
    "air_temperature": {"K", "degree_Celsius"},
    "relative_humidity": {"1", "%"},
    "eastward_wind": {"m s-1"},
    "northward_wind": {"m s-1"},
    "precipitation_flux": {"kg m-2 s-1"},
    "atmosphere_mass_content_of_water_vapor": {"kg m-2"},
    "cloud_area_fraction": {"1", "%"},
    "geopotential_height": {"m"},
    "surface_downwelling_shortwave_flux_in_air": {"W m-2"},
    "surface_downwelling_longwave_flux_in_air": {"W m-2"},
    "latitude": {"degree_north"},
    "longitude": {"degree_east"},
}
UDUNITS_OK = {"Pa", "degree_Celsius", "%", "1", "m s-1", "kg m-2 s-1", "kg m-2", "m", "W m-2"}


@pytest.fixture(autouse=True)
def _decode_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    # A handful of fields per test: starting decode worker processes would dominate the time.
    monkeypatch.setenv("REFORMATTERS_DECODE_PROCESSES", "0")


@pytest.fixture
def served_mirror(gfs_mirror: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with serve_mirror(gfs_mirror) as server:
        monkeypatch.setenv(SOURCE_MIRROR_ENV, server.url)
        yield server.url


# ---- expected values ------------------------------------------------------------------------


def _source_field(var: NoaaDataVar, init: pd.Timestamp, lead: int) -> np.ndarray | None:
    """Synthesized source values in output layout and output units (before rounding)."""
    values = synthetic_source_values(var, init, lead)
    if values is None:
        return None
    if var.internal_attrs.unit_conversion == "kelvin_to_celsius":
        values = values - np.float32(273.15)
    rows, cols = GfsForecastRegionJob._layout_index()
    return values[np.ix_(rows, cols)]


def _tolerance(expected: np.ndarray, source_tol: float, var: NoaaDataVar) -> np.ndarray:
    return rounding_tolerance(expected, var.internal_attrs.keep_mantissa_bits) + source_tol + 1e-6


def _expected_forecast(
    var: NoaaDataVar, init: pd.Timestamp, lead: int, available: set[tuple[pd.Timestamp, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """(expected, tolerance) of one forecast field; NaN where the file is withheld/absent."""
    nan = np.full((len(LATITUDES), len(LONGITUDES)), np.nan, dtype=np.float32)
    if (init, lead) not in available:
        return nan, nan
    field = _source_field(var, init, lead)
    if field is None:
        return nan, nan
    raw = synthetic_source_values(var, init, lead)
    assert raw is not None
    source_tol = packing_tolerance(raw)
    attrs = var.internal_attrs
    if not attrs.deaccumulate_to_rate:
        return field, _tolerance(field, source_tol, var)
    start = attrs.window_start_hour(lead)
    previous = lead - 1
    if start == previous:
        increment = field
    elif (init, previous) in available:
        prev_field = _source_field(var, init, previous)
        assert prev_field is not None
        increment = field - prev_field
        source_tol *= 2
    else:
        return nan, nan
    seconds = 3600.0 * (lead - previous)
    expected = (increment / seconds).astype(np.float32)
    return expected, _tolerance(expected, source_tol / seconds, var)


# ---- checks shared by the tests -------------------------------------------------------------


def _check_cf(ds: xr.Dataset) -> None:
    import cf_xarray  # noqa: F401 - registers the .cf accessor

    assert set(ds.cf.axes) >= {"X", "Y"}
    assert ds.cf["latitude"].name == "latitude"
    assert ds.cf["longitude"].name == "longitude"
    for name, var in ds.data_vars.items():
        units = var.attrs["units"]
        assert units in UDUNITS_OK, f"{name}: units {units!r}"
        assert var.attrs["long_name"], name
        assert var.attrs["grid_mapping"] == "spatial_ref", name
        assert var.attrs["step_type"] in {"instant", "avg", "max", "min", "accum"}, name
        standard_name = var.attrs.get("standard_name")
        if standard_name is not None:
            assert units in CF_UNITS[standard_name], f"{name}: {units} for {standard_name}"
        if "flag_values" in var.attrs:
            assert len(var.attrs["flag_values"]) == len(var.attrs["flag_meanings"].split())
    assert "crs_wkt" in ds["spatial_ref"].attrs


def _check_grid(ds: xr.Dataset) -> None:
    np.testing.assert_array_equal(ds["latitude"].values, np.linspace(90, -90, 721))
    np.testing.assert_array_equal(ds["longitude"].values, np.arange(1440) * 0.25 - 180)


def _check_forecast(
    ds: xr.Dataset, names: tuple[str, ...], inits: tuple[pd.Timestamp, ...]
) -> None:
    config = make_forecast_dataset().template_config
    available = set(mirror_files())
    assert list(ds["init_time"].values) == [i.to_datetime64() for i in inits]
    assert ds.sizes["lead_time"] == 209
    np.testing.assert_array_equal(
        ds["valid_time"].values, ds["init_time"].values[:, None] + ds["lead_time"].values[None, :]
    )
    assert (ds["expected_forecast_length"].values == np.timedelta64(384, "h")).all()
    for i, init in enumerate(inits):
        # The longest lead in the mirror: 00Z has f000-f006 (the analysis needs them), 06Z f003.
        longest = max(lead for file_init, lead in available if file_init == init)
        assert ds["ingested_forecast_length"].values[i] == np.timedelta64(longest, "h")
    for name in names:
        var = config.data_var(name)
        stored = ds[name].isel(lead_time=slice(0, 8)).load()
        for init in inits:
            for lead in range(8):
                expected, tol = _expected_forecast(var, init, lead, available)
                actual = stored.sel(init_time=init).isel(lead_time=lead).values
                assert_matches(actual, (expected, tol), f"{name} {init} f{lead:03d}")
        # Leads never synthesized are NaN.
        assert np.isnan(ds[name].isel(lead_time=[7, 150, 208]).values).all()


def _check_analysis(ds: xr.Dataset, names: tuple[str, ...]) -> None:
    config = make_analysis_dataset().template_config
    hours = pd.date_range(INIT_00, periods=ANALYSIS_HOURS, freq="h")
    assert list(ds["time"].values) == list(hours.values)
    for name in names:
        var = config.data_var(name)
        attrs = var.internal_attrs
        stored = ds[name].load()
        for hour in hours:
            init, lead_td = source_run(hour, window=attrs.is_window)
            lead = int(lead_td / pd.Timedelta(hours=1))
            field = _source_field(var, init, lead)
            assert field is not None
            raw = synthetic_source_values(var, init, lead)
            assert raw is not None
            source_tol = packing_tolerance(raw)
            if attrs.deaccumulate_to_rate:
                if hour == hours[0]:
                    expected = np.full_like(field, np.nan)  # no previous hour in the dataset
                elif lead == 1:
                    expected = field / np.float32(3600)
                else:
                    previous = _source_field(var, init, lead - 1)
                    assert previous is not None
                    expected = (field - previous) / np.float32(3600)
                    source_tol *= 2
                source_tol /= 3600
            else:
                expected = field
            actual = stored.sel(time=hour).values
            assert_matches(
                actual, (expected, _tolerance(expected, source_tol, var)), f"{name} {hour}"
            )


def _open_local(dataset_id: str, base: Path) -> xr.Dataset:
    return open_store(base / dataset_id / "v0.1.0.zarr")


# ---- tests ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_forecast_backfill_local_matches_synthesized_source(
    served_mirror: str, tmp_path: Path
) -> None:
    dataset = make_forecast_dataset()
    report = dataset.backfill_local(datetime(2021, 5, 1, 12), output_url=str(tmp_path))
    assert report.jobs_run == 2
    ds = _open_local("noaa-gfs-forecast", tmp_path)
    _check_grid(ds)
    _check_cf(ds)
    every_variable = tuple(v.name for v in dataset.template_config.data_vars)
    assert len(every_variable) == 25
    _check_forecast(ds, every_variable, (INIT_00, INIT_06))
    _check_point_extraction(ds)


def test_final_metadata_follows_files_that_fail_to_read(
    served_mirror: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The final metadata is rendered ahead for the results the downloads promise; when files
    then fail to read, the published ingested_forecast_length must follow what was read."""
    original = GfsForecastRegionJob.read_data_into

    def read_data_into(
        self: GfsForecastRegionJob, coord: Any, path: Path, data_var: Any, out: Any
    ) -> None:
        if coord.lead_hours >= 3:
            out[...] = 1.0  # written partly, then failed: must not show
            raise ValueError("unreadable message (test)")
        original(self, coord, path, data_var, out)

    monkeypatch.setattr(GfsForecastRegionJob, "read_data_into", read_data_into)
    dataset = make_forecast_dataset()
    report = dataset.backfill_local(
        datetime(2021, 5, 1, 6),
        JobFilters(filter_start=INIT_00),
        output_url=str(tmp_path),
    )
    assert report.count(SourceFileStatus.READ_FAILED) > 0
    ds = _open_local("noaa-gfs-forecast", tmp_path)
    assert ds["ingested_forecast_length"].sel(init_time=INIT_00).values == np.timedelta64(2, "h")
    assert np.isnan(ds["temperature_2m"].sel(init_time=INIT_00).isel(lead_time=3)).all()


def test_variables_start_largest_first(served_mirror: str, tmp_path: Path) -> None:
    """variable_costs is each variable's message bytes (read back from the GRIB headers)."""
    dataset = make_forecast_dataset()
    template = dataset.template_config.get_template(datetime(2021, 5, 1, 6))
    job = dataset.get_jobs(template, JobFilters(filter_start=INIT_00))[0]
    downloads = job.download(tmp_path)
    costs = job.variable_costs(downloads)
    expected: dict[str, int] = dict.fromkeys(costs, 0)
    paths = [p for p in downloads.values() if isinstance(p, Path)]
    assert len(paths) >= len(FORECAST_LEADS)
    for path in paths:
        locations = json.loads(path.with_name(path.name + ".json").read_text())["messages"]
        data = path.read_bytes()
        for name, (offset, _) in locations.items():
            assert data[offset : offset + 4] == b"GRIB"
            expected[name] += int.from_bytes(data[offset + 8 : offset + 16], "big")
    assert costs == expected
    assert set(costs) == {v.name for v in dataset.template_config.data_vars}
    assert all(cost > 0 for cost in costs.values())


def _check_point_extraction(ds: xr.Dataset) -> None:
    """50 random points: extract-points returns the great-circle nearest cell's values."""
    from reformatters.tools.points.extract import extract_points

    rng = np.random.default_rng(50)
    lat = rng.uniform(-90, 90, 50)
    lon = rng.uniform(-180, 360, 50)  # both longitude conventions
    points = pd.DataFrame(
        {"id": [f"p{i:02d}" for i in range(50)], "latitude": lat, "longitude": lon}
    )
    table = extract_points(ds, points, variables=["temperature_2m"])
    values = ds["temperature_2m"].sel(init_time=INIT_00).values
    grid_lat = np.deg2rad(ds["latitude"].values)[:, None]
    grid_lon = np.deg2rad(ds["longitude"].values)[None, :]
    for i in range(50):
        p_lat, p_lon = np.deg2rad(lat[i]), np.deg2rad(lon[i])
        haversine = (
            np.sin((grid_lat - p_lat) / 2) ** 2
            + np.cos(p_lat) * np.cos(grid_lat) * np.sin((grid_lon - p_lon) / 2) ** 2
        )
        iy, ix = np.unravel_index(np.argmin(haversine), haversine.shape)
        rows = table[(table["point_id"] == f"p{i:02d}") & (table["init_time"] == INIT_00)]
        expected = values[:, iy, ix]
        assert np.isfinite(expected[0])
        np.testing.assert_array_equal(rows.sort_values("lead_time")["temperature_2m"], expected)


def test_analysis_every_variable_matches_synthesized_source(
    served_mirror: str, tmp_path: Path
) -> None:
    dataset = make_analysis_dataset()
    dataset.backfill_local(datetime(2021, 5, 1, ANALYSIS_HOURS), output_url=str(tmp_path))
    ds = _open_local("noaa-gfs-analysis", tmp_path)
    _check_grid(ds)
    _check_cf(ds)
    names = tuple(v.name for v in dataset.template_config.data_vars)
    assert set(ds.data_vars) == set(names)
    _check_analysis(ds, names)


@pytest.mark.slow
def test_forecast_store_on_s3(
    served_mirror: str, moto_s3_env: MotoS3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = f"gfs-forecast-{os.getpid()}"
    monkeypatch.setenv(OUTPUT_URL_ENV, f"s3://{moto_s3_env.bucket}/{prefix}")
    dataset = make_forecast_dataset()
    names = ("temperature_2m", "precipitation_surface")
    dataset.backfill_local(datetime(2021, 5, 1, 12), JobFilters(filter_variable_names=names))
    location = StoreLocation(f"s3://{moto_s3_env.bucket}/{prefix}/noaa-gfs-forecast/v0.1.0.zarr")
    assert location.exists()
    ds = xr.open_zarr(location.zarr_store(read_only=True), decode_timedelta=True, chunks=None)
    assert isinstance(location.zarr_store(), zarr.storage.ObjectStore)
    _check_forecast(ds, names, (INIT_00, INIT_06))


def test_analysis_source_mirror_on_s3(
    gfs_mirror: Path,
    moto_s3_env: MotoS3Server,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    prefix = f"gfs-mirror-{os.getpid()}"
    for path in gfs_mirror.rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            moto_s3_env.put(f"{prefix}/{path.relative_to(gfs_mirror)}", path.read_bytes())
    monkeypatch.setenv(SOURCE_MIRROR_ENV, f"s3://{moto_s3_env.bucket}/{prefix}")
    dataset = make_analysis_dataset()
    names = (
        "temperature_2m",
        "precipitation_surface",
        "downward_short_wave_radiation_flux_surface",
    )
    report = dataset.backfill_local(
        datetime(2021, 5, 1, ANALYSIS_HOURS),
        JobFilters(filter_variable_names=names),
        output_url=str(tmp_path),
    )
    assert report.jobs_run == 2  # the instantaneous and the window group
    _check_analysis(_open_local("noaa-gfs-analysis", tmp_path), names)


@pytest.mark.slow
def test_demo_runs_offline_and_writes_store_and_png(tmp_path: Path) -> None:
    from reformatters.noaa.gfs.demo import run_demo

    result = run_demo(tmp_path / "demo", inits=1, leads=2)
    assert result.store.is_dir() and result.store_bytes > 0
    assert result.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ds = result.dataset
    assert ds.sizes["init_time"] == 1
    assert set(ds.data_vars) == {v.name for v in make_forecast_dataset().template_config.data_vars}
    assert np.isfinite(ds["temperature_2m"].isel(init_time=0, lead_time=0).values).all()
    assert np.isnan(ds["precipitation_surface"].isel(init_time=0, lead_time=0).values).all()


def test_download_batches_start_with_the_costliest_variables(
    gfs_mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With worker processes, every file's inventory is read once; the first batch holds the
    costliest variables, one per worker (they decode while the rest downloads), the second the
    others; each batch's files hold exactly its variables' messages, the bytes one download
    gets."""
    monkeypatch.setenv("REFORMATTERS_DECODE_PROCESSES", "2")
    dataset = make_forecast_dataset()
    template = dataset.template_config.get_template(datetime(2021, 5, 1, 6))
    job = dataset.get_jobs(template, JobFilters(filter_start=INIT_00))[0]
    (tmp_path / "whole").mkdir()
    (tmp_path / "batches").mkdir()
    with serve_mirror(gfs_mirror) as server:
        monkeypatch.setenv(SOURCE_MIRROR_ENV, server.url)
        whole = job.download(tmp_path / "whole")
        server.stats.reset()
        batches = list(job.download_batches(tmp_path / "batches"))
        inventory_requests = sum(header is None for header in server.stats.range_headers)
    assert inventory_requests == len(whole) == 209
    costs = job.variable_costs(whole)
    names = [[v.name for v in batch] for batch, _ in batches]
    assert len(names) == 2 and len(names[0]) == 2
    assert sorted(names[0] + names[1]) == sorted(v.name for v in job.data_vars)
    assert min(costs[n] for n in names[0]) >= max(costs[n] for n in names[1])
    for batch, downloads in batches:
        assert list(downloads) == list(whole)
        for coord, path in downloads.items():
            expected = whole[coord]
            if not isinstance(path, Path):
                assert isinstance(expected, SourceFileResult)
                assert (path.status, path.error) == (expected.status, expected.error)
                continue
            assert isinstance(expected, Path)
            in_batch = _message_bytes(path)
            in_file = _message_bytes(expected)
            assert in_batch == {n: m for n, m in in_file.items() if n in {v.name for v in batch}}


def _message_bytes(path: Path) -> dict[str, bytes]:
    """Each variable's GRIB message in a downloaded file, found through its sidecar."""
    data = path.read_bytes()
    locations = json.loads(path.with_name(path.name + ".json").read_text())["messages"]
    messages = {}
    for name, (offset, _) in locations.items():
        length = int.from_bytes(data[offset + 8 : offset + 16], "big")
        messages[name] = data[offset : offset + length]
    return messages
