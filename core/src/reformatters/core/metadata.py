"""Publishing metadata: coordinates and array metadata first, the consolidated root last.

Every publication goes through a writer's ``PublishGuard``: the writer must still hold the
store's lease, the published extent never shrinks, and the primary's root is replaced only if it
is still the one this writer last saw (atomically with ``If-Match`` on S3; on a local folder the
lease is what keeps a second writer out).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import obstore
import xarray as xr
from obstore.exceptions import AlreadyExistsError, NotFoundError, PreconditionError
from obstore.store import LocalStore

from reformatters.core.errors import UserError
from reformatters.core.lease import StoreLease
from reformatters.core.logging import get_logger
from reformatters.core.storage import OutputStores, StoreLocation
from reformatters.core.template_config import write_metadata

log = get_logger(__name__)

ROOT = "zarr.json"


class PublishRefusedError(UserError):
    """Publishing would shrink the published extent or replace another writer's metadata."""


def appended_length(root: bytes, append_dim: str) -> int:
    """The length of the append dimension a consolidated root ``zarr.json`` publishes."""
    metadata = json.loads(root)["consolidated_metadata"]["metadata"]
    return int(metadata[append_dim]["shape"][0])


def _read_root(location: StoreLocation) -> tuple[bytes, str | None] | None:
    try:
        result = obstore.get(location.object_store(), ROOT)
    except (FileNotFoundError, NotFoundError):
        return None
    return bytes(result.bytes()), result.meta["e_tag"]


@dataclass
class PublishGuard:
    """How one writer publishes (see the module doc); ``read`` it when the write starts."""

    outputs: OutputStores
    append_dim: str
    lease: StoreLease
    # The primary's root as this writer last saw it (None: no store yet).
    root_etag: str | None
    published_length: int

    @classmethod
    def read(cls, outputs: OutputStores, append_dim: str, lease: StoreLease) -> PublishGuard:
        root = _read_root(outputs.primary)
        if root is None:
            return cls(outputs, append_dim, lease, None, 0)
        return cls(outputs, append_dim, lease, root[1], appended_length(root[0], append_dim))

    def publish(self, rendered: RenderedMetadata) -> None:
        self.lease.check()
        new_root = (rendered.local / rendered.root).read_bytes()
        new_length = appended_length(new_root, self.append_dim)
        primary = self.outputs.primary
        current = _read_root(primary)
        if current is not None:
            current_length = appended_length(current[0], self.append_dim)
            if new_length < current_length:
                raise PublishRefusedError(
                    f"{primary.url}: refusing to publish {new_length} {self.append_dim} "
                    f"positions where {current_length} are published: the published extent "
                    "never shrinks."
                )
            # The same root from a worker of the same distributed run is no conflict.
            if current[1] != self.root_etag and current[0] != new_root:
                raise self._concurrent(primary)
            self.root_etag = current[1]
        for location in self.outputs.replicas:
            _publish_to(location, rendered.local, rendered.chunks, rendered.arrays, rendered.root)
        primary.upload_files(rendered.local, rendered.chunks)
        primary.upload_files(rendered.local, rendered.arrays)
        self._replace_primary_root(new_root)
        self.published_length = new_length
        log.info("published metadata", store=primary.url, length=new_length)

    def _replace_primary_root(self, new_root: bytes) -> None:
        store = self.outputs.primary.object_store()
        if isinstance(store, LocalStore):  # no conditional replace: the lease keeps others out
            self.root_etag = obstore.put(store, ROOT, new_root)["e_tag"]
            return
        mode = "create" if self.root_etag is None else {"e_tag": self.root_etag}
        try:
            self.root_etag = obstore.put(store, ROOT, new_root, mode=mode)["e_tag"]  # type: ignore[arg-type]
        except (PreconditionError, AlreadyExistsError):
            current = _read_root(self.outputs.primary)
            if current is None or current[0] != new_root:
                raise self._concurrent(self.outputs.primary) from None
            self.root_etag = current[1]

    def _concurrent(self, primary: StoreLocation) -> PublishRefusedError:
        return PublishRefusedError(
            f"{primary.url}: its metadata changed since this run read it (another writer "
            "published); this run's metadata is not published. Check for another writer "
            "(the store's lease), then run again."
        )


def _metadata_files(local_store: Path) -> tuple[list[str], list[str], str]:
    """(coordinate chunk files, array metadata files, root metadata) of a metadata-only store."""
    files = sorted(str(p.relative_to(local_store)) for p in local_store.rglob("*") if p.is_file())
    chunks = [f for f in files if "/c/" in f or f.endswith("/c")]
    arrays = [f for f in files if f.endswith("/zarr.json")]
    assert "zarr.json" in files
    assert len(chunks) + len(arrays) + 1 == len(files), files
    return chunks, arrays, "zarr.json"


def publish_metadata(template_ds: xr.Dataset, guard: PublishGuard) -> None:
    """Make `template_ds`'s extent visible to readers, replicas before the primary.

    Coordinate values go first (their existing positions keep their values), then every array's
    metadata, and the consolidated root metadata last: readers open the root, so a reader sees
    either the old dataset or the new one, never a mix.
    """
    with tempfile.TemporaryDirectory(prefix="reformatters-metadata-") as tmp:
        local = Path(tmp) / "store.zarr"
        write_metadata(template_ds, local)
        guard.publish(RenderedMetadata.of(local))


@dataclass(frozen=True)
class RenderedMetadata:
    """The files of a template rendered into a local store by `write_metadata`, listed before
    anything else is written there (region jobs then write their shards into the same store)."""

    local: Path
    chunks: list[str]
    arrays: list[str]
    root: str

    @classmethod
    def of(cls, local: Path) -> RenderedMetadata:
        return cls(local, *_metadata_files(local))


def _publish_to(
    location: StoreLocation, local: Path, chunks: list[str], arrays: list[str], root: str
) -> None:
    location.upload_files(local, chunks)
    location.upload_files(local, arrays)
    location.upload_files(local, [root])
    log.info("published metadata", store=location.url)


def carry_published_coords(
    template_ds: xr.Dataset, primary: StoreLocation, append_dim: str
) -> xr.Dataset:
    """Copy the published values of non-dimension coordinates along the append dim (e.g. an
    ingested forecast length that ``finalize_template`` fills from results) into the template,
    so that positions this run did not process keep what readers already see."""
    published = xr.open_zarr(primary.zarr_store(read_only=True), decode_timedelta=True)
    published_len = published.sizes[append_dim]
    ds = template_ds.copy()
    for name, coord in template_ds.coords.items():
        if name in template_ds.dims or append_dim not in coord.dims or name not in published:
            continue
        values = coord.values.copy()
        axis = coord.dims.index(append_dim)
        index = [slice(None)] * values.ndim
        index[axis] = slice(0, published_len)
        values[tuple(index)] = published[name].values
        ds[name] = (coord.dims, values, dict(coord.attrs))
        ds[name].encoding = dict(coord.encoding)
        ds = ds.set_coords(str(name))
    return ds
