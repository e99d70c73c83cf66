"""The tidy table of values at the points: one row per point and time step."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from reformatters.core.errors import InvalidArgumentError
from reformatters.tools.points.grid import POINT_DIM, GridCells, IntArray, locate_points
from reformatters.tools.points.members import ENSEMBLE_DIM, member_positions
from reformatters.tools.points.sites import validate_points

POINT_ID = "point_id"
GRID_LATITUDE = "grid_latitude"
GRID_LONGITUDE = "grid_longitude"
POINT_COLUMNS = (POINT_ID, "latitude", "longitude", GRID_LATITUDE, GRID_LONGITUDE)
MAX_VALUES_PER_READ = 4_000_000
"""Points x time steps read per variable in one vectorised selection (bounds memory)."""


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
    ensemble_members: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Values at the nearest grid cell of every point, as a tidy table.

    Columns: ``point_id``, the requested ``latitude``/``longitude``, ``grid_latitude``/
    ``grid_longitude``, the time keys (``init_time``, ``lead_time``, ``valid_time`` for forecasts;
    ``time`` for analyses; ``ensemble_member`` too for ensembles, in the store's dim order), then
    one column per variable. `start`/`end` select the append dim (start inclusive, end exclusive);
    `ensemble_members` the members (member numbers; default all). Rows are ordered by point, then
    the store's dims (an ensemble forecast: init time, member, lead time).

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
    if ensemble_members is not None:
        subset = subset.isel({ENSEMBLE_DIM: member_positions(ds, ensemble_members)})
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
