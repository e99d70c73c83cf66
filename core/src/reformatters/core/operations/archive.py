"""``archive-sources``: copy the source files one run of a dataset needs into an archive (see
``reformatters.core.sources.archive``), for any dataset: the files are those its region jobs
list (``source_file_coords``), with the inventories beside them when the coords name one.

The operational archiver (``OperationsSpec.archive``, a CronJob) archives every run of the
last ``lookback`` whose manifest is absent or still lists missing files, so a run published in
pieces, or a missed schedule, is caught up while the provider still has the files. A run whose
files should all be published by now (``UpdateSchedule.typical_latency``) and are not is
reported as incomplete: the command then fails, because those files may soon be gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from reformatters.core.config_models import datetime_utc_naive
from reformatters.core.dynamical_dataset import DynamicalDataset, JobFilters
from reformatters.core.sources.archive import ArchiveManifest, archive_files, read_manifest

__all__ = [
    "RunArchive",
    "archive_recent_runs",
    "archive_run_sources",
    "manifest_name",
    "recent_runs",
    "run_source_urls",
]


def run_source_urls(dataset: DynamicalDataset[Any, Any], init_time: datetime) -> list[str]:
    """Every source URL the run at ``init_time`` (a position of the append dim) needs."""
    config = dataset.template_config
    end = init_time + config.append_dim_frequency
    template_ds = config.get_template(end)
    urls: list[str] = []
    for job in dataset.get_jobs(template_ds, JobFilters(filter_start=init_time, filter_end=end)):
        for coord in job.source_file_coords():
            if pd.Timestamp(coord.out_loc()[dataset.append_dim]) != pd.Timestamp(init_time):
                continue
            index_url = getattr(coord, "index_url", None)
            if callable(index_url):
                urls.append(str(index_url()))
            urls.append(coord.get_url())
    return list(dict.fromkeys(urls))


def manifest_name(dataset: DynamicalDataset[Any, Any], init_time: datetime) -> str:
    return f"{dataset.dataset_id}/{init_time:%Y-%m-%dT%H%M}"


def archive_run_sources(
    dataset: DynamicalDataset[Any, Any], init_time: datetime, archive_url: str
) -> ArchiveManifest:
    """Archive the run's files; the manifest is ``manifests/<dataset-id>/<init>.json``."""
    name = manifest_name(dataset, init_time)
    return archive_files(run_source_urls(dataset, init_time), archive_url, name)


def recent_runs(
    dataset: DynamicalDataset[Any, Any], now: datetime, lookback: timedelta
) -> list[datetime]:
    """The append-dim positions (runs) from ``now - lookback`` to ``now``, oldest first."""
    config = dataset.template_config
    start, frequency = config.append_dim_start, config.append_dim_frequency
    now = datetime_utc_naive(now)
    earliest = max(start, now - lookback)
    first = start + -((start - earliest) // frequency) * frequency
    runs = []
    while first <= now:
        runs.append(first)
        first += frequency
    return runs


@dataclass(frozen=True)
class RunArchive:
    """One run the archiver looked at: ``manifest`` None when it was complete already."""

    init_time: datetime
    manifest: ArchiveManifest | None
    # Its files should all be published by now (init time + the update's typical latency).
    due: bool

    @property
    def incomplete(self) -> bool:
        return self.due and self.manifest is not None and bool(self.manifest.missing)


def archive_recent_runs(
    dataset: DynamicalDataset[Any, Any], archive_url: str, now: datetime, lookback: timedelta
) -> list[RunArchive]:
    """Archive every run of the last ``lookback`` that is not complete in the archive yet."""
    latency = dataset.operations_config().update.typical_latency
    results = []
    for init_time in recent_runs(dataset, now, lookback):
        due = init_time + latency <= datetime_utc_naive(now)
        previous = read_manifest(archive_url, manifest_name(dataset, init_time))
        if previous is not None and not previous.missing:
            results.append(RunArchive(init_time, None, due))
            continue
        results.append(
            RunArchive(init_time, archive_run_sources(dataset, init_time, archive_url), due)
        )
    return results
