"""RegionJob: reformat one region of the append dimension for one group of variables."""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import xarray as xr
import zarr
from numpy.typing import NDArray

from reformatters.core.config_models import DataVar, FrozenModel
from reformatters.core.logging import get_logger
from reformatters.core.rounding import round_float32_mantissa
from reformatters.core.sources.errors import SourceError, SourceFileMissingError
from reformatters.core.storage import OutputStores

log = get_logger(__name__)

type ArrayFloat32 = NDArray[np.float32]


class SourceFileStatus(StrEnum):
    PENDING = "pending"
    MISSING = "missing"
    DOWNLOAD_FAILED = "download_failed"
    READ_FAILED = "read_failed"
    SUCCEEDED = "succeeded"


class SourceFileCoord(FrozenModel):
    """One source file. Subclasses add the fields that address it (e.g. init_time, lead_time)."""

    @abstractmethod
    def get_url(self) -> str: ...

    @abstractmethod
    def out_loc(self) -> Mapping[str, Any]:
        """Labels of the output position this file fills, e.g. {"init_time": t, "lead_time": l}."""


@dataclass
class SourceFileResult:
    coord: SourceFileCoord
    status: SourceFileStatus
    error: str | None = None


@dataclass
class RegionJobResult:
    """What a region job did, per variable: every source file with its outcome."""

    region: slice
    files: dict[str, list[SourceFileResult]] = field(default_factory=dict)
    bytes_written: int = 0

    def count(self, *statuses: SourceFileStatus) -> int:
        return sum(r.status in statuses for results in self.files.values() for r in results)


@dataclass
class RegionJob[DataVarT: DataVar[Any], SourceFileCoordT: SourceFileCoord](ABC):
    """Reformat `region` (one shard along the append dim) of `data_vars` (sharing source files).

    Subclasses implement `generate_source_file_coords`, `download_file` and `read_data`; they may
    override `source_groups`, `processing_region` and `apply_data_transformations`.
    """

    template_ds: xr.Dataset
    data_vars: tuple[DataVarT, ...]
    append_dim: str
    region: slice
    download_threads: int = 8
    read_threads: int = 2

    # ---- hooks for dataset packages ---------------------------------------------------------

    @classmethod
    def source_groups(cls, data_vars: Sequence[DataVarT]) -> list[list[DataVarT]]:
        """Groups of variables that are read from the same source files."""
        return [list(data_vars)]

    def processing_region(self) -> slice:
        """The append-dim region to read; may start before `region` (e.g. for deaccumulation)."""
        return self.region

    @abstractmethod
    def generate_source_file_coords(
        self, processing_region_ds: xr.Dataset, data_var_group: Sequence[DataVarT]
    ) -> Sequence[SourceFileCoordT]: ...

    @abstractmethod
    def download_file(self, coord: SourceFileCoordT, scratch: Path) -> Path:
        """Fetch what `data_vars` need from one file; raise SourceFileMissingError if absent."""

    @abstractmethod
    def read_data(self, coord: SourceFileCoordT, path: Path, data_var: DataVarT) -> ArrayFloat32:
        """Decode one variable from a downloaded file into the output's spatial layout."""

    def apply_data_transformations(self, data: xr.DataArray, data_var: DataVarT) -> None:
        """In-place transforms on the whole region of one variable. Default: mantissa rounding."""
        bits = data_var.internal_attrs.keep_mantissa_bits
        if bits != "no-rounding":
            round_float32_mantissa(data.values, bits)

    # ---- planning ---------------------------------------------------------------------------

    @classmethod
    def get_jobs(
        cls,
        template_ds: xr.Dataset,
        data_vars: Sequence[DataVarT],
        append_dim: str,
        filter_start: datetime | None = None,
        filter_end: datetime | None = None,
        filter_variable_names: Sequence[str] | None = None,
        **job_kwargs: Any,
    ) -> list[Self]:
        """All jobs, in a deterministic order: regions (shards) x variable groups.

        Filters select whole regions: a shard is always written whole, so a region that
        intersects [filter_start, filter_end) is processed completely.
        """
        if filter_variable_names:
            wanted = set(filter_variable_names)
            data_vars = [v for v in data_vars if v.name in wanted]
        regions = shard_regions(template_ds, data_vars, append_dim)
        append_values = pd.DatetimeIndex(template_ds[append_dim].values)
        jobs = []
        for region in regions:
            region_values = append_values[region]
            if filter_start is not None and region_values[-1] < pd.Timestamp(filter_start):
                continue
            if filter_end is not None and region_values[0] >= pd.Timestamp(filter_end):
                continue
            for group in cls.source_groups(data_vars):
                jobs.append(
                    cls(
                        template_ds=template_ds,
                        data_vars=tuple(group),
                        append_dim=append_dim,
                        region=region,
                        **job_kwargs,
                    )
                )
        return jobs

    def summary(self) -> str:
        values = self.template_ds[self.append_dim].values[self.region]
        first, last = np.datetime_as_string(values[[0, -1]], unit="m")
        return f"{self.append_dim} {first}..{last} [{', '.join(v.name for v in self.data_vars)}]"

    # ---- execution --------------------------------------------------------------------------

    def process(
        self,
        outputs: OutputStores,
        tmp_store: Path,
        scratch: Path,
        on_progress: Callable[[], None] | None = None,
    ) -> RegionJobResult:
        """Download, read, transform and write this region's shards to every output store.

        `tmp_store` is a local zarr store holding the expanded template's metadata; the shards are
        written there and then copied to the replicas and the primary. No metadata is written.
        """
        processing_ds = self.template_ds.isel({self.append_dim: self.processing_region()})
        coords = list(self.generate_source_file_coords(processing_ds, self.data_vars))
        downloads = self._download_all(coords, scratch)
        result = RegionJobResult(region=self.region)
        for data_var in self.data_vars:
            data, file_results = self._read_variable(processing_ds, data_var, coords, downloads)
            self.apply_data_transformations(data, data_var)
            region_data = self._trim_to_region(data)
            result.bytes_written += self._write_shards(region_data, data_var, outputs, tmp_store)
            result.files[data_var.name] = file_results
            if on_progress is not None:
                on_progress()
        for path in downloads.values():
            if isinstance(path, Path):
                path.unlink(missing_ok=True)
        return result

    def _download_all(
        self, coords: Sequence[SourceFileCoordT], scratch: Path
    ) -> dict[SourceFileCoordT, Path | SourceFileResult]:
        def fetch(coord: SourceFileCoordT) -> Path | SourceFileResult:
            try:
                return self.download_file(coord, scratch)
            except SourceFileMissingError as e:
                log.info("source file missing", url=coord.get_url(), detail=str(e))
                return SourceFileResult(coord, SourceFileStatus.MISSING, str(e))
            except (SourceError, OSError, ValueError, RuntimeError) as e:
                log.warning("download failed", url=coord.get_url(), error=str(e))
                return SourceFileResult(coord, SourceFileStatus.DOWNLOAD_FAILED, str(e))

        with ThreadPoolExecutor(self.download_threads) as pool:
            return dict(zip(coords, pool.map(fetch, coords), strict=True))

    def _read_variable(
        self,
        processing_ds: xr.Dataset,
        data_var: DataVarT,
        coords: Sequence[SourceFileCoordT],
        downloads: Mapping[SourceFileCoordT, Path | SourceFileResult],
    ) -> tuple[xr.DataArray, list[SourceFileResult]]:
        template_var = processing_ds[data_var.name]
        values = np.full(template_var.shape, np.nan, dtype=np.float32)
        data = xr.DataArray(values, coords=template_var.coords, dims=template_var.dims)

        def read(coord: SourceFileCoordT) -> SourceFileResult:
            downloaded = downloads[coord]
            if isinstance(downloaded, SourceFileResult):
                return SourceFileResult(coord, downloaded.status, downloaded.error)
            try:
                field_values = self.read_data(coord, downloaded, data_var)
            except (SourceError, OSError, ValueError, RuntimeError) as e:
                log.warning("read failed", url=coord.get_url(), var=data_var.name, error=str(e))
                return SourceFileResult(coord, SourceFileStatus.READ_FAILED, str(e))
            data.loc[coord.out_loc()] = field_values
            return SourceFileResult(coord, SourceFileStatus.SUCCEEDED)

        with ThreadPoolExecutor(self.read_threads) as pool:
            results = list(pool.map(read, coords))
        return data, results

    def _trim_to_region(self, data: xr.DataArray) -> xr.DataArray:
        region_values = self.template_ds[self.append_dim].values[self.region]
        return data.sel({self.append_dim: region_values})

    def _write_shards(
        self, data: xr.DataArray, data_var: DataVarT, outputs: OutputStores, tmp_store: Path
    ) -> int:
        var_dir = tmp_store / data_var.name / "c"
        if var_dir.exists():
            shutil.rmtree(var_dir)
        array = zarr.open_array(zarr.storage.LocalStore(tmp_store), path=data_var.name, mode="r+")
        axis = self.template_ds[data_var.name].dims.index(self.append_dim)
        selection = tuple(self.region if i == axis else slice(None) for i in range(len(data.dims)))
        assert data.dims == self.template_ds[data_var.name].dims
        array[selection] = np.ascontiguousarray(data.values)
        written = _relative_files(tmp_store, var_dir)
        bytes_written = 0
        for location in outputs.write_order:
            bytes_written += location.upload_files(tmp_store, written)
        return bytes_written


def _relative_files(root: Path, folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in folder.rglob("*") if p.is_file())


def shard_regions(
    template_ds: xr.Dataset, data_vars: Iterable[DataVar[Any]], append_dim: str
) -> list[slice]:
    """One region per shard along the append dim (all data variables share that shard size)."""
    shard_sizes = set()
    for var in data_vars:
        assert var.encoding.shards is not None
        axis = template_ds[var.name].dims.index(append_dim)
        shard_sizes.add(var.encoding.shards[axis])
    if not shard_sizes:
        return []
    assert len(shard_sizes) == 1, f"data variables disagree on the {append_dim} shard size"
    size = shard_sizes.pop()
    length = template_ds.sizes[append_dim]
    return [slice(start, min(start + size, length)) for start in range(0, length, size)]


def get_worker_jobs[T](jobs: Sequence[T], worker_index: int, workers_total: int) -> list[T]:
    """Round-robin share of `jobs` for one worker; every worker computes the same `jobs` list."""
    if workers_total < 1 or not 0 <= worker_index < workers_total:
        raise ValueError(f"worker index {worker_index} is not within 0..{workers_total - 1}")
    return list(jobs[worker_index::workers_total])


def group_results_by_status(
    results: Iterable[RegionJobResult],
) -> dict[SourceFileStatus, list[SourceFileResult]]:
    grouped: dict[SourceFileStatus, list[SourceFileResult]] = defaultdict(list)
    for result in results:
        for file_results in result.files.values():
            for r in file_results:
                grouped[r.status].append(r)
    return dict(grouped)
