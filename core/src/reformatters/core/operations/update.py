"""``update``: extend a published dataset up to the run's scheduled time, safely.

One process, no coordination. It re-processes the newest published position and everything
after it, writes every shard first and the metadata last, and publishes only the contiguous run of
positions that received data. Published values are never replaced by NaN: where this run's
source file was unavailable, the values already in the store are kept.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
import zarr
import zarr.storage

from reformatters.core.dynamical_dataset import DynamicalDataset, JobFilters, scratch_dir
from reformatters.core.logging import get_logger
from reformatters.core.metadata import carry_published_coords, publish_metadata
from reformatters.core.operations.schedule import append_dim_end_at, most_recent_tick
from reformatters.core.operations.validation import StoreNotFoundError
from reformatters.core.outcomes import OutcomeSummary
from reformatters.core.region_job import (
    RegionJob,
    RegionJobResult,
    SourceFileResult,
    SourceFileStatus,
)
from reformatters.core.storage import OutputStores, StoreLocation

log = get_logger(__name__)


@dataclass
class UpdateReport:
    dataset_id: str
    append_dim: str
    scheduled_time: datetime
    target_end: datetime
    published_end_before: datetime
    published_end_after: datetime
    frequency: timedelta
    jobs_run: int = 0
    file_counts: Counter[SourceFileStatus] = field(default_factory=Counter)
    kept_published_values: int = 0
    outcome: OutcomeSummary = field(default_factory=lambda: OutcomeSummary.of([]))

    @property
    def missing(self) -> tuple[SourceFileResult, ...]:
        return self.outcome.missing

    @property
    def failures(self) -> tuple[SourceFileResult, ...]:
        return self.outcome.failed

    def _range(self, start: datetime, end: datetime) -> list[datetime]:
        return [t.to_pydatetime() for t in pd.date_range(start, end, freq=self.frequency)][:-1]

    @property
    def added(self) -> list[datetime]:
        return self._range(self.published_end_before, self.published_end_after)

    @property
    def withheld(self) -> list[datetime]:
        """Positions up to the scheduled time that were not published (no data yet)."""
        return self._range(self.published_end_after, max(self.target_end, self.published_end_after))

    @property
    def ok(self) -> bool:
        """No file failed and none lacked a variable's message (files not published yet, at the
        newest end, are expected)."""
        return self.outcome.ok


def run_update(
    dataset: DynamicalDataset[Any, Any], now: datetime, output_url: str | None = None
) -> UpdateReport:
    config = dataset.operations_config()
    template_config = dataset.template_config
    append_dim, frequency = dataset.append_dim, template_config.append_dim_frequency
    scheduled = most_recent_tick(config.update.cron, now)
    outputs = dataset.output_stores(output_url)
    published_end = dataset.published_append_dim_end(outputs)
    if published_end is None:
        raise StoreNotFoundError(
            f"no published dataset at {outputs.primary.url}; run a backfill before `update`"
        )
    for location in outputs.write_order:
        location.check_writable()
    dataset.region_job_class.start_workers()
    target_end = append_dim_end_at(
        template_config.append_dim_start, frequency, scheduled - config.update.typical_latency
    )
    template_ds = template_config.get_template(max(target_end, published_end))
    published_len = len(template_config.append_dim_coordinates(published_end))
    jobs = dataset.get_jobs(template_ds, JobFilters(filter_start=published_end - frequency))
    report = UpdateReport(
        dataset_id=dataset.dataset_id,
        append_dim=append_dim,
        scheduled_time=scheduled,
        target_end=target_end,
        published_end_before=published_end,
        published_end_after=published_end,
        frequency=frequency,
    )
    results: list[RegionJobResult] = []
    with scratch_dir(dataset.dataset_id) as scratch:
        tmp_store = scratch / "tmp.zarr"
        dataset.region_job_class.render_metadata(template_ds, tmp_store).result()
        for job in jobs:
            # The shards stay in tmp_store: published values are merged into them, then they
            # are uploaded.
            result = job.process(None, tmp_store, scratch)
            report.kept_published_values += keep_published_values(
                job, result, tmp_store, outputs.primary, published_len
            )
            upload_region(job, tmp_store, outputs)
            results.append(result)
            report.jobs_run += 1
            log.info("update job done", dataset=dataset.dataset_id, job=job.summary())
    for result in results:
        for file_results in result.files.values():
            report.file_counts.update(r.status for r in file_results)
    report.outcome = OutcomeSummary.of(results)
    report.outcome.log_warnings(dataset.dataset_id)
    new_len = published_extent(template_ds, append_dim, published_len, results)
    final_ds = carry_published_coords(
        template_ds.isel({append_dim: slice(0, new_len)}), outputs.primary, append_dim
    )
    final_ds = dataset.finalize_template(final_ds, results)
    publish_metadata(final_ds, outputs)
    report.published_end_after = (
        pd.Timestamp(template_ds[append_dim].values[new_len - 1]) + frequency
    ).to_pydatetime()
    return report


def _succeeded_positions(append_dim: str, results: list[RegionJobResult]) -> set[pd.Timestamp]:
    return {
        pd.Timestamp(r.coord.out_loc()[append_dim])
        for result in results
        for file_results in result.files.values()
        for r in file_results
        if r.status == SourceFileStatus.SUCCEEDED
    }


def published_extent(
    template_ds: xr.Dataset, append_dim: str, published_len: int, results: list[RegionJobResult]
) -> int:
    """The new append-dim length: the published one plus every following position that received
    data, up to the first one that did not (never shorter than before)."""
    succeeded = _succeeded_positions(append_dim, results)
    values = pd.DatetimeIndex(template_ds[append_dim].values)
    length = published_len
    while length < len(values) and values[length] in succeeded:
        length += 1
    return length


def _selection(dims: tuple[str, ...], append_dim: str, region: slice) -> tuple[slice, ...]:
    return tuple(region if dim == append_dim else slice(None) for dim in dims)


def keep_published_values(
    job: RegionJob[Any, Any],
    result: RegionJobResult,
    tmp_store: Path,
    primary: StoreLocation,
    published_len: int,
) -> int:
    """Where a published position's source file did not succeed this run, put the published
    values back into the shard about to be uploaded. Returns how many values were kept."""
    region, append_dim = job.region, job.append_dim
    if region.start >= published_len:
        return 0
    published_region = slice(region.start, min(region.stop, published_len))
    region_values = pd.DatetimeIndex(job.template_ds[append_dim].values[region])
    kept = 0
    for var in job.data_vars:
        template_var = job.template_ds[var.name].isel({append_dim: region})
        dims = tuple(str(d) for d in template_var.dims)
        succeeded = xr.DataArray(
            np.zeros(template_var.shape, dtype=bool), coords=template_var.coords, dims=dims
        )
        for r in result.files.get(var.name, []):
            loc = dict(r.coord.out_loc())
            if r.status == SourceFileStatus.SUCCEEDED and pd.Timestamp(loc[append_dim]) in (
                region_values
            ):
                succeeded.loc[loc] = True
        axis = dims.index(append_dim)
        n_published = published_region.stop - region.start
        keep = ~np.take(succeeded.values, np.arange(n_published), axis=axis)
        if not keep.any():
            continue
        existing = zarr.open_array(primary.zarr_store(read_only=True), path=var.name, mode="r")[
            _selection(dims, append_dim, published_region)
        ]
        tmp_array = zarr.open_array(zarr.storage.LocalStore(tmp_store), path=var.name, mode="r+")
        merged = np.asarray(tmp_array[_selection(dims, append_dim, region)])
        published_part = merged[_selection(dims, append_dim, slice(0, n_published))]
        np.copyto(published_part, existing, where=keep)
        tmp_array[_selection(dims, append_dim, region)] = merged
        kept += int(np.count_nonzero(keep & ~np.isnan(existing)))
    return kept


def upload_region(job: RegionJob[Any, Any], tmp_store: Path, outputs: OutputStores) -> None:
    """Copy the job's shards (replicas first, primary last)."""
    files = sorted(
        str(p.relative_to(tmp_store))
        for var in job.data_vars
        if (tmp_store / var.name / "c").exists()
        for p in (tmp_store / var.name / "c").rglob("*")
        if p.is_file()
    )
    for location in outputs.write_order:
        location.upload_files(tmp_store, files)
