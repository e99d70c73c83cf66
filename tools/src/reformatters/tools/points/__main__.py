"""``python -m reformatters.tools.points [FOLDER [CHUNKS [SHARDS]]]``, e.g. 730x32x32."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from reformatters.tools.points.benchmark import benchmark_extraction


def _benchmark_main(argv: Sequence[str]) -> None:
    def shape(text: str) -> tuple[int, int, int]:
        t, y, x = (int(v) for v in text.split("x"))
        return t, y, x

    folder = Path(argv[0]) if argv else Path("./data/points-benchmark")
    if len(argv) > 2:
        result = benchmark_extraction(folder, chunks=shape(argv[1]), shards=shape(argv[2]))
    else:
        result = benchmark_extraction(folder)
    print(
        f"{result.rows} rows ({result.shape[0]} hours x 100 points) from a "
        f"{'x'.join(map(str, result.shape))} store (chunks {'x'.join(map(str, result.chunks))}, "
        f"{result.store_bytes / 1e6:.0f} MB on disk): {result.seconds:.2f} s, read "
        f"{result.bytes_read / 1e6:.1f} MB in {result.requests} requests; DuckDB upsert "
        f"{result.duckdb_seconds:.2f} s"
    )


if __name__ == "__main__":
    _benchmark_main(sys.argv[1:])
