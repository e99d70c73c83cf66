"""GRIB message framing: where messages start and end in bytes, without decoding them.

Section 0 of every GRIB message declares its edition and total length; a complete message ends
with ``7777``. These checks need no GRIB library, so the processes that plan and download never
load one.
"""

from __future__ import annotations

from pathlib import Path

from reformatters.core.sources.errors import CorruptMessageError

__all__ = [
    "check_grib_message",
    "declared_length",
    "message_bytes",
    "scan_messages",
]


def declared_length(data: bytes | memoryview) -> int | None:
    """The length section 0 of the message at the start of ``data`` declares, or None."""
    if len(data) < 16 or data[:4] != b"GRIB":
        return None
    if data[7] == 2:
        return int.from_bytes(data[8:16], "big")
    if data[7] == 1:
        return int.from_bytes(data[4:7], "big")
    return None


def scan_messages(data: bytes) -> list[tuple[int, int]]:
    """``(offset, length)`` of every GRIB message in ``data`` (for writing inventories)."""
    found: list[tuple[int, int]] = []
    position = data.find(b"GRIB")
    while position != -1 and position + 16 <= len(data):
        length = declared_length(data[position : position + 16])
        if length is None:
            raise ValueError(f"unknown GRIB edition {data[position + 7]} at byte {position}")
        found.append((position, length))
        position = data.find(b"GRIB", position + length)
    return found


def message_bytes(source: Path | bytes, offset: int) -> bytes:
    """The GRIB2 message at ``offset`` as its section 0 declares it (as much as there is), or
    the 16 bytes found there when they do not start a GRIB2 message."""
    if isinstance(source, Path):
        with source.open("rb") as handle:
            handle.seek(offset)
            header = handle.read(16)
            if len(header) == 16 and header[:4] == b"GRIB" and header[7] == 2:
                length = int.from_bytes(header[8:16], "big")
                return header + handle.read(length - 16)
            return header
    if len(source) >= offset + 16 and source[offset : offset + 4] == b"GRIB":
        return source[offset : offset + int.from_bytes(source[offset + 8 : offset + 16], "big")]
    return source[offset : offset + 16]


def check_grib_message(url: str, label: str, data: bytes | memoryview) -> None:
    """Raise ``CorruptMessageError`` unless ``data`` is exactly one complete GRIB message."""
    declared = declared_length(data)
    if declared is None:
        raise CorruptMessageError(
            url,
            f"{url}: {label}: the bytes at this offset do not start a GRIB message "
            f"(got {bytes(data[:8])!r}); the inventory does not match the file, re-fetch both.",
        )
    if declared != len(data) or data[-4:] != b"7777":
        raise CorruptMessageError(
            url,
            f"{url}: {label}: truncated or corrupt GRIB message (declares {declared} bytes, "
            f"received {len(data)}, ends with {bytes(data[-4:])!r}); the file may be partially "
            "uploaded, retry later.",
        )
