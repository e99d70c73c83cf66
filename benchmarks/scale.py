"""`scale`: backfills of 1, 2, 4, ... consecutive GFS inits (whole inits with `--leads 209`),
each a fresh `reformat noaa-gfs-forecast backfill-local` process against a pooled mirror served
on loopback: does the cost grow linearly with the inits and the memory stay flat?

The mirror is pooled (reformatters.noaa.common.pooled_mirror): every file is a relabelled copy
of one of 13 synthesized files, so writing 4 x 209 files takes a minute, not hours.

The bound is measured once, on the first init's messages (`bound`'s method), and scaled by the
number of messages: every init has the same messages, decoded and encoded the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from benchmarks import backfill, bound
from benchmarks.common import Stat, load_average, log, repeat, summarize
from benchmarks.workload import Workload, ensure_mirror, workload_size

# (label, key, unit, scale, digits) of the per-size table.
ROWS: tuple[tuple[str, str, str, float, int], ...] = (
    ("GRIB messages", "messages", "", 1.0, 0),
    ("wall time", "wall_seconds", "s", 1.0, 1),
    ("wall less waiting (wall - wait/cores)", "wall_less_waiting_seconds", "s", 1.0, 1),
    ("CPU time (process tree)", "cpu_seconds", "s", 1.0, 1),
    ("waiting for a CPU (process tree)", "runqueue_wait_seconds", "s", 1.0, 1),
    ("CPU utilisation", "cpu_utilisation", "cores", 1.0, 2),
    ("idle (cores x wall - CPU - waiting)", "idle_core_seconds", "s", 1.0, 1),
    ("bound wall time (scaled)", "bound_wall_seconds", "s", 1.0, 1),
    ("bound CPU time (scaled)", "bound_cpu_seconds", "s", 1.0, 1),
    ("efficiency (bound / wall)", "efficiency", "", 1.0, 2),
    ("CPU efficiency (bound / CPU)", "cpu_efficiency", "", 1.0, 2),
    ("messages per second per core", "messages_per_second_per_core", "msg/s", 1.0, 2),
    ("messages per CPU second", "messages_per_cpu_second", "msg/s", 1.0, 2),
    ("peak RSS, largest process (VmHWM)", "peak_process_rss", "MB", 1e-6, 0),
    ("peak PSS, process tree", "peak_tree_pss", "MB", 1e-6, 0),
    ("bytes fetched (server)", "bytes_fetched", "MB", 1e-6, 1),
    ("HTTP requests", "requests", "", 1.0, 0),
    ("bytes written (store)", "bytes_written", "MB", 1e-6, 1),
    ("load average (1 min) at start", "load_average", "", 1.0, 2),
)
WALL_TARGET_PER_INIT = 1.05  # wall(n) / wall(1) <= 1.05 n  (4 inits: 4.2)
MEMORY_TARGET = 1.1  # largest process's peak(n) / peak(1)


def parse_inits(text: str) -> list[int]:
    sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 1:
        raise SystemExit("--inits: comma-separated numbers of inits, each at least 1")
    return sizes


def run(workload: Workload, repeats: int, sizes: Sequence[int]) -> dict[str, Any]:
    base = replace(workload, pooled=True, inits=max(sizes))
    synthesis_seconds = ensure_mirror(base)
    one_init = replace(base, inits=1)
    messages_per_init = len(one_init.messages())
    with bound.session(one_init) as bound_once:
        log(f"bound: {messages_per_init} messages of one init over {bound.processes()} processes")
        bound_stats = summarize(repeat(repeats, bound_once))
    cores = bound.processes()
    runs: dict[int, list[dict[str, float]]] = {n: [] for n in sizes}
    from reformatters.core.sources.server import serve_mirror

    with serve_mirror(base.mirror_dir) as server:
        backfill.warm_up(server, base, None)

        def one_round(i: int) -> None:
            # Sizes in turns (1, 2, 4, 1, 2, 4, ...): the machine's drift hits every size.
            for n in sizes:
                log(f"  backfill of {workload_size(replace(base, inits=n))}")
                result = backfill.measured(server, replace(base, inits=n))
                runs[n].append(_with_bound(result, n * messages_per_init, bound_stats, n, cores))

        repeat(repeats, one_round)
    per_size = {n: summarize(runs[n]) for n in sizes}
    _print(base, per_size, bound_stats)
    ratios = ratios_of(per_size)
    for line in _ratio_lines(ratios):
        print(line)
    return {
        "workload": base.describe(),
        "sizes": list(sizes),
        "repeats": repeats,
        "synthesis_seconds": synthesis_seconds,
        "bound": {
            "method": "measured on the first init's messages, scaled by the number of messages",
            "messages": messages_per_init,
            "stats": bound_stats,
        },
        "stats": {str(n): stats for n, stats in per_size.items()},
        "runs": {str(n): r for n, r in runs.items()},
        "ratios": ratios,
        "load_average_end": load_average(),
    }


def _with_bound(
    result: dict[str, float], messages: int, bound_stats: dict[str, Stat], inits: int, cores: int
) -> dict[str, float]:
    bound_wall = bound_stats["wall_seconds"].median * inits
    bound_cpu = bound_stats["cpu_seconds"].median * inits
    wall, cpu = result["wall_seconds"], result["cpu_seconds"]
    return {
        **result,
        "messages": messages,
        "bound_wall_seconds": bound_wall,
        "bound_cpu_seconds": bound_cpu,
        "efficiency": bound_wall / wall,
        "cpu_efficiency": bound_cpu / cpu,
        # Neither running nor waiting for a CPU: the pipeline had nothing for the cores to do.
        "idle_core_seconds": cores * wall - cpu - result["runqueue_wait_seconds"],
        # An estimate of the wall time on a machine of our own: less the time other work took.
        "wall_less_waiting_seconds": wall - result["runqueue_wait_seconds"] / cores,
        "messages_per_second_per_core": messages / wall / cores,
        "messages_per_cpu_second": messages / cpu,
    }


def ratios_of(per_size: dict[int, dict[str, Stat]]) -> dict[str, float]:
    """wall(n) / wall(1) and peak(n) / peak(1) of the largest process, per size n > 1."""
    smallest = min(per_size)
    found: dict[str, float] = {}
    for n, stats in per_size.items():
        if n == smallest:
            continue
        key = f"{n}/{smallest}"
        found[f"wall {key}"] = (
            stats["wall_seconds"].median / per_size[smallest]["wall_seconds"].median
        )
        found[f"wall less waiting {key}"] = (
            stats["wall_less_waiting_seconds"].median
            / per_size[smallest]["wall_less_waiting_seconds"].median
        )
        found[f"cpu {key}"] = stats["cpu_seconds"].median / per_size[smallest]["cpu_seconds"].median
        found[f"peak_process_rss {key}"] = (
            stats["peak_process_rss"].median / per_size[smallest]["peak_process_rss"].median
        )
        found[f"peak_tree_pss {key}"] = (
            stats["peak_tree_pss"].median / per_size[smallest]["peak_tree_pss"].median
        )
    return found


def _ratio_lines(ratios: dict[str, float]) -> list[str]:
    lines = []
    for key, value in ratios.items():
        kind, sizes = key.rsplit(" ", 1)
        n, smallest = (int(s) for s in sizes.split("/"))
        if kind in ("wall", "wall less waiting"):
            target = f"target <= {WALL_TARGET_PER_INIT * n / smallest:.2f}"
        elif kind == "peak_process_rss":
            target = f"target <= {MEMORY_TARGET:.2f}"
        else:
            target = ""
        lines.append(f"{kind} ratio {sizes}: {value:.2f}  {target}".rstrip())
    return lines


def _print(base: Workload, per_size: dict[int, dict[str, Stat]], bound_stats: Any) -> None:
    sizes = list(per_size)
    repeats = len(next(iter(per_size.values()))["wall_seconds"].values)
    print(
        f"\nscale: backfill-local of n inits x {base.leads} leads x {len(base.variables)} "
        f"variables (pooled mirror), median of {repeats}"
    )
    header = f"{'metric':<36}" + "".join(f"{f'{n} init(s)':>14}" for n in sizes) + "  unit"
    print(header)
    print("-" * len(header))
    for label, key, unit, scale, digits in ROWS:
        cells = "".join(f"{per_size[n][key].median * scale:>14.{digits}f}" for n in sizes)
        print(f"{label:<36}{cells}  {unit}")
    print(
        f"bound of one init (measured, median): {bound_stats['wall_seconds'].median:.1f} s wall, "
        f"{bound_stats['cpu_seconds'].median:.1f} s CPU; scaled by the number of inits"
    )
