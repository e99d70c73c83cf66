"""One region job end to end in the calling process: downloads, the workers' queue, uploads."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from reformatters.core.config_models import DataVar
from reformatters.core.engine.pool import executor
from reformatters.core.engine.tasks import variable_tasks
from reformatters.core.engine.worker import VariableOutcome, process_variable
from reformatters.core.published import PublishedExtent
from reformatters.core.region_job import Downloads, RegionJob, RegionJobResult, SourceFileCoord
from reformatters.core.storage import OutputStores


def process_region_job[DataVarT: DataVar[Any], SourceFileCoordT: SourceFileCoord](
    job: RegionJob[DataVarT, SourceFileCoordT],
    outputs: OutputStores | None,
    tmp_store: Path,
    scratch: Path,
    on_progress: Callable[[], None] | None = None,
    downloads: Downloads[SourceFileCoordT] | None = None,
    after_submit: Callable[[], None] | None = None,
    move_shards: bool = False,
    published: PublishedExtent | None = None,
) -> RegionJobResult:
    """Download (unless `downloads` holds the job's `download`), read, transform and write the
    job's region's shards to every output store. Where the region rewrites `published`
    positions, their values are kept wherever this run has none (core.published).

    `tmp_store` is a local zarr store holding the expanded template's metadata; the shards are
    written there and then copied to the replicas and the primary (with `move_shards`, when
    the caller has no further use for them in `tmp_store`, moved into a local primary on the
    same filesystem: see `StoreLocation.upload_files`). Without `outputs` they stay in
    `tmp_store` for the caller. No metadata is written.

    Each variable's whole pipeline (decode its messages, transform, encode its shards into
    `tmp_store`) runs in one worker process, variables in parallel: the same split as the
    unavoidable work, with no data crossing processes. This process downloads (in
    `download_batches`, queueing each batch's variables as it arrives) and uploads each
    variable's shards as it completes. `after_submit` runs once every variable is queued for
    the workers (e.g. to queue more work behind them).
    """
    pool = executor(type(job))
    batches = job.download_batches(scratch) if downloads is None else [(job.data_vars, downloads)]
    futures: dict[str, Future[VariableOutcome]] = {}
    paths: list[Path] = []
    for data_vars, downloaded in batches:
        assert not {v.name for v in data_vars} & futures.keys(), "a variable in two batches"
        for data_var, task in variable_tasks(job, data_vars, downloaded, published):
            futures[data_var.name] = pool.submit(process_variable, job, task, tmp_store)
        paths += [path for path in downloaded.values() if isinstance(path, Path)]
    assert futures.keys() == {v.name for v in job.data_vars}, "a variable in no batch"
    if after_submit is not None:
        after_submit()
    result = RegionJobResult(region=job.region)
    write_order = outputs.write_order if outputs is not None else ()
    for name, future in futures.items():
        outcome = future.result()
        result.files[name] = outcome.results
        if outcome.invalid:
            result.invalid_values[name] += outcome.invalid
        if outcome.kept:
            result.kept_values[name] += outcome.kept
        for location in write_order:
            move = move_shards and location is write_order[-1]
            result.bytes_written += location.upload_files(tmp_store, outcome.written, move=move)
        if on_progress is not None:
            on_progress()
    for path in paths:
        path.unlink(missing_ok=True)
    return result
