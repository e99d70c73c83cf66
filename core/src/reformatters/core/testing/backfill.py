"""What a dataset package's tests do with the dataset itself: backfill it from a source mirror and
open the store it wrote, or build one region job over its template to call the job's hooks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import xarray as xr

from reformatters.core.dynamical_dataset import DynamicalDataset, JobFilters
from reformatters.core.job_runner import BackfillReport
from reformatters.core.parallel import DECODE_PROCESSES_ENV
from reformatters.core.region_job import RegionJob
from reformatters.core.sources.mirror import SOURCE_MIRROR_ENV
from reformatters.core.sources.server import serve_mirror
from reformatters.core.storage import StoreLocation

__all__ = ["backfill_from_mirror", "open_store", "region_job_for_template", "store_url"]


def open_store(url: str | Path) -> xr.Dataset:
    """A store (local folder or object store URL) opened read only, lead times as timedeltas and
    without dask: a template spans many chunks, a test reads a few."""
    store = StoreLocation(str(url)).zarr_store(read_only=True)
    ds: xr.Dataset = xr.open_zarr(store, decode_timedelta=True, chunks=None)
    return ds


def store_url(dataset: DynamicalDataset[Any, Any], output: str | Path) -> str:
    """Where a backfill to the output location ``output`` writes ``dataset``'s store."""
    return f"{output}/{dataset.dataset_id}/v{dataset.template_config.version}.zarr"


def backfill_from_mirror(
    dataset: DynamicalDataset[Any, Any],
    mirror: Path | str,
    append_dim_end: datetime,
    output: Path,
    monkeypatch: pytest.MonkeyPatch,
    filters: JobFilters | None = None,
) -> tuple[BackfillReport, xr.Dataset]:
    """Backfill ``dataset`` up to ``append_dim_end`` into the folder ``output``, every source file
    read from ``mirror`` (a folder, served on loopback while the backfill runs, or the URL of a
    served mirror or an archive) and decoded in this process; the report and the written store."""
    monkeypatch.setenv(DECODE_PROCESSES_ENV, "0")
    if isinstance(mirror, Path):
        with serve_mirror(mirror) as server:
            return backfill_from_mirror(
                dataset, server.url, append_dim_end, output, monkeypatch, filters
            )
    monkeypatch.setenv(SOURCE_MIRROR_ENV, mirror)
    report = dataset.backfill_local(append_dim_end, filters or JobFilters(), str(output))
    return report, open_store(store_url(dataset, output))


def region_job_for_template[JobT: RegionJob[Any, Any]](
    dataset: DynamicalDataset[Any, Any],
    job_class: type[JobT],
    append_dim_end: datetime,
    region: slice = slice(0, 1),
) -> JobT:
    """A ``job_class`` job over ``region`` of ``dataset``'s template up to ``append_dim_end``,
    with every variable: for calling a reader's hooks directly, without planning a backfill."""
    config = dataset.template_config
    return job_class(
        template_ds=config.get_template(append_dim_end),
        data_vars=tuple(config.data_vars),
        append_dim=config.append_dim,
        region=region,
    )
