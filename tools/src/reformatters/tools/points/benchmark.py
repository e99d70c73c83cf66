"""Benchmark: extracting points from a local analysis-shaped store (run by ``__main__``)."""

from __future__ import annotations

import time as time_module
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from reformatters.tools.points.extract import extract_points
from reformatters.tools.points.output import write_points
from reformatters.tools.points.store import CountingStore, open_store


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
