"""`update`: time `reformat noaa-gfs-forecast update` after new leads of the newest run arrived,
against an update that reads the whole run again (`--reread-published`), runs in turns.

The store holds the init with its first `leads - new_leads` leads (a backfill of the workload's
mirror seen through a folder that links only those files); each run updates a copy of it while
the mirror shows every lead of the workload."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.backfill import reformat_command
from benchmarks.common import (
    Row,
    Stat,
    TreeMonitor,
    check_only_unsynthesized_missing,
    child_env,
    load_average,
    log,
    print_table,
    repeat,
    summarize,
)
from benchmarks.workload import Workload, ensure_mirror, workload_size

ROWS = (
    Row("wall time", "wall_seconds", "s"),
    Row("CPU time (process tree)", "cpu_seconds", "s"),
    Row("peak PSS (process tree)", "peak_tree_pss", "MB", 1e-6, 0),
    Row("leads fetched", "leads_fetched", "", 1.0, 0),
    Row("GRIB messages decoded", "messages_decoded", "", 1.0, 0),
    Row("bytes fetched (server)", "bytes_fetched", "MB", 1e-6, 1),
    Row("HTTP requests", "requests", "", 1.0, 0),
    Row("shard bytes rewritten", "bytes_rewritten", "MB", 1e-6, 1),
    Row("load average (1 min) at start", "load_average", "", 1.0, 2),
)
MODES = ("incremental", "reread")
_FETCHED_LEAD = re.compile(r"\.pgrb2\.0p25\.f(\d{3})$")


@dataclass(frozen=True)
class Setup:
    """The workload's mirror as a folder of links to every lead (`full`), the published store
    (`base`) and the update's `--now`."""

    workload: Workload
    new_leads: int
    full: Path
    base: Path
    now: str

    @property
    def published_leads(self) -> list[int]:
        return self.workload.lead_hours[: self.workload.leads - self.new_leads]


def _link_view(workload: Workload, view: Path, leads: list[int]) -> None:
    shutil.rmtree(view, ignore_errors=True)
    for lead in leads:
        for path in workload.spec.files(workload.mirror_dir, workload.init, (), lead):
            for source in (path, path.with_name(path.name + ".idx")):
                target = view / source.relative_to(workload.mirror_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(source, target)


def _store(output: Path, workload: Workload) -> Path:
    return output / workload.dataset / f"v{workload.spec.version}.zarr"


def prepare(workload: Workload, new_leads: int) -> Setup:
    """Backfill the published store from the first leads (untimed)."""
    import pandas as pd

    from reformatters.core.sources.server import serve_mirror
    from reformatters.noaa.gfs.forecast.dynamical_dataset import make_forecast_dataset

    root = workload.work_dir / "update"
    published = workload.lead_hours[: workload.leads - new_leads]
    _link_view(workload, root / "published-view", published)
    _link_view(workload, root / "full-view", workload.lead_hours)
    base = root / "base"
    shutil.rmtree(base, ignore_errors=True)
    assert workload.inits == 1, "update benchmarks one init"
    init = pd.Timestamp(workload.init)
    with serve_mirror(root / "published-view") as server:
        command = reformat_command(workload, base)
        env = child_env(
            workload.work_dir,
            REFORMATTERS_SOURCE_MIRROR=server.url,
            REFORMATTERS_SCRATCH=str(root / "scratch"),
        )
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        check_only_unsynthesized_missing(done.returncode, done.stderr, root / "published-view")
    latency = make_forecast_dataset().operations_config().update.typical_latency
    now = (init + latency).isoformat()
    return Setup(workload, new_leads, root / "full-view", base, now)


def _mtimes(store: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in store.rglob("*") if p.is_file() and "/c/" in str(p)}


def run_once(setup: Setup, mode: str, mirror_url: str) -> dict[str, float]:
    workload = setup.workload
    output = workload.work_dir / "update" / f"run-{mode}"
    shutil.rmtree(output, ignore_errors=True)
    shutil.copytree(setup.base, output)
    store = _store(output, workload)
    before = _mtimes(store)
    command = [
        str(Path(sys.executable).parent / "reformat"),
        workload.dataset,
        "update",
        "--now",
        setup.now,
        "--output-url",
        str(output),
    ]
    if mode == "reread":
        command.append("--reread-published")
    env = child_env(
        workload.work_dir,
        REFORMATTERS_SOURCE_MIRROR=mirror_url,
        REFORMATTERS_SCRATCH=str(workload.work_dir / "update" / "scratch"),
    )
    load = load_average()[0]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    with TreeMonitor(process.pid) as monitor:
        stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    if process.returncode != 0 or ("reused" not in stdout and mode == "incremental"):
        raise RuntimeError(f"update failed ({process.returncode}):\n{stdout}\n{stderr[-4000:]}")
    rewritten = [p for p, m in _mtimes(store).items() if before.get(p) != m]
    return {
        "wall_seconds": wall,
        "cpu_seconds": monitor.sample.cpu_seconds,
        "peak_tree_pss": monitor.sample.peak_tree_pss,
        "bytes_rewritten": sum(p.stat().st_size for p in rewritten),
        "load_average": load,
    }


def _decoded(workload: Workload, leads: list[int]) -> int:
    """Messages an update that fetched `leads` decoded (window statistics have none at 0)."""
    return sum(
        var.internal_attrs.forecast_description(lead) is not None
        for var in workload.data_vars()
        for lead in leads
    )


@contextmanager
def session(setup: Setup) -> Iterator[Any]:
    """Serve the full mirror and warm up; yields a function timing one run of a mode."""
    from reformatters.core.sources.server import serve_mirror

    with serve_mirror(setup.full) as server:

        def one(mode: str) -> dict[str, float]:
            server.stats.reset()
            result = run_once(setup, mode, server.url)
            leads = sorted(
                int(match.group(1))
                for path, size in server.stats.bytes_by_path.items()
                if size and (match := _FETCHED_LEAD.search(path))
            )
            result["bytes_fetched"] = server.stats.bytes_sent
            result["requests"] = server.stats.requests
            result["leads_fetched"] = len(leads)
            result["messages_decoded"] = _decoded(setup.workload, leads)
            return result

        one("incremental")  # warm-up (untimed): bytecode caches, the mirror's page cache
        yield one


def run(workload: Workload, repeats: int, new_leads: int) -> dict[str, Any]:
    if not 1 <= new_leads < workload.leads:
        raise SystemExit(f"--new-leads must be within 1..{workload.leads - 1}")
    if set(workload.variables) != set(workload.spec.variable_names()):
        raise SystemExit("update reads every variable of the dataset: leave --variables out")
    synthesis_seconds = ensure_mirror(workload)
    log(f"update: {workload_size(workload)}, {new_leads} new: backfilling the published leads")
    setup = prepare(workload, new_leads)
    runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    with session(setup) as one:

        def pair(i: int) -> None:
            for mode in reversed(MODES) if i % 2 else MODES:
                runs[mode].append(one(mode))

        repeat(repeats, pair)
    stats = {mode: summarize(runs[mode]) for mode in MODES}
    for mode in MODES:
        print_table(
            f"update, {mode}, {workload_size(workload)} ({new_leads} new), median of {repeats}",
            stats[mode],
            ROWS,
        )
    ratios = {
        key: Stat.of(
            [
                inc[key] / full[key]
                for inc, full in zip(runs["incremental"], runs["reread"], strict=True)
            ]
        )
        for key in ("wall_seconds", "cpu_seconds")
    }
    print(
        f"\nincremental / reread, median of {repeats} pairs: wall "
        f"{ratios['wall_seconds'].median:.2f}, CPU {ratios['cpu_seconds'].median:.2f}"
    )
    return {
        "workload": {**workload.describe(), "new_leads": new_leads, "now": setup.now},
        "repeats": repeats,
        "synthesis_seconds": synthesis_seconds,
        "stats": stats,
        "ratios": ratios,
        "runs": runs,
    }
