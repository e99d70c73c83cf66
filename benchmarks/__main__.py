"""`python -m benchmarks {backfill,bound,naive,read,codecs,all} [options]`: tables and JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import backfill, bound, codecs, naive, read
from benchmarks.common import (
    DEFAULT_INIT,
    RESULTS_DIR,
    Stat,
    Workload,
    all_variable_names,
    ensure_mirror,
    log,
    repeat,
    write_results,
)

type Runner = Callable[[Workload, int], dict[str, Any]]

RUNNERS: dict[str, Runner] = {
    "backfill": backfill.run,
    "bound": bound.run,
    "naive": naive.run,
    "read": read.run,
    "codecs": codecs.run,
}
ALL = ("backfill", "bound", "naive", "read")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=(
            "Benchmarks of the noaa-gfs-forecast backfill on a synthesized full-resolution mirror. "
            "'all' runs backfill, bound, naive and read in one go and reports efficiency "
            "(bound / backfill) and speed-up (naive / backfill)."
        ),
    )
    parser.add_argument("name", choices=[*RUNNERS, "all"])
    parser.add_argument("--leads", type=int, default=24, help="first N lead times (default 24)")
    parser.add_argument(
        "--variables",
        default="all",
        help="comma-separated variable names (default: all 25)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per benchmark (median)")
    parser.add_argument("--init", default=DEFAULT_INIT, help="init time (ISO 8601)")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=RESULTS_DIR / "work",
        help="synthesized mirror and stores (kept between runs)",
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    return parser


def workload_from(args: argparse.Namespace) -> Workload:
    known = all_variable_names()
    if args.variables == "all":
        variables = known
    else:
        variables = tuple(v.strip() for v in args.variables.split(",") if v.strip())
        unknown = [v for v in variables if v not in known]
        if unknown:
            raise SystemExit(f"unknown variable(s): {', '.join(unknown)}")
    if not 1 <= args.leads <= 209:
        raise SystemExit("--leads must be within 1..209")
    return Workload(args.init, args.leads, variables, args.work_dir.resolve())


def _median(result: dict[str, Any], key: str) -> float:
    stat = result["stats"][key]
    return float(stat.median if hasattr(stat, "median") else stat["median"])


def _latest(results_dir: Path, name: str, workload: Workload) -> dict[str, Any] | None:
    path = results_dir / f"{name}-latest.json"
    if not path.exists():
        return None
    document: dict[str, Any] = json.loads(path.read_text())
    return document if document.get("workload") == workload.describe() else None


def run_paired(workload: Workload, repeats: int) -> dict[str, dict[str, Any]]:
    """`bound` and `backfill` runs taken in turns (bound, backfill, bound, ...), so that each
    efficiency compares two runs a few seconds apart: on shared machines the speed of the same
    work drifts by 20 % and more within minutes, which separate series would turn into noise."""
    synthesis_seconds = ensure_mirror(workload)
    backfill_runs: list[dict[str, float]] = []
    bound_runs: list[dict[str, float]] = []
    with backfill.session(workload) as backfill_once, bound.session(workload) as bound_once:
        log(
            f"backfill and bound in turns: {workload.leads} lead(s) x "
            f"{len(workload.variables)} variable(s)"
        )

        def pair(i: int) -> None:
            bound_runs.append(bound_once(i))
            backfill_runs.append(backfill_once(i))

        repeat(repeats, pair)
    return {
        "backfill": backfill.report(workload, backfill_runs, synthesis_seconds),
        "bound": bound.report(workload, bound_runs, synthesis_seconds),
    }


def paired_efficiency(results: dict[str, dict[str, Any]]) -> Stat | None:
    """bound / backfill wall time of each pair of runs taken in turns (see run_paired)."""
    if not all(results.get(name, {}).get("paired") for name in ("backfill", "bound")):
        return None  # e.g. `bound` alone, compared with the backfill runs of an earlier `all`
    pairs = zip(results["bound"]["runs"], results["backfill"]["runs"], strict=True)
    return Stat.of([b["wall_seconds"] / f["wall_seconds"] for b, f in pairs])


def comparisons(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    found: dict[str, float] = {}
    if "backfill" in results:
        wall = _median(results["backfill"], "wall_seconds")
        if "bound" in results:
            found["efficiency"] = _median(results["bound"], "wall_seconds") / wall
            # Robust to other load on the machine: the CPU the bound needs / the CPU used.
            found["cpu_efficiency"] = _median(results["bound"], "cpu_seconds") / _median(
                results["backfill"], "cpu_seconds"
            )
        if "naive" in results:
            found["speed_up"] = _median(results["naive"], "wall_seconds") / wall
        largest_region = max(
            209 * 721 * 1440 * 4 for _ in results["backfill"]["workload"]["variables"]
        )
        found["rss_budget_bytes"] = 1.5 * largest_region + 500e6
        found["peak_tree_pss_bytes"] = _median(results["backfill"], "peak_tree_pss")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    workload = workload_from(args)
    names = list(ALL) if args.name == "all" else [args.name]
    results: dict[str, dict[str, Any]] = {}
    if args.name == "all":
        for name, result in run_paired(workload, args.repeats).items():
            results[name] = {**result, "paired": True}
            log(f"wrote {write_results(name, results[name], args.results_dir)}")
    for name in names:
        if name in results:
            continue
        results[name] = RUNNERS[name](workload, args.repeats)
        path = write_results(name, results[name], args.results_dir)
        log(f"wrote {path}")
    if args.name in ("bound", "naive"):
        previous = _latest(args.results_dir, "backfill", workload)
        if previous is not None:
            results["backfill"] = previous
    found = comparisons(results)
    paired = paired_efficiency(results)
    if paired is not None:
        found["efficiency_paired"] = paired.median
        found["efficiency_paired_min"] = paired.min
        found["efficiency_paired_max"] = paired.max
    if found:
        print()
        if paired is not None:
            print(
                f"efficiency, runs in turns (median of {len(paired.values)} pairs): "
                f"{paired.median:.2f} (min {paired.min:.2f}, max {paired.max:.2f})"
            )
        if "efficiency" in found:
            print(f"efficiency (bound / backfill wall time): {found['efficiency']:.2f}")
            print(f"CPU efficiency (bound / backfill CPU):   {found['cpu_efficiency']:.2f}")
        if "speed_up" in found:
            print(f"speed-up (naive / backfill wall time):   {found['speed_up']:.1f}x")
        print(
            f"peak PSS of the backfill process tree:   {found['peak_tree_pss_bytes'] / 1e6:.0f} MB"
            f" (budget {found['rss_budget_bytes'] / 1e6:.0f} MB)"
        )
    if args.name == "all":
        summary = {"workload": workload.describe(), "comparisons": found, "results": results}
        log(f"wrote {write_results('all', summary, args.results_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
