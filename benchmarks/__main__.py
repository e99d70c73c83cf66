"""`python -m benchmarks {backfill,bound,naive,read,codecs,decoders,update,scale,all} [--dataset ID]
[options]`: tables and JSON. The default dataset is noaa-gfs-forecast; noaa-gefs-forecast-35-day
supports backfill and bound (and `all`: the two in turns). `decoders` and `codecs --real` run on
the real GRIB2 fixtures (`--fixtures`) instead of a dataset's synthesized mirror. `python -m
benchmarks reads [options]` has options of its own (benchmarks.reads: every dataset's reads on
its encoding and the reference's). `scale` (GFS) times 1, 2, 4... inits."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import backfill, bound, codecs, decoders, naive, read, reads, scale, update
from benchmarks.common import (
    RESULTS_DIR,
    Stat,
    log,
    repeat,
    write_results,
)
from benchmarks.real_fixtures import fixtures_dir
from benchmarks.workload import (
    DATASET_ID,
    DATASETS,
    DEFAULT_INIT,
    FIELD_BYTES,
    Workload,
    ensure_mirror,
    workload_size,
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
# Run on the real fixtures, not on a dataset's workload.
ON_FIXTURES = ("decoders",)
# `scale`: whole inits are slow; its default finishes in minutes (see benchmarks/README.md).
SCALE_DEFAULT_LEADS = 72


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=(
            "Benchmarks of a dataset's backfill (default noaa-gfs-forecast) on a synthesized "
            "full-resolution mirror. 'all' runs backfill, bound, naive and read (those the "
            "dataset supports) in one go and reports efficiency (bound / backfill) and speed-up "
            "(naive / backfill)."
        ),
    )
    parser.add_argument("name", choices=[*RUNNERS, *ON_FIXTURES, "update", "scale", "all"])
    parser.add_argument("--dataset", choices=list(DATASETS), default=DATASET_ID)
    parser.add_argument(
        "--leads",
        type=int,
        default=None,
        help="first N lead times: hourly from 0 for GFS (default 24, scale: "
        f"{SCALE_DEFAULT_LEADS}; 209 is a whole init); of 237, 240, 246 h for GEFS (default 3)",
    )
    parser.add_argument(
        "--inits",
        default="1,2,4",
        help="scale: the numbers of consecutive inits to back-fill (default 1,2,4)",
    )
    parser.add_argument(
        "--variables",
        default="all",
        help="comma-separated variable names (default: all of the dataset's)",
    )
    parser.add_argument(
        "--members",
        default=None,
        help="comma-separated ensemble members of an ensemble dataset (GEFS default: 0,1,30)",
    )
    parser.add_argument(
        "--new-leads",
        type=int,
        default=10,
        help="update: how many of the --leads arrived since the store was published (the last "
        "ones; default 10)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="runs per benchmark (median; default 3, scale: 1 round of every size)",
    )
    parser.add_argument("--init", default=DEFAULT_INIT, help="init time (ISO 8601)")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=RESULTS_DIR / "work",
        help="synthesized mirror and stores (kept between runs)",
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument(
        "--fixtures",
        type=Path,
        default=None,
        help="real GRIB2 fixtures for decoders and codecs --real (default: "
        "$REFORMATTERS_REAL_FIXTURES, else ../shared/fixtures/real)",
    )
    parser.add_argument(
        "--real",
        action="store_true",
        help="codecs: real fields decoded from the fixtures, rounded as their dataset variable "
        "declares, instead of the workload's synthesized chunks",
    )
    return parser


def workload_from(args: argparse.Namespace) -> Workload:
    spec = DATASETS[args.dataset]
    if args.name not in (*spec.benchmarks, "all"):
        raise SystemExit(f"{args.name} does not support {spec.id} (only {spec.benchmarks})")
    known = spec.variable_names()
    if args.variables == "all":
        variables = known
    else:
        variables = tuple(v.strip() for v in args.variables.split(",") if v.strip())
        unknown = [v for v in variables if v not in known]
        if unknown:
            raise SystemExit(f"unknown variable(s): {', '.join(unknown)}")
    default_leads = SCALE_DEFAULT_LEADS if args.name == "scale" else spec.default_leads
    leads = default_leads if args.leads is None else args.leads
    if not 1 <= leads <= len(spec.candidate_leads()):
        raise SystemExit(f"--leads must be within 1..{len(spec.candidate_leads())}")
    members = spec.default_members
    if args.members is not None:
        members = tuple(int(m) for m in args.members.split(",") if m.strip())
        if not spec.default_members or not members:
            raise SystemExit(f"--members: {spec.id} is not an ensemble")
    return Workload(args.init, leads, variables, args.work_dir.resolve(), spec.id, members)


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
        log(f"backfill and bound in turns: {workload_size(workload)}")

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
        workload = results["backfill"]["workload"]
        leads = len(DATASETS[workload["dataset"]].lead_hours())
        largest_region = leads * FIELD_BYTES  # one variable's (one member's) whole run
        found["rss_budget_bytes"] = 1.5 * largest_region + 500e6
        found["peak_tree_pss_bytes"] = _median(results["backfill"], "peak_tree_pss")
    return found


def run_on_fixtures(args: argparse.Namespace) -> int:
    """`decoders` and `codecs --real`: the real fixtures, no workload or mirror."""
    root = fixtures_dir(args.fixtures)
    if args.name == "decoders":
        name, result = "decoders", decoders.run(root, args.repeats or 3)
    else:
        name, result = "codecs-real", codecs.run_real(root, args.repeats or 3)
    log(f"wrote {write_results(name, result, args.results_dir)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["reads"]:
        return reads.main(argv[1:])
    args = _parser().parse_args(argv)
    if args.name in ON_FIXTURES or (args.name == "codecs" and args.real):
        return run_on_fixtures(args)
    workload = workload_from(args)
    if args.name == "scale":
        result = scale.run(workload, args.repeats or 1, scale.parse_inits(args.inits))
        log(f"wrote {write_results('scale', result, args.results_dir)}")
        return 0
    repeats = args.repeats or 3
    supported = workload.spec.benchmarks
    names = [n for n in ALL if n in supported] if args.name == "all" else [args.name]
    results: dict[str, dict[str, Any]] = {}
    if args.name == "all":
        for name, result in run_paired(workload, repeats).items():
            results[name] = {**result, "paired": True}
            log(f"wrote {write_results(name, results[name], args.results_dir)}")
    for name in names:
        if name in results:
            continue
        if name == "update":
            results[name] = update.run(workload, repeats, args.new_leads)
        else:
            results[name] = RUNNERS[name](workload, repeats)
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
