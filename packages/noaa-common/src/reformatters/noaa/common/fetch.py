"""Fetch the messages a ``.idx`` inventory locates: the inventory first, then only their bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reformatters.core.sources.download import (
    DEFAULT_COALESCE_GAP,
    download_messages,
    local_message_offsets,
)
from reformatters.core.sources.inventory import select_entries
from reformatters.core.sources.transport import RetryPolicy, download_file
from reformatters.noaa.common.idx import IdxEntry, MessageSelector, parse_noaa_idx

__all__ = ["FetchedMessages", "fetch_noaa_messages"]


@dataclass(frozen=True, slots=True)
class FetchedMessages:
    """Messages fetched from one source file: ``offsets[i]`` locates ``entries[i]`` in ``path``."""

    url: str
    path: Path
    entries: list[IdxEntry]
    offsets: list[int]


def fetch_noaa_messages(
    url: str,
    selectors: Sequence[MessageSelector],
    dest_path: Path,
    *,
    idx_url: str | None = None,
    max_gap: int = DEFAULT_COALESCE_GAP,
    retry: RetryPolicy | None = None,
    full_file_fallback: bool = False,
) -> FetchedMessages:
    """Read ``<url>.idx``, select the messages and download only their bytes to ``dest_path``.

    Read each message with ``grib.read_message(result.path, result.offsets[i], expected=...)``.
    """
    inventory = download_file(idx_url or f"{url}.idx", retry=retry).decode()
    entries = select_entries(parse_noaa_idx(inventory), selectors, url=url)
    path = download_messages(
        url,
        entries,
        dest_path,
        max_gap=max_gap,
        retry=retry,
        full_file_fallback=full_file_fallback,
    )
    return FetchedMessages(url, path, entries, local_message_offsets(path, entries))
