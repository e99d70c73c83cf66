"""``archive-sources``: copy the source files one run of a dataset needs into an archive (see
``reformatters.core.sources.archive``), for any dataset: the files are those its region jobs
list (``source_file_coords``), with the inventories beside them when the coords name one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from reformatters.core.dynamical_dataset import DynamicalDataset, JobFilters
from reformatters.core.sources.archive import ArchiveManifest, archive_files

__all__ = ["archive_run_sources", "run_source_urls"]


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


def archive_run_sources(
    dataset: DynamicalDataset[Any, Any], init_time: datetime, archive_url: str
) -> ArchiveManifest:
    """Archive the run's files; the manifest is ``manifests/<dataset-id>/<init>.json``."""
    name = f"{dataset.dataset_id}/{init_time:%Y-%m-%dT%H%M}"
    return archive_files(run_source_urls(dataset, init_time), archive_url, name)
