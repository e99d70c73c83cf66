"""`bound`: the work a backfill cannot avoid, for exactly the backfill's messages and chunks.

Every message is decoded once (pygrib, as the pipeline does) and given the dataset's declared
per-field transforms (unit conversion, mantissa rounding: they define the stored values); every
output chunk that holds data is encoded once with the dataset's codec (blosc, single-threaded
per process). Work is spread over one process per usable core with no I/O: message bytes are
read before the clock starts, encoded chunks are discarded. Deaccumulation (a few variables) and
the shard index are left out, so the bound is slightly optimistic.

Messages on a 0.5 degree grid (GEFS after 240 h, and its 500 hPa height and 100 m winds) are
placed on the 0.25 degree grid as the dataset declares (bilinear, ``upsample_half_degree``),
counted as a transform. An ensemble's chunks are per member, as its shards are.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np

from benchmarks.common import (
    Row,
    load_average,
    log,
    print_table,
    repeat,
    single_threaded_blosc,
    summarize,
)
from benchmarks.workload import (
    FIELD_BYTES,
    FIELD_SHAPE,
    Workload,
    ensure_mirror,
    message_bytes,
    workload_size,
)

ROWS = (
    Row("bound wall time (all cores)", "wall_seconds", "s"),
    Row("CPU: decode", "decode_seconds", "s"),
    Row("CPU: transform (units, rounding)", "transform_seconds", "s"),
    Row("CPU: encode", "encode_seconds", "s"),
    Row("CPU: total", "cpu_seconds", "s"),
    Row("chunks encoded", "chunks", "", 1.0, 0),
    Row("compressed bytes", "compressed_bytes", "MB", 1e-6, 1),
    Row("compression ratio", "compression_ratio", "x", 1.0, 2),
    Row("GRIB messages per second", "messages_per_second", "msg/s", 1.0, 1),
    Row("raw throughput", "raw_mb_per_second", "MB/s", 1.0, 1),
    Row("processes", "processes", "", 1.0, 0),
    Row("load average (1 min) at start", "load_average", "", 1.0, 2),
)

_KELVIN_OFFSET = np.float32(273.15)


def _warm_up(_: int) -> int:
    import numcodecs  # noqa: F401
    import pygrib  # noqa: F401

    import reformatters.core.rounding
    import reformatters.noaa.gefs.common  # noqa: F401  (upsample_half_degree)

    return os.getpid()


def encode_variable(
    fields: Sequence[tuple[int, bytes, bool]],
    chunks: tuple[int, ...],
    compression: tuple[str, int, str],
    keep_mantissa_bits: int | str,
    kelvin_to_celsius: bool,
) -> dict[str, float]:
    """Decode one variable's (one member's) messages (lead position in the dataset, bytes, on
    the 0.5 degree grid) and encode its non-empty chunks.

    ``chunks`` is the inner chunk shape, (..., lead, lat, lon) with 1 along the other dims
    (init, member); edge chunks are padded with NaN like zarr pads them.
    """
    import pygrib

    from reformatters.core.rounding import round_float32_mantissa

    codec = single_threaded_blosc(compression)
    ny, nx = FIELD_SHAPE
    positions = [position for position, _, _ in fields]
    data = np.empty((len(fields), ny, nx), dtype=np.float32)
    half_degree: dict[int, Any] = {}  # placed on the 0.25 degree grid as a transform

    started = time.thread_time()
    for i, (_, raw, on_half_degree) in enumerate(fields):
        values = pygrib.fromstring(raw).values
        values = np.ma.filled(values, np.nan) if np.ma.isMaskedArray(values) else values
        if on_half_degree:
            half_degree[i] = values
        else:
            data[i] = values
    decode = time.thread_time() - started

    started = time.thread_time()
    for i in range(len(fields)):
        if i in half_degree:
            from reformatters.noaa.gefs.common import upsample_half_degree

            data[i] = upsample_half_degree(half_degree.pop(i))
        if kelvin_to_celsius:
            data[i] -= _KELVIN_OFFSET
        if keep_mantissa_bits != "no-rounding":
            round_float32_mantissa(data[i], int(keep_mantissa_bits))
    transform = time.thread_time() - started

    lead_chunk, lat_chunk, lon_chunk = chunks[-3:]
    lead_blocks = sorted({p // lead_chunk for p in positions})
    chunk_buffer = np.empty((lead_chunk, lat_chunk, lon_chunk), dtype=np.float32)
    compressed = n_chunks = 0
    started = time.thread_time()
    for block in lead_blocks:
        rows = [
            (i, p - block * lead_chunk) for i, p in enumerate(positions) if p // lead_chunk == block
        ]
        for y0 in range(0, ny, lat_chunk):
            for x0 in range(0, nx, lon_chunk):
                chunk_buffer.fill(np.nan)
                tile = data[:, y0 : y0 + lat_chunk, x0 : x0 + lon_chunk]
                for i, row in rows:
                    chunk_buffer[row, : tile.shape[1], : tile.shape[2]] = tile[i]
                compressed += len(codec.encode(chunk_buffer.reshape(chunks)))
                n_chunks += 1
    encode = time.thread_time() - started
    return {
        "decode_seconds": decode,
        "transform_seconds": transform,
        "encode_seconds": encode,
        "chunks": n_chunks,
        "compressed_bytes": compressed,
    }


def _tasks(workload: Workload) -> list[tuple[Any, ...]]:
    """One task per variable (and member): the chunks of one shard."""
    if workload.inits != 1:
        raise ValueError("the bound is measured on one init (see benchmarks.scale)")
    messages = message_bytes(workload)
    lead_positions = {lead: i for i, lead in enumerate(workload.spec.lead_hours())}
    tasks = []
    for var in workload.data_vars():
        for member in workload.members or (None,):
            fields = [
                (lead_positions[m.lead], raw, m.half_degree)
                for m, raw in messages
                if m.var.name == var.name and m.member == member
            ]
            if fields:
                tasks.append((fields, *_encoding(var)))
    # Largest first keeps the cores busy to the end.
    return sorted(tasks, key=lambda t: -len(t[0]))


def _encoding(var: Any) -> tuple[Any, ...]:
    """(chunks, compression, mantissa bits, Kelvin to Celsius) of a variable, for the tasks."""
    compression = var.encoding.compression
    attrs = var.internal_attrs
    return (
        var.encoding.chunks,
        (compression.cname, compression.clevel, compression.shuffle),
        attrs.keep_mantissa_bits,
        attrs.unit_conversion == "kelvin_to_celsius",
    )


def processes() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run_once(
    pool: ProcessPoolExecutor, tasks: list[tuple[Any, ...]], n: int, messages: int
) -> dict[str, float]:
    load = load_average()[0]
    started = time.perf_counter()
    futures = [pool.submit(encode_variable, *task) for task in tasks]
    parts = [f.result() for f in futures]
    wall = time.perf_counter() - started
    totals = {key: sum(p[key] for p in parts) for key in parts[0]}
    raw_chunk_bytes = totals["chunks"] * float(np.prod(tasks[0][1])) * 4
    return {
        "wall_seconds": wall,
        **totals,
        "cpu_seconds": totals["decode_seconds"]
        + totals["transform_seconds"]
        + totals["encode_seconds"],
        "compression_ratio": raw_chunk_bytes / totals["compressed_bytes"],
        "messages_per_second": messages / wall,
        "raw_mb_per_second": messages * FIELD_BYTES / 1e6 / wall,
        "processes": n,
        "load_average": load,
    }


@contextmanager
def session(workload: Workload) -> Iterator[Callable[[int], dict[str, float]]]:
    """Read the messages and start one warmed-up process per core; yields a function that times
    one pass over all the work."""
    tasks = _tasks(workload)
    n = processes()
    messages = len(workload.messages())
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(n, mp_context=context) as pool:
        list(pool.map(_warm_up, range(n)))
        yield lambda i: run_once(pool, tasks, n, messages)


def report(
    workload: Workload, runs: list[dict[str, float]], synthesis_seconds: float
) -> dict[str, Any]:
    stats = summarize(runs)
    print_table(
        f"CPU bound, {workload_size(workload)}, median of {len(runs)}",
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


def run(workload: Workload, repeats: int) -> dict[str, Any]:
    synthesis_seconds = ensure_mirror(workload)
    with session(workload) as one:
        log(f"bound: {len(workload.messages())} messages over {processes()} processes")
        runs = repeat(repeats, one)
    return report(workload, runs, synthesis_seconds)
