"""Plots render non-blank PNGs for regular, forecast and projected grids."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import synthetic_stores as stores
from matplotlib.figure import Figure
from matplotlib.image import imread
from zarr.storage import LocalStore

from reformatters.core.errors import InvalidArgumentError
from reformatters.tools.plots import (
    map_figure,
    parse_lead_time,
    plot_map,
    plot_timeseries,
    select_map_time,
    timeseries_figure,
)
from reformatters.tools.points.store import open_store


def assert_rich_png(path: Path, min_colours: int = 50, min_ink: float = 0.2) -> None:
    assert path.stat().st_size > 10_000
    image = imread(path)
    height, width = image.shape[:2]
    assert height >= 300 and width >= 600
    rgb = (image[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    colours = np.unique(rgb, axis=0)
    assert len(colours) >= min_colours, len(colours)
    not_white = np.any(rgb < 245, axis=1).mean()
    assert not_white > min_ink, not_white


STORES = {
    "forecast": stores.write_forecast_store,
    "analysis": stores.write_analysis_store,
    "lambert": stores.write_lambert_store,
}


@pytest.mark.parametrize("kind", sorted(STORES))
def test_map_and_timeseries_render(tmp_path: Path, kind: str) -> None:
    path = STORES[kind](tmp_path / f"{kind}.zarr")
    ds = open_store(LocalStore(path, read_only=True))
    map_png = plot_map(ds, "temperature_2m", tmp_path / "map.png")
    assert_rich_png(map_png)
    ts_png = plot_timeseries(ds, "precipitation_surface", 39.5, -98.0, tmp_path / "ts.png")
    assert_rich_png(ts_png, min_colours=20)


def test_map_default_is_latest_time_with_data() -> None:
    ds = stores.analysis_dataset(hours=10)
    ds["temperature_2m"][-3:] = np.nan
    selection = select_map_time(ds, "temperature_2m")
    assert selection.positions == {"time": 6}
    assert "2024-03-01 06:00" in selection.label
    forecast = stores.forecast_dataset()
    chosen = select_map_time(forecast, "temperature_2m", lead_time=timedelta(hours=6))
    assert chosen.positions == {"init_time": 2, "lead_time": 2}
    assert "valid 2024-03-01 18:00" in chosen.label
    # An accumulation has no lead-0 value, and the newest run is not written yet.
    forecast["precipitation_surface"][:, 0] = np.nan
    forecast["precipitation_surface"][-1] = np.nan
    chosen = select_map_time(forecast, "precipitation_surface")
    assert chosen.positions == {"init_time": 1, "lead_time": 1}
    assert "init 2024-03-01 06:00 UTC + 3 h" in chosen.label


def test_map_explicit_times_and_errors(tmp_path: Path) -> None:
    forecast = stores.forecast_dataset()
    init = pd.Timestamp("2024-03-01T06").to_pydatetime()
    out = plot_map(
        forecast, "temperature_2m", tmp_path / "f.png", init_time=init, lead_time=timedelta(hours=3)
    )
    assert_rich_png(out)
    with pytest.raises(InvalidArgumentError, match="--init-time"):
        select_map_time(forecast, "temperature_2m", init_time=pd.Timestamp("2020-01-01"))
    with pytest.raises(InvalidArgumentError, match="--time is for analyses"):
        select_map_time(forecast, "temperature_2m", time=init)
    with pytest.raises(InvalidArgumentError, match="unknown variable"):
        plot_map(forecast, "nope", tmp_path / "x.png")
    with pytest.raises(InvalidArgumentError, match=r"\.png"):
        plot_map(forecast, "temperature_2m", tmp_path / "x.jpg")


def test_timeseries_analysis_window_and_outside_point(tmp_path: Path) -> None:
    ds = stores.lambert_dataset()
    start = pd.Timestamp("2024-03-01T01").to_pydatetime()
    out = plot_timeseries(ds, "temperature_2m", 35.0, -95.0, tmp_path / "t.png", start=start)
    assert_rich_png(out, min_colours=20)
    with pytest.raises(InvalidArgumentError, match="outside the projected Lambert"):
        plot_timeseries(ds, "temperature_2m", -35.0, 20.0, tmp_path / "t.png")


@pytest.mark.parametrize(
    ("text", "hours"), [("6", 6.0), ("6h", 6.0), ("PT90M", 1.5), ("1 day", 24.0)]
)
def test_parse_lead_time(text: str, hours: float) -> None:
    assert parse_lead_time(text) == timedelta(hours=hours)


def test_parse_lead_time_rejects_garbage() -> None:
    with pytest.raises(InvalidArgumentError, match="--lead-time"):
        parse_lead_time("soon")


def test_ensemble_timeseries_is_a_plume(tmp_path: Path) -> None:
    path = stores.write_ensemble_store(tmp_path / "ensemble.zarr")
    ds = open_store(LocalStore(path, read_only=True))
    fig = timeseries_figure(ds, "temperature_2m", 39.5, -98.0)
    ax = fig.axes[0]
    assert len(ax.lines) == 4 + 1  # every member, then the mean
    widths = [line.get_linewidth() for line in ax.lines]
    assert widths[-1] > widths[0] and widths[-1] > max(widths[:-1])
    legend = ax.get_legend()
    assert legend is not None
    labels = [text.get_text() for text in legend.get_texts()]
    assert labels == ["perturbed members (3)", "member 0 (control)", "ensemble mean"]
    cell = ds["temperature_2m"].sel(latitude=39.0, longitude=-99.0).isel(init_time=-1).values
    control = next(line for line in ax.lines if line.get_label() == "member 0 (control)")
    np.testing.assert_array_equal(control.get_ydata(), cell[0])
    mean = np.asarray(ax.lines[-1].get_ydata(), dtype=np.float64)
    np.testing.assert_allclose(mean, cell.mean(axis=0), rtol=1e-6)
    assert "4 members" in ax.get_title()
    png = plot_timeseries(ds, "temperature_2m", 39.5, -98.0, tmp_path / "plume.png")
    assert_rich_png(png, min_colours=20, min_ink=0.05)  # lines, no filled area


def _mapped(fig: Figure) -> np.ndarray:
    return np.asarray(fig.axes[0].collections[0].get_array()).reshape(61, 120)


def test_ensemble_map_member_and_statistics(tmp_path: Path) -> None:
    path = stores.write_ensemble_store(tmp_path / "ensemble.zarr")
    ds = open_store(LocalStore(path, read_only=True))
    field = ds["temperature_2m"].isel(init_time=-1, lead_time=0).values.astype(np.float64)
    control = map_figure(ds, "temperature_2m")
    assert "member 0 (control)" in control.axes[0].get_title()
    np.testing.assert_array_equal(_mapped(control), field[0])
    second = map_figure(ds, "temperature_2m", ensemble_member=2)
    assert "member 2" in second.axes[0].get_title()
    np.testing.assert_array_equal(_mapped(second), field[2])
    mean = map_figure(ds, "temperature_2m", ensemble_statistic="mean")
    assert "ensemble mean of 4 members" in mean.axes[0].get_title()
    np.testing.assert_allclose(_mapped(mean), field.mean(axis=0))
    spread = map_figure(ds, "temperature_2m", ensemble_statistic="spread")
    assert "ensemble spread (standard deviation of 4 members)" in spread.axes[0].get_title()
    np.testing.assert_allclose(_mapped(spread), field.std(axis=0))
    png = plot_map(ds, "temperature_2m", tmp_path / "m.png", ensemble_member=3)
    assert_rich_png(png)


def test_ensemble_map_errors() -> None:
    ensemble, analysis = stores.ensemble_dataset(), stores.analysis_dataset(hours=2)
    with pytest.raises(InvalidArgumentError, match="--ensemble-member: no member 40"):
        map_figure(ensemble, "temperature_2m", ensemble_member=40)
    with pytest.raises(InvalidArgumentError, match="not both"):
        map_figure(ensemble, "temperature_2m", ensemble_member=1, ensemble_statistic="mean")
    with pytest.raises(InvalidArgumentError, match="--ensemble-member: test-analysis has no"):
        map_figure(analysis, "temperature_2m", ensemble_member=0)
    with pytest.raises(InvalidArgumentError, match="--ensemble-statistic: test-analysis has no"):
        map_figure(analysis, "temperature_2m", ensemble_statistic="spread")
