"""Small Zarr v3 stores shaped like the real datasets, for the point-extraction and plot tests.

- forecast: GFS-like (init_time, lead_time, latitude 90..-90, longitude -180..178) + valid_time;
- analysis: (time, latitude, longitude 0..358), i.e. the 0..360 longitude convention;
- ensemble: GEFS-like (init_time, ensemble_member, lead_time, latitude, longitude) + valid_time
  (init_time, lead_time) and ingested_forecast_length (init_time, ensemble_member);
- lambert: HRRR-like (time, y, x) with 1-D projected x/y in metres, 2-D latitude/longitude and a
  spatial_ref coordinate (Lambert conformal conic on a sphere of radius 6 371 229 m).
Values are random, so any wrong cell choice shows up.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import xarray as xr

LAMBERT_PROJ4 = (
    "+proj=lcc +lat_0=38.5 +lon_0=-97.5 +lat_1=38.5 +lat_2=38.5 +x_0=0 +y_0=0 "
    "+R=6371229 +units=m +no_defs"
)
LAMBERT_CRS = pyproj.CRS.from_proj4(LAMBERT_PROJ4)
VARIABLES = ("temperature_2m", "precipitation_surface")
ATTRS = {
    "temperature_2m": {
        "units": "degree_Celsius",
        "long_name": "2 metre temperature",
        "standard_name": "air_temperature",
    },
    "precipitation_surface": {
        "units": "kg m-2 s-1",
        "long_name": "Precipitation rate",
        "standard_name": "precipitation_flux",
    },
}


def _data_vars(
    dims: tuple[str, ...], shape: tuple[int, ...], rng: np.random.Generator
) -> dict[str, xr.Variable]:
    out = {}
    for i, name in enumerate(VARIABLES):
        values = (rng.standard_normal(shape) * 10 + 10 * i).astype(np.float32)
        out[name] = xr.Variable(dims, values, attrs=ATTRS[name])
    return out


def _write(ds: xr.Dataset, path: Path, chunks: tuple[int, ...], shards: tuple[int, ...]) -> Path:
    encoding = {
        name: {"chunks": chunks, "shards": shards, "fill_value": np.float32(np.nan)}
        for name in ds.data_vars
    }
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
        ds.to_zarr(path, mode="w", zarr_format=3, encoding=encoding, consolidated=True)
    return path


def write_store(ds: xr.Dataset, path: Path) -> Path:
    """Write any of these datasets with small chunks in one shard per 32x32 cells."""
    chunks = tuple(
        min(16, ds.sizes[d]) if i >= ds["temperature_2m"].ndim - 2 else ds.sizes[d]
        for i, d in enumerate(ds["temperature_2m"].dims)
    )
    shards = tuple(2 * c if i >= len(chunks) - 2 else c for i, c in enumerate(chunks))
    return _write(ds, path, chunks, shards)


def forecast_dataset(seed: int = 1, n_init: int = 3) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    init = pd.date_range("2024-03-01T00", periods=n_init, freq="6h")
    lead = pd.to_timedelta(np.arange(0, 12, 3), unit="h")
    lat = np.arange(90.0, -90.1, -2.0)
    lon = np.arange(-180.0, 180.0, 2.0)
    dims = ("init_time", "lead_time", "latitude", "longitude")
    ds = xr.Dataset(
        _data_vars(dims, (len(init), len(lead), len(lat), len(lon)), rng),
        coords={"init_time": init, "lead_time": lead, "latitude": lat, "longitude": lon},
    )
    ds = ds.assign_coords(valid_time=ds["init_time"] + ds["lead_time"])
    ds.attrs = {"dataset_id": "test-forecast", "name": "Test forecast"}
    return ds


def write_forecast_store(path: Path, seed: int = 1) -> Path:
    return _write(forecast_dataset(seed), path, (1, 2, 16, 16), (1, 4, 32, 32))


def ensemble_dataset(seed: int = 4, n_members: int = 4) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    init = pd.date_range("2024-03-01T00", periods=2, freq="24h")
    members = np.arange(n_members, dtype=np.int16)
    lead = pd.to_timedelta(np.arange(0, 15, 3), unit="h")
    lat = np.arange(90.0, -90.1, -3.0)
    lon = np.arange(-180.0, 180.0, 3.0)
    dims = ("init_time", "ensemble_member", "lead_time", "latitude", "longitude")
    shape = (len(init), len(members), len(lead), len(lat), len(lon))
    ds = xr.Dataset(
        _data_vars(dims, shape, rng),
        coords={
            "init_time": init,
            "ensemble_member": members,
            "lead_time": lead,
            "latitude": lat,
            "longitude": lon,
        },
    )
    ingested = np.full((len(init), len(members)), lead[-1].to_timedelta64())
    ds = ds.assign_coords(
        valid_time=ds["init_time"] + ds["lead_time"],
        ingested_forecast_length=(("init_time", "ensemble_member"), ingested),
    )
    ds.attrs = {"dataset_id": "test-ensemble", "name": "Test ensemble"}
    return ds


def write_ensemble_store(path: Path, seed: int = 4) -> Path:
    return _write(ensemble_dataset(seed), path, (1, 2, 5, 16, 16), (1, 4, 5, 32, 32))


def analysis_dataset(seed: int = 2, hours: int = 48) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    time = pd.date_range("2024-03-01T00", periods=hours, freq="h")
    lat = np.arange(-90.0, 90.1, 2.0)
    lon = np.arange(0.0, 360.0, 2.0)
    dims = ("time", "latitude", "longitude")
    ds = xr.Dataset(
        _data_vars(dims, (len(time), len(lat), len(lon)), rng),
        coords={"time": time, "latitude": lat, "longitude": lon},
    )
    ds.attrs = {"dataset_id": "test-analysis", "name": "Test analysis"}
    return ds


def write_analysis_store(path: Path, seed: int = 2, hours: int = 48) -> Path:
    return _write(analysis_dataset(seed, hours), path, (24, 16, 16), (48, 32, 32))


def lambert_xy() -> tuple[np.ndarray, np.ndarray]:
    x = -1_500_000.0 + 30_000.0 * np.arange(100)
    y = -600_000.0 + 30_000.0 * np.arange(60)
    return x, y


def lambert_dataset(seed: int = 3, hours: int = 6) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    x, y = lambert_xy()
    xx, yy = np.meshgrid(x, y)
    to_lonlat = pyproj.Transformer.from_crs(LAMBERT_CRS, "EPSG:4326", always_xy=True)
    lon2d, lat2d = to_lonlat.transform(xx, yy)
    time = pd.date_range("2024-03-01T00", periods=hours, freq="h")
    dims = ("time", "y", "x")
    ds = xr.Dataset(
        _data_vars(dims, (len(time), len(y), len(x)), rng),
        coords={
            "time": time,
            "y": ("y", y, {"units": "m", "standard_name": "projection_y_coordinate"}),
            "x": ("x", x, {"units": "m", "standard_name": "projection_x_coordinate"}),
            "latitude": (("y", "x"), lat2d, {"units": "degree_north"}),
            "longitude": (("y", "x"), lon2d, {"units": "degree_east"}),
        },
    )
    spatial_ref_attrs = {
        **LAMBERT_CRS.to_cf(),
        "crs_wkt": LAMBERT_CRS.to_wkt(),
        "spatial_ref": LAMBERT_CRS.to_wkt(),
    }
    ds = ds.assign_coords(spatial_ref=xr.Variable((), np.int64(0), attrs=spatial_ref_attrs))
    for name in VARIABLES:
        ds[name].attrs["grid_mapping"] = "spatial_ref"
    ds.attrs = {"dataset_id": "test-lambert", "name": "Test Lambert"}
    return ds


def write_lambert_store(path: Path, seed: int = 3) -> Path:
    return _write(lambert_dataset(seed), path, (6, 16, 16), (6, 32, 32))


def store_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def data_bytes(path: Path, variables: tuple[str, ...] = VARIABLES) -> int:
    return sum(store_size(path / name) for name in variables)
