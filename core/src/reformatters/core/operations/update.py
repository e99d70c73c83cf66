"""``update``: extend a published dataset up to the run's scheduled time, safely.

One process, holding the store's lease. It re-processes the newest published position and
everything after it, writes every shard first and the metadata last, and publishes only the
contiguous run of positions that received data. Positions already published with data are not
read again: their values are reused from the store and only the chunks that receive new values
are re-encoded (core.reuse), so an update's cost follows the new data. Published values are
never replaced by NaN (core.published): where this run has no value (a file not there yet, a
failed read, a deaccumulation whose previous step is missing), the values already in the store
are kept.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import xarray as xr

from reformatters.core.dynamical_dataset import DynamicalDataset, JobFilters
from reformatters.core.engine.pool import start_workers
from reformatters.core.engine.process import process_region_job
from reformatters.core.engine.render import render_metadata
from reformatters.core.job_runner import scratch_dir
from reformatters.core.logging import get_logger
from reformatters.core.metadata import PublishGuard, carry_published_coords, publish_metadata
from reformatters.core.operations.validation import StoreNotFoundError
from reformatters.core.outcomes import OutcomeSummary
from reformatters.core.region_job import (
    RegionJobResult,
    SourceFileResult,
    SourceFileStatus,
)
from reformatters.core.reuse import plan_reuse
from reformatters.core.schedule import append_dim_end_at, most_recent_tick
from reformatters.core.sources.mirror import check_source_mirror
from reformatters.core.writing import published_extent, writing

log = get_logger(__name__)


@dataclass
class UpdateReport:
    dataset_id: str
    append_dim: str
    scheduled_time: datetime
    target_end: datetime
    published_end_before: datetime
    frequency: timedelta
    # Where the published dataset ends after the update: the end before until jobs add to it.
    published_end_after: datetime = field(init=False)
    jobs_run: int = 0
    file_counts: Counter[SourceFileStatus] = field(default_factory=Counter)
    kept_published_values: int = 0
    outcome: OutcomeSummary = field(default_factory=lambda: OutcomeSummary.of([]))

    def __post_init__(self) -> None:
        self.published_end_after = self.published_end_before

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
        return self.outcome.ok(missing_expected=True)


def run_update(
    dataset: DynamicalDataset[Any, Any],
    now: datetime,
    output_url: str | None = None,
    *,
    break_lease: bool = False,
    reuse_published: bool = True,
) -> UpdateReport:
    """`reuse_published=False` reads every file of the re-processed positions again (e.g. after
    the provider replaced files)."""
    config = dataset.operations_config()
    scheduled = most_recent_tick(config.update.cron, now)
    check_source_mirror()
    outputs = dataset.output_stores(output_url)
    if not outputs.primary.exists():
        raise StoreNotFoundError(
            f"no published dataset at {outputs.primary.url}; run a backfill before `update`"
        )
    for location in outputs.write_order:
        location.check_writable()
    start_workers(dataset.region_job_class)
    with writing(outputs, dataset.append_dim, "update", break_existing=break_lease) as guard:
        return _update(dataset, guard, scheduled, reuse_published)


def _update(
    dataset: DynamicalDataset[Any, Any],
    guard: PublishGuard,
    scheduled: datetime,
    reuse_published: bool,
) -> UpdateReport:
    config = dataset.operations_config()
    template_config = dataset.template_config
    append_dim, frequency = dataset.append_dim, template_config.append_dim_frequency
    outputs = guard.outputs
    published_len = guard.published_length
    published_end = template_config.append_dim_start + published_len * frequency
    target_end = append_dim_end_at(
        template_config.append_dim_start, frequency, scheduled - config.update.typical_latency
    )
    template_ds = template_config.get_template(max(target_end, published_end))
    jobs = dataset.get_jobs(template_ds, JobFilters(filter_start=published_end - frequency))
    dataset.check_worker_memory(jobs)
    report = UpdateReport(
        dataset.dataset_id, append_dim, scheduled, target_end, published_end, frequency
    )
    published = published_extent(guard)
    results: list[RegionJobResult] = []
    with scratch_dir(dataset.dataset_id) as scratch:
        tmp_store = scratch / "tmp.zarr"
        render_metadata(dataset.region_job_class, template_ds, tmp_store).result()
        for planned in jobs:
            guard.lease.check()
            job = plan_reuse(planned, published) if reuse_published and published else planned
            result = process_region_job(job, outputs, tmp_store, scratch, published=published)
            report.kept_published_values += sum(result.kept_values.values())
            results.append(result)
            report.jobs_run += 1
            log.info("update job done", dataset=dataset.dataset_id, job=job.summary())
    for result in results:
        for file_results in result.files.values():
            report.file_counts.update(r.status for r in file_results)
    report.outcome = OutcomeSummary.of(results)
    report.outcome.log_warnings(dataset.dataset_id)
    new_len = published_extent_after(template_ds, append_dim, published_len, results)
    final_ds = carry_published_coords(
        template_ds.isel({append_dim: slice(0, new_len)}), outputs.primary, append_dim
    )
    final_ds = dataset.finalize_template(final_ds, results)
    publish_metadata(final_ds, guard)
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


def published_extent_after(
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
