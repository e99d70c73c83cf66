"""``reformat demo``: the whole pipeline offline, in a couple of minutes, on any machine.

1. synthesize a small GFS-layout mirror (the first inits of the dataset, the first leads, every
   variable, full 0.25 degree grid) into ``<folder>/mirror``;
2. serve it on loopback with core's mirror server and point ``REFORMATTERS_SOURCE_MIRROR`` at it;
3. run the ``noaa-gfs-forecast`` backfill into ``<folder>/output``;
4. open the store with xarray, print a summary and write a PNG map of ``temperature_2m``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
import xarray as xr
from rich.console import Console
from rich.table import Table

from reformatters.core.errors import InvalidArgumentError
from reformatters.core.logging import configure_logging
from reformatters.core.sources.mirror import SOURCE_MIRROR_ENV
from reformatters.core.sources.server import serve_mirror
from reformatters.noaa.gfs.forecast.dynamical_dataset import make_forecast_dataset
from reformatters.noaa.gfs.synthesis import synthesize_gfs_mirror

DEFAULT_FOLDER = Path("data/demo")
PLOT_VARIABLE = "temperature_2m"

console = Console(width=max(Console().width, 110))


@dataclass(frozen=True)
class DemoResult:
    store: Path
    png: Path
    store_bytes: int
    seconds: float
    dataset: xr.Dataset


@contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run_demo(folder: Path = DEFAULT_FOLDER, inits: int = 2, leads: int = 4) -> DemoResult:
    """Synthesize, serve, backfill, open, summarize and plot (see the module docstring)."""
    if not 1 <= inits <= 8 or not 1 <= leads <= 12:
        raise InvalidArgumentError("--inits must be within 1..8 and --leads within 1..12")
    started = time.monotonic()
    dataset = make_forecast_dataset()
    config = dataset.template_config
    init_times = list(
        pd.date_range(config.append_dim_start, periods=inits, freq=config.append_dim_frequency)
    )
    mirror = folder / "mirror"
    output = folder / "output"
    for stale in (mirror, output):
        shutil.rmtree(stale, ignore_errors=True)

    console.print(
        f"[bold]1/4[/bold] synthesizing {inits} GFS run(s) x {leads} lead(s) "
        f"(every variable, 0.25 degree) into {mirror}"
    )
    files = synthesize_gfs_mirror(mirror, init_times, range(leads), config.data_vars)
    console.print(
        f"      {len(files)} GRIB2 files, {_folder_bytes(mirror) / 1e6:.0f} MB "
        f"({time.monotonic() - started:.0f} s)"
    )

    end = init_times[-1] + config.append_dim_frequency
    with serve_mirror(mirror) as server, _env(SOURCE_MIRROR_ENV, server.url):
        console.print(f"[bold]2/4[/bold] serving the mirror at {server.url}")
        console.print(
            f"[bold]3/4[/bold] reformat noaa-gfs-forecast backfill-local {end:%Y-%m-%dT%H} "
            f"(other leads are absent and stay NaN)"
        )
        backfill_started = time.monotonic()
        report = dataset.backfill_local(end.to_pydatetime(), output_url=str(output))
        console.print(
            f"      {report.jobs_run} region job(s), {report.bytes_written / 1e6:.1f} MB written "
            f"({time.monotonic() - backfill_started:.0f} s)"
        )

    store = Path(dataset.output_stores(str(output)).primary.url)
    console.print(f"[bold]4/4[/bold] opening {store} with xarray")
    ds = xr.open_zarr(store, decode_timedelta=True, chunks=None)
    _print_summary(ds, leads)
    png = folder / f"{PLOT_VARIABLE}.png"
    _plot(ds, png)
    seconds = time.monotonic() - started
    size = _folder_bytes(store)
    console.print(f"\nstore: [bold]{store.resolve()}[/bold] ({size / 1e6:.1f} MB on disk)")
    console.print(f"map:   [bold]{png.resolve()}[/bold]")
    console.print(f"took {timedelta(seconds=round(seconds))} (h:mm:ss)")
    console.print(f'open it: xr.open_zarr("{store}", decode_timedelta=True)')
    return DemoResult(store, png, size, seconds, ds)


def _print_summary(ds: xr.Dataset, leads: int) -> None:
    dims = ", ".join(f"{name}={size}" for name, size in ds.sizes.items())
    console.print(f"      dims: {dims}")
    inits = np.datetime_as_string(ds["init_time"].values, unit="h")
    console.print(f"      init_time: {', '.join(inits)}")
    ingested = ds["ingested_forecast_length"].values.astype("timedelta64[h]")
    console.print(f"      ingested_forecast_length: {', '.join(str(v) for v in ingested)}")
    table = Table(title=f"data variables (value ranges over leads 0-{leads - 1})")
    table.add_column("variable", no_wrap=True)
    for column in ("units", "step", "min", "max", "NaN fields"):
        table.add_column(column, no_wrap=True)
    for name, var in ds.data_vars.items():
        values = var.isel(lead_time=slice(0, leads)).values
        finite = values[np.isfinite(values)]
        empty_fields = int(np.isnan(values).all(axis=(-2, -1)).sum())
        table.add_row(
            str(name),
            str(var.attrs.get("units", "")),
            str(var.attrs.get("step_type", "")),
            f"{finite.min():.4g}" if finite.size else "-",
            f"{finite.max():.4g}" if finite.size else "-",
            f"{empty_fields}/{values.shape[0] * values.shape[1]}",
        )
    console.print(table)


def _plot(ds: xr.Dataset, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    field = ds[PLOT_VARIABLE].isel(init_time=0, lead_time=0)
    lon = ds["longitude"].values
    lat = ds["latitude"].values
    fig, ax = plt.subplots(figsize=(10, 5.2), dpi=100)
    image = ax.imshow(
        field.values,
        extent=(lon[0] - 0.125, lon[-1] + 0.125, lat[-1] - 0.125, lat[0] + 0.125),
        origin="upper",
        cmap="RdYlBu_r",
        aspect="auto",
    )
    fig.colorbar(image, ax=ax, label=f"{PLOT_VARIABLE} ({field.attrs.get('units', '')})")
    init = np.datetime_as_string(ds["init_time"].values[0], unit="h")
    ax.set_title(f"noaa-gfs-forecast (synthetic demo data) {PLOT_VARIABLE}, init {init}, lead 0")
    ax.set_xlabel("longitude (degree_east)")
    ax.set_ylabel("latitude (degree_north)")
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png)
    plt.close(fig)


FolderOpt = Annotated[
    Path, typer.Option(help="Working folder for the mirror, the store and the PNG.")
]
InitsOpt = Annotated[int, typer.Option(help="Number of GFS runs (from the dataset start).")]
LeadsOpt = Annotated[int, typer.Option(help="Leads per run to synthesize (0..N-1 hours).")]


def add_demo_command(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(folder: FolderOpt = DEFAULT_FOLDER, inits: InitsOpt = 2, leads: LeadsOpt = 4) -> None:
        """Offline tour: synthesize GFS files, serve them on loopback, backfill
        noaa-gfs-forecast into a local store, summarize it and plot temperature_2m."""
        if not os.environ.get("REFORMATTERS_LOG_LEVEL"):
            configure_logging("WARNING")
        run_demo(folder, inits, leads)
