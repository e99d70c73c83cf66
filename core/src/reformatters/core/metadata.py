"""Publishing metadata: coordinates and array metadata first, the consolidated root last."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import xarray as xr

from reformatters.core.logging import get_logger
from reformatters.core.storage import OutputStores, StoreLocation
from reformatters.core.template_config import write_metadata

log = get_logger(__name__)


def _metadata_files(local_store: Path) -> tuple[list[str], list[str], str]:
    """(coordinate chunk files, array metadata files, root metadata) of a metadata-only store."""
    files = sorted(str(p.relative_to(local_store)) for p in local_store.rglob("*") if p.is_file())
    chunks = [f for f in files if "/c/" in f or f.endswith("/c")]
    arrays = [f for f in files if f.endswith("/zarr.json")]
    assert "zarr.json" in files
    assert len(chunks) + len(arrays) + 1 == len(files), files
    return chunks, arrays, "zarr.json"


def publish_metadata(template_ds: xr.Dataset, outputs: OutputStores) -> None:
    """Make `template_ds`'s extent visible to readers, replicas before the primary.

    Coordinate values go first (their existing positions keep their values), then every array's
    metadata, and the consolidated root metadata last: readers open the root, so a reader sees
    either the old dataset or the new one, never a mix.
    """
    with tempfile.TemporaryDirectory(prefix="reformatters-metadata-") as tmp:
        local = Path(tmp) / "store.zarr"
        write_metadata(template_ds, local)
        RenderedMetadata.of(local).publish(outputs)


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

    def publish(self, outputs: OutputStores) -> None:
        for location in outputs.write_order:
            _publish_to(location, self.local, self.chunks, self.arrays, self.root)


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
