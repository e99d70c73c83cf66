"""DynamicalDataset: binds a TemplateConfig and a RegionJob class to storage and operations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import xarray as xr

from reformatters.core.backfill_runs import (
    WorkerRecord,
    apply_records,
    complete_run_records,
    record_from_results,
    validate_run_id,
    write_record,
)
from reformatters.core.config_models import DataVar
from reformatters.core.dataset_card import card_table
from reformatters.core.engine.pool import start_workers
from reformatters.core.errors import InvalidArgumentError
from reformatters.core.job_runner import BackfillReport, ProgressCallback, run_region_jobs
from reformatters.core.logging import get_logger
from reformatters.core.metadata import PublishGuard, carry_published_coords, publish_metadata
from reformatters.core.operations_spec import OperationsSpec, Validator
from reformatters.core.parallel import check_worker_memory, decode_processes
from reformatters.core.region_job import (
    RegionJob,
    RegionJobResult,
    SourceFileCoord,
    get_worker_jobs,
)
from reformatters.core.sources.mirror import check_source_mirror
from reformatters.core.storage import OutputStores
from reformatters.core.template_bases import ENSEMBLE_DIM
from reformatters.core.template_config import TemplateConfig
from reformatters.core.writing import shared_run_id, writing

log = get_logger(__name__)


@dataclass(frozen=True)
class JobFilters:
    filter_start: datetime | None = None
    filter_end: datetime | None = None
    filter_variable_names: tuple[str, ...] = ()
    # Only these members of an ensemble (positions along ``ensemble_member``).
    filter_ensemble_members: tuple[int, ...] = ()


class DynamicalDataset[DataVarT: DataVar[Any], SourceFileCoordT: SourceFileCoord]:
    """One dataset: its template, its region job, where it is stored and how it is operated.

    Dataset packages subclass this with `template_config` and `region_job_class` set.
    """

    template_config: TemplateConfig[DataVarT]
    region_job_class: type[RegionJob[DataVarT, SourceFileCoordT]]
    # Update/validate schedules, thresholds, Kubernetes resources: data, declared in code here
    # or (None) in the [operations] table of the dataset's card (see dataset_card).
    operations: ClassVar[OperationsSpec | None] = None
    # The checks `validate` runs; None: validation.STANDARD_VALIDATORS.
    validators: ClassVar[tuple[Validator, ...] | None] = None
    # Coordinates along the append dim that `finalize_template` computes from job results.
    # Distributed backfill workers record them (see backfill_runs) so the last one can publish.
    result_coordinates: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        template_config: TemplateConfig[DataVarT],
        region_job_class: type[RegionJob[DataVarT, SourceFileCoordT]],
    ) -> None:
        self.template_config = template_config
        self.region_job_class = region_job_class

    @property
    def dataset_id(self) -> str:
        return self.template_config.dataset_id

    @property
    def append_dim(self) -> str:
        return self.template_config.append_dim

    def output_stores(self, output_url: str | None = None) -> OutputStores:
        return OutputStores.for_dataset(self.dataset_id, self.template_config.version, output_url)

    # ---- validation of user input -------------------------------------------------------------

    def validate_job_arguments(self, append_dim_end: datetime, filters: JobFilters) -> None:
        config = self.template_config
        start = config.append_dim_start
        if append_dim_end <= start:
            raise InvalidArgumentError(
                f"{self.dataset_id}: end {append_dim_end.isoformat()} must be after the dataset "
                f"start {start.isoformat()}"
            )
        if filters.filter_start is not None and filters.filter_start >= append_dim_end:
            raise InvalidArgumentError(
                f"--filter-start {filters.filter_start.isoformat()} is not before the end "
                f"{append_dim_end.isoformat()}"
            )
        if (
            filters.filter_start is not None
            and filters.filter_end is not None
            and filters.filter_start >= filters.filter_end
        ):
            raise InvalidArgumentError("--filter-start must be before --filter-end")
        if filters.filter_ensemble_members:
            members = self.template_config.dimension_coordinates().get(ENSEMBLE_DIM)
            if members is None:
                raise InvalidArgumentError(
                    f"--filter-ensemble-members: {self.dataset_id} has no ensemble members"
                )
            outside = sorted(set(filters.filter_ensemble_members) - {int(m) for m in members})
            if outside:
                raise InvalidArgumentError(
                    f"--filter-ensemble-members: {self.dataset_id} has no member(s) "
                    f"{', '.join(map(str, outside))} (members {min(members)}..{max(members)})"
                )
        known = [v.name for v in config.data_vars]
        unknown = [n for n in filters.filter_variable_names if n not in known]
        if unknown:
            raise InvalidArgumentError(
                f"unknown variable(s) {', '.join(unknown)} for {self.dataset_id}; "
                f"known: {', '.join(known)}"
            )

    # ---- planning -----------------------------------------------------------------------------

    def get_jobs(
        self, template_ds: xr.Dataset, filters: JobFilters
    ) -> list[RegionJob[DataVarT, SourceFileCoordT]]:
        return self.region_job_class.get_jobs(
            template_ds=template_ds,
            data_vars=self.template_config.data_vars,
            append_dim=self.append_dim,
            filter_start=filters.filter_start,
            filter_end=filters.filter_end,
            filter_variable_names=filters.filter_variable_names or None,
            filter_positions=(
                {ENSEMBLE_DIM: filters.filter_ensemble_members}
                if filters.filter_ensemble_members
                else None
            ),
        )

    def published_append_dim_end(self, outputs: OutputStores) -> datetime | None:
        """The end (exclusive) of the primary store's published append dim, or None if new."""
        if not outputs.primary.exists():
            return None
        ds = xr.open_zarr(outputs.primary.zarr_store(read_only=True), decode_timedelta=True)
        last = pd.Timestamp(ds[self.append_dim].values[-1])
        return (last + self.template_config.append_dim_frequency).to_pydatetime()

    # ---- running ------------------------------------------------------------------------------

    def backfill_local(
        self,
        append_dim_end: datetime,
        filters: JobFilters = JobFilters(),
        output_url: str | None = None,
        on_progress: ProgressCallback | None = None,
        *,
        break_lease: bool = False,
    ) -> BackfillReport:
        """Plan all jobs and run them in this process, holding the store's lease.

        A new store gets its metadata first (nobody reads it yet). An existing, published store is
        extended chunks first; its metadata is published after every chunk is written. The
        published extent never shrinks and published values are never replaced by NaN.
        """
        self.validate_job_arguments(append_dim_end, filters)
        check_source_mirror()
        outputs = self.output_stores(output_url)
        for location in outputs.write_order:
            location.check_writable()
        start_workers(self.region_job_class)
        with writing(
            outputs, self.append_dim, "backfill-local", break_existing=break_lease
        ) as guard:
            published_end = self._published_end(guard.published_length)
            end = max(append_dim_end, published_end) if published_end else append_dim_end
            template_ds = self.template_config.get_template(end)
            jobs = self.get_jobs(template_ds, filters)
            self.check_worker_memory(jobs)

            def final_template(results: Sequence[RegionJobResult]) -> xr.Dataset:
                carried = (
                    template_ds
                    if published_end is None
                    else carry_published_coords(template_ds, outputs.primary, self.append_dim)
                )
                return self.finalize_template(carried, results)

            return run_region_jobs(
                self.dataset_id,
                self.region_job_class,
                jobs,
                len(jobs),
                template_ds,
                guard,
                on_progress,
                publish_new_store=published_end is None,
                final_template=final_template,
            )

    def process_backfill_region_jobs(
        self,
        append_dim_end: datetime,
        worker_index: int,
        workers_total: int,
        filters: JobFilters = JobFilters(),
        output_url: str | None = None,
        on_progress: ProgressCallback | None = None,
        run_id: str | None = None,
        *,
        break_lease: bool = False,
    ) -> BackfillReport:
        """Run one worker's share of the jobs. Writes chunks only.

        Every worker computes the same job list and takes every `workers_total`-th job. The store's
        metadata is written by whoever starts the backfill; if the store does not exist yet, each
        worker writes the same metadata (identical bytes, so the order does not matter). The
        workers share their run's lease (`run_id`, or one derived from the run's arguments).

        With a `run_id` (the Kubernetes Job's name), the worker then records its
        `result_coordinates` and the worker that completes the run publishes the final metadata
        (see backfill_runs) and releases the lease.
        """
        self.validate_job_arguments(append_dim_end, filters)
        if run_id is not None:
            validate_run_id(run_id)
        check_source_mirror()
        outputs = self.output_stores(output_url)
        start_workers(self.region_job_class)
        template_ds = self.template_config.get_template(append_dim_end)
        all_jobs = self.get_jobs(template_ds, filters)
        jobs = get_worker_jobs(all_jobs, worker_index, workers_total)
        self.check_worker_memory(jobs)
        log.info(
            "worker share",
            dataset=self.dataset_id,
            worker_index=worker_index,
            workers_total=workers_total,
            jobs=len(jobs),
            jobs_total=len(all_jobs),
        )
        lease_run = run_id or shared_run_id(self.dataset_id, append_dim_end, filters, workers_total)
        with writing(
            outputs,
            self.append_dim,
            "process-backfill-region-jobs",
            run_id=lease_run,
            shared=True,
            break_existing=break_lease,
        ) as guard:
            report = run_region_jobs(
                self.dataset_id,
                self.region_job_class,
                jobs,
                len(all_jobs),
                template_ds,
                guard,
                on_progress,
                publish_new_store=guard.published_length == 0,
            )
            if run_id is not None:
                finalized = self.finalize_template(template_ds, report.results)
                record = record_from_results(
                    finalized,
                    self.result_coordinates,
                    self.append_dim,
                    [{self.append_dim: job.region, **job.partition} for job in jobs],
                    worker_index,
                    workers_total,
                )
                write_record(outputs.primary, run_id, record)
                if (records := complete_run_records(outputs.primary, run_id)) is not None:
                    self._publish_run(append_dim_end, guard, records)
                    guard.lease.release(force=True)
                    log.info("published metadata of completed run", run_id=run_id)
        return report

    def _publish_run(
        self, append_dim_end: datetime, guard: PublishGuard, records: Sequence[WorkerRecord]
    ) -> None:
        outputs = guard.outputs
        published_end = self.published_append_dim_end(outputs)
        end = max(append_dim_end, published_end) if published_end else append_dim_end
        template_ds = self.template_config.get_template(end)
        if published_end is not None:
            template_ds = carry_published_coords(template_ds, outputs.primary, self.append_dim)
        publish_metadata(apply_records(template_ds, records), guard)

    def check_worker_memory(self, jobs: Sequence[RegionJob[DataVarT, SourceFileCoordT]]) -> None:
        """Fail at start, in one line, if the decode workers cannot fit in the container's
        memory limit: each holds one variable's region of a job as float32 (the largest here)
        and a couple of decoded fields (float64)."""
        if not jobs:
            return
        job = jobs[0]
        template = job.processing_region_ds()
        region_bytes = max(math.prod(template[v.name].shape) * 4 for v in job.data_vars)
        field = math.prod(template[job.data_vars[0].name].shape[-2:]) * 8
        workers = decode_processes() if self.region_job_class.decode_in_processes else 0
        check_worker_memory(max(workers, 1), region_bytes + 2 * field)

    def _published_end(self, published_length: int) -> datetime | None:
        """The end (exclusive) of a published append dim of `published_length` positions."""
        if published_length == 0:
            return None
        config = self.template_config
        return config.append_dim_start + published_length * config.append_dim_frequency

    def finalize_template(
        self, template_ds: xr.Dataset, results: Sequence[RegionJobResult]
    ) -> xr.Dataset:
        """Hook: update result-dependent coordinates (e.g. ingested forecast length)."""
        return template_ds

    # ---- operations ---------------------------------------------------------------------------

    def operations_config(self) -> OperationsSpec:
        """Hook: the dataset's ``OperationsSpec``: the ``operations`` class attribute, else the
        card's ``[operations]`` table, with the ``validators`` class attribute."""
        spec = self.operations or OperationsSpec.model_validate(
            card_table(type(self.template_config), "operations")
        )
        if self.validators is None:
            return spec
        validation = spec.validation.model_copy(update={"validators": self.validators})
        return spec.model_copy(update={"validation": validation})

    # ---- offline sources ------------------------------------------------------------------------

    def synthesize_source_mirror(self, start: datetime, end: datetime, folder: Path) -> list[Path]:
        """Write provider-layout source files for [start, end) of the append dim into `folder`.

        The files land at ``<folder>/<bucket>/<key>``, so ``REFORMATTERS_SOURCE_MIRROR=<folder>``
        (or a server over it) replaces the provider. Datasets that support offline runs override it.
        """
        raise InvalidArgumentError(f"{self.dataset_id} cannot synthesize its source files")
