"""Decode GRIB2 messages with pygrib, checking that they are what the dataset expects.

``read_message`` returns a float32, C-contiguous 2-D array ``(Nj, Ni)`` in the file's scan order
(the grid's scanning mode decides whether rows run north to south or south to north), after
checking the message's identity (``grib_identity.GribIdentity``) and grid (``GridSpec``).

Missing points are NaN wherever the message says a point is missing (a bitmap, or complex
packing's missing-value management with its primary and secondary substitutes) and wherever a
value equals one of the variable's declared sentinels. Nothing else is NaN: a legitimate 9999 in
a field that declares no missing points stays 9999.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from reformatters.core.sources.errors import CorruptMessageError, MessageAbsentError
from reformatters.core.sources.grib_framing import message_bytes, scan_messages
from reformatters.core.sources.grib_identity import (
    GribIdentity,
    GribIdentityMismatchError,
    GridSpec,
    check_grid,
    identity_of,
    product_sections,
    size_of,
)

__all__ = [
    "GribDecodeError",
    "MessageField",
    "decode_fields",
    "decode_message",
    "locate_message",
    "message_fields",
    "read_message",
]


class GribDecodeError(CorruptMessageError):
    """A message is truncated, corrupt or cannot be decoded."""


def decode_fields(raw: bytes) -> list[tuple[Any, bytes | None]]:
    """pygrib messages for every field in ``raw`` with each field's section 4."""
    # Imported here: the process that plans and downloads (the worker processes decode) then
    # starts without pygrib, eccodes and pyproj (90 ms before its first download).
    import pygrib

    sections: list[bytes | None] = [*product_sections(raw)]
    if len(sections) <= 1:
        return [(pygrib.fromstring(raw), sections[0] if sections else None)]
    # pygrib.fromstring decodes only the first field of a multi-field message.
    with tempfile.NamedTemporaryFile(suffix=".grib2") as handle:
        handle.write(raw)
        handle.flush()
        grbs = pygrib.open(handle.name)
        try:
            fields_found = list(grbs)
        finally:
            grbs.close()
    return list(zip(fields_found, sections, strict=False))


def read_message(
    source: Path | bytes,
    offset: int = 0,
    *,
    expected: GribIdentity,
    grid: GridSpec | None = None,
    url: str | None = None,
    missing_values: Sequence[float] = (),
) -> npt.NDArray[np.float32]:
    """Decode the GRIB2 message at ``offset`` of ``source`` (a file or bytes) and check it.

    ``url`` names the data's origin in error messages (defaults to the path). Returns a
    float32 C-contiguous ``(Nj, Ni)`` array in the file's scan order, missing points (and
    values equal to one of ``missing_values``) as NaN.
    """
    values = decode_message(
        source, offset, expected=expected, grid=grid, url=url, missing_values=missing_values
    )
    return np.ascontiguousarray(values, dtype=np.float32)


def decode_message(
    source: Path | bytes,
    offset: int = 0,
    *,
    expected: GribIdentity,
    grid: GridSpec | None = None,
    url: str | None = None,
    missing_values: Sequence[float] = (),
) -> npt.NDArray[np.floating[Any]]:
    """``read_message`` as decoded, in eccodes' precision (float64): for callers that copy the
    field anyway (e.g. into an output layout), where a float32 copy first would be one more
    pass over every field. Missing points are NaN: those the message marks missing, and those
    equal to one of ``missing_values`` (the variable's declared sentinels)."""
    origin = url or (str(source) if isinstance(source, Path) else "<bytes>")
    where = f"{origin} message at byte {offset}"
    raw = message_bytes(source, offset)
    if raw[:4] != b"GRIB" or len(raw) < 16 or raw[7] != 2:
        raise GribDecodeError(
            origin, f"{where}: not the start of a GRIB2 message ({raw[:8]!r}); re-download it."
        )
    declared = int.from_bytes(raw[8:16], "big")
    if len(raw) != declared or raw[-4:] != b"7777":
        raise GribDecodeError(
            origin,
            f"{where}: truncated GRIB2 message ({len(raw)} of {declared} bytes, ends with "
            f"{raw[-4:]!r}); the source file is incomplete or corrupt, re-download it.",
        )
    problems: list[str] = []
    try:
        for candidate, section4 in decode_fields(raw):
            field_problems = expected.differences(identity_of(candidate, section4))
            if not field_problems:
                message = candidate
                break
            problems.extend(field_problems)
        else:
            raise GribIdentityMismatchError(
                origin,
                f"{where} is not the expected field: {'; '.join(problems)}. The inventory and "
                "the message disagree or the provider changed its encoding; check the source.",
            )
        if grid is not None:
            check_grid(message, grid, where, origin)
        data = _values_with_missing_as_nan(message, where, origin)
    except (RuntimeError, OSError, ValueError, KeyError, TypeError) as error:
        raise GribDecodeError(
            origin, f"{where}: cannot decode GRIB2 message: {error}; the file may be corrupt."
        ) from error
    for sentinel in missing_values:
        data[data == sentinel] = np.nan
    expected_shape = (size_of(message, "Nj", "Ny"), size_of(message, "Ni", "Nx"))
    if data.shape != expected_shape:
        raise GribDecodeError(
            origin, f"{where}: decoded shape {data.shape} differs from the grid {expected_shape}"
        )
    return data


# What eccodes writes at every missing point instead of its default missingValue (9999, a value
# real fields hold: a 9999 m ceiling, 9999 J kg-1 of CAPE). No field comes near -2**62, and
# pygrib sets this key as a C long because it reads back as an int.
_MISSING_SENTINEL = -(2**62)


def _values_with_missing_as_nan(message: Any, where: str, origin: str) -> npt.NDArray[np.float64]:
    """The field as eccodes decodes it (float64), NaN exactly where the message says a point is
    missing: a bitmap, or missing-value management (templates 5.2/5.3, primary and secondary
    substitutes). Checked against the message's own count of missing points."""
    message["missingValue"] = _MISSING_SENTINEL
    data: npt.NDArray[np.float64] = np.ma.getdata(message.values)
    missing = data == _MISSING_SENTINEL
    count = int(np.count_nonzero(missing))
    declared = int(message["numberOfMissing"]) if message.has_key("numberOfMissing") else count
    if count != declared:
        raise GribDecodeError(
            origin,
            f"{where}: {count} points decoded as missing but the message declares {declared}; "
            "the message may be corrupt.",
        )
    if count:
        data[missing] = np.nan
    return data


@dataclass(frozen=True, slots=True)
class MessageField:
    """One field of a GRIB2 message in a file: the message's byte range (shared by every field
    of a multi-field message), the field's position in it and what the field is (its
    ``reference_time`` included)."""

    offset: int
    length: int
    field_number: int
    field_count: int
    identity: GribIdentity


def message_fields(data: bytes) -> list[MessageField]:
    """Every field of every GRIB2 message in ``data``, in file order (for writing inventories
    in any format)."""
    found: list[MessageField] = []
    for number, (offset, length) in enumerate(scan_messages(data), start=1):
        try:
            decoded = decode_fields(data[offset : offset + length])
        except (RuntimeError, OSError, ValueError, KeyError, TypeError) as error:
            raise GribDecodeError(
                "<bytes>", f"message {number} at byte {offset} cannot be decoded: {error}"
            ) from error
        for field_number, (message, section4) in enumerate(decoded, start=1):
            identity = identity_of(message, section4)
            found.append(MessageField(offset, length, field_number, len(decoded), identity))
    return found


def locate_message(data: bytes, expected: GribIdentity, url: str = "<bytes>") -> int:
    """Byte offset of the first message in ``data`` (a whole file) holding the ``expected``
    field: for sources read whole, without an inventory. ``MessageAbsentError`` when none does."""
    for found in message_fields(data):
        if not expected.differences(found.identity):
            return found.offset
    raise MessageAbsentError(url, str(expected))
