"""Edit NOAA-layout mirror files the way real files differ from the ones we synthesize: a message
re-encoded from a real one, an inventory that lacks lines, an object filed under another run.

For the NOAA packages' tests and the cross-package ones; needs the package's ``testing`` extra
(pygrib).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pygrib

from reformatters.noaa.common.idx import IdxEntry, format_noaa_idx, parse_noaa_idx
from reformatters.noaa.common.internal_attrs import NoaaDataVar


def idx_path(path: Path) -> Path:
    return path.with_name(path.name + ".idx")


def copy_source_file(source_mirror: Path, mirror: Path, path: Path) -> Path:
    """Copy one file and its ``.idx`` from ``source_mirror`` to ``mirror`` (same relative path,
    or ``path`` if it is already inside ``mirror``'s tree); returns the copy."""
    relative = path.relative_to(source_mirror)
    target = mirror / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
    shutil.copyfile(idx_path(path), idx_path(target))
    return target


def entries_of(path: Path) -> list[IdxEntry]:
    return parse_noaa_idx(idx_path(path).read_text(), file_size=path.stat().st_size)


def message_bytes(path: Path, element: str, level: str) -> bytes:
    entry = next(e for e in entries_of(path) if (e.element, e.level) == (element, level))
    assert entry.end is not None
    with path.open("rb") as handle:
        handle.seek(entry.offset)
        return handle.read(entry.end - entry.offset)


def replace_message(path: Path, element: str, level: str, message: bytes) -> None:
    """Put ``message`` in place of the file's (element, level) message, offsets rewritten."""
    data = path.read_bytes()
    entries = entries_of(path)
    out, written = bytearray(), []
    for entry in entries:
        assert entry.end is not None
        chunk = data[entry.offset : entry.end]
        if (entry.element, entry.level) == (element, level):
            chunk = message
        written.append(replace(entry, offset=len(out), end=len(out) + len(chunk)))
        out += chunk
    path.write_bytes(bytes(out))
    idx_path(path).write_text(format_noaa_idx(written))


def keep_inventory_lines(path: Path, keep: Callable[[IdxEntry], bool]) -> None:
    """Drop every ``.idx`` line but those ``keep`` accepts (the GRIB file is unchanged)."""
    idx_path(path).write_text(format_noaa_idx([e for e in entries_of(path) if keep(e)]))


def set_inventory_run(path: Path, reference_time: str) -> None:
    """Rewrite every ``.idx`` line's ``d=`` (the GRIB messages are unchanged)."""
    entries = [replace(e, reference_time=reference_time) for e in entries_of(path)]
    idx_path(path).write_text(format_noaa_idx(entries))


def _sections(message: bytes) -> list[tuple[int, bytes]]:
    """(section number, bytes) of sections 1-7 of a single-field GRIB2 message."""
    found, position = [], 16
    while message[position : position + 4] != b"7777":
        length = int.from_bytes(message[position : position + 4], "big")
        found.append((message[position + 4], message[position : position + length]))
        position += length
    return found


def relabelled(
    real: bytes,
    like: bytes,
    values: np.ndarray,
    *,
    missing: np.ndarray | None = None,
    encoding: str = "complex",
) -> bytes:
    """A real message's grid and packing with the identification (run) and product definition
    (parameter, level, step) of ``like``, a message of the file it goes into, and ``values``;
    ``missing`` points are encoded as NCEP does (``complex``: template 5.3 with missing-value
    management, no bitmap) or with a bitmap."""
    borrowed = dict(_sections(like))
    body = b"".join(borrowed[n] if n in (1, 4) else part for n, part in _sections(real))
    total = 16 + len(body) + 4
    message = pygrib.fromstring(real[:8] + total.to_bytes(8, "big") + body + b"7777")
    data = np.asarray(values, dtype=np.float64)
    if missing is not None:
        key = "missingValueManagementUsed" if encoding == "complex" else "bitmapPresent"
        message[key] = 1
        message["missingValue"] = 9999
        data = np.where(missing, 9999.0, data)
    message.values = data
    encoded = bytes(message.tostring())
    check = pygrib.fromstring(encoded)
    if missing is not None:
        assert int(check["numberOfMissing"]) == int(missing.sum())
        assert int(check["bitmapPresent"]) == (encoding == "bitmap")
    return encoded


# A constant field packs into a few hundred bytes on NOAA's grids; a real one into 100s of kB.
PLACEHOLDER_BYTES = 1000


def message_size(entry: IdxEntry) -> int:
    """The size in bytes of the message an inventory line points at."""
    if entry.end is None:
        raise ValueError(f"{entry.element}:{entry.level} is a file's last line: no known size")
    return entry.end - entry.offset


def assert_every_variable_reads_a_real_line(
    data_vars: Iterable[NoaaDataVar], inventory: list[IdxEntry], lead: int
) -> None:
    """Each variable's line is in ``inventory`` (a real ``.idx`` of lead ``lead``) and, at lead 0,
    points at a real field, not the constant placeholder NOAA writes for some fields in a run's
    first file; a variable without a lead-0 value must say so."""
    by_line = {(e.element, e.level, e.forecast): e for e in reversed(inventory)}
    for var in data_vars:
        attrs = var.internal_attrs
        forecast = attrs.forecast_description(lead)
        if forecast is None:
            assert lead == 0 and not attrs.has_lead_0_value, var.name
            continue
        entry = by_line.get((attrs.grib_element, attrs.grib_level, forecast))
        assert entry is not None, f"{var.name}: no line {attrs.grib_element}:{attrs.grib_level}"
        if lead == 0:
            assert message_size(entry) > PLACEHOLDER_BYTES, f"{var.name} reads a placeholder"
