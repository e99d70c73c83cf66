"""Copies of source files, as published, into an archive laid out as a source mirror.

Some providers keep their files only briefly (a day or so). ``archive_files`` copies each
file byte for byte to ``<archive>/<bucket-or-host>/<key>``, the layout
``REFORMATTERS_SOURCE_MIRROR`` reads (see ``mirror``), so a backfill can later read the archive
by pointing ``REFORMATTERS_SOURCE_MIRROR`` at it. Each copy streams (bounded memory) and is
hashed on the way; a manifest lists every file (URL, key, size, sha256, when it was fetched)
and the files that were missing, which do not stop the copy of the others. Archiving the same
run again copies only what its manifest does not list yet (files published since).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import obstore

from reformatters.core.sources.errors import SourceFileMissingError
from reformatters.core.sources.mirror import mirror_key, resolve_source_url
from reformatters.core.sources.transport import call_source, store_for_url

__all__ = ["ArchiveManifest", "ArchivedFile", "MissingFile", "archive_files", "read_manifest"]


@dataclass(frozen=True, slots=True)
class ArchivedFile:
    url: str
    key: str
    size: int
    sha256: str
    fetched_at: str


@dataclass(frozen=True, slots=True)
class MissingFile:
    url: str
    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class ArchiveManifest:
    archive_url: str
    files: tuple[ArchivedFile, ...]
    missing: tuple[MissingFile, ...]

    def to_json(self) -> str:
        return json.dumps(
            {
                "archive_url": self.archive_url,
                "files": [asdict(f) for f in self.files],
                "missing": [asdict(m) for m in self.missing],
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> ArchiveManifest:
        data = json.loads(text)
        return cls(
            data["archive_url"],
            tuple(ArchivedFile(**f) for f in data["files"]),
            tuple(MissingFile(**m) for m in data["missing"]),
        )


def _manifest_url(archive_url: str, manifest_name: str) -> str:
    return f"{archive_url.rstrip('/')}/manifests/{manifest_name}.json"


def read_manifest(archive_url: str, manifest_name: str) -> ArchiveManifest | None:
    """The manifest an earlier ``archive_files`` wrote, or None when there is none."""
    store, path = store_for_url(_manifest_url(archive_url, manifest_name))
    try:
        return ArchiveManifest.from_json(bytes(obstore.get(store, path).bytes()).decode())
    except FileNotFoundError:
        return None


def _key(url: str) -> str:
    key = mirror_key(url)
    if key is None:
        raise ValueError(f"{url}: only s3:// and http(s):// sources can be archived")
    return key


def copy_to_archive(url: str, archive_url: str) -> ArchivedFile:
    """Stream ``url`` (read through any configured source mirror) to its place in the archive."""
    key = _key(url)
    source = resolve_source_url(url)
    source_store, source_path = store_for_url(source)
    target_store, target_path = store_for_url(f"{archive_url.rstrip('/')}/{key}")
    digest = hashlib.sha256()
    fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
    # Spooled through a local file: obstore cannot upload from a stream it is still reading
    # (one runtime inside another); the file keeps memory bounded for multi-GB sources.
    with tempfile.TemporaryDirectory(prefix="reformatters-archive-") as folder:
        local = Path(folder) / "file"

        def fetch() -> int:
            size = 0
            with local.open("wb") as out:
                for chunk in obstore.get(source_store, source_path):
                    data = bytes(chunk)
                    digest.update(data)
                    size += out.write(data)
            return size

        size = call_source(source, fetch)
        obstore.put(target_store, target_path, local)
    return ArchivedFile(url, key, size, digest.hexdigest(), fetched_at)


def archive_files(
    urls: Sequence[str], archive_url: str, manifest_name: str, *, threads: int = 8
) -> ArchiveManifest:
    """Copy every one of ``urls`` into ``archive_url`` and write the manifest at
    ``<archive>/manifests/<manifest_name>.json``. A missing file is listed, not fatal; a file
    the existing manifest lists as archived is kept as it is, not fetched again."""
    previous = read_manifest(archive_url, manifest_name)
    kept = {f.url: f for f in previous.files} if previous is not None else {}
    unique = [url for url in dict.fromkeys(urls) if url not in kept]

    def one(url: str) -> ArchivedFile | MissingFile:
        try:
            return copy_to_archive(url, archive_url)
        except SourceFileMissingError as error:
            return MissingFile(url, _key(url), str(error))

    with ThreadPoolExecutor(max(1, threads)) as pool:
        results = list(pool.map(one, unique))
    archived = {r.url: r for r in results if isinstance(r, ArchivedFile)} | kept
    manifest = ArchiveManifest(
        archive_url,
        tuple(archived[url] for url in dict.fromkeys(urls) if url in archived),
        tuple(r for r in results if isinstance(r, MissingFile)),
    )
    store, path = store_for_url(_manifest_url(archive_url, manifest_name))
    obstore.put(store, path, manifest.to_json().encode())
    return manifest
