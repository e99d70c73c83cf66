"""`decoders`: CPU time per message and bit-identity of GRIB2 decoders on every real fixture
message (``benchmarks.real_fixtures``), grouped by packing and by source.

The reference is the production decode: pygrib as ``reformatters.core.sources.grib`` uses it
(float64, NaN where the message marks a point missing). Each candidate's values, as it produces
them (float64, or float32 for ``eccodes-float32``, against the reference cast to float32), must
equal the reference bit for bit, NaN at the same points. Candidates return values in the file's
scan order; reshaping them to the grid and reversing every other row where the grid scans
boustrophedonically (as pygrib does) is done outside the clock.

Timing: CPU time of this process (``time.process_time``: every decoder here is single-threaded)
per call, each (message, decoder) sample a loop of calls lasting at least 3 ms; the decoders take
turns on every message (their order rotates) and every message is timed ``repeats`` times; a
message's time is its median. A decoder that is not installed is reported as skipped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.common import load_average, log
from benchmarks.real_fixtures import FixtureMessage, decode_like_core, fixture_messages

type Decode = Callable[[bytes], npt.NDArray[Any]]

_MIN_SAMPLE_SECONDS = 0.003
_MAX_CALLS = 200
# What core asks eccodes to write at missing points (reformatters.core.sources.grib).
_MISSING_SENTINEL = -(2**62)


@dataclass(frozen=True)
class Decoder:
    name: str
    package: str  # the distribution whose version is recorded
    what: str
    load: Callable[[], Decode]  # raises ImportError when the package is not installed
    scan_order: bool = True  # values in the file's scan order (pygrib's: already its layout)


def _pygrib() -> Decode:
    import pygrib  # noqa: F401

    return decode_like_core


def _eccodes(ktype: type[np.floating[Any]]) -> Callable[[], Decode]:
    def load() -> Decode:
        import eccodes

        sentinel = ktype(_MISSING_SENTINEL)

        def decode(raw: bytes) -> npt.NDArray[Any]:
            handle = eccodes.codes_new_from_message(raw)
            try:
                eccodes.codes_set(handle, "missingValue", _MISSING_SENTINEL)
                values: npt.NDArray[Any] = eccodes.codes_get_values(handle, ktype)
            finally:
                eccodes.codes_release(handle)
            values[values == sentinel] = np.nan
            return values

        return decode

    return load


def _gribberish() -> Decode:
    import gribberish

    def decode(raw: bytes) -> npt.NDArray[Any]:
        values: npt.NDArray[Any] = gribberish.parse_grib_array(raw, 0)
        return values

    return decode


DECODERS: tuple[Decoder, ...] = (
    Decoder("pygrib", "pygrib", "pygrib.fromstring(...).values, as core decodes", _pygrib, False),
    Decoder(
        "eccodes",
        "eccodes",
        "codes_new_from_message + codes_get_values (float64)",
        _eccodes(np.float64),
    ),
    Decoder(
        "eccodes-float32", "eccodes", "codes_get_values(..., numpy.float32)", _eccodes(np.float32)
    ),
    Decoder("gribberish", "gribberish", "gribberish.parse_grib_array", _gribberish),
)


def as_pygrib_layout(values: npt.NDArray[Any], message: FixtureMessage) -> npt.NDArray[Any]:
    """Values in scan order shaped like pygrib's: the grid's shape, every other row reversed
    where rows alternate direction (boustrophedonic scanning, e.g. NDFD)."""
    if values.size != message.points:
        return values  # reported as a difference
    shaped = values.reshape(message.shape)
    if message.alternative_rows and shaped.ndim == 2:
        shaped = shaped.copy()
        shaped[1::2] = shaped[1::2, ::-1]
    return shaped


def differences(values: npt.NDArray[Any], reference: npt.NDArray[np.float64]) -> dict[str, Any]:
    """How ``values`` differ from ``reference`` (cast to their dtype); ``identical`` is bit
    identity with NaN at the same points."""
    expected = reference.astype(values.dtype, copy=False)
    if values.shape != expected.shape:
        return {"identical": False, "shape": [list(values.shape), list(expected.shape)]}
    nan, nan_expected = np.isnan(values), np.isnan(expected)
    both = ~nan & ~nan_expected
    bits = np.uint64 if values.dtype == np.float64 else np.uint32
    differ = values[both].view(bits) != expected[both].view(bits)
    stored, stored_expected = values.astype(np.float32), expected.astype(np.float32)
    found: dict[str, Any] = {
        "identical": bool(np.array_equal(nan, nan_expected) and not differ.any()),
        # equal once cast to float32, as every dataset stores them (NaN at the same points)
        "identical_float32": bool(np.array_equal(stored, stored_expected, equal_nan=True)),
        "nan_mismatches": int(np.count_nonzero(nan != nan_expected)),
        "values_differing": int(np.count_nonzero(differ)),
    }
    if differ.any():
        delta = np.abs(values[both][differ].astype(np.float64) - expected[both][differ])
        found["max_abs_difference"] = float(delta.max())
    return found


def cpu_seconds_per_call(decode: Decode, raw: bytes, calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        decode(raw)
    return (time.process_time() - started) / calls


def _check(
    messages: Sequence[FixtureMessage], decoders: dict[str, Decode], scan_order: set[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per message and decoder: identity with the reference (or the error), calls per sample."""
    checked: dict[str, dict[str, dict[str, Any]]] = {}
    for message in messages:
        reference = decode_like_core(message.raw)
        checked[message.name] = {}
        for name, decode in decoders.items():
            started = time.process_time()
            try:
                values = decode(message.raw)
            except Exception as error:  # noqa: BLE001  (any decoder failure is a result)
                checked[message.name][name] = {"error": f"{type(error).__name__}: {error}"}
                continue
            seconds = max(time.process_time() - started, 1e-6)
            calls = min(_MAX_CALLS, math.ceil(_MIN_SAMPLE_SECONDS / seconds))
            if name in scan_order:
                values = as_pygrib_layout(values, message)
            found = differences(values, reference)
            checked[message.name][name] = {**found, "calls": calls}
    return checked


def _time(
    messages: Sequence[FixtureMessage],
    decoders: dict[str, Decode],
    checked: dict[str, dict[str, dict[str, Any]]],
    repeats: int,
) -> None:
    names = list(decoders)
    for repeat in range(repeats):
        for i, message in enumerate(messages):
            shift = (repeat + i) % len(names)
            for name in names[shift:] + names[:shift]:
                result = checked[message.name][name]
                if "error" in result:
                    continue
                seconds = cpu_seconds_per_call(decoders[name], message.raw, result["calls"])
                result.setdefault("cpu_ms_runs", []).append(seconds * 1e3)
        log(f"  pass {repeat + 1}/{repeats} done (load average {load_average()[0]:.1f})")
    for per_decoder in checked.values():
        for result in per_decoder.values():
            if "cpu_ms_runs" in result:
                result["cpu_ms"] = float(np.median(result["cpu_ms_runs"]))


def summarize(
    messages: Iterable[FixtureMessage],
    decoders: Sequence[str],
    checked: dict[str, dict[str, dict[str, Any]]],
    group: Callable[[FixtureMessage], str],
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per group and decoder: messages, read, bit-identical, mean CPU ms per message, ns per
    point and CPU relative to pygrib on the same messages."""
    groups: dict[str, list[FixtureMessage]] = {}
    for message in messages:
        groups.setdefault(group(message), []).append(message)
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for key in sorted(groups):
        members = groups[key]
        table[key] = {}
        for name in decoders:
            read = [m for m in members if "cpu_ms" in checked[m.name][name]]
            ms = [checked[m.name][name]["cpu_ms"] for m in read]
            pygrib_ms = [checked[m.name]["pygrib"]["cpu_ms"] for m in read]
            results = [checked[m.name][name] for m in members]
            row: dict[str, Any] = {
                "messages": len(members),
                "read": len(read),
                "identical": sum(bool(r.get("identical")) for r in results),
                "identical_float32": sum(bool(r.get("identical_float32")) for r in results),
                "points": sum(m.points for m in read),
            }
            if read:
                row["cpu_ms_per_message"] = sum(ms) / len(read)
                row["cpu_ns_per_point"] = sum(ms) * 1e6 / max(row["points"], 1)
                row["cpu_vs_pygrib"] = sum(ms) / sum(pygrib_ms)
            table[key][name] = row
    return table


def print_summary(title: str, table: dict[str, dict[str, dict[str, Any]]]) -> None:
    print(f"\n{title}")
    header = (
        f"{'group':<38} {'decoder':<16} {'msgs':>5} {'read':>5} {'bit-identical':>13} "
        f"{'as float32':>10} {'CPU ms/msg':>10} {'ns/point':>9} {'CPU/pygrib':>10}"
    )
    print(header)
    print("-" * len(header))
    for key, per_decoder in table.items():
        for name, row in per_decoder.items():
            cells = "".join(
                f" {row[k]:>{w}.{d}f}" if k in row else f" {'-':>{w}}"
                for k, w, d in (
                    ("cpu_ms_per_message", 10, 2),
                    ("cpu_ns_per_point", 9, 1),
                    ("cpu_vs_pygrib", 10, 2),
                )
            )
            identical = f"{row['identical']}/{row['messages']}"
            stored = f"{row['identical_float32']}/{row['messages']}"
            print(
                f"{key:<38} {name:<16} {row['messages']:>5} {row['read']:>5} {identical:>13} "
                f"{stored:>10}{cells}"
            )


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def run(root: Path, repeats: int, decoders: Sequence[Decoder] = DECODERS) -> dict[str, Any]:
    load = load_average()
    messages = fixture_messages(root)
    loaded: dict[str, Decode] = {}
    status: dict[str, dict[str, Any]] = {}
    for decoder in decoders:
        try:
            loaded[decoder.name] = decoder.load()
        except ImportError as error:
            status[decoder.name] = {"available": False, "skipped": f"not installed: {error}"}
            print(f"decoder {decoder.name}: skipped ({status[decoder.name]['skipped']})")
            continue
        status[decoder.name] = {
            "available": True,
            "what": decoder.what,
            "version": _version(decoder.package),
        }
    if "pygrib" not in loaded:
        raise SystemExit("decoders: pygrib (the reference) is not installed")
    log(f"decoders: {len(messages)} messages under {root}, decoders {', '.join(loaded)}")
    scan_order = {d.name for d in decoders if d.scan_order}
    checked = _check(messages, loaded, scan_order)
    _time(messages, loaded, checked, max(repeats, 1))
    by_packing = summarize(
        messages,
        list(loaded),
        checked,
        lambda m: (
            m.packing.replace("spatial differencing", "spatial diff.")
            + (", bitmap" if m.bitmap else "")
        ),
    )
    by_source = summarize(messages, list(loaded), checked, lambda m: m.source)
    overall = summarize(messages, list(loaded), checked, lambda _: "all messages")
    repeats_note = f"median of {max(repeats, 1)} per message"
    print_summary(f"decoders by packing ({repeats_note})", by_packing)
    print_summary(f"decoders by source ({repeats_note})", by_source)
    print_summary("decoders, every fixture message", overall)
    return {
        "fixtures_dir": str(root),
        "repeats": max(repeats, 1),
        "load_average_start": load,
        "decoders": status,
        "by_packing": by_packing,
        "by_source": by_source,
        "overall": overall["all messages"],
        "messages": [
            {
                "message": m.name,
                "source": m.source,
                "packing": m.packing,
                "bitmap": m.bitmap,
                "shape": list(m.shape),
                "results": checked[m.name],
            }
            for m in messages
        ],
    }
