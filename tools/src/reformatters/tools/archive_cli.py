"""``reformat <dataset-id> archive-sources``: one run, or the operational archiver's sweep of the
recent runs (see reformatters.core.operations.archive)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.core.errors import InvalidArgumentError
from reformatters.core.sources.archive import ArchiveManifest
from reformatters.tools.options import parse_timestamp, stderr

ARCHIVE_URL_ENV = "REFORMATTERS_ARCHIVE_URL"
_DEFAULT_LOOKBACK = timedelta(hours=24)


def _line(dataset_id: str, init_time: datetime, manifest: ArchiveManifest) -> str:
    size = sum(f.size for f in manifest.files)
    return (
        f"{dataset_id} {init_time:%Y-%m-%dT%H:%M}: {len(manifest.files)} files archived "
        f"({size / 1e6:.1f} MB), {len(manifest.missing)} missing"
    )


def archive_sources_command(
    dataset: DynamicalDataset[Any, Any],
    init_time: str | None,
    archive_url: str | None,
    lookback_hours: float | None,
) -> None:
    from reformatters.core.operations.archive import archive_recent_runs, archive_run_sources

    schedule = dataset.operations_config().archive
    archive_url = archive_url or (schedule.archive_url if schedule else None)
    if not archive_url:
        raise InvalidArgumentError(
            f"no archive location: pass --archive-url s3://bucket/prefix or set {ARCHIVE_URL_ENV}"
        )
    if init_time is not None:
        init = parse_timestamp(init_time, "INIT_TIME")
        manifest = archive_run_sources(dataset, init, archive_url)
        stderr.print(_line(dataset.dataset_id, init, manifest) + f", to {archive_url}")
        return
    if lookback_hours is not None and lookback_hours <= 0:
        raise InvalidArgumentError(f"--lookback-hours must be positive, got {lookback_hours:g}")
    lookback = (
        timedelta(hours=lookback_hours)
        if lookback_hours is not None
        else (schedule.lookback if schedule else _DEFAULT_LOOKBACK)
    )
    runs = archive_recent_runs(dataset, archive_url, datetime.now(UTC), lookback)
    for run in runs:
        if run.manifest is None:
            stderr.print(f"{dataset.dataset_id} {run.init_time:%Y-%m-%dT%H:%M}: complete already")
        else:
            stderr.print(_line(dataset.dataset_id, run.init_time, run.manifest), highlight=False)
    incomplete = [run for run in runs if run.incomplete]
    if incomplete:
        names = ", ".join(f"{run.init_time:%Y-%m-%dT%H:%M}" for run in incomplete)
        stderr.print(
            f"[red]error:[/red] {len(incomplete)} run(s) should be complete but miss files: "
            f"{names}; each run's manifest in {archive_url}/manifests/{dataset.dataset_id}/ "
            "lists them (the provider may not keep them long)",
            highlight=False,
            soft_wrap=True,
        )
        raise SystemExit(1)
