"""Running a list of region jobs in one process: downloads prefetched one job ahead, metadata
published before the first chunk (a new store) and after the last one (the final extent)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import xarray as xr

from reformatters.core.config_models import DataVar
from reformatters.core.engine.process import process_region_job
from reformatters.core.engine.render import render_metadata
from reformatters.core.logging import get_logger
from reformatters.core.metadata import PublishGuard, RenderedMetadata, publish_metadata
from reformatters.core.outcomes import OutcomeSummary
from reformatters.core.region_job import (
    Downloads,
    RegionJob,
    RegionJobResult,
    SourceFileCoord,
    SourceFileStatus,
)
from reformatters.core.sources.scratch import SCRATCH_ENV
from reformatters.core.writing import published_extent

log = get_logger(__name__)

type ProgressCallback = Callable[[int, int, str], None]
"""Called as (jobs done, jobs total, description of the job just finished)."""


@dataclass
class BackfillReport:
    jobs_total: int
    jobs_run: int
    results: list[RegionJobResult] = field(default_factory=list)

    def count(self, *statuses: SourceFileStatus) -> int:
        return sum(r.count(*statuses) for r in self.results)

    @property
    def bytes_written(self) -> int:
        return sum(r.bytes_written for r in self.results)

    @property
    def outcome(self) -> OutcomeSummary:
        return OutcomeSummary.of(self.results)


@contextmanager
def scratch_dir(dataset_id: str) -> Iterator[Path]:
    """A per-dataset scratch folder (under $REFORMATTERS_SCRATCH if set), removed afterwards."""
    base = os.environ.get(SCRATCH_ENV)
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{dataset_id}-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_region_jobs[DataVarT: DataVar[Any], SourceFileCoordT: SourceFileCoord](
    dataset_id: str,
    region_job_class: type[RegionJob[DataVarT, SourceFileCoordT]],
    jobs: Sequence[RegionJob[DataVarT, SourceFileCoordT]],
    jobs_total: int,
    template_ds: xr.Dataset,
    guard: PublishGuard,
    on_progress: ProgressCallback | None,
    publish_new_store: bool = False,
    final_template: Callable[[Sequence[RegionJobResult]], xr.Dataset] | None = None,
) -> BackfillReport:
    """Run `jobs` in order. With `publish_new_store`, the template's metadata is published
    before the first job's chunks (a new store, which nobody reads yet). With
    `final_template` (the template to publish, given every job's results), its metadata is
    published after the last job's chunks."""
    report = BackfillReport(jobs_total=jobs_total, jobs_run=0)
    outputs = guard.outputs
    published = published_extent(guard)  # as read at the start, before any publication
    with scratch_dir(dataset_id) as scratch, ThreadPoolExecutor(1) as prefetcher:
        # The first job downloads in `process`, its workers decoding each batch of variables
        # as it arrives (see `download_batches`) while the metadata is rendered; job i+1's
        # files download while job i is decoded and encoded. Each job has its own folder, as
        # jobs may share files.
        def job_scratch(i: int) -> Path:
            folder = scratch / f"job-{i}"
            folder.mkdir(exist_ok=True)
            return folder

        def fetch(i: int) -> Downloads[SourceFileCoordT]:
            return jobs[i].download(job_scratch(i))

        tmp_store = scratch / "tmp.zarr"
        staging = render_metadata(region_job_class, template_ds, tmp_store)
        if publish_new_store and not jobs:
            guard.publish(staging.result())
        prefetch: list[Future[Downloads[SourceFileCoordT]]] = []

        def after_submit(i: int) -> None:
            if i + 1 < len(jobs):
                prefetch.append(prefetcher.submit(fetch, i + 1))
            if i == 0:
                # The first variables are queued before the staging store may be rendered
                # (their workers wait for it, see process_variable). A new store's metadata
                # is published while they decode, before any chunk is uploaded (`process`
                # uploads a variable's shards once it is done).
                _staged(staging, guard if publish_new_store else None)

        for i, job in enumerate(jobs):
            guard.lease.check()
            result = process_region_job(
                job,
                outputs,
                tmp_store,
                job_scratch(i),
                downloads=prefetch.pop().result() if prefetch else None,
                after_submit=partial(after_submit, i),
                move_shards=True,
                published=published,
            )
            shutil.rmtree(scratch / f"job-{i}", ignore_errors=True)
            report.results.append(result)
            report.jobs_run += 1
            missing = result.count(SourceFileStatus.MISSING)
            failed = result.count(SourceFileStatus.DOWNLOAD_FAILED, SourceFileStatus.READ_FAILED)
            log.info(
                "region job done",
                dataset=dataset_id,
                job=job.summary(),
                missing_files=missing,
                failed_files=failed,
                bytes_written=result.bytes_written,
            )
            if on_progress is not None:
                on_progress(report.jobs_run, len(jobs), job.summary())
        if final_template is not None:
            publish_metadata(final_template(report.results), guard)
    report.outcome.log_warnings(dataset_id)
    return report


def _staged(staging: Future[RenderedMetadata], guard: PublishGuard | None) -> None:
    """Wait for the staging store's render (raising its error); publish it through `guard`."""
    rendered = staging.result()
    if guard is not None:
        guard.publish(rendered)
