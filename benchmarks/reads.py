"""`reads`: each dataset's reads on its own chunks and shards, beside the reference's (or an
alternative's), from local stores built with zarr in each layout and the dataset's codec.

`python -m benchmarks reads [--dataset all|ID] [--repeats R] [--hours H] [--crop N]`

Per dataset (one variable, 2 m temperature): a full map at one lead (forecasts; ensembles: one
member's) or hour (analyses), a point's series over every lead of one init (forecasts; one
member) or over `--hours` hours (analyses; default a year), and for ensembles every member at the
point over every lead. Each read opens the store afresh (no zarr caches) through xarray and a
store that counts the bytes read; the layouts are taken in turns (ours, other, other, ours, ...).
The OS page cache is not dropped: repeated reads measure decoding and indexing more than a disk.
What the stores hold and how they are built: benchmarks.reads_store.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    RESULTS_DIR,
    Stat,
    load_average,
    log,
    single_threaded_blosc,
    write_results,
)
from benchmarks.reads_layouts import (
    DATASET_IDS,
    HOURS_PER_YEAR,
    VARIABLE,
    Case,
    Layout,
    Selection,
    make_case,
    touched_chunks,
)
from benchmarks.reads_store import (
    Synthesis,
    base_field,
    build_store,
    counting_store,
    store_stats,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks reads", description=__doc__)
    parser.add_argument("--dataset", choices=["all", *DATASET_IDS], default="all")
    parser.add_argument("--repeats", type=int, default=3, help="reads per layout (median)")
    parser.add_argument(
        "--hours",
        type=int,
        default=HOURS_PER_YEAR,
        help="analysis datasets: hours in the store and in the point's series (default a year)",
    )
    parser.add_argument(
        "--crop", type=int, default=None, help="keep the grid's first N rows and columns (tests)"
    )
    parser.add_argument("--work-dir", type=Path, default=RESULTS_DIR / "work")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    return parser


def store_path(work_dir: Path, case: Case, layout: Layout) -> Path:
    return work_dir / "reads" / case.dataset_id / f"{layout.name}.zarr"


def time_read(case: Case, path: Path, selection: Selection) -> dict[str, float]:
    import xarray as xr

    load = load_average()[0]
    store = counting_store(path)
    started = time.perf_counter()
    ds = xr.open_zarr(store, chunks=None, consolidated=False, zarr_format=3)
    opened = time.perf_counter()
    indexers = {d: i for d, i in zip(case.dims, selection, strict=True) if i is not None}
    values = ds[VARIABLE].isel(indexers).values
    done = time.perf_counter()
    if not np.isfinite(values).all():
        raise RuntimeError(f"{path}: the read met chunks that were not written")
    return {
        "seconds": done - opened,
        "open_seconds": opened - started,
        "bytes_read": float(store.bytes_read),
        "requests": float(store.requests),
        "objects": float(len(store.keys)),
        "values": float(values.size),
        "load_average": load,
    }


def field_ratios(case: Case, synthesis: Synthesis, work_dir: Path) -> dict[str, Any]:
    """The dataset codec's compression ratio on one whole 2-D field: the real base field (rounded
    alone) and a synthesized step, to show the synthetic data compresses like real data."""
    from reformatters.core.rounding import round_float32_mantissa

    codec = case.compressors[0]["configuration"]
    blosc = single_threaded_blosc((codec["cname"], int(codec["clevel"]), codec["shuffle"]))
    ny, nx = case.shape[-2:]
    real, source = base_field(case.full_grid, work_dir / "reads")
    real = np.ascontiguousarray(real[:ny, :nx])
    round_float32_mantissa(real, case.keep_mantissa_bits)
    step = np.empty((ny, nx), dtype=np.float32)
    synthesis.field(case.step_hours[len(case.step_hours) // 2], 0, slice(0, ny), slice(0, nx), step)
    return {
        "base_field": source,
        "real_field_ratio": real.nbytes / len(blosc.encode(real)),
        "synthetic_field_ratio": step.nbytes / len(blosc.encode(step)),
    }


def build(case: Case, work_dir: Path) -> dict[str, Any]:
    synthesis = Synthesis.of(case, work_dir / "reads")
    found: dict[str, Any] = {"fields": field_ratios(case, synthesis, work_dir)}
    for layout in case.layouts:
        path = store_path(work_dir, case, layout)
        started = time.perf_counter()
        built = build_store(case, layout, path, synthesis)
        stats = store_stats(case, layout, path)
        stats["build_seconds"] = time.perf_counter() - started if built else 0.0
        found[layout.name] = stats
        log(
            f"{case.dataset_id} {layout.name}: {stats['bytes_on_disk'] / 1e6:.0f} MB "
            + (f"built in {stats['build_seconds']:.0f} s" if built else "reused")
            + f", compression ratio {stats['compression_ratio']:.2f}"
        )
    return found


def run(
    ids: Sequence[str], repeats: int, hours: int, crop: int | None, work_dir: Path
) -> dict[str, Any]:
    cases = [make_case(i, hours, crop) for i in ids]
    stores = {case.dataset_id: build(case, work_dir) for case in cases}
    runs: dict[str, dict[str, dict[str, list[dict[str, float]]]]] = {
        c.dataset_id: {r: {lay.name: [] for lay in c.layouts} for r in c.reads()} for c in cases
    }
    for i in range(repeats):
        for case in cases:
            for name, selection in case.reads().items():
                order = case.layouts if i % 2 == 0 else case.layouts[::-1]
                for layout in order:
                    path = store_path(work_dir, case, layout)
                    runs[case.dataset_id][name][layout.name].append(
                        time_read(case, path, selection)
                    )
        log(f"  round {i + 1}/{repeats} done (load average {load_average()[0]:.1f})")
    results: dict[str, Any] = {}
    for case in cases:
        reads: dict[str, Any] = {}
        built = stores[case.dataset_id]
        for name, selection in case.reads().items():
            reads[name] = {}
            for layout in case.layouts:
                taken = runs[case.dataset_id][name][layout.name]
                reads[name][layout.name] = {
                    "chunks": touched_chunks(selection, case.shape, layout.chunks),
                    "raw_bytes_decoded": 4
                    * touched_chunks(selection, case.shape, layout.chunks)
                    * int(np.prod(layout.chunks)),
                    # objects touched x their mean size in a whole store: what reading
                    # whole objects (no byte ranges) would cost
                    "objects_bytes_estimate": taken[0]["objects"]
                    * built[layout.name]["object_bytes_estimate"],
                    "stats": {k: Stat.of([r[k] for r in taken]) for k in taken[0]},
                    "runs": taken,
                }
        results[case.dataset_id] = {
            "case": case.describe(),
            "stores": stores[case.dataset_id],
            "reads": reads,
        }
    return results


def _mb(value: float) -> str:
    return f"{value / 1e6:,.1f} MB"


def print_results(results: dict[str, Any]) -> None:
    for dataset_id, found in results.items():
        layouts = found["case"]["layouts"]
        print(f"\n{dataset_id}")
        for name, layout in layouts.items():
            store = found["stores"][name]
            print(
                f"  {name:<14} chunks {tuple(layout['chunks'])} shards {layout['shards']}: "
                f"store {_mb(store['full_array_bytes_estimate'])} (estimated, whole array), "
                f"compression ratio {store['compression_ratio']:.2f}"
            )
        header = (
            f"  {'read':<8} {'layout':<14} {'median ms':>10} {'min':>8} {'max':>8} "
            f"{'chunks':>7} {'decoded':>11} {'bytes read':>12} {'objects':>8} {'object bytes':>13}"
        )
        print(
            "  (decoded: raw bytes of the chunks read; object bytes: the objects touched at their"
            " mean size in a whole store)"
        )
        print(header)
        for read, by_layout in found["reads"].items():
            for name, entry in by_layout.items():
                stats = entry["stats"]
                seconds = stats["seconds"]
                print(
                    f"  {read:<8} {name:<14} {seconds.median * 1e3:>10.1f} "
                    f"{seconds.min * 1e3:>8.1f} {seconds.max * 1e3:>8.1f} {entry['chunks']:>7} "
                    f"{_mb(entry['raw_bytes_decoded']):>11} "
                    f"{_mb(stats['bytes_read'].median):>12} {stats['objects'].median:>8.0f} "
                    f"{_mb(entry['objects_bytes_estimate']):>13}"
                )
        fields = found["stores"]["fields"]
        print(
            f"  data: {fields['base_field']}; codec ratio on one 2-D field: real "
            f"{fields['real_field_ratio']:.2f}, synthesized {fields['synthetic_field_ratio']:.2f}"
        )


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    ids = DATASET_IDS if args.dataset == "all" else (args.dataset,)
    load_start = load_average()
    results = run(ids, args.repeats, args.hours, args.crop, args.work_dir.resolve())
    print_results(results)
    payload = {
        "workload": {
            "datasets": list(ids),
            "repeats": args.repeats,
            "hours": args.hours,
            "crop": args.crop,
            "variable": VARIABLE,
        },
        "load_average_start": load_start,
        "results": results,
    }
    path = write_results("reads", payload, args.results_dir)
    log(f"wrote {path}")
    return 0
