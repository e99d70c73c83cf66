"""Time series at sites: nearest grid cell per point, read with pointwise (vectorised) indexing.

``extract_points`` turns a dataset and a table of points (``id``, ``latitude``, ``longitude``)
into a tidy table with one row per point and time step and one column per variable. Only the
chunks that hold the requested cells are read: the lazily opened Zarr arrays are indexed with
``DataArray`` indexers along a ``point`` dimension, which xarray hands to Zarr as one vectorised
selection.

Grids:
- regular latitude/longitude (dims ``latitude``/``longitude``): nearest cell by great-circle
  distance, longitudes compared modulo 360 (inputs may be -180..180 or 0..360, either side of the
  dateline);
- projected (dims ``y``/``x`` with 1-D coordinates in metres): points are projected with pyproj
  from EPSG:4326 into the CRS in ``spatial_ref`` and the nearest cell is found in x/y.
A point farther than half a grid spacing beyond the grid's edge is an error naming the point.

``write_points`` writes .csv, .parquet or .duckdb; DuckDB writes are upserts keyed on the point id
and the time keys, so re-running over the same range updates rows instead of duplicating them.

Benchmark (a year of hourly data at 100 points from a local store; chunk and shard shapes are
optional, time x latitude x longitude)::

    uv run python -m reformatters.tools.points /tmp/points-benchmark [730x32x32 2190x64x64]
"""

from __future__ import annotations

import sys
import threading
import time as time_module
import warnings
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import xarray as xr
from zarr.abc.store import ByteRequest, Store
from zarr.core.buffer import Buffer, BufferPrototype
from zarr.storage import WrapperStore

from reformatters.core.errors import InvalidArgumentError

POINT_DIM = "point"
POINT_ID = "point_id"
GRID_LATITUDE = "grid_latitude"
GRID_LONGITUDE = "grid_longitude"
POINT_COLUMNS = (POINT_ID, "latitude", "longitude", GRID_LATITUDE, GRID_LONGITUDE)
TIME_KEY_CANDIDATES = ("init_time", "time", "ensemble_member")
EARTH_RADIUS_M = 6_371_229.0
OUTPUT_FORMATS = (".csv", ".parquet", ".duckdb", ".db")
MAX_VALUES_PER_READ = 4_000_000
"""Points x time steps read per variable in one vectorised selection (bounds memory)."""

type FloatArray = npt.NDArray[np.float64]
type IntArray = npt.NDArray[np.intp]
type GridKind = Literal["latlon", "projected"]


# ---- reading the points --------------------------------------------------------------------------


def read_points_csv(path: Path) -> pd.DataFrame:
    """Read and validate a CSV of points with columns ``id``, ``latitude``, ``longitude``."""
    if not path.is_file():
        raise InvalidArgumentError(f"--points: no such file {path}")
    try:
        frame = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise InvalidArgumentError(f"--points: cannot read {path} as CSV: {e}") from None
    return validate_points(frame, source=str(path))


def validate_points(points: pd.DataFrame, source: str = "points") -> pd.DataFrame:
    """Points as (id: str, latitude: float, longitude: float) with unique ids and valid ranges."""
    columns = {str(c).strip().lower(): c for c in points.columns}
    missing = [c for c in ("id", "latitude", "longitude") if c not in columns]
    if missing:
        raise InvalidArgumentError(
            f"{source}: missing column(s) {', '.join(missing)}; expected columns id, latitude, "
            f"longitude (found {', '.join(map(str, points.columns)) or 'none'})"
        )
    if len(points) == 0:
        raise InvalidArgumentError(f"{source}: no points")
    ids = points[columns["id"]].astype(str).str.strip()
    if (ids == "").any() or points[columns["id"]].isna().any():
        raise InvalidArgumentError(f"{source}: every point needs an id")
    duplicated = sorted(set(ids[ids.duplicated()]))
    if duplicated:
        raise InvalidArgumentError(f"{source}: duplicate point id(s) {', '.join(duplicated)}")
    result = pd.DataFrame({"id": ids.to_numpy()})
    for name, limit in (("latitude", 90.0), ("longitude", 360.0)):
        values = pd.to_numeric(points[columns[name]], errors="coerce").to_numpy(np.float64)
        low = -90.0 if name == "latitude" else -180.0
        bad = ~np.isfinite(values) | (values < low) | (values > limit)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise InvalidArgumentError(
                f"{source}: point {ids.iloc[first]!r} has {name} "
                f"{points[columns[name]].iloc[first]!r}; expected a number from {low:g} to "
                f"{limit:g}"
            )
        result[name] = values
    return result


# ---- finding the nearest grid cell ---------------------------------------------------------------


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


# ---- extraction ----------------------------------------------------------------------------------


def append_dim_of(ds: xr.Dataset) -> str:
    """``init_time`` for forecasts, ``time`` for analyses."""
    for dim in ("init_time", "time"):
        if dim in ds.dims:
            return dim
    raise InvalidArgumentError(f"no init_time or time dimension in {', '.join(map(str, ds.dims))}")


def check_variables(ds: xr.Dataset, variables: Sequence[str] | None) -> list[str]:
    known = [str(name) for name in ds.data_vars]
    if not variables:
        return known
    unknown = [v for v in variables if v not in known]
    if unknown:
        raise InvalidArgumentError(
            f"unknown variable(s) {', '.join(unknown)}; known: {', '.join(known)}"
        )
    return list(dict.fromkeys(variables))


def time_slice(ds: xr.Dataset, dim: str, start: datetime | None, end: datetime | None) -> slice:
    """Positions along `dim` from `start` (inclusive) to `end` (exclusive); never empty."""
    index = pd.DatetimeIndex(ds.indexes[dim])
    lo = 0 if start is None else int(index.searchsorted(pd.Timestamp(start), side="left"))
    hi = len(index) if end is None else int(index.searchsorted(pd.Timestamp(end), side="left"))
    if hi <= lo:
        available = (
            f"{index[0]:%Y-%m-%dT%H:%M} to {index[-1]:%Y-%m-%dT%H:%M}" if len(index) else "none"
        )
        raise InvalidArgumentError(
            f"no {dim} values from {start or 'the start'} to {end or 'the end'} "
            f"(available: {available})"
        )
    return slice(lo, hi)


def extract_points(
    ds: xr.Dataset,
    points: pd.DataFrame,
    variables: Sequence[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pd.DataFrame:
    """Values at the nearest grid cell of every point, as a tidy table.

    Columns: ``point_id``, the requested ``latitude``/``longitude``, ``grid_latitude``/
    ``grid_longitude``, the time keys (``init_time``, ``lead_time``, ``valid_time`` for forecasts;
    ``time`` for analyses), then one column per variable. `start`/`end` select the append dim
    (start inclusive, end exclusive). Rows are ordered by point, then time.

    Many points over a long range are read in batches of neighbouring points (at most
    ``MAX_VALUES_PER_READ`` values per variable and read), so memory stays bounded and a chunk
    shared by neighbours is read once.
    """
    pts = validate_points(points)
    names = check_variables(ds, variables)
    append_dim = append_dim_of(ds)
    cells = locate_points(ds, pts)
    horizontal = set(cells.indexers)
    subset = ds[names]
    subset = subset.drop_vars(
        [
            name
            for name, coord in subset.coords.items()
            if not coord.dims or set(coord.dims) & horizontal
        ]
    )
    subset = subset.isel({append_dim: time_slice(ds, append_dim, start, end)})
    steps = int(np.prod([subset.sizes[d] for d in subset[names[0]].dims if d not in horizontal]))
    batch = max(1, MAX_VALUES_PER_READ // max(steps, 1))
    if len(pts) <= batch:
        return _extract_batch(subset, names, pts, cells, np.arange(len(pts)))
    # Neighbouring cells together (sorted by the cell's indices), then back to the given order.
    order = np.lexsort(tuple(cells.indexers[d] for d in reversed(list(cells.indexers))))
    frames = [
        _extract_batch(subset, names, pts, cells, np.sort(order[i : i + batch]))
        for i in range(0, len(pts), batch)
    ]
    frame = pd.concat(frames, ignore_index=True)
    position = pd.Series(np.arange(len(pts)), index=pts["id"].to_numpy())
    rank = position.loc[frame[POINT_ID].to_numpy()].to_numpy()
    return frame.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)


def _extract_batch(
    subset: xr.Dataset, names: list[str], pts: pd.DataFrame, cells: GridCells, rows: IntArray
) -> pd.DataFrame:
    """The tidy table of the points at positions `rows` (one vectorised read per variable)."""
    picked = subset.isel(
        {dim: xr.DataArray(index[rows], dims=POINT_DIM) for dim, index in cells.indexers.items()}
    ).load()
    other_dims = [str(d) for d in picked[names[0]].dims if d != POINT_DIM]
    order = (POINT_DIM, *other_dims)
    shape = tuple(picked.sizes[d] for d in order)
    n_rows = int(np.prod(shape))
    grids = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    point_pos = rows[grids[0].ravel()]
    columns: dict[str, Any] = {
        POINT_ID: pts["id"].to_numpy()[point_pos],
        "latitude": pts["latitude"].to_numpy()[point_pos],
        "longitude": pts["longitude"].to_numpy()[point_pos],
        GRID_LATITUDE: cells.grid_latitude[point_pos],
        GRID_LONGITUDE: cells.grid_longitude[point_pos],
    }
    for dim, positions in zip(other_dims, grids[1:], strict=True):
        columns[dim] = picked[dim].values[positions.ravel()]
    if "lead_time" in other_dims and "init_time" in other_dims:
        if "valid_time" in picked.coords:
            valid = picked["valid_time"].broadcast_like(picked[names[0]]).transpose(*order)
            columns["valid_time"] = valid.values.reshape(n_rows)
        else:
            columns["valid_time"] = columns["init_time"] + columns["lead_time"]
    for name in names:
        columns[name] = picked[name].transpose(*order).values.reshape(n_rows)
    return pd.DataFrame(columns)


def key_columns(frame: pd.DataFrame) -> list[str]:
    """Columns identifying a row: the point id and the time keys (valid_time for lead_time)."""
    keys = [POINT_ID, *(c for c in TIME_KEY_CANDIDATES if c in frame.columns)]
    if "lead_time" in frame.columns:
        # DuckDB cannot index INTERVAL columns; init_time + valid_time identify the lead time.
        keys.append("valid_time" if "valid_time" in frame.columns else "lead_time")
    return keys


# ---- writing -------------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_output_path(output: Path) -> None:
    """Fail early on an output file we cannot write (unknown extension, missing folder)."""
    if output.suffix.lower() not in OUTPUT_FORMATS:
        raise InvalidArgumentError(
            f"--output {output}: unknown extension {output.suffix or '(none)'!r}; use one of "
            f"{', '.join(OUTPUT_FORMATS)}"
        )
    if not output.parent.is_dir():
        raise InvalidArgumentError(f"--output {output}: folder {output.parent} does not exist")


def write_points(frame: pd.DataFrame, output: Path, table: str = "points") -> int:
    """Write an extracted table to .csv, .parquet or .duckdb (upsert into `table`); rows written."""
    check_output_path(output)
    suffix = output.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(output, index=False, date_format="%Y-%m-%dT%H:%M:%S")
    elif suffix == ".parquet":
        _write_parquet(frame, output)
    else:
        _upsert_duckdb(frame, output, table)
    return len(frame)


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    # DuckDB's writer (a dependency already): pyarrow, which pandas would need, is not one. With
    # pyarrow installed, pandas imports it at start-up, and it starts a thread in every process.
    import duckdb

    with duckdb.connect() as con:
        con.register("points_frame", frame)
        con.execute(f"COPY points_frame TO {_literal(str(path))} (FORMAT parquet)")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _upsert_duckdb(frame: pd.DataFrame, path: Path, table: str) -> None:
    import duckdb

    keys = key_columns(frame)
    columns = [str(c) for c in frame.columns]
    with duckdb.connect(str(path)) as con:
        con.register("incoming_points", frame)
        types = {
            str(row[0]): str(row[1])
            for row in con.execute("DESCRIBE SELECT * FROM incoming_points").fetchall()
        }
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchone()
        if exists is None or exists[0] == 0:
            definitions = ", ".join(f"{_quote(c)} {types[c]}" for c in columns)
            con.execute(
                f"CREATE TABLE {_quote(table)} ({definitions}, "
                f"PRIMARY KEY ({', '.join(map(_quote, keys))}))"
            )
        else:
            primary = con.execute(
                "SELECT constraint_column_names FROM duckdb_constraints() "
                "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'",
                [table],
            ).fetchone()
            if primary is None or list(primary[0]) != keys:
                raise InvalidArgumentError(
                    f"{path}: table {table!r} exists with a different key "
                    f"({', '.join(primary[0]) if primary else 'none'}; need {', '.join(keys)}); "
                    f"choose another table or file"
                )
            present = {str(row[0]) for row in con.execute(f"DESCRIBE {_quote(table)}").fetchall()}
            for c in columns:
                if c not in present:
                    con.execute(f"ALTER TABLE {_quote(table)} ADD COLUMN {_quote(c)} {types[c]}")
        select = ", ".join(
            f"CASE WHEN isnan({_quote(c)}) THEN NULL ELSE {_quote(c)} END AS {_quote(c)}"
            if types[c] in ("FLOAT", "DOUBLE")
            else _quote(c)
            for c in columns
        )
        updates = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in columns if c not in keys)
        con.execute(
            f"INSERT INTO {_quote(table)} ({', '.join(map(_quote, columns))}) "
            f"SELECT {select} FROM incoming_points "
            f"ON CONFLICT ({', '.join(map(_quote, keys))}) DO UPDATE SET {updates}"
        )
        con.unregister("incoming_points")


# ---- measuring reads -----------------------------------------------------------------------------


@dataclass
class ReadStats:
    """Requests and bytes a store served (shared by every copy of a CountingStore)."""

    requests: int = 0
    bytes_read: int = 0
    keys: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, key: str, buffers: Iterable[Buffer | None]) -> None:
        with self._lock:
            for buffer in buffers:
                self.requests += 1
                if buffer is not None:
                    self.bytes_read += len(buffer)
                    self.keys.add(key)


class CountingStore(WrapperStore[Store]):
    """A read-through Zarr store wrapper that counts the requests and bytes it serves."""

    def __init__(self, store: Store, stats: ReadStats | None = None) -> None:
        super().__init__(store)
        self.stats = stats if stats is not None else ReadStats()

    def _with_store(self, store: Store) -> Self:
        return type(self)(store, self.stats)

    async def get(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        buffer = await self._store.get(key, prototype, byte_range)
        self.stats.record(key, [buffer])
        return buffer

    def get_sync(
        self,
        key: str,
        *,
        prototype: BufferPrototype | None = None,
        byte_range: ByteRequest | None = None,
    ) -> Buffer | None:
        buffer = super().get_sync(key, prototype=prototype, byte_range=byte_range)
        self.stats.record(key, [buffer])
        return buffer

    async def get_partial_values(
        self,
        prototype: BufferPrototype,
        key_ranges: Iterable[tuple[str, ByteRequest | None]],
    ) -> list[Buffer | None]:
        ranges = list(key_ranges)
        buffers = await self._store.get_partial_values(prototype, ranges)
        for (key, _), buffer in zip(ranges, buffers, strict=True):
            self.stats.record(key, [buffer])
        return buffers

    async def get_ranges(
        self,
        key: str,
        byte_ranges: Sequence[ByteRequest | None],
        *,
        prototype: BufferPrototype,
        max_concurrency: int | None = None,
        max_gap_bytes: int | None = None,
        max_coalesced_bytes: int | None = None,
    ) -> AsyncIterator[Sequence[tuple[int, Buffer | None]]]:
        async for group in super().get_ranges(
            key,
            byte_ranges,
            prototype=prototype,
            max_concurrency=max_concurrency,
            max_gap_bytes=max_gap_bytes,
            max_coalesced_bytes=max_coalesced_bytes,
        ):
            self.stats.record(key, [buffer for _, buffer in group])
            yield group


def open_store(store: Store) -> xr.Dataset:
    """Lazily open a dataset store (no dask; arrays are read on indexing)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
        warnings.filterwarnings("ignore", message="Failed to open Zarr store with consolidated")
        ds: xr.Dataset = xr.open_zarr(store, decode_timedelta=True, chunks=None)
    return ds


# ---- benchmark -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchmarkResult:
    seconds: float
    bytes_read: int
    requests: int
    rows: int
    store_bytes: int
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    duckdb_seconds: float
    """Time to upsert the extracted rows into a new DuckDB file."""


def write_benchmark_store(
    path: Path,
    hours: int,
    grid: tuple[int, int],
    chunks: tuple[int, int, int],
    shards: tuple[int, int, int],
) -> None:
    """An hourly analysis-shaped store (time, latitude, longitude) with one smooth variable."""
    lat = np.linspace(90.0, -90.0, grid[0])
    lon = np.linspace(-180.0, 180.0, grid[1], endpoint=False)
    times = pd.date_range("2024-01-01", periods=hours, freq="h")
    encoding = {"temperature_2m": {"chunks": chunks, "shards": shards}}
    lat_r, lon_r = np.deg2rad(lat)[:, None], np.deg2rad(lon)[None, :]
    block = shards[0]
    for first in range(0, hours, block):
        block_times = times[first : first + block]
        hours_since = np.arange(first, first + len(block_times), dtype=np.float32)[:, None, None]
        values = (15 + 20 * np.cos(lat_r) * np.sin(lon_r + hours_since / 24 * 2 * np.pi)).astype(
            np.float32
        )
        piece = xr.Dataset(
            {
                "temperature_2m": xr.Variable(
                    ("time", "latitude", "longitude"),
                    values,
                    attrs={"units": "degree_Celsius", "long_name": "2 metre temperature"},
                )
            },
            coords={"time": block_times, "latitude": lat, "longitude": lon},
        )
        if first == 0:
            piece.to_zarr(path, mode="w", zarr_format=3, encoding=encoding, consolidated=False)
        else:
            piece.to_zarr(path, append_dim="time", zarr_format=3, consolidated=False)


def benchmark_extraction(
    folder: Path,
    hours: int = 8760,
    n_points: int = 100,
    grid: tuple[int, int] = (181, 360),
    chunks: tuple[int, int, int] = (730, 32, 32),
    shards: tuple[int, int, int] = (2190, 64, 64),
    seed: int = 0,
) -> BenchmarkResult:
    """Time extracting `n_points` random points over `hours` hourly steps from a local store.

    The store is written into `folder` once (reused on later calls with the same shape).
    """
    from zarr.storage import LocalStore

    name = f"bench-{hours}h-{grid[0]}x{grid[1]}-{'x'.join(map(str, chunks))}.zarr"
    path = folder / name
    if not (path / "zarr.json").exists():
        folder.mkdir(parents=True, exist_ok=True)
        write_benchmark_store(path, hours, grid, chunks, shards)
    store_bytes = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    rng = np.random.default_rng(seed)
    points = pd.DataFrame(
        {
            "id": [f"p{i:03d}" for i in range(n_points)],
            "latitude": rng.uniform(-90, 90, n_points),
            "longitude": rng.uniform(-180, 180, n_points),
        }
    )
    counting = CountingStore(LocalStore(path, read_only=True))
    started = time_module.perf_counter()
    ds = open_store(counting)
    frame = extract_points(ds, points)
    seconds = time_module.perf_counter() - started
    database = folder / "benchmark.duckdb"
    database.unlink(missing_ok=True)
    started = time_module.perf_counter()
    write_points(frame, database)
    duckdb_seconds = time_module.perf_counter() - started
    database.unlink()
    return BenchmarkResult(
        seconds=seconds,
        bytes_read=counting.stats.bytes_read,
        requests=counting.stats.requests,
        rows=len(frame),
        store_bytes=store_bytes,
        shape=(hours, *grid),
        chunks=chunks,
        duckdb_seconds=duckdb_seconds,
    )


def _benchmark_main(argv: Sequence[str]) -> None:
    """``python -m reformatters.tools.points [FOLDER [CHUNKS [SHARDS]]]``, e.g. 730x32x32."""

    def shape(text: str) -> tuple[int, int, int]:
        t, y, x = (int(v) for v in text.split("x"))
        return t, y, x

    folder = Path(argv[0]) if argv else Path("./data/points-benchmark")
    if len(argv) > 2:
        result = benchmark_extraction(folder, chunks=shape(argv[1]), shards=shape(argv[2]))
    else:
        result = benchmark_extraction(folder)
    print(
        f"{result.rows} rows ({result.shape[0]} hours x 100 points) from a "
        f"{'x'.join(map(str, result.shape))} store (chunks {'x'.join(map(str, result.chunks))}, "
        f"{result.store_bytes / 1e6:.0f} MB on disk): {result.seconds:.2f} s, read "
        f"{result.bytes_read / 1e6:.1f} MB in {result.requests} requests; DuckDB upsert "
        f"{result.duckdb_seconds:.2f} s"
    )


if __name__ == "__main__":
    _benchmark_main(sys.argv[1:])
