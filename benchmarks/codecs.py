"""`codecs`: compression ratio and speed of blosc settings on the workload's output chunks.

Chunks are built like the pipeline's (decoded, units converted, mantissas rounded, NaN beyond
the last lead, edge chunks padded); every setting encodes and decodes the same chunks in one
thread. The dataset's setting is marked in the table.

`codecs --real` does the same on real fields decoded from the real fixtures
(``benchmarks.real_fields``): lead slices of each field's dataset chunks, the settings taking
turns (their order rotates every repeat).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    load_average,
    log,
    single_threaded_blosc,
)
from benchmarks.real_fields import real_chunks
from benchmarks.workload import Workload, ensure_mirror, message_bytes

SETTINGS: tuple[tuple[str, int, str], ...] = (
    ("zstd", 1, "bitshuffle"),
    ("zstd", 3, "bitshuffle"),
    ("zstd", 5, "bitshuffle"),
    ("zstd", 3, "shuffle"),
    ("lz4", 5, "bitshuffle"),
    ("lz4hc", 5, "bitshuffle"),
)
_KELVIN_OFFSET = np.float32(273.15)


def sample_chunks(
    workload: Workload, per_variable: int = 6, data_only: bool = False
) -> list[np.ndarray[Any, Any]]:
    """Up to ``per_variable`` inner chunks of every variable, spread over the globe.

    ``data_only`` keeps only the leads that hold data (as in a chunk of a complete forecast),
    instead of the NaN-padded chunks this workload writes.
    """
    import pygrib

    from reformatters.core.rounding import round_float32_mantissa

    positions = {lead: i for i, lead in enumerate(workload.lead_hours)}
    chunks: list[np.ndarray[Any, Any]] = []
    messages = message_bytes(workload)
    for var in workload.data_vars():
        fields = [(positions[m.lead], raw) for m, raw in messages if m.var.name == var.name]
        if not fields:
            continue
        _, lead_chunk, lat_chunk, lon_chunk = var.encoding.chunks
        block = np.full((lead_chunk, 721, 1440), np.nan, dtype=np.float32)
        attrs = var.internal_attrs
        for position, raw in fields:
            if position >= lead_chunk:
                continue
            values = pygrib.fromstring(raw).values
            field = np.asarray(np.ma.filled(values, np.nan), dtype=np.float32)
            if attrs.unit_conversion == "kelvin_to_celsius":
                field -= _KELVIN_OFFSET
            if attrs.keep_mantissa_bits != "no-rounding":
                round_float32_mantissa(field, int(attrs.keep_mantissa_bits))
            block[position] = field
        tiles = [(y, x) for y in range(0, 721, lat_chunk) for x in range(0, 1440, lon_chunk)]
        step = max(1, len(tiles) // per_variable)
        for y, x in tiles[::step][:per_variable]:
            leads = min(lead_chunk, len(workload.lead_hours)) if data_only else lead_chunk
            chunk = np.full((1, leads, lat_chunk, lon_chunk), np.nan, dtype=np.float32)
            tile = block[:leads, y : y + lat_chunk, x : x + lon_chunk]
            chunk[0, :, : tile.shape[1], : tile.shape[2]] = tile
            chunks.append(chunk)
    return chunks


def measure(chunks: list[np.ndarray[Any, Any]], setting: tuple[str, int, str]) -> dict[str, float]:
    codec = single_threaded_blosc(setting)
    raw = sum(c.nbytes for c in chunks)
    started = time.thread_time()
    encoded = [codec.encode(c) for c in chunks]
    encode = time.thread_time() - started
    started = time.thread_time()
    for e in encoded:
        codec.decode(e)
    decode = time.thread_time() - started
    compressed = sum(len(e) for e in encoded)
    return {
        "ratio": raw / compressed,
        "encode_mb_per_cpu_second": raw / 1e6 / encode,
        "decode_mb_per_cpu_second": raw / 1e6 / decode,
        "compressed_bytes": compressed,
        "raw_bytes": raw,
        "encode_seconds": encode,
        "decode_seconds": decode,
    }


def _name(setting: tuple[str, int, str]) -> str:
    return " ".join(map(str, setting))


def _print_settings(title: str, results: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    header = f"{'setting':<28} {'ratio':>8} {'encode MB/s':>12} {'decode MB/s':>12}"
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        print(
            f"{name:<28} {r['ratio']:>8.2f} {r['encode_mb_per_cpu_second']:>12.0f} "
            f"{r['decode_mb_per_cpu_second']:>12.0f}"
        )


def run_real(root: Path, repeats: int) -> dict[str, Any]:
    """Every setting on the lead slices of every real field (see benchmarks.real_fields)."""
    load = load_average()
    chunks, fields = real_chunks(root)
    if not chunks:
        raise SystemExit(f"codecs --real: none of the real fields found under {root}")
    log(f"codecs --real: {len(chunks)} fields, {sum(len(c) for c in chunks.values())} chunks")
    runs: dict[str, dict[str, list[dict[str, float]]]] = {f: {} for f in chunks}
    repeats = max(repeats, 1)
    for i in range(repeats):
        shift = i % len(SETTINGS)
        for setting in SETTINGS[shift:] + SETTINGS[:shift]:
            for label, field_chunks in chunks.items():
                runs[label].setdefault(_name(setting), []).append(measure(field_chunks, setting))
        log(f"  pass {i + 1}/{repeats} done (load average {load_average()[0]:.1f})")
    results: dict[str, dict[str, dict[str, float]]] = {
        label: {
            name: {key: float(np.median([r[key] for r in rs])) for key in rs[0]}
            for name, rs in per_setting.items()
        }
        for label, per_setting in runs.items()
    }
    results["all real fields"] = {}
    for setting in SETTINGS:
        parts = [results[label][_name(setting)] for label in chunks]
        raw = sum(p["raw_bytes"] for p in parts)
        results["all real fields"][_name(setting)] = {
            "ratio": raw / sum(p["compressed_bytes"] for p in parts),
            "encode_mb_per_cpu_second": raw / 1e6 / sum(p["encode_seconds"] for p in parts),
            "decode_mb_per_cpu_second": raw / 1e6 / sum(p["decode_seconds"] for p in parts),
        }
    print("\nthe datasets' setting: zstd 3 bitshuffle; MB/s = MB of raw float32 per CPU second")
    for label, per_setting in results.items():
        what = fields.get(label, {})
        detail = (
            f" ({what['dataset']} {what['variable']}, {what['keep_mantissa_bits']} mantissa "
            f"bits, {what['chunks']} chunks of {what['chunk']})"
            if what
            else f" ({len(chunks)} fields)"
        )
        _print_settings(f"{label}{detail}, median of {repeats}", per_setting)
    for label, what in fields.items():
        if "skipped" in what:
            print(f"skipped {label}: {what['skipped']}")
    return {
        "fixtures_dir": str(root),
        "repeats": repeats,
        "load_average_start": load,
        "fields": fields,
        "settings": results,
    }


def run(workload: Workload, repeats: int) -> dict[str, Any]:
    synthesis_seconds = ensure_mirror(workload)
    dataset_setting = workload.data_vars()[0].encoding.compression
    current = (dataset_setting.cname, dataset_setting.clevel, dataset_setting.shuffle)
    load = load_average()[0]
    results: dict[str, dict[str, dict[str, float]]] = {}
    for sample, data_only in (("as written", False), ("data leads only", True)):
        chunks = sample_chunks(workload, data_only=data_only)
        log(
            f"codecs: {len(chunks)} chunks ({sample}), {sum(c.nbytes for c in chunks) / 1e6:.0f} MB"
        )
        results[sample] = {}
        for setting in SETTINGS:
            runs = [measure(chunks, setting) for _ in range(max(repeats, 1))]
            results[sample][" ".join(map(str, setting))] = {
                key: float(np.median([r[key] for r in runs])) for key in runs[0]
            }
        print(f"\nblosc on {len(chunks)} output chunks ({sample}), median of {max(repeats, 1)}")
        header = f"{'setting':<28} {'ratio':>8} {'encode MB/s':>12} {'decode MB/s':>12}"
        print(header)
        print("-" * len(header))
        for setting in SETTINGS:
            r = results[sample][" ".join(map(str, setting))]
            name = " ".join(map(str, setting)) + (" (dataset)" if setting == current else "")
            print(
                f"{name:<28} {r['ratio']:>8.2f} {r['encode_mb_per_cpu_second']:>12.0f} "
                f"{r['decode_mb_per_cpu_second']:>12.0f}"
            )
    return {
        "workload": workload.describe(),
        "repeats": max(repeats, 1),
        "synthesis_seconds": synthesis_seconds,
        "dataset_setting": list(current),
        "load_average": load,
        "settings": results,
    }
