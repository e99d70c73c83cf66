"""noaa-gfs-forecast `update` as new leads of the newest run appear: the incremental update reads
only the new leads (and the one before them, for deaccumulation) and writes the same store, byte
for byte, as an update that reads the whole run again."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from reformatters.core.operations.update import UpdateReport, run_update
from reformatters.core.region_job import SourceFileStatus
from reformatters.core.sources.mirror import SOURCE_MIRROR_ENV
from reformatters.core.sources.server import MirrorServer, serve_mirror
from reformatters.noaa.gfs.forecast.dynamical_dataset import GfsForecastDataset
from reformatters.noaa.gfs.forecast.region_job import GfsForecastRegionJob
from reformatters.noaa.gfs.forecast.template_config import GfsForecastTemplateConfig
from reformatters.noaa.gfs.synthesis import mirror_path
from reformatters.noaa.gfs.testing import INIT_00

# An instantaneous field, a deaccumulated rate (window 0-6 h), a window maximum and a window
# mean (no value at lead 0).
NAMES = (
    "temperature_2m",
    "precipitation_surface",
    "maximum_temperature_2m",
    "downward_short_wave_radiation_flux_surface",
)
PUBLISHED_LEADS = (0, 1, 2, 3)
NEW_LEADS = (4, 5, 6)
# The update of 05:00 UTC processes the 00 UTC run (typical latency 5 h).
UPDATE_NOW = datetime(2021, 5, 1, 5, 0)
BACKFILL_END = datetime(2021, 5, 1, 6)


def _dataset() -> GfsForecastDataset:
    """noaa-gfs-forecast with four of its variables (the checked-in template)."""
    config = GfsForecastTemplateConfig.declared()
    subset = tuple(v for v in config.data_vars if v.name in NAMES)
    return GfsForecastDataset(config.model_copy(update={"data_vars": subset}), GfsForecastRegionJob)


@pytest.fixture(autouse=True)
def _decode_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFORMATTERS_DECODE_PROCESSES", "0")


def _link_leads(source: Path, view: Path, leads: tuple[int, ...]) -> None:
    """Make the 00 UTC run's files of `leads` (and their .idx) appear in the mirror `view`."""
    for lead in leads:
        path = mirror_path(source, INIT_00, lead)
        for name in (path.name, f"{path.name}.idx"):
            target = mirror_path(view, INIT_00, lead).with_name(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path.with_name(name), target)


@pytest.fixture
def view(
    gfs_mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, MirrorServer]]:
    """A served mirror holding the 00 UTC run's first leads; the test adds the others."""
    folder = tmp_path / "view"
    _link_leads(gfs_mirror, folder, PUBLISHED_LEADS)
    with serve_mirror(folder) as server:
        monkeypatch.setenv(SOURCE_MIRROR_ENV, server.url)
        monkeypatch.setenv("REFORMATTERS_SCRATCH", str(tmp_path / "scratch"))
        yield folder, server


def _store(base: Path) -> Path:
    return base / "noaa-gfs-forecast" / "v0.1.0.zarr"


def _objects(store: Path) -> dict[str, bytes]:
    """Every object of a local store (the lease is released: none is left)."""
    return {
        str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file()
    }


def _fetched_leads(server: MirrorServer) -> list[int]:
    """The leads whose GRIB messages the server sent (byte ranges of the files, not .idx)."""
    return sorted(
        int(path.rsplit(".f", 1)[1])
        for path, size in server.stats.bytes_by_path.items()
        if size and ".pgrb2.0p25.f" in path and not path.endswith(".idx")
    )


def test_incremental_update_reads_new_leads_and_matches_a_full_update(
    gfs_mirror: Path, view: tuple[Path, MirrorServer], tmp_path: Path
) -> None:
    folder, server = view
    dataset = _dataset()
    incremental, reread, fresh = tmp_path / "incremental", tmp_path / "reread", tmp_path / "fresh"
    dataset.backfill_local(BACKFILL_END, output_url=str(incremental))
    shutil.copytree(incremental, reread)

    _link_leads(gfs_mirror, folder, NEW_LEADS)
    server.stats.reset()
    report = run_update_at(dataset, incremental, reuse_published=True)
    # The new leads and the one before them (precipitation's rate at lead 4 needs the
    # accumulation at lead 3); leads 0-2 are reused from the store.
    assert _fetched_leads(server) == [3, 4, 5, 6]
    assert report.file_counts[SourceFileStatus.SUCCEEDED] == 4 * len(NAMES)
    assert report.file_counts[SourceFileStatus.REUSED] == 3 * len(NAMES)
    assert report.ok and report.kept_published_values == 0

    server.stats.reset()
    full = run_update_at(dataset, reread, reuse_published=False)
    assert _fetched_leads(server) == [0, 1, 2, 3, 4, 5, 6]
    assert full.file_counts[SourceFileStatus.SUCCEEDED] == 7 * len(NAMES)

    # Byte for byte: every shard and every metadata object.
    incremental_objects = _objects(_store(incremental))
    reread_objects = _objects(_store(reread))
    assert incremental_objects.keys() == reread_objects.keys()
    differ = [k for k in incremental_objects if incremental_objects[k] != reread_objects[k]]
    assert differ == []

    # And the same values and attributes as one backfill that saw every lead at once.
    dataset.backfill_local(BACKFILL_END, output_url=str(fresh))
    a = xr.open_zarr(_store(incremental), decode_timedelta=True, chunks=None).load()
    b = xr.open_zarr(_store(fresh), decode_timedelta=True, chunks=None).load()
    xr.testing.assert_identical(a, b)
    rate = a["precipitation_surface"].sel(init_time=INIT_00).isel(lead_time=NEW_LEADS[0])
    assert np.isfinite(rate.values).all()
    assert a["ingested_forecast_length"].values[-1] == np.timedelta64(6, "h")


def test_update_without_new_leads_rewrites_no_shard(
    view: tuple[Path, MirrorServer], tmp_path: Path
) -> None:
    _, server = view
    dataset = _dataset()
    output = tmp_path / "store"
    dataset.backfill_local(BACKFILL_END, output_url=str(output))

    def shards() -> dict[str, float]:
        return {
            str(p.relative_to(_store(output))): p.stat().st_mtime
            for name in NAMES
            for p in (_store(output) / name / "c").rglob("*")
            if p.is_file()
        }

    before = shards()
    server.stats.reset()
    report = run_update_at(dataset, output, reuse_published=True)
    # Only the step before the leads still missing (in case they had arrived).
    assert _fetched_leads(server) == [3]
    assert report.file_counts[SourceFileStatus.REUSED] == 3 * len(NAMES)
    assert report.added == [] and report.ok
    assert shards() == before


def run_update_at(
    dataset: GfsForecastDataset, output: Path, *, reuse_published: bool
) -> UpdateReport:
    return run_update(dataset, UPDATE_NOW, str(output), reuse_published=reuse_published)
