"""Download the byte ranges of GRIB messages that an inventory locates.

Ranges closer than ``max_gap`` are fetched in one request (``coalesce_ranges``), the requests in
parallel (``transport`` does the requests and their retries). A server that ignores ``Range``
raises ``RangeNotHonouredError`` unless ``full_file_fallback=True``, in which case the whole file
is fetched and cut. Every message is checked to start with ``GRIB``, have the length its section
0 declares and end in ``7777``, so a short read or a wrong offset can never pass as data. A
range longer than the message it starts with (the inventory lacks the lines of the messages
after it) yields that message.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

import obstore

from reformatters.core.sources.errors import CorruptMessageError, RangeNotHonouredError
from reformatters.core.sources.grib_framing import check_grib_message, declared_length
from reformatters.core.sources.inventory import ByteRange
from reformatters.core.sources.transport import RetryPolicy, call_source, store_for_url

__all__ = [
    "DEFAULT_COALESCE_GAP",
    "coalesce_ranges",
    "download_message_bytes",
    "download_messages",
    "local_message_offsets",
]

# Two ranges closer than this are fetched in one request. One extra request costs a round trip
# (~20-100 ms to S3 from outside the region, tens of ms inside); 1 MiB of unwanted bytes costs
# about the same at ~100 Mbit/s, and typical messages are 0.1-1 MB, so small gaps (a skipped
# message or two) are cheaper to read through than to split. Same default as obstore's.
DEFAULT_COALESCE_GAP = 1024 * 1024


def coalesce_ranges(
    ranges: Sequence[tuple[int, int]], max_gap: int = DEFAULT_COALESCE_GAP
) -> list[tuple[int, int]]:
    """Merge ``[start, end)`` ranges that overlap or are at most ``max_gap`` bytes apart."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(set(ranges)):
        if merged and start - merged[-1][1] <= max_gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def download_message_bytes(
    url: str,
    entries: Sequence[ByteRange],
    *,
    max_gap: int = DEFAULT_COALESCE_GAP,
    retry: RetryPolicy | None = None,
    full_file_fallback: bool = False,
    size: int | None = None,
) -> list[bytes]:
    """Fetch exactly the bytes of each entry's message (coalesced, parallel range requests)."""
    views = _message_views(
        url,
        entries,
        max_gap=max_gap,
        retry=retry,
        full_file_fallback=full_file_fallback,
        size=size,
    )
    return [view.tobytes() for view in views]


def _message_views(
    url: str,
    entries: Sequence[ByteRange],
    *,
    max_gap: int,
    retry: RetryPolicy | None,
    full_file_fallback: bool,
    size: int | None = None,
) -> list[memoryview]:
    """`download_message_bytes` as views into the fetched blocks (obstore's buffers), each
    message checked: no copy of the data on its way to a file."""
    if not entries:
        return []
    store, path = store_for_url(url, retry=retry)
    if size is None and any(entry.end is None for entry in entries):
        size = call_source(url, lambda: int(obstore.head(store, path)["size"]))
    spans = [(entry.offset, entry.end if entry.end is not None else size) for entry in entries]
    wanted: list[tuple[int, int]] = []
    for entry, (start, end) in zip(entries, spans, strict=True):
        assert end is not None
        if end <= start:
            raise CorruptMessageError(url, f"{url}: {entry.label} has an empty byte range")
        wanted.append((start, end))
    blocks = coalesce_ranges(wanted, max_gap)
    try:
        fetched = call_source(
            url,
            lambda: obstore.get_ranges(
                store,
                path,
                starts=[start for start, _ in blocks],
                ends=[end for _, end in blocks],
                coalesce=0,
            ),
        )
        block_data = [memoryview(data) for data in fetched]
    except CorruptMessageError as error:
        labels = "; ".join(entry.label for entry in entries)
        raise CorruptMessageError(url, f"{error} Requested: {labels}") from error
    except RangeNotHonouredError:
        if not full_file_fallback:
            raise
        whole = memoryview(call_source(url, lambda: obstore.get(store, path).bytes()))
        block_data = [whole[start:end] for start, end in blocks]
    messages: list[memoryview] = []
    for entry, (start, end) in zip(entries, wanted, strict=True):
        block_index = next(i for i, (b0, b1) in enumerate(blocks) if b0 <= start and end <= b1)
        block_start = blocks[block_index][0]
        data = _first_message(block_data[block_index][start - block_start : end - block_start])
        check_grib_message(url, entry.label, data)
        messages.append(data)
    return messages


def _first_message(data: memoryview) -> memoryview:
    """The complete message ``data`` starts with, if it holds more (e.g. the range of an
    inventory line whose following lines are absent); else ``data`` as it is, to be checked."""
    declared = declared_length(data)
    if (
        declared is not None
        and 16 < declared < len(data)
        and bytes(data[declared - 4 : declared]) == b"7777"
    ):
        return data[:declared]
    return data


def download_messages(
    url: str,
    entries: Sequence[ByteRange],
    dest_path: Path,
    *,
    max_gap: int = DEFAULT_COALESCE_GAP,
    retry: RetryPolicy | None = None,
    full_file_fallback: bool = False,
) -> Path:
    """Fetch the entries' messages and write them, concatenated in entry order, to ``dest_path``.

    Entries sharing a byte range (fields of one multi-field message) are written once. The file
    appears atomically (temporary file, then ``os.replace``).
    """
    unique: list[ByteRange] = []
    seen: set[int] = set()
    for entry in entries:
        if entry.offset not in seen:
            seen.add(entry.offset)
            unique.append(entry)
    messages = _message_views(
        url, unique, max_gap=max_gap, retry=retry, full_file_fallback=full_file_fallback
    )
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = dest_path.with_name(f".{dest_path.name}.{uuid.uuid4().hex}.part")
    with temporary.open("wb") as out:
        for data in messages:
            out.write(data)
    temporary.replace(dest_path)
    return dest_path


def local_message_offsets(path: Path, entries: Sequence[ByteRange]) -> list[int]:
    """For each entry, the offset of its message in a file written by ``download_messages``."""
    offsets: list[int] = []
    local: dict[int, int] = {}
    position = 0
    with path.open("rb") as handle:
        for entry in entries:
            if entry.offset not in local:
                handle.seek(position)
                header = handle.read(16)
                declared = declared_length(header)
                if declared is None:
                    raise CorruptMessageError(
                        str(path), f"{path}: no GRIB message at byte {position} for {entry.label}"
                    )
                local[entry.offset] = position
                position += declared
            offsets.append(local[entry.offset])
    return offsets
