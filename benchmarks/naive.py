"""`naive`: the same files converted the way most users do it today.

Per file and variable ``xr.open_dataset(path, engine="cfgrib", filter_by_keys=...)`` (cfgrib
indexes each file on its first open and reuses the index, its default), load,
concatenate the leads, merge the variables and ``to_zarr`` with the dataset's chunks, shards and
codec. One process, whole files read from the local mirror folder (no download is timed, which
favours the naive pipeline), no unit conversion, rounding or deaccumulation.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    REPO_ROOT,
    Row,
    TreeMonitor,
    child_env,
    directory_size,
    load_average,
    log,
    print_table,
    repeat,
    summarize,
)
from benchmarks.workload import FIELD_BYTES, Workload, ensure_mirror

ROWS = (
    Row("wall time", "wall_seconds", "s"),
    Row("CPU time", "cpu_seconds", "s"),
    Row("peak RSS", "peak_process_rss", "MB", 1e-6, 0),
    Row("bytes written (store)", "bytes_written", "MB", 1e-6, 1),
    Row("GRIB messages per second", "messages_per_second", "msg/s", 1.0, 1),
    Row("raw throughput", "raw_mb_per_second", "MB/s", 1.0, 1),
    Row("load average (1 min) at start", "load_average", "", 1.0, 2),
)

# eccodes' typeOfLevel of the GRIB2 fixed surface types (code table 4.5) the datasets read.
_TYPE_OF_LEVEL: dict[int | None, str] = {
    1: "surface",
    10: "atmosphere",
    101: "meanSea",
    103: "heightAboveGround",
    200: "atmosphereSingleLayer",
    215: "cloudCeiling",
}


def filter_keys(var: Any, lead: int, forecast: str) -> dict[str, Any]:
    """The ``filter_by_keys`` a user writes for one variable's message (GRIB2 codes)."""
    from reformatters.noaa.common.identity import noaa_identity

    attrs = var.internal_attrs
    identity = noaa_identity(attrs.grib_element, attrs.grib_level, forecast)
    keys: dict[str, Any] = {
        "discipline": identity.discipline,
        "parameterCategory": identity.parameter_category,
        "parameterNumber": identity.parameter_number,
        "typeOfLevel": _TYPE_OF_LEVEL[identity.surface_type],
    }
    if identity.level:
        keys["level"] = int(identity.level)
    if identity.start_step is not None and identity.start_step != identity.end_step:
        keys["startStep"] = int(identity.start_step.total_seconds()) // 3600
    del lead
    return keys


def convert(workload: Workload, output: Path) -> None:
    import cfgrib  # noqa: F401  (after pyproj, imported by benchmarks.common)
    import xarray as xr

    # cfgrib's default: index a file on first open, reuse the index for the next variables.
    # The index goes to the work dir (not beside the mirror's files) and is rebuilt every run.
    index_dir = output.with_name(output.name + "-cfgrib-index")
    shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.mkdir(parents=True)
    by_var: dict[str, list[xr.DataArray]] = {}
    for message in workload.messages():
        var, lead = message.var, message.lead
        ds = xr.open_dataset(
            message.path,
            engine="cfgrib",
            decode_timedelta=True,
            backend_kwargs={
                "filter_by_keys": filter_keys(var, lead, message.forecast),
                "indexpath": str(index_dir / f"f{lead:03d}.{{short_hash}}.idx"),
            },
        )
        data_var = next(iter(ds.data_vars.values())).load()
        data_var = data_var.drop_vars(
            [c for c in data_var.coords if c not in ("latitude", "longitude", "step")]
        )
        by_var.setdefault(var.name, []).append(data_var)
        ds.close()
    arrays = {}
    for name, pieces in by_var.items():
        array = xr.concat(pieces, dim="step").rename(step="lead_time").expand_dims("init_time")
        arrays[name] = array.astype("float32")
    dataset = xr.Dataset(arrays)
    encoding = {}
    for var in workload.data_vars():
        if var.name in arrays:
            encoding[var.name] = {
                "chunks": var.encoding.chunks,
                "shards": var.encoding.shards,
                "compressors": [var.encoding.compression.codec(4)],
            }
    shutil.rmtree(output, ignore_errors=True)
    dataset.to_zarr(output, encoding=encoding, zarr_format=3, consolidated=False)


def run_once(workload: Workload) -> dict[str, float]:
    """Convert in a fresh process (like a user's script; eccodes never meets pygrib)."""
    output = workload.work_dir / "naive.zarr"
    command = [
        sys.executable,
        "-m",
        "benchmarks.naive",
        workload.init,
        str(workload.leads),
        ",".join(workload.variables),
        str(workload.work_dir),
        str(output),
    ]
    env = child_env(workload.work_dir)
    load = load_average()[0]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True)
    with TreeMonitor(process.pid) as monitor:
        _, stderr = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"naive conversion failed ({process.returncode}):\n{stderr[-4000:]}")
    messages = len(workload.messages())
    return {
        "wall_seconds": wall,
        "cpu_seconds": monitor.sample.cpu_seconds,
        "peak_process_rss": monitor.sample.peak_process_rss,
        "bytes_written": directory_size(output),
        "messages_per_second": messages / wall,
        "raw_mb_per_second": messages * FIELD_BYTES / 1e6 / wall,
        "load_average": load,
    }


def run(workload: Workload, repeats: int) -> dict[str, Any]:
    synthesis_seconds = ensure_mirror(workload)
    # Warm-up (untimed): bytecode caches, as for the backfill.
    subprocess.run(
        [sys.executable, "-c", "import benchmarks.naive, cfgrib, xarray, zarr"],
        cwd=REPO_ROOT,
        env=child_env(workload.work_dir),
        check=True,
    )
    log(f"naive: cfgrib per file, {len(workload.messages())} messages")
    runs = repeat(repeats, lambda i: run_once(workload))
    stats = summarize(runs)
    print_table(
        f"naive xarray+cfgrib, {workload.leads} leads x {len(workload.variables)} variables, "
        f"median of {repeats}",
        stats,
        ROWS,
    )
    return {
        "workload": workload.describe(),
        "repeats": repeats,
        "synthesis_seconds": synthesis_seconds,
        "stats": stats,
        "runs": runs,
    }


if __name__ == "__main__":
    init, leads, variables, work_dir, output = sys.argv[1:]
    convert(Workload(init, int(leads), tuple(variables.split(",")), Path(work_dir)), Path(output))
