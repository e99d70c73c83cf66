"""`points`: extract a year of hourly data at 100 random points from a local store.

The store is analysis-shaped (time x latitude x longitude, 8760 x 181 x 360, float32, sharded) and
written once under the work dir; each repetition opens it afresh through a counting store wrapper,
runs ``reformatters.tools.points.extract.extract_points`` (pointwise indexing: only the inner
chunks that hold the points are read) and upserts the 876 000 rows into a new DuckDB file.

    uv run python -m benchmarks.points [--hours 8760] [--points 100] [--chunks 730x32x32]
        [--shards 2190x64x64] [--repeats 3]

``run(workload, repeats)`` has the signature of the other benchmarks (only the work dir is used).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import (
    RESULTS_DIR,
    Row,
    load_average,
    log,
    print_table,
    summarize,
    write_results,
)

ROWS = (
    Row("extract (open + read + table)", "seconds", "s", 1.0, 2),
    Row("bytes read from the store", "bytes_read", "MB", 1e-6, 1),
    Row("share of the store read", "share_read", "%", 100.0, 1),
    Row("read requests", "requests", "", 1.0, 0),
    Row("DuckDB upsert", "duckdb_seconds", "s", 1.0, 2),
    Row("load average (1 min) at start", "load_average", "", 1.0, 2),
)


def _shape(text: str) -> tuple[int, int, int]:
    t, y, x = (int(v) for v in text.lower().split("x"))
    return t, y, x


def measure(
    work_dir: Path,
    repeats: int,
    hours: int = 8760,
    points: int = 100,
    chunks: tuple[int, int, int] = (730, 32, 32),
    shards: tuple[int, int, int] = (2190, 64, 64),
) -> dict[str, Any]:
    from reformatters.tools.points.benchmark import benchmark_extraction

    folder = work_dir / "points"
    log(f"points: store under {folder} (written on the first run only)")
    benchmark_extraction(folder, hours, points, chunks=chunks, shards=shards)  # warm-up, writes
    runs = []
    for i in range(max(repeats, 1)):
        load = load_average()[0]
        result = benchmark_extraction(folder, hours, points, chunks=chunks, shards=shards, seed=i)
        runs.append(
            {
                "seconds": result.seconds,
                "bytes_read": float(result.bytes_read),
                "share_read": result.bytes_read / result.store_bytes,
                "requests": float(result.requests),
                "duckdb_seconds": result.duckdb_seconds,
                "load_average": load,
            }
        )
        log(f"  run {i + 1}/{repeats}: {result.seconds:.2f} s, {result.bytes_read / 1e6:.0f} MB")
    stats = summarize(runs)
    print_table(
        f"{points} points x {hours} hours, store {hours}x181x360 chunks "
        f"{'x'.join(map(str, chunks))}, median of {len(runs)}",
        stats,
        ROWS,
    )
    return {
        "workload": {"hours": hours, "points": points, "chunks": chunks, "shards": shards},
        "repeats": len(runs),
        "stats": stats,
        "runs": runs,
    }


def run(workload: Any, repeats: int) -> dict[str, Any]:
    return measure(Path(workload.work_dir), repeats)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.points", description=__doc__)
    parser.add_argument("--hours", type=int, default=8760)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--chunks", type=_shape, default=(730, 32, 32))
    parser.add_argument("--shards", type=_shape, default=(2190, 64, 64))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work-dir", type=Path, default=RESULTS_DIR / "work")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    result = measure(
        args.work_dir.resolve(), args.repeats, args.hours, args.points, args.chunks, args.shards
    )
    log(f"wrote {write_results('points', result, args.results_dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
