"""noaa-hrrr-forecast-48-hour end to end, offline: a synthesized HRRR mirror (modelled on real
HRRR inventories) served over loopback HTTP, written to a local store and to S3 (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from numpy.typing import NDArray
from pyproj import CRS

from reformatters.core import JobFilters
from reformatters.core.job_runner import BackfillReport
from reformatters.core.region_job import SourceFileStatus
from reformatters.core.sources.server import serve_mirror
from reformatters.core.sources.synthesis import packing_tolerance
from reformatters.core.testing.backfill import open_store
from reformatters.core.testing.expected import rounding_tolerance
from reformatters.core.testing.fixtures import MotoS3Server
from reformatters.noaa.common.idx import parse_noaa_idx
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.common.testing import copy_source_file, keep_inventory_lines
from reformatters.noaa.hrrr.common import HRRR_CRS, NX, NY, latitude_longitude
from reformatters.noaa.hrrr.forecast_48_hour.dynamical_dataset import (
    DEFAULT_SYNTHESIS_LEADS,
    make_forecast_48_hour_dataset,
)
from reformatters.noaa.hrrr.synthesis import mirror_path, synthetic_source_values
from reformatters.tools.testing import run_reformat

pytestmark = pytest.mark.slow

INIT = pd.Timestamp("2024-01-01T00")
END = datetime(2024, 1, 1, 6)
DATASET_ID = "noaa-hrrr-forecast-48-hour"
_KELVIN = np.float32(273.15)
STRIDE = 7
SAMPLED_SHAPE = (len(range(0, NY, STRIDE)), len(range(0, NX, STRIDE)))
# UDUNITS-parsable units of our variables, plus dBZ (the canonical unit of CF's reflectivity
# standard names; a logarithmic unit UDUNITS cannot express).
VALID_UNITS = {"degree_Celsius", "%", "m s-1", "Pa", "kg m-2 s-1", "1", "W m-2", "kg m-2", "m"}
VALID_UNITS_EXTRA = {"dBZ"}


def expected_output(
    var: NoaaDataVar, init: pd.Timestamp, lead: int
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(expected values, allowed absolute error) of ``var`` after the declared transforms, on
    every STRIDE-th row and column of the grid (the synthetic fields are smooth)."""
    source = synthetic_source_values(var, init, lead, stride=STRIDE)
    if source is None:
        nan = np.full(SAMPLED_SHAPE, np.nan, dtype=np.float32)
        return nan, nan
    attrs = var.internal_attrs
    # The packing step comes from the whole field's largest magnitude, which the sample may miss
    # by a little: allow twice the sample's (the step is a power of two).
    tolerance = np.float32(2 * packing_tolerance(source))
    values = source.astype(np.float32)
    if attrs.unit_conversion == "kelvin_to_celsius":
        values = values - _KELVIN
    if attrs.deaccumulate_to_rate:
        # HRRR windows are the last hour: the rate is the accumulation over 3600 s.
        seconds = np.float32((lead - attrs.window_start_hour(lead)) * 3600)
        values = values / seconds
        tolerance = tolerance / seconds
    rounding = rounding_tolerance(values, attrs.keep_mantissa_bits)
    allowed = (tolerance + rounding + 1e-6 * np.abs(values)).astype(np.float32)
    return values, allowed


def assert_matches(actual: NDArray[np.float32], var: NoaaDataVar, init: pd.Timestamp, lead: int):
    """``actual``: a whole (y, x) field as stored."""
    assert actual.shape == (NY, NX)
    actual = actual[::STRIDE, ::STRIDE]
    expected, allowed = expected_output(var, init, lead)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=var.name)
    finite = ~np.isnan(expected)
    error = np.abs(actual[finite] - expected[finite])
    worst = int(np.argmax(error - allowed[finite])) if error.size else 0
    assert np.all(error <= allowed[finite]), (
        f"{var.name} lead {lead}: error {error[worst]} > allowed {allowed[finite][worst]}"
    )


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One init (leads 0-2, every variable) written by `reformat mirror synthesize`."""
    folder = tmp_path_factory.mktemp("hrrr-forecast-mirror")
    result = run_reformat(
        "mirror", "synthesize", DATASET_ID, "2024-01-01T00", "2024-01-01T06", str(folder)
    )
    assert f"wrote {len(DEFAULT_SYNTHESIS_LEADS)} files" in result.stderr
    return folder


@pytest.fixture(scope="module")
def backfilled(
    mirror: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, BackfillReport]]:
    output = str(tmp_path_factory.mktemp("hrrr-forecast-output"))
    with pytest.MonkeyPatch.context() as patch, serve_mirror(mirror) as server:
        patch.setenv("REFORMATTERS_SOURCE_MIRROR", server.url)
        patch.setenv("REFORMATTERS_SCRATCH", str(tmp_path_factory.mktemp("scratch")))
        report = make_forecast_48_hour_dataset().backfill_local(
            END, JobFilters(filter_start=INIT.to_pydatetime()), output_url=output
        )
        # Only the needed messages are fetched, by byte range.
        assert any(h and h.startswith("bytes=") for h in server.stats.range_headers)
    yield f"{output}/{DATASET_ID}/v0.2.0.zarr", report


def test_every_variable_matches_the_synthesized_source(
    backfilled: tuple[str, BackfillReport],
) -> None:
    url, report = backfilled
    dataset = make_forecast_48_hour_dataset()
    variables = dataset.template_config.data_vars
    assert report.count(SourceFileStatus.SUCCEEDED) == len(variables) * len(DEFAULT_SYNTHESIS_LEADS)
    assert report.count(SourceFileStatus.DOWNLOAD_FAILED, SourceFileStatus.READ_FAILED) == 0
    ds = open_store(url)
    assert ds.sizes["lead_time"] == 49 and (ds.sizes["y"], ds.sizes["x"]) == (NY, NX)
    # Only the region of the filter was processed; earlier inits are NaN-filled, unpublished.
    assert pd.Timestamp(ds["init_time"].values[-1]) == INIT
    for var in variables:
        # One read per variable: the synthesized leads share one 7-lead chunk block.
        run = ds[var.name].sel(init_time=INIT).isel(lead_time=slice(0, 3)).values
        for lead in DEFAULT_SYNTHESIS_LEADS:
            assert_matches(run[lead], var, INIT, lead)
        # Leads that were not synthesized are missing: NaN, never made up.
        assert np.isnan(ds[var.name].sel(init_time=INIT).isel(lead_time=10).values).all()
    assert ds["ingested_forecast_length"].sel(init_time=INIT).values == np.timedelta64(2, "h")
    assert ds["expected_forecast_length"].sel(init_time=INIT).values == np.timedelta64(48, "h")


def test_precipitation_is_a_rate_with_nothing_at_lead_zero(
    backfilled: tuple[str, BackfillReport],
) -> None:
    ds = open_store(backfilled[0])
    precipitation = ds["precipitation_surface"].sel(init_time=INIT)
    assert np.isnan(precipitation.isel(lead_time=0).values).all()
    lead_one = precipitation.isel(lead_time=1).values
    assert np.nanmax(lead_one) < 1e-2 and np.nanmin(lead_one) >= 0  # kg m-2 s-1, not kg m-2
    assert precipitation.attrs["units"] == "kg m-2 s-1"
    assert precipitation.attrs["step_type"] == "avg"


CATEGORICAL = (
    "categorical_snow_surface",
    "categorical_ice_pellets_surface",
    "categorical_freezing_rain_surface",
    "categorical_rain_surface",
)


def test_categorical_types_are_nan_at_lead_zero(backfilled: tuple[str, BackfillReport]) -> None:
    """HRRR's f00 holds constant 188-byte placeholders for them (the real f00 inventory)."""
    ds = open_store(backfilled[0])
    for name in CATEGORICAL:
        run = ds[name].sel(init_time=INIT)
        assert np.isnan(run.isel(lead_time=0).values).all(), name
        assert np.isfinite(run.isel(lead_time=1).values).all(), name
        assert "NaN at lead 0" in run.attrs["comment"]


def test_no_ceiling_is_nan_as_hrrr_encodes_it(
    mirror: Path, backfilled: tuple[str, BackfillReport]
) -> None:
    """HRRR marks "no ceiling" as missing points with complex packing's missing-value
    management (no bitmap); the store has NaN exactly there, real ceilings elsewhere."""
    import pygrib

    path = mirror_path(mirror, INIT, 1)
    entries = parse_noaa_idx(Path(f"{path}.idx").read_text())
    entry = next(e for e in entries if (e.element, e.level) == ("HGT", "cloud ceiling"))
    with path.open("rb") as handle:
        handle.seek(entry.offset)
        message = pygrib.fromstring(handle.read(entry.end - entry.offset))
    assert int(message["missingValueManagementUsed"]) == 1
    assert int(message["bitmapPresent"]) == 0
    ceiling = open_store(backfilled[0])["geopotential_height_cloud_ceiling"]
    values = ceiling.sel(init_time=INIT).isel(lead_time=1).values
    assert int(np.isnan(values).sum()) == int(message["numberOfMissing"]) > 0
    assert np.nanmin(values) > 0 and np.nanmax(values) < 16000
    assert "NaN where the model diagnoses no cloud ceiling" in ceiling.attrs["comment"]


def test_an_inventory_listing_one_wanted_line_stores_that_variable(
    mirror: Path, tmp_path: Path
) -> None:
    """f01's inventory lists only DPT at 2 m (as a real wrfsfcf28 inventory once did): dew
    point is stored, temperature and humidity are reported absent there, the run exits 1."""
    own = tmp_path / "mirror"
    for lead in DEFAULT_SYNTHESIS_LEADS:
        copy_source_file(mirror, own, mirror_path(mirror, INIT, lead))
    keep_inventory_lines(
        mirror_path(own, INIT, 1), lambda e: (e.element, e.level) == ("DPT", "2 m above ground")
    )
    names = ("temperature_2m", "dew_point_temperature_2m", "relative_humidity_2m")
    result = run_reformat(
        DATASET_ID,
        "backfill-local",
        END.isoformat(),
        "--filter-start",
        INIT.isoformat(),
        *(arg for name in names for arg in ("--filter-variable-names", name)),
        "--output-url",
        str(tmp_path / "output"),
        env={"REFORMATTERS_SOURCE_MIRROR": str(own), "REFORMATTERS_DECODE_PROCESSES": "0"},
        check=False,
        timeout=600,
    )
    assert result.returncode == 1, result.stderr
    for name, line in (
        ("temperature_2m", "TMP:2 m above ground:1 hour fcst"),
        ("relative_humidity_2m", "RH:2 m above ground:1 hour fcst"),
    ):
        assert f"absent: {name} in 1 file(s)" in result.stderr and repr(line) in result.stderr
    ds = open_store(f"{tmp_path}/output/{DATASET_ID}/v0.2.0.zarr").sel(init_time=INIT)
    config = make_forecast_48_hour_dataset().template_config
    for lead in DEFAULT_SYNTHESIS_LEADS:
        dew_point = ds["dew_point_temperature_2m"].isel(lead_time=lead).values
        assert_matches(dew_point, config.data_var("dew_point_temperature_2m"), INIT, lead)
    assert np.isnan(ds["temperature_2m"].isel(lead_time=1).values).all()
    assert np.isfinite(ds["temperature_2m"].isel(lead_time=2).values).all()


def test_grid_coordinates_and_crs(backfilled: tuple[str, BackfillReport]) -> None:
    import cf_xarray  # noqa: F401  (registers the .cf accessor)

    ds = open_store(backfilled[0])
    assert CRS.from_wkt(ds.spatial_ref.attrs["crs_wkt"]) == HRRR_CRS
    assert ds.spatial_ref.attrs["grid_mapping_name"] == "lambert_conformal_conic"
    lat, lon = latitude_longitude()
    assert ds["latitude"].dims == ("y", "x") and ds["longitude"].dims == ("y", "x")
    np.testing.assert_allclose(ds["latitude"].values, lat, atol=1e-5)
    np.testing.assert_allclose(ds["longitude"].values, lon, atol=1e-5)
    # North up: y decreases down the rows and latitude with it.
    assert np.all(np.diff(ds["y"].values) < 0)
    assert ds["latitude"].values[0, NX // 2] > ds["latitude"].values[-1, NX // 2]
    # cf_xarray finds the axes, the 2-D coordinates and the grid mapping from attributes alone.
    assert ds.cf.axes["X"] == ["x"] and ds.cf.axes["Y"] == ["y"]
    assert ds.cf.coordinates["latitude"] == ["latitude"]
    assert ds.cf.coordinates["longitude"] == ["longitude"]
    assert ds.cf.grid_mapping_names == {"lambert_conformal_conic": ["spatial_ref"]}
    assert "spatial_ref" in ds.cf["temperature_2m"].coords
    names = ds.cf.standard_names
    assert names["air_temperature"] == ["temperature_2m"]
    assert names["projection_x_coordinate"] == ["x"]
    for name in ds.data_vars:
        attrs = ds[name].attrs
        assert attrs["units"] in VALID_UNITS | VALID_UNITS_EXTRA, (name, attrs["units"])
        assert attrs["grid_mapping"] == "spatial_ref"
        assert attrs["step_type"] in {"instant", "avg"}


def test_backfill_to_s3_output(
    mirror: Path, moto_s3_env: MotoS3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFORMATTERS_SCRATCH", str(tmp_path / "scratch"))
    names = ("temperature_2m", "wind_u_80m", "precipitation_surface")
    output = f"s3://{moto_s3_env.bucket}/hrrr-forecast"
    with serve_mirror(mirror) as server:
        monkeypatch.setenv("REFORMATTERS_SOURCE_MIRROR", server.url)
        make_forecast_48_hour_dataset().backfill_local(
            END,
            JobFilters(filter_start=INIT.to_pydatetime(), filter_variable_names=names),
            output_url=output,
        )
    ds = open_store(f"{output}/{DATASET_ID}/v0.2.0.zarr")
    assert CRS.from_wkt(ds.spatial_ref.attrs["crs_wkt"]) == HRRR_CRS
    config = make_forecast_48_hour_dataset().template_config
    for name in names:
        var = config.data_var(name)
        run = ds[name].sel(init_time=INIT).isel(lead_time=slice(0, 3)).values
        for lead in DEFAULT_SYNTHESIS_LEADS:
            assert_matches(run[lead], var, INIT, lead)
    # Variables outside the filter were not written.
    assert np.isnan(ds["visibility_surface"].sel(init_time=INIT).isel(lead_time=1).values).all()


def test_point_extraction_matches_brute_force_nearest_cell(
    backfilled: tuple[str, BackfillReport],
) -> None:
    import pyproj

    from reformatters.tools.points.extract import extract_points

    store, _ = backfilled
    ds = xr.open_zarr(store, decode_timedelta=True, chunks=None)
    crs = pyproj.CRS.from_wkt(ds["spatial_ref"].attrs["crs_wkt"])
    to_grid = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = ds["x"].values, ds["y"].values
    rng = np.random.default_rng(50)
    # Random points inside the grid: a random cell, moved by less than half a cell.
    iy, ix = rng.integers(2, len(y) - 2, 50), rng.integers(2, len(x) - 2, 50)
    px = x[ix] + rng.uniform(-1400, 1400, 50)
    py = y[iy] + rng.uniform(-1400, 1400, 50)
    lon, lat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(px, py)
    points = pd.DataFrame(
        {"id": [f"p{i:02d}" for i in range(50)], "latitude": lat, "longitude": lon}
    )
    table = extract_points(
        ds,
        points,
        variables=["temperature_2m"],
        start=INIT.to_pydatetime(),
        end=(INIT + pd.Timedelta(hours=6)).to_pydatetime(),
    )
    grid_x, grid_y = np.meshgrid(x, y)
    values = ds["temperature_2m"].sel(init_time=INIT).values
    for i, (point_lat, point_lon) in enumerate(zip(lat, lon, strict=True)):
        qx, qy = to_grid.transform(point_lon, point_lat)
        nearest = np.unravel_index(np.argmin((grid_x - qx) ** 2 + (grid_y - qy) ** 2), grid_x.shape)
        expected = values[:, nearest[0], nearest[1]]
        assert np.isfinite(expected[0])
        rows = table[table["point_id"] == f"p{i:02d}"].sort_values("lead_time")
        np.testing.assert_array_equal(rows["temperature_2m"].to_numpy(), expected)
        assert rows["grid_latitude"].iloc[0] == pytest.approx(
            float(ds["latitude"].values[nearest]), abs=1e-5
        )
