"""The nearest grid cell of every point.

- regular latitude/longitude (dims ``latitude``/``longitude``): nearest cell by great-circle
  distance, longitudes compared modulo 360 (inputs may be -180..180 or 0..360, either side of the
  dateline);
- projected (dims ``y``/``x`` with 1-D coordinates in metres): points are projected with pyproj
  from EPSG:4326 into the CRS in ``spatial_ref`` and the nearest cell is found in x/y.
A point farther than half a grid spacing beyond the grid's edge is an error naming the point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import xarray as xr

from reformatters.core.errors import InvalidArgumentError

POINT_DIM = "point"
EARTH_RADIUS_M = 6_371_229.0

type FloatArray = npt.NDArray[np.float64]
type IntArray = npt.NDArray[np.intp]
type GridKind = Literal["latlon", "projected"]


@dataclass(frozen=True)
class GridCells:
    """The nearest grid cell of every point: an index per horizontal dim, and its lat/lon."""

    indexers: dict[str, IntArray]
    grid_latitude: FloatArray
    grid_longitude: FloatArray


def grid_kind(ds: xr.Dataset) -> GridKind:
    if "latitude" in ds.dims and "longitude" in ds.dims:
        return "latlon"
    if "x" in ds.dims and "y" in ds.dims:
        return "projected"
    raise InvalidArgumentError(
        f"cannot find the horizontal grid: expected dims latitude/longitude or y/x, "
        f"found {', '.join(map(str, ds.dims))}"
    )


def dataset_crs(ds: xr.Dataset) -> pyproj.CRS:
    """The CRS of a projected grid, from the ``spatial_ref`` coordinate (WKT or CF attributes)."""
    if "spatial_ref" not in ds.variables:
        raise InvalidArgumentError(
            "projected grid without a spatial_ref coordinate holding its CRS"
        )
    attrs = ds["spatial_ref"].attrs
    wkt = attrs.get("crs_wkt") or attrs.get("spatial_ref")
    if wkt:
        return pyproj.CRS.from_wkt(str(wkt))
    if "grid_mapping_name" in attrs:
        return pyproj.CRS.from_cf(dict(attrs))
    raise InvalidArgumentError("spatial_ref has no crs_wkt, spatial_ref or grid_mapping_name")


def _nearest_index(coord: FloatArray, targets: FloatArray) -> IntArray:
    """Index of the nearest value of a monotonic 1-D coordinate for every target."""
    order = np.argsort(coord, kind="stable")
    ordered = coord[order]
    pos = np.clip(np.searchsorted(ordered, targets), 1, len(ordered) - 1)
    if len(ordered) == 1:
        return np.zeros(len(targets), dtype=np.intp)
    left, right = ordered[pos - 1], ordered[pos]
    take_left = np.abs(targets - left) <= np.abs(right - targets)
    return np.asarray(order[np.where(take_left, pos - 1, pos)], dtype=np.intp)


def _spacing(coord: FloatArray) -> float:
    return float(np.median(np.abs(np.diff(coord)))) if len(coord) > 1 else 0.0


def _angle_diff(a: Any, b: Any) -> Any:
    """Signed smallest difference of longitudes a - b in degrees, in [-180, 180)."""
    return (np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0


def haversine_m(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Great-circle distance in metres on a sphere of radius 6 371 229 m."""
    p1, p2 = np.deg2rad(lat1), np.deg2rad(lat2)
    dlat = p2 - p1
    dlon = np.deg2rad(_angle_diff(lon2, lon1))
    h = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _outside(ids: Sequence[str], mask: npt.NDArray[np.bool_], what: str) -> None:
    if mask.any():
        bad = [ids[int(i)] for i in np.flatnonzero(mask)]
        shown = ", ".join(repr(b) for b in bad[:5]) + (
            f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        )
        raise InvalidArgumentError(f"point(s) {shown} outside the {what}")


def _locate_latlon(ds: xr.Dataset, points: pd.DataFrame) -> GridCells:
    lat = np.asarray(ds["latitude"].values, dtype=np.float64)
    lon = np.asarray(ds["longitude"].values, dtype=np.float64)
    plat = points["latitude"].to_numpy(np.float64)
    plon = points["longitude"].to_numpy(np.float64)
    ids = list(points["id"])
    dlat, dlon = _spacing(lat), _spacing(lon)
    eps = 1e-9
    is_global = len(lon) > 1 and (np.ptp(lon) + dlon) >= 360.0 - dlon / 2
    extent = (
        f"grid (latitude {lat.min():g} to {lat.max():g}, longitude {lon.min():g} to {lon.max():g})"
    )
    _outside(ids, (plat < lat.min() - dlat / 2 - eps) | (plat > lat.max() + dlat / 2 + eps), extent)
    # Nearest longitude modulo 360: compare with the searchsorted neighbours of the point's
    # longitude brought into [lon_min, lon_min + 360), and with both ends of the grid (wrap).
    order = np.argsort(lon, kind="stable")
    ordered = lon[order]
    shifted = ordered[0] + (plon - ordered[0]) % 360.0
    pos = np.searchsorted(ordered, shifted)
    candidates = np.stack(
        [
            np.clip(pos - 1, 0, len(lon) - 1),
            np.clip(pos, 0, len(lon) - 1),
            np.zeros_like(pos),
            np.full_like(pos, len(lon) - 1),
        ]
    )
    distance = np.abs(_angle_diff(ordered[candidates], plon[None, :]))
    best = candidates[np.argmin(distance, axis=0), np.arange(len(plon))]
    i_lon = order[best]
    if not is_global:
        _outside(ids, np.abs(_angle_diff(lon[i_lon], plon)) > dlon / 2 + eps, extent)
    i_lat = _nearest_index(lat, plat)
    # The separable nearest cell can differ from the great-circle nearest near cell edges (a
    # meridian's closest point lies slightly poleward): choose among the 3x3 neighbourhood.
    steps = np.array([-1, 0, 1])
    cand_lat = np.clip(i_lat[:, None, None] + steps[None, :, None], 0, len(lat) - 1)
    cand_lon = i_lon[:, None, None] + steps[None, None, :]
    cand_lon = cand_lon % len(lon) if is_global else np.clip(cand_lon, 0, len(lon) - 1)
    cand_lat, cand_lon = np.broadcast_arrays(cand_lat, cand_lon)
    dist = haversine_m(plat[:, None, None], plon[:, None, None], lat[cand_lat], lon[cand_lon])
    flat = np.argmin(dist.reshape(len(plat), -1), axis=1)
    rows = np.arange(len(plat))
    i_lat = cand_lat.reshape(len(plat), -1)[rows, flat].astype(np.intp)
    i_lon = cand_lon.reshape(len(plat), -1)[rows, flat].astype(np.intp)
    return GridCells(
        indexers={"latitude": i_lat, "longitude": i_lon},
        grid_latitude=lat[i_lat],
        grid_longitude=lon[i_lon],
    )


def _locate_projected(ds: xr.Dataset, points: pd.DataFrame) -> GridCells:
    crs = dataset_crs(ds)
    transformer = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    px, py = transformer.transform(
        points["longitude"].to_numpy(np.float64), points["latitude"].to_numpy(np.float64)
    )
    px, py = np.asarray(px, dtype=np.float64), np.asarray(py, dtype=np.float64)
    x = np.asarray(ds["x"].values, dtype=np.float64)
    y = np.asarray(ds["y"].values, dtype=np.float64)
    dx, dy = _spacing(x) / 2, _spacing(y) / 2
    outside = (
        ~np.isfinite(px)
        | ~np.isfinite(py)
        | (px < x.min() - dx)
        | (px > x.max() + dx)
        | (py < y.min() - dy)
        | (py > y.max() + dy)
    )
    method = crs.coordinate_operation.method_name if crs.coordinate_operation else crs.name
    extent = (
        f"{method} grid (x {x.min() / 1000:.0f} to {x.max() / 1000:.0f} km, "
        f"y {y.min() / 1000:.0f} to {y.max() / 1000:.0f} km)"
    )
    _outside(list(points["id"]), outside, f"projected {extent}")
    i_x, i_y = _nearest_index(x, px), _nearest_index(y, py)
    if "latitude" in ds.variables and "longitude" in ds.variables:
        picks = {"y": xr.DataArray(i_y, dims=POINT_DIM), "x": xr.DataArray(i_x, dims=POINT_DIM)}
        grid_lat = np.asarray(ds["latitude"].isel(picks).values, dtype=np.float64)
        grid_lon = np.asarray(ds["longitude"].isel(picks).values, dtype=np.float64)
    else:
        back = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        lon_back, lat_back = back.transform(x[i_x], y[i_y])
        grid_lat, grid_lon = np.asarray(lat_back), np.asarray(lon_back)
    return GridCells(indexers={"y": i_y, "x": i_x}, grid_latitude=grid_lat, grid_longitude=grid_lon)


def locate_points(ds: xr.Dataset, points: pd.DataFrame) -> GridCells:
    """The nearest grid cell of each validated point (see ``validate_points``)."""
    if grid_kind(ds) == "latlon":
        return _locate_latlon(ds, points)
    return _locate_projected(ds, points)
