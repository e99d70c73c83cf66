"""`backfill`: time `reformat <dataset> backfill-local` (noaa-gfs-forecast by default) in a fresh
process against a synthesized full-resolution mirror served on loopback."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.common import (
    Row,
    TreeMonitor,
    check_only_unsynthesized_missing,
    child_env,
    directory_size,
    load_average,
    log,
    print_table,
    repeat,
    summarize,
)
from benchmarks.workload import FIELD_BYTES, Workload, ensure_mirror, workload_size

if TYPE_CHECKING:
    from reformatters.core.sources.server import MirrorServer

ROWS = (
    Row("wall time", "wall_seconds", "s"),
    Row("CPU time (process tree)", "cpu_seconds", "s"),
    Row("CPU utilisation", "cpu_utilisation", "cores"),
    Row("waiting for a CPU (process tree)", "runqueue_wait_seconds", "s"),
    Row("peak PSS (process tree)", "peak_tree_pss", "MB", 1e-6, 0),
    Row("peak RSS (process tree, summed)", "peak_tree_rss", "MB", 1e-6, 0),
    Row("peak RSS (largest process)", "peak_process_rss", "MB", 1e-6, 0),
    Row("bytes fetched (server)", "bytes_fetched", "MB", 1e-6, 1),
    Row("HTTP requests", "requests", "", 1.0, 0),
    Row("bytes written (store)", "bytes_written", "MB", 1e-6, 1),
    Row("GRIB messages per second", "messages_per_second", "msg/s", 1.0, 1),
    Row("raw throughput", "raw_mb_per_second", "MB/s", 1.0, 1),
    Row("load average (1 min) at start", "load_average", "", 1.0, 2),
)


def store_path(workload: Workload) -> Path:
    spec = workload.spec
    return workload.work_dir / "backfill-output" / spec.id / f"v{spec.version}.zarr"


def reformat_command(workload: Workload, output: Path) -> list[str]:
    import pandas as pd

    init = pd.Timestamp(workload.init)
    end = init + workload.inits * workload.spec.init_frequency()
    command = [
        str(Path(sys.executable).parent / "reformat"),
        workload.dataset,
        "backfill-local",
        end.isoformat(),
        "--filter-start",
        init.isoformat(),
        "--output-url",
        str(output),
    ]
    for name in workload.variables:
        command += ["--filter-variable-names", name]
    for member in workload.members:
        command += ["--filter-ensemble-members", str(member)]
    return command


def run_once(workload: Workload, mirror_url: str, env_extra: dict[str, str]) -> dict[str, float]:
    output = workload.work_dir / "backfill-output"
    shutil.rmtree(output, ignore_errors=True)
    scratch = workload.work_dir / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    env = child_env(
        workload.work_dir,
        REFORMATTERS_SOURCE_MIRROR=mirror_url,
        REFORMATTERS_SCRATCH=str(scratch),
        **env_extra,
    )
    load = load_average()[0]
    started = time.perf_counter()
    process = subprocess.Popen(
        reformat_command(workload, output),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with TreeMonitor(process.pid) as monitor:
        _, stderr = process.communicate()
    wall = time.perf_counter() - started
    check_only_unsynthesized_missing(process.returncode, stderr, workload.mirror_dir)
    sample = monitor.sample
    messages = len(workload.messages())
    return {
        "wall_seconds": wall,
        "cpu_seconds": sample.cpu_seconds,
        "cpu_utilisation": sample.cpu_seconds / wall,
        "runqueue_wait_seconds": sample.runqueue_wait_seconds,
        "peak_tree_pss": sample.peak_tree_pss,
        "peak_tree_rss": sample.peak_tree_rss,
        "peak_process_rss": sample.peak_process_rss,
        "bytes_written": directory_size(store_path(workload)),
        "messages_per_second": messages / wall,
        "raw_mb_per_second": messages * FIELD_BYTES / 1e6 / wall,
        "load_average": load,
    }


def measured(
    server: MirrorServer, workload: Workload, env_extra: dict[str, str] | None = None
) -> dict[str, float]:
    """One timed backfill of ``workload`` from ``server``, with the server's counters."""
    server.stats.reset()
    result = run_once(workload, server.url, env_extra or {})
    expected = {f"/{m.path.relative_to(workload.mirror_dir)}" for m in workload.messages()}
    fetched = {p for p in server.stats.bytes_by_path if not p.endswith(".idx")}
    if fetched - expected:
        raise RuntimeError(
            f"the backfill read files outside the workload ({sorted(fetched - expected)[:3]} "
            f"...): {workload.mirror_dir} holds more leads or inits than the workload"
        )
    result["bytes_fetched"] = server.stats.bytes_sent
    result["requests"] = server.stats.requests
    return result


def warm_up(server: MirrorServer, workload: Workload, env_extra: dict[str, str] | None) -> None:
    """An untimed backfill of one lead and variable: bytecode caches, the mirror's page cache."""
    small = replace(
        workload,
        leads=1,
        variables=workload.variables[:1],
        members=workload.members[:1],
        inits=1,
    )
    run_once(small, server.url, env_extra or {})


@contextmanager
def session(
    workload: Workload, env_extra: dict[str, str] | None = None
) -> Iterator[Callable[[int], dict[str, float]]]:
    """Serve the mirror and warm up; yields a function that times one backfill."""
    from reformatters.core.sources.server import serve_mirror

    with serve_mirror(workload.mirror_dir) as server:
        warm_up(server, workload, env_extra)
        yield lambda i: measured(server, workload, env_extra)


def report(
    workload: Workload, runs: list[dict[str, float]], synthesis_seconds: float
) -> dict[str, Any]:
    stats = summarize(runs)
    print_table(
        f"backfill-local, {workload_size(workload)}, median of {len(runs)}",
        stats,
        ROWS,
    )
    return {
        "workload": workload.describe(),
        "repeats": len(runs),
        "synthesis_seconds": synthesis_seconds,
        "stats": stats,
        "runs": runs,
    }


def run(
    workload: Workload, repeats: int, env_extra: dict[str, str] | None = None
) -> dict[str, Any]:
    synthesis_seconds = ensure_mirror(workload)
    with session(workload, env_extra) as one:
        log(f"backfill: {workload_size(workload)}")
        runs = repeat(repeats, one)
    return report(workload, runs, synthesis_seconds)
