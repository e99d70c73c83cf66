"""A store's metadata rendered in a worker process while the caller goes on."""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

import xarray as xr

from reformatters.core.engine.pool import executor
from reformatters.core.metadata import RenderedMetadata
from reformatters.core.region_job import RegionJob
from reformatters.core.template_config import write_metadata


def render_metadata(
    job_class: type[RegionJob[Any, Any]], template_ds: xr.Dataset, local_store: Path
) -> Future[RenderedMetadata]:
    """Render `template_ds`'s metadata into the local store `local_store` in a worker process of
    `job_class`, queued behind the variables already submitted, while the caller goes on.
    `local_store` appears whole once rendered (it must not exist before); the future holds
    its files, listed before anything else is written there.

    Used for the staging store `process_region_job` writes shards into (workers are idle before
    the first job; the caller downloads meanwhile; variables may be queued before it is done,
    see `worker.process_variable`) and for the final metadata (rendered by the first worker that
    runs out of variables)."""
    return executor(job_class).submit(write_metadata_whole, template_ds, local_store)


def write_metadata_whole(template_ds: xr.Dataset, store: Path) -> RenderedMetadata:
    """write_metadata into a sibling folder renamed to `store` once complete, or mark `store` as
    failed: `wait_until_rendered` waits for one of the two."""
    partial = store.with_name(f"{store.name}.partial")
    try:
        write_metadata(template_ds, partial)
        rendered = RenderedMetadata.of(partial)
    except BaseException:
        _render_failed_marker(store).touch()
        raise
    partial.rename(store)
    return replace(rendered, local=store)


def _render_failed_marker(store: Path) -> Path:
    return store.with_name(f"{store.name}.failed")


def wait_until_rendered(store: Path) -> None:
    """Wait until `store` (rendered by `write_metadata_whole` in another worker) exists.

    The staging store's render is queued before the first job's variables, which are decoded for
    0.1-1 s before they are written: a wait is rare and short. It ends with an error if the
    render failed, or if the scratch folder was removed (the caller gave up)."""
    while not store.exists():
        if _render_failed_marker(store).exists() or not store.parent.exists():
            raise RuntimeError(f"{store} was not rendered: see the error of its render")
        time.sleep(0.005)
