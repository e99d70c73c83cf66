"""Whole source files that the provider compresses (e.g. ``.bz2``), decompressed while they
stream in: memory stays at one network chunk plus the decompressor's buffers, whatever the
file's size."""

from __future__ import annotations

import bz2
import os
from pathlib import Path

import obstore

from reformatters.core.sources.errors import CorruptMessageError
from reformatters.core.sources.transport import RetryPolicy, call_source, store_for_url

__all__ = ["download_bz2_decompressed"]


def download_bz2_decompressed(url: str, path: Path, *, retry: RetryPolicy | None = None) -> int:
    """Fetch the bzip2 file at ``url`` (resolved to any mirror already) into ``path``,
    decompressed; returns the decompressed size. The file appears atomically (written under a
    temporary name, then renamed). A truncated stream raises ``CorruptMessageError``."""
    store, key = store_for_url(url, retry=retry)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")

    def fetch() -> int:
        decompressor = bz2.BZ2Decompressor()
        written = 0
        with temporary.open("wb") as out:
            for chunk in obstore.get(store, key):
                written += out.write(decompressor.decompress(bytes(chunk)))
        if not decompressor.eof:
            raise CorruptMessageError(
                url, f"{url}: the bzip2 stream ends early ({written} bytes decompressed)"
            )
        return written

    try:
        size = call_source(url, fetch)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return size
