"""PNG plots of a dataset: a map of one field and a time series at one point.

Rendering uses matplotlib's Agg canvas through ``matplotlib.figure.Figure`` (no pyplot state, no
display, no downloaded map data). Regular grids are drawn on longitude/latitude axes; projected
grids on their own x/y axes in kilometres. When no time is given, the latest time step holding any
data is plotted. Ensembles (an ``ensemble_member`` dim): a map shows one member (the control by
default) or the mean or spread over members; a time series is a plume of every member, the
control highlighted, and the ensemble mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from reformatters.core.errors import InvalidArgumentError
from reformatters.tools.points.extract import append_dim_of, check_variables, time_slice
from reformatters.tools.points.grid import grid_kind, locate_points
from reformatters.tools.points.members import (
    CONTROL_MEMBER,
    ENSEMBLE_DIM,
    EnsembleStatistic,
    has_members,
    member_label,
    member_positions,
    member_statistic,
    require_members,
)
from reformatters.tools.points.sites import validate_points

LATEST_SEARCH_STEPS = 48
FORECAST_SEARCH_INITS = 8
FORECAST_SEARCH_LEADS = 3
DEFAULT_ANALYSIS_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class TimeSelection:
    """Which field to map: positions along the non-spatial dims and a human-readable label."""

    positions: dict[str, int]
    label: str


def parse_lead_time(value: str) -> timedelta:
    """A lead time as hours (``6``), a pandas offset (``6h``, ``90min``) or ISO 8601 (``PT6H``)."""
    text = value.strip()
    try:
        if text.replace(".", "", 1).isdigit():
            return timedelta(hours=float(text))
        return pd.Timedelta(text).to_pytimedelta()
    except ValueError:
        raise InvalidArgumentError(
            f"--lead-time: {value!r} is not a lead time (e.g. 6, 6h, PT6H)"
        ) from None


def _position(ds: xr.Dataset, dim: str, value: Any, option: str) -> int:
    index = ds.indexes[dim]
    matches = np.flatnonzero(index == pd.Timestamp(value) if dim != "lead_time" else index == value)
    if len(matches) == 0:
        shown = (
            f"{index[0]} to {index[-1]}"
            if dim == "lead_time"
            else f"{index[0]:%Y-%m-%dT%H:%M} to {index[-1]:%Y-%m-%dT%H:%M}"
        )
        raise InvalidArgumentError(f"{option}: {value} is not in the dataset ({dim} {shown})")
    return int(matches[0])


def _has_data(da: xr.DataArray) -> bool:
    return bool(np.isfinite(np.asarray(da.values)).any())


def _latest_with_data(da: xr.DataArray, dim: str) -> int:
    """The last position along `dim` whose data holds a finite value (the last one if none do)."""
    last = da.sizes[dim] - 1
    for position in range(last, max(-1, last - LATEST_SEARCH_STEPS), -1):
        if _has_data(da.isel({dim: position})):
            return position
    return last


def _latest_forecast_field(
    da: xr.DataArray, init_time: datetime | None, lead_time: timedelta | None, ds: xr.Dataset
) -> tuple[int, int]:
    """(init, lead) positions: the given ones, else the latest run and earliest lead with data.

    Accumulated and averaged variables have no value at lead 0, so the first few leads are tried.
    """
    if init_time is not None:
        inits = [_position(ds, "init_time", init_time, "--init-time")]
    else:
        last = da.sizes["init_time"] - 1
        inits = list(range(last, max(-1, last - FORECAST_SEARCH_INITS), -1))
    if lead_time is not None:
        leads = [_position(ds, "lead_time", lead_time, "--lead-time")]
    else:
        leads = list(range(min(FORECAST_SEARCH_LEADS, da.sizes["lead_time"])))
    if len(inits) == 1 and len(leads) == 1:
        return inits[0], leads[0]
    for init_pos in inits:
        for lead_pos in leads:
            if _has_data(da.isel(init_time=init_pos, lead_time=lead_pos)):
                return init_pos, lead_pos
    return inits[0], leads[0]


def _fmt(value: Any) -> str:
    return f"{pd.Timestamp(value):%Y-%m-%d %H:%M} UTC"


def _fmt_lead(value: Any) -> str:
    hours = pd.Timedelta(value) / pd.Timedelta(hours=1)
    return f"{hours:g} h"


def select_map_time(
    ds: xr.Dataset,
    variable: str,
    time: datetime | None = None,
    init_time: datetime | None = None,
    lead_time: timedelta | None = None,
) -> TimeSelection:
    da = ds[variable]
    append_dim = append_dim_of(ds)
    if append_dim == "init_time":
        if time is not None:
            raise InvalidArgumentError("--time is for analyses; use --init-time and --lead-time")
        init_pos, lead_pos = _latest_forecast_field(da, init_time, lead_time, ds)
        positions = {"init_time": init_pos, "lead_time": lead_pos}
        init = ds["init_time"].values[init_pos]
        lead = ds["lead_time"].values[lead_pos]
        label = f"init {_fmt(init)} + {_fmt_lead(lead)} (valid {_fmt(init + lead)})"
    else:
        if init_time is not None or lead_time is not None:
            raise InvalidArgumentError("--init-time/--lead-time are for forecasts; use --time")
        pos = (
            _latest_with_data(da, append_dim)
            if time is None
            else _position(ds, append_dim, time, "--time")
        )
        positions = {append_dim: pos}
        label = _fmt(ds[append_dim].values[pos])
    for dim in da.dims:
        if dim not in positions and dim not in ("latitude", "longitude", "x", "y", ENSEMBLE_DIM):
            positions[str(dim)] = 0
    return TimeSelection(positions=positions, label=label)


def _title_name(da: xr.DataArray, variable: str) -> str:
    return str(da.attrs.get("long_name") or variable)


def _units(da: xr.DataArray) -> str:
    return str(da.attrs.get("units", "")) or "no units"


def _dataset_name(ds: xr.Dataset) -> str:
    return str(ds.attrs.get("dataset_id") or ds.attrs.get("name") or "dataset")


def _map_members(
    ds: xr.Dataset, member: int | None, statistic: EnsembleStatistic | None
) -> tuple[xr.Dataset, str]:
    """The dataset to map (one member chosen, unless a statistic over members is asked for)."""
    if statistic is not None:
        require_members(ds, "--ensemble-statistic")
        if member is not None:
            raise InvalidArgumentError("use --ensemble-member or --ensemble-statistic, not both")
        n = ds.sizes[ENSEMBLE_DIM]
        if statistic == "spread":
            return ds, f"ensemble spread (standard deviation of {n} members)"
        return ds, f"ensemble mean of {n} members"
    if member is None and not has_members(ds):
        return ds, ""
    position = 0 if member is None else member_positions(ds, [member])[0]
    chosen = ds.isel({ENSEMBLE_DIM: position})
    return chosen, member_label(int(chosen[ENSEMBLE_DIM].values))


def map_figure(
    ds: xr.Dataset,
    variable: str,
    time: datetime | None = None,
    init_time: datetime | None = None,
    lead_time: timedelta | None = None,
    ensemble_member: int | None = None,
    ensemble_statistic: EnsembleStatistic | None = None,
) -> Figure:
    """One 2-D field of `variable`; the latest field with data by default.

    Ensembles: `ensemble_member` (a member number; default the first, the control) or the
    `ensemble_statistic` over all members.
    """
    check_variables(ds, [variable])
    field_ds, members = _map_members(ds, ensemble_member, ensemble_statistic)
    selection = select_map_time(field_ds, variable, time, init_time, lead_time)
    da = field_ds[variable].isel(selection.positions)
    if ensemble_statistic is not None:
        by_member = np.asarray(da.transpose(ENSEMBLE_DIM, ...).values, dtype=np.float64)
        values = member_statistic(by_member, ensemble_statistic)
    else:
        values = np.asarray(da.values, dtype=np.float64)
    fig = Figure(figsize=(10, 6), layout="constrained")
    ax = fig.add_subplot()
    finite = values[np.isfinite(values)]
    vmin, vmax = (
        (float(np.percentile(finite, 1)), float(np.percentile(finite, 99)))
        if finite.size
        else (0.0, 1.0)
    )
    projected = grid_kind(ds) == "projected"
    if projected:
        xs, ys = np.asarray(ds["x"].values) / 1000.0, np.asarray(ds["y"].values) / 1000.0
        labels = ("x (km, projected)", "y (km, projected)")
    else:
        xs, ys = np.asarray(ds["longitude"].values), np.asarray(ds["latitude"].values)
        labels = ("longitude (degrees east)", "latitude (degrees north)")
    mesh = ax.pcolormesh(xs, ys, values, shading="nearest", cmap="viridis", vmin=vmin, vmax=vmax)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_aspect("equal")
    if projected and "latitude" in ds.coords and "longitude" in ds.coords:
        _draw_graticule(ax, ds)
    colorbar = fig.colorbar(mesh, ax=ax, shrink=0.85)
    colorbar.set_label(f"{_title_name(da, variable)} ({_units(da)})")
    empty = "" if finite.size else " [no data]"
    label = f"{selection.label}, {members}" if members else selection.label
    ax.set_title(f"{_dataset_name(ds)}: {_title_name(da, variable)}{empty}\n{label}", fontsize=11)
    return fig


def plot_map(
    ds: xr.Dataset,
    variable: str,
    output: Path,
    time: datetime | None = None,
    init_time: datetime | None = None,
    lead_time: timedelta | None = None,
    ensemble_member: int | None = None,
    ensemble_statistic: EnsembleStatistic | None = None,
) -> Path:
    """Render ``map_figure`` to a PNG."""
    check_variables(ds, [variable])
    _check_png(output)
    fig = map_figure(ds, variable, time, init_time, lead_time, ensemble_member, ensemble_statistic)
    fig.savefig(output, dpi=100)
    return output


def _draw_graticule(ax: Any, ds: xr.Dataset) -> None:
    """Latitude/longitude contours over a projected map (the 2-D coordinates, no map data)."""
    x = np.asarray(ds["x"].values) / 1000.0
    y = np.asarray(ds["y"].values) / 1000.0
    lat = np.asarray(ds["latitude"].values)
    lon = np.asarray(ds["longitude"].values)
    for field, step in ((lat, 5.0), (lon, 10.0)):
        levels = np.arange(np.floor(field.min() / step) * step, field.max() + step, step)
        contours = ax.contour(x, y, field, levels=levels, colors="white", linewidths=0.5)
        ax.clabel(contours, fontsize=7, fmt="%g°")


def _check_png(output: Path) -> None:
    if output.suffix.lower() != ".png":
        raise InvalidArgumentError(f"--output {output}: plots are written as .png")
    if not output.parent.is_dir():
        raise InvalidArgumentError(f"--output {output}: folder {output.parent} does not exist")


def _draw_plume(ax: Any, times: Any, series: xr.DataArray) -> None:
    """Every member as a thin line, the control highlighted, the ensemble mean thick."""
    values = np.asarray(series.transpose(ENSEMBLE_DIM, ...).values, dtype=np.float64)
    members = [int(m) for m in series[ENSEMBLE_DIM].values]
    perturbed = [i for i, m in enumerate(members) if m != CONTROL_MEMBER]
    for n, i in enumerate(perturbed):
        label = f"perturbed members ({len(perturbed)})" if n == 0 else "_nolegend_"
        ax.plot(times, values[i], color="tab:gray", linewidth=0.7, alpha=0.7, label=label)
    for i, member in enumerate(members):
        if member == CONTROL_MEMBER:
            ax.plot(times, values[i], color="tab:red", linewidth=1.5, label=member_label(member))
    mean = member_statistic(values, "mean")
    ax.plot(times, mean, color="black", linewidth=2.8, label="ensemble mean")
    ax.legend(loc="best", fontsize=9)


def timeseries_figure(
    ds: xr.Dataset,
    variable: str,
    latitude: float,
    longitude: float,
    init_time: datetime | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Figure:
    """`variable` at the grid cell nearest to (latitude, longitude) over time.

    Forecasts: one run over its lead times (the latest run with data unless `init_time` is given).
    Analyses: `start` to `end` (default the last 30 days of the dataset). Ensembles: a plume of
    every member, the control and the ensemble mean.
    """
    check_variables(ds, [variable])
    point = validate_points(
        pd.DataFrame({"id": ["point"], "latitude": [latitude], "longitude": [longitude]}),
        source="--latitude/--longitude",
    )
    cells = locate_points(ds, point)
    da = ds[variable].isel({dim: int(index[0]) for dim, index in cells.indexers.items()})
    append_dim = append_dim_of(ds)
    for dim in da.dims:
        if dim not in (append_dim, "lead_time", ENSEMBLE_DIM):
            da = da.isel({dim: 0})
    if append_dim == "init_time":
        if start is not None or end is not None:
            raise InvalidArgumentError("--start/--end are for analyses; use --init-time")
        if init_time is None:
            init_pos = _latest_with_data(da, "init_time")
        else:
            init_pos = _position(ds, "init_time", init_time, "--init-time")
        series = da.isel(init_time=init_pos).load()
        init = ds["init_time"].values[init_pos]
        times = init + ds["lead_time"].values
        subtitle = f"forecast initialised {_fmt(init)}"
        xlabel = "valid time (UTC)"
    else:
        if init_time is not None:
            raise InvalidArgumentError("--init-time is for forecasts; use --start/--end")
        index = pd.DatetimeIndex(ds.indexes[append_dim])
        if start is None:
            last = index[_latest_with_data(da, append_dim)] if end is None else pd.Timestamp(end)
            start = (last - DEFAULT_ANALYSIS_WINDOW).to_pydatetime()
            end = end or (last + pd.Timedelta(seconds=1)).to_pydatetime()
        series = da.isel({append_dim: time_slice(ds, append_dim, start, end)}).load()
        times = series[append_dim].values
        subtitle = f"{_fmt(times[0])} to {_fmt(times[-1])}"
        xlabel = "time (UTC)"
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax = fig.add_subplot()
    if has_members(series):
        _draw_plume(ax, times, series)
        subtitle += f", {series.sizes[ENSEMBLE_DIM]} members"
    else:
        values = np.asarray(series.values, dtype=np.float64)
        marker = "." if len(values) < 80 else ""
        ax.plot(times, values, color="tab:blue", linewidth=1.5, marker=marker)
        ax.fill_between(
            times,
            values,
            np.nanmin(values) if np.isfinite(values).any() else 0.0,
            color="tab:blue",
            alpha=0.15,
        )
    ax.grid(True, alpha=0.4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{_title_name(series, variable)} ({_units(series)})")
    grid_lat, grid_lon = float(cells.grid_latitude[0]), float(cells.grid_longitude[0])
    ax.set_title(
        f"{_dataset_name(ds)}: {_title_name(series, variable)} at {latitude:.3f}, "
        f"{longitude:.3f} (grid cell {grid_lat:.3f}, {grid_lon:.3f})\n{subtitle}",
        fontsize=11,
    )
    fig.autofmt_xdate()
    return fig


def plot_timeseries(
    ds: xr.Dataset,
    variable: str,
    latitude: float,
    longitude: float,
    output: Path,
    init_time: datetime | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Path:
    """Render ``timeseries_figure`` to a PNG."""
    check_variables(ds, [variable])
    _check_png(output)
    fig = timeseries_figure(ds, variable, latitude, longitude, init_time, start, end)
    fig.savefig(output, dpi=100)
    return output
