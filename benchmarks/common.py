"""What every benchmark shares: process-tree measurement, statistics over repeats, results JSON
and the printed table (the workload and its mirror: benchmarks.workload)."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from threading import Event, Thread
from typing import Any

import pyproj  # noqa: F401  (must be imported before eccodes, see the shared library facts)

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
_LIBRARIES = (
    "numpy",
    "xarray",
    "zarr",
    "numcodecs",
    "pygrib",
    "eccodes",
    "cfgrib",
    "obstore",
    "pandas",
)


# ---- measuring --------------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _children(pid: int) -> list[int]:
    found: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    try:
        tasks = list(task_dir.iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _tree(pid: int) -> list[int]:
    pids, stack = [], [pid]
    while stack:
        current = stack.pop()
        pids.append(current)
        stack.extend(_children(current))
    return pids


def _cpu_seconds(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 (1-based); fields[0] is field 3 (state).
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _memory(pid: int) -> tuple[int, int] | None:
    """(RSS, PSS) in bytes; PSS splits shared pages (shared memory) between their users.

    The kernel walks the process's page tables for this: 4-6 ms of CPU for a 250 MB worker."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    values = {}
    for line in rollup.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("Rss:", "Pss:"):
            values[parts[0]] = int(parts[1]) * 1024
    return values.get("Rss:", 0), values.get("Pss:", 0)


def _runqueue_wait(pid: int) -> float:
    """Seconds the process's threads were runnable but waiting for a CPU (schedstat's second
    field): on a shared machine, the time other work took from this process."""
    total = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return 0.0
    for task in tasks:
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError):
            continue
    return total / 1e9


def _peak_rss(pid: int) -> int | None:
    """The process's RSS high-water mark (VmHWM) in bytes: exact, kept by the kernel."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0  # a kernel thread or a zombie


@dataclass
class TreeSample:
    """What a process and its descendants used, sampled from /proc (Linux)."""

    cpu_seconds: float = 0.0
    runqueue_wait_seconds: float = 0.0
    peak_tree_pss: int = 0
    peak_tree_rss: int = 0
    peak_process_rss: int = 0
    processes: int = 0


class TreeMonitor:
    """Samples a process tree on a thread: CPU time and each process's peak RSS every
    ``interval`` seconds, the tree's RSS and PSS every ``memory_interval`` seconds.

    CPU time is each process's own user+system time as last seen (children are not counted
    twice); a process's final ``interval`` is missed when it exits between samples. The peak
    RSS of a process is the kernel's high-water mark (exact). The tree's PSS needs a walk of
    every process's page tables (see _memory): sampled every 0.1 s, it took a quarter of a
    core from the 2-core machines the benchmarks are measured on, and 1-1.5 s from a backfill.
    """

    def __init__(self, pid: int, interval: float = 0.1, memory_interval: float = 1.0) -> None:
        self.pid = pid
        self.interval = interval
        self.memory_interval = memory_interval
        self.sample = TreeSample()
        self._cpu: dict[int, float] = {}
        self._waited: dict[int, float] = {}
        self._next_memory = 0.0
        self._stop = Event()
        self._thread = Thread(target=self._run, name="tree-monitor", daemon=True)

    def __enter__(self) -> TreeMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample.cpu_seconds = sum(self._cpu.values())
        self.sample.runqueue_wait_seconds = sum(self._waited.values())
        self.sample.processes = len(self._cpu)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.interval)

    def poll(self) -> None:
        pids = _tree(self.pid)
        for pid in pids:
            cpu = _cpu_seconds(pid)
            if cpu is not None:
                self._cpu[pid] = max(cpu, self._cpu.get(pid, 0.0))
                self._waited[pid] = max(_runqueue_wait(pid), self._waited.get(pid, 0.0))
            peak = _peak_rss(pid)
            if peak is not None:
                self.sample.peak_process_rss = max(self.sample.peak_process_rss, peak)
        if time.monotonic() >= self._next_memory:
            self._next_memory = time.monotonic() + self.memory_interval
            self.poll_memory(pids)

    def poll_memory(self, pids: list[int]) -> None:
        tree_rss = tree_pss = 0
        for pid in pids:
            memory = _memory(pid)
            if memory is not None:
                rss, pss = memory
                tree_rss += rss
                tree_pss += pss
        self.sample.peak_tree_rss = max(self.sample.peak_tree_rss, tree_rss)
        self.sample.peak_tree_pss = max(self.sample.peak_tree_pss, tree_pss)


def child_env(work_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of timed child processes: bytecode is cached (under the work dir).

    Some sandboxes set PYTHONDONTWRITEBYTECODE, so every process compiles every module it
    imports (seconds of CPU per process, four processes per backfill); deployments ship
    compiled bytecode, so the benchmarks cache it and warm it up before the clock starts.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work_dir / "pycache")
    env["REFORMATTERS_REPORT_DIR"] = str(work_dir / "reports")
    return {**env, **extra}


def check_only_unsynthesized_missing(returncode: int, stderr: str, mirror_dir: Path) -> None:
    """A backfill of a workload covers every lead of its init but the mirror holds only the
    workload's leads, so it exits 1 listing the rest as missing. Anything else is a failure:
    a non-zero exit for another reason, a failed or absent file, or a synthesized file missing."""
    if returncode == 0:
        return
    marker = "the list: "
    reports = [line.rsplit(marker, 1)[1] for line in stderr.splitlines() if marker in line]
    if returncode != 1 or len(reports) != 1:
        raise RuntimeError(f"backfill failed ({returncode}):\n{stderr[-4000:]}")
    for line in Path(reports[0]).read_text().splitlines():
        kind, url, _ = line.split("\t", 2)
        path = "/".join(url.split("/")[3:])
        if kind != "missing" or (mirror_dir / path).exists():
            raise RuntimeError(f"backfill lost a synthesized file: {line}\n{stderr[-4000:]}")


def load_average() -> list[float]:
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else []


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@dataclass
class Stat:
    """Median and spread of one metric over the repeats."""

    median: float
    min: float
    max: float
    values: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, values: Sequence[float]) -> Stat:
        return cls(statistics.median(values), min(values), max(values), list(values))

    def spread(self) -> float:
        """(max - min) / median: 0.1 means the runs spread over 10 % of the median."""
        return (self.max - self.min) / self.median if self.median else 0.0


def summarize(runs: Sequence[Mapping[str, float]]) -> dict[str, Stat]:
    keys = runs[0].keys()
    return {key: Stat.of([run[key] for run in runs]) for key in keys}


def repeat[T](repeats: int, run: Callable[[int], T]) -> list[T]:
    results = []
    for i in range(repeats):
        results.append(run(i))
        log(f"  run {i + 1}/{repeats} done (load average {load_average()[0]:.1f})")
    return results


# ---- reporting --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu_model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory_total = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        first = meminfo.read_text().splitlines()[0].split()
        memory_total = int(first[1]) * 1024
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": cpu_model,
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_bytes": memory_total,
    }


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))}


def write_results(name: str, payload: Mapping[str, Any], results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "benchmark": name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks", *sys.argv[1:]]),
        "machine": machine(),
        "libraries": library_versions(),
        "git": git_commit(),
        "load_average_end": load_average(),
        **_jsonable(payload),
    }
    path = results_dir / f"{name}-{stamp}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    (results_dir / f"{name}-latest.json").write_text(json.dumps(document, indent=2) + "\n")
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, Stat):
        return asdict(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


@dataclass(frozen=True)
class Row:
    """One printed metric: label, unit and how to format the number."""

    label: str
    key: str
    unit: str
    scale: float = 1.0
    digits: int = 2


def print_table(title: str, stats: Mapping[str, Stat], rows: Sequence[Row]) -> None:
    print(f"\n{title}")
    header = f"{'metric':<34} {'median':>12} {'min':>12} {'max':>12}  unit"
    print(header)
    print("-" * len(header))
    for row in rows:
        stat = stats.get(row.key)
        if stat is None:
            continue
        cells = [f"{v * row.scale:>12.{row.digits}f}" for v in (stat.median, stat.min, stat.max)]
        print(f"{row.label:<34} {' '.join(cells)}  {row.unit}")


def single_threaded_blosc(setting: tuple[str, int, str]) -> Any:
    """numcodecs' Blosc for (cname, clevel, shuffle name), single-threaded (one core's work)."""
    import numcodecs

    numcodecs.blosc.use_threads = False
    cname, clevel, shuffle = setting
    shuffle_code = {
        "bitshuffle": numcodecs.Blosc.BITSHUFFLE,
        "shuffle": numcodecs.Blosc.SHUFFLE,
        "noshuffle": numcodecs.Blosc.NOSHUFFLE,
    }[shuffle]
    return numcodecs.Blosc(cname=cname, clevel=clevel, shuffle=shuffle_code)
