"""`read`: the two access patterns the chunking was chosen for, on the backfill's store.

A full map (one init, one lead, 721 x 1440) and a point's full forecast (one init, every lead,
one grid cell), each read with a freshly opened store (no zarr caches; the OS page cache is
warm after the first repetition, so this measures decoding and indexing, not the disk).
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.common import (
    Row,
    load_average,
    log,
    print_table,
    summarize,
)
from benchmarks.workload import Workload

ROWS = (
    Row("map, one lead (721 x 1440)", "map_seconds", "ms", 1e3, 1),
    Row("map throughput", "map_mb_per_second", "MB/s", 1.0, 1),
    Row("point time series, all leads", "point_seconds", "ms", 1e3, 1),
    Row("open store", "open_seconds", "ms", 1e3, 1),
    Row("load average (1 min) at start", "load_average", "", 1.0, 2),
)


def run(workload: Workload, repeats: int) -> dict[str, Any]:
    import numpy as np
    import xarray as xr

    from benchmarks import backfill

    store = backfill.store_path(workload)
    if not (store / "zarr.json").exists():
        log(f"read: no store at {store}; running one backfill first")
        backfill.run(workload, repeats=1)
    variable = workload.variables[0]
    lead = workload.lead_hours[-1]
    lat, lon = 40.0, -105.0
    runs = []
    for _ in range(max(repeats, 1) * 5):
        load = load_average()[0]
        started = time.perf_counter()
        ds = xr.open_zarr(store, chunks=None, decode_timedelta=True, consolidated=False)
        opened = time.perf_counter()
        array = ds[variable]
        field = array.sel(lead_time=np.timedelta64(lead, "h")).isel(init_time=-1).values
        mapped = time.perf_counter()
        series = array.isel(init_time=-1).sel(latitude=lat, longitude=lon, method="nearest").values
        pointed = time.perf_counter()
        assert field.shape == (721, 1440) and series.ndim == 1
        runs.append(
            {
                "open_seconds": opened - started,
                "map_seconds": mapped - opened,
                "map_mb_per_second": field.nbytes / 1e6 / (mapped - opened),
                "point_seconds": pointed - mapped,
                "load_average": load,
            }
        )
    stats = summarize(runs)
    print_table(f"read {variable} from the backfill store, median of {len(runs)}", stats, ROWS)
    return {
        "workload": workload.describe(),
        "store": store,
        "variable": variable,
        "map_lead_hours": lead,
        "point": {"latitude": lat, "longitude": lon},
        "repeats": len(runs),
        "stats": stats,
        "runs": runs,
    }
