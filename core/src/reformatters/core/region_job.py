"""RegionJob: reformat one region of the append dimension for one group of variables."""

from __future__ import annotations

import itertools
import shutil
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import xarray as xr
import zarr
from numpy.typing import NDArray

from reformatters.core.config_models import DataVar, FrozenModel
from reformatters.core.logging import get_logger
from reformatters.core.metadata import RenderedMetadata
from reformatters.core.parallel import (
    Indexer,
    InlineExecutor,
    decode_pool,
    decode_processes,
    reusable_float32_array,
    tune_malloc,
)
from reformatters.core.published import (
    PublishedExtent,
    fill_from_published,
    seed_published_shards,
)
from reformatters.core.rounding import round_float32_mantissa
from reformatters.core.sources.errors import (
    MessageAbsentError,
    SourceError,
    SourceFileMissingError,
)
from reformatters.core.storage import OutputStores
from reformatters.core.template_config import write_metadata

log = get_logger(__name__)

type ArrayFloat32 = NDArray[np.float32]


class SourceFileStatus(StrEnum):
    """The outcome of one source file for one variable."""

    PENDING = "pending"
    # The file is not there (not published yet, or purged).
    MISSING = "missing"
    # The file is there but holds no message of this variable (its inventory lacks the line).
    ABSENT = "absent"
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
    # Why it did not succeed; for ABSENT, the inventory line that was expected.
    error: str | None = None


@dataclass
class RegionJobResult:
    """What a region job did, per variable: every source file with its outcome."""

    region: slice
    files: dict[str, list[SourceFileResult]] = field(default_factory=dict)
    bytes_written: int = 0
    # Values each variable's transforms set to NaN as invalid (e.g. negative precipitation).
    invalid_values: Counter[str] = field(default_factory=Counter)
    # Published values each variable kept where this run had none (see core.published).
    kept_values: Counter[str] = field(default_factory=Counter)

    def count(self, *statuses: SourceFileStatus) -> int:
        return sum(r.status in statuses for results in self.files.values() for r in results)


type Downloads[CoordT: SourceFileCoord] = dict[CoordT, Path | SourceFileResult]
"""A region job's source files, in order: each one's local path, or why it has none."""


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
    # Decode in worker processes (pygrib holds the GIL). Cheap readers can decode inline.
    decode_in_processes: ClassVar[bool] = True

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

    def read_data_into(
        self, coord: SourceFileCoordT, path: Path, data_var: DataVarT, out: ArrayFloat32
    ) -> None:
        """`read_data` into `out` (a view of the region being assembled). Override to decode
        straight into it where `read_data` would copy the field anyway."""
        out[...] = self.read_data(coord, path, data_var)

    def download_batches(
        self, scratch: Path
    ) -> Iterator[tuple[tuple[DataVarT, ...], Downloads[SourceFileCoordT]]]:
        """This job's downloads as batches of variables, each with the files it needs: `process`
        queues a batch's variables for the workers as soon as it is here, so that they decode
        while the next batch downloads. Every variable is in exactly one batch. Default: one
        batch of every variable (`download`)."""
        yield self.data_vars, self.download(scratch)

    def variable_costs(self, downloads: Downloads[SourceFileCoordT]) -> Mapping[str, float]:
        """Relative work of each variable in this job (e.g. bytes of its messages): `process`
        starts the largest first, so that no large variable runs alone at the end. Default:
        unknown, variables run in their declared order."""
        return {}

    def apply_data_transformations(self, data: xr.DataArray, data_var: DataVarT) -> int:
        """In-place transforms on the whole region of one variable. Default: mantissa rounding.

        Returns how many values the transforms set to NaN as invalid (e.g. deaccumulated
        precipitation more negative than the packing noise); the run's summary counts them."""
        bits = data_var.internal_attrs.keep_mantissa_bits
        if bits != "no-rounding":
            round_float32_mantissa(data.values, bits)
        return 0

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
        outputs: OutputStores | None,
        tmp_store: Path,
        scratch: Path,
        on_progress: Callable[[], None] | None = None,
        downloads: Downloads[SourceFileCoordT] | None = None,
        after_submit: Callable[[RegionJobResult], None] | None = None,
        move_shards: bool = False,
        published: PublishedExtent | None = None,
    ) -> RegionJobResult:
        """Download (unless `downloads` holds this job's `download`), read, transform and write
        this region's shards to every output store. Where the region rewrites `published`
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
        the workers (e.g. to queue more work behind them), with the result expected if every
        downloaded file reads.
        """
        executor = self._executor()
        batches = (
            self.download_batches(scratch) if downloads is None else [(self.data_vars, downloads)]
        )
        futures: dict[str, Future[_VariableOutcome]] = {}
        expected = RegionJobResult(region=self.region)
        paths: list[Path] = []
        for data_vars, downloaded in batches:
            assert not {v.name for v in data_vars} & futures.keys(), "a variable in two batches"
            for data_var, task in self._variable_tasks(data_vars, downloaded, published):
                futures[data_var.name] = executor.submit(_process_variable, self, task, tmp_store)
            expected.files.update(_expected_files(data_vars, downloaded))
            paths += [path for path in downloaded.values() if isinstance(path, Path)]
        assert futures.keys() == {v.name for v in self.data_vars}, "a variable in no batch"
        if after_submit is not None:
            after_submit(expected)
        result = RegionJobResult(region=self.region)
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

    def _variable_tasks(
        self,
        data_vars: Sequence[DataVarT],
        downloaded: Downloads[SourceFileCoordT],
        published: PublishedExtent | None = None,
    ) -> list[tuple[DataVarT, _VariableTask[DataVarT, SourceFileCoordT]]]:
        """What the workers need for each of `data_vars`, costliest first."""
        coords = list(downloaded)
        processing_ds = self.template_ds.isel({self.append_dim: self.processing_region()})
        # Only the leading block that holds downloaded files is allocated, transformed and
        # written: the rest is NaN, which is the fill value, so its chunks are never stored
        # (a forecast with 24 of 209 leads published holds 24/209 of the region in memory).
        populated = [c for c in coords if isinstance(downloaded[c], Path)]
        processing_ds = processing_ds.isel(_populated_extent(processing_ds, coords, populated))
        costs = self.variable_costs(downloaded)
        tasks = []
        for data_var in sorted(data_vars, key=lambda v: -costs.get(v.name, 0.0)):
            template = processing_ds[data_var.name]
            dims = tuple(str(d) for d in template.dims)
            files = [
                (
                    coord,
                    downloaded[coord],
                    _positional_index(processing_ds, dims, coord.out_loc())
                    if isinstance(downloaded[coord], Path)
                    else (),
                )
                for coord in coords
            ]
            task = _VariableTask(
                data_var=data_var,
                dims=dims,
                coords={str(k): (v.dims, v.values) for k, v in template.coords.items()},
                shape=template.shape,
                files=files,
                published=published if published and published.covers(self.region) else None,
            )
            tasks.append((data_var, task))
        return tasks

    @classmethod
    def _executor(cls) -> Executor:
        """Where variables run: the worker pool, or inline for cheap readers."""
        tune_malloc()
        processes = decode_processes() if cls.decode_in_processes else 0
        return decode_pool(processes) if processes > 0 else InlineExecutor()

    @classmethod
    def start_workers(cls) -> None:
        """Start the worker processes without waiting for them, so callers can overlap that
        with other work (from a fork server, each start waits for its imports). `reformat`
        has created them already, right after its imports (`parallel.start_workers`)."""
        executor = cls._executor()
        if isinstance(executor, InlineExecutor):
            return

        def spawn() -> None:
            for _ in range(decode_processes()):
                executor.submit(tune_malloc)  # any task spawns a worker; a no-op there

        threading.Thread(target=spawn, name="start-workers", daemon=True).start()

    @classmethod
    def render_metadata(
        cls, template_ds: xr.Dataset, local_store: Path
    ) -> Future[RenderedMetadata]:
        """Render `template_ds`'s metadata into the local store `local_store` in a worker
        process, queued behind the variables already submitted, while the caller goes on.
        `local_store` appears whole once rendered (it must not exist before); the future holds
        its files, listed before anything else is written there.

        Used for the staging store `process` writes shards into (workers are idle before the
        first job; the caller downloads meanwhile; variables may be queued before it is done,
        see `_process_variable`) and for the final metadata (rendered by the first worker that
        runs out of variables)."""
        return cls._executor().submit(_write_metadata_whole, template_ds, local_store)

    def __getstate__(self) -> dict[str, Any]:
        # Sent to worker processes: they get what they need in _VariableTask, not the template.
        state = self.__dict__.copy()
        state["template_ds"] = None
        return state

    def download(self, scratch: Path) -> Downloads[SourceFileCoordT]:
        """Fetch every source file of the job into `scratch` (may run ahead of `process`)."""
        return self.fetch_each(
            self.source_file_coords(), lambda coord: self.download_file(coord, scratch)
        )

    def source_file_coords(self) -> list[SourceFileCoordT]:
        processing_ds = self.template_ds.isel({self.append_dim: self.processing_region()})
        return list(self.generate_source_file_coords(processing_ds, self.data_vars))

    def fetch_each[T](
        self,
        coords: Sequence[SourceFileCoordT],
        fetch: Callable[[SourceFileCoordT], T],
        what: str = "downloaded",
    ) -> dict[SourceFileCoordT, T | SourceFileResult]:
        """`fetch` every file in `download_threads` threads: its value, or why it has none (the
        source errors of one file fail only that file, as MISSING or DOWNLOAD_FAILED). Logs one
        line, `what`, with the counts."""

        def one(coord: SourceFileCoordT) -> T | SourceFileResult:
            try:
                return fetch(coord)
            except SourceFileMissingError as e:
                # Debug: a forecast being published misses most leads (185 of 209 files when 24
                # leads are out); the job's "downloaded" line counts them.
                log.debug("source file missing", url=coord.get_url(), detail=str(e))
                return SourceFileResult(coord, SourceFileStatus.MISSING, str(e))
            # Not OSError: the source's errors arrive as SourceError; an OSError is this
            # machine's (no space or permission in scratch) and stops the run.
            except (SourceError, ValueError, RuntimeError) as e:
                log.warning("source file failed", url=coord.get_url(), error=str(e))
                return SourceFileResult(coord, SourceFileStatus.DOWNLOAD_FAILED, str(e))

        started = time.perf_counter()
        with ThreadPoolExecutor(self.download_threads) as pool:
            fetched = dict(zip(coords, pool.map(one, coords), strict=True))
        paths = [p for p in fetched.values() if isinstance(p, Path)]
        statuses = [r.status for r in fetched.values() if isinstance(r, SourceFileResult)]
        size = {"mb": round(sum(p.stat().st_size for p in paths) / 1e6, 1)} if paths else {}
        log.info(
            what,
            job=self.summary(),
            files=len(fetched) - len(statuses),
            missing=statuses.count(SourceFileStatus.MISSING),
            failed=statuses.count(SourceFileStatus.DOWNLOAD_FAILED),
            **size,
            seconds=round(time.perf_counter() - started, 2),
        )
        return fetched

    def _read_into(
        self, values: ArrayFloat32, task: _VariableTask[DataVarT, SourceFileCoordT]
    ) -> list[SourceFileResult]:
        """Decode every downloaded file of the task into `values`; NaN wherever none wrote."""
        results = []
        written: list[Indexer] = []
        for coord, downloaded, index in task.files:
            if isinstance(downloaded, SourceFileResult):
                results.append(downloaded)  # why the file has no path: that is its outcome
                continue
            try:
                self.read_data_into(coord, downloaded, task.data_var, values[index])
            except MessageAbsentError as e:
                # Reported once per run for the variable (see outcomes.OutcomeSummary).
                log.debug("message absent", url=coord.get_url(), var=task.data_var.name)
                results.append(SourceFileResult(coord, SourceFileStatus.ABSENT, e.expected))
                continue
            except (SourceError, ValueError, RuntimeError) as e:
                error = f"{type(e).__name__}: {e}"
                log.warning("read failed", url=coord.get_url(), var=task.data_var.name, error=error)
                results.append(SourceFileResult(coord, SourceFileStatus.READ_FAILED, error))
                continue
            results.append(SourceFileResult(coord, SourceFileStatus.SUCCEEDED))
            written.append(index)
        addressed = {str(d) for coord, _, _ in task.files for d in coord.out_loc()}
        _fill_unwritten(values, task.dims, addressed, written)
        return results

    def _trim_to_region(self, data: xr.DataArray) -> xr.DataArray:
        processing = self.processing_region()
        start = self.region.start - processing.start
        return data.isel(
            {self.append_dim: slice(start, start + self.region.stop - self.region.start)}
        )

    def _write_shards(
        self,
        data: xr.DataArray,
        data_var: DataVarT,
        tmp_store: Path,
        published: PublishedExtent | None = None,
    ) -> tuple[list[str], int]:
        """Encode `data` (the region of one variable) into its shards in `tmp_store`; returns the
        shard files written, relative to `tmp_store`, and how many published values were kept
        where `data` is NaN (see reformatters.core.published)."""
        var_dir = tmp_store / data_var.name / "c"
        if var_dir.exists():
            shutil.rmtree(var_dir)
        if 0 in data.shape:
            return [], 0  # nothing to write: the published shards stay as they are
        array = zarr.open_array(zarr.storage.LocalStore(tmp_store), path=data_var.name, mode="r+")
        assert len(data.dims) == array.ndim
        # `data` starts at the region along the append dim and at 0 along every other dim; it
        # may stop early (see _populated_extent): the rest of the shard is fill, or published
        # values where the shard was published.
        selection = tuple(
            slice(self.region.start, self.region.start + size)
            if dim == self.append_dim
            else slice(0, size)
            for dim, size in zip(data.dims, data.shape, strict=True)
        )
        assert all(s.start % c == 0 for s, c in zip(selection, array.chunks, strict=True))
        values = np.ascontiguousarray(data.values)
        kept = 0
        axis = data.dims.index(self.append_dim)
        if published is not None and seed_published_shards(
            array, data_var.name, tmp_store, published, axis, self.region
        ):
            kept = fill_from_published(array, values, selection, axis, published.length)
        elif _every_chunk_holds_data(values, array.chunks, array.fill_value):
            # zarr skips chunks that equal the fill value by comparing each whole chunk with it
            # (0.7 ms per 42 x 121 x 121 chunk for a NaN fill: 8 % of a worker's time). Same
            # bytes: the test above found no such chunk, stopping at a chunk's first value.
            array = array.with_config({"write_empty_chunks": True})
        array[selection] = values
        return _relative_files(tmp_store, var_dir), kept


@dataclass(frozen=True)
class _VariableTask[DataVarT: DataVar[Any], SourceFileCoordT: SourceFileCoord]:
    """One variable of a region job, as sent to a worker process (no template, no data)."""

    data_var: DataVarT
    dims: tuple[str, ...]
    coords: Mapping[str, Any]
    shape: tuple[int, ...]
    # (file, its local path or why it has none, the position it fills)
    files: Sequence[tuple[SourceFileCoordT, Path | SourceFileResult, Indexer]]
    # Where the region rewrites published positions: their values are kept where new are NaN.
    published: PublishedExtent | None = None


@dataclass(frozen=True)
class _VariableOutcome:
    results: list[SourceFileResult]
    # Shard files written into the staging store.
    written: list[str]
    # Values the transforms set to NaN as invalid.
    invalid: int
    # Published values kept where the new values are NaN.
    kept: int


def _process_variable[DataVarT: DataVar[Any], SourceFileCoordT: SourceFileCoord](
    job: RegionJob[DataVarT, SourceFileCoordT],
    task: _VariableTask[DataVarT, SourceFileCoordT],
    tmp_store: Path,
) -> _VariableOutcome:
    """Runs in a worker: decode, transform and encode one variable's region into `tmp_store`."""
    values = reusable_float32_array(task.shape)
    results = job._read_into(values, task)
    data = xr.DataArray(values, coords=dict(task.coords), dims=task.dims)
    invalid = job.apply_data_transformations(data, task.data_var)
    if invalid:
        log.warning("values set to NaN as invalid", var=task.data_var.name, count=invalid)
    _wait_until_rendered(tmp_store)
    written, kept = job._write_shards(
        job._trim_to_region(data), task.data_var, tmp_store, task.published
    )
    del data, values
    return _VariableOutcome(results, written, invalid, kept)


def _expected_files(
    data_vars: Sequence[DataVar[Any]], downloads: Downloads[Any]
) -> dict[str, list[SourceFileResult]]:
    """Each variable's file outcomes if every downloaded file of `downloads` reads."""
    files = [
        SourceFileResult(coord, SourceFileStatus.SUCCEEDED)
        if isinstance(downloaded, Path)
        else downloaded
        for coord, downloaded in downloads.items()
    ]
    return {v.name: list(files) for v in data_vars}


def _write_metadata_whole(template_ds: xr.Dataset, store: Path) -> RenderedMetadata:
    """write_metadata into a sibling folder renamed to `store` once complete, or mark `store` as
    failed: `_wait_until_rendered` waits for one of the two."""
    partial = store.with_name(f"{store.name}.partial")
    try:
        write_metadata(template_ds, partial)
        rendered = RenderedMetadata.of(partial)
    except BaseException:
        _render_failed_marker(store).touch()
        raise
    partial.rename(store)
    return replace(rendered, local=store)


def _render_failed_marker(store: Path) -> Path:
    return store.with_name(f"{store.name}.failed")


def _wait_until_rendered(store: Path) -> None:
    """Wait until `store` (rendered by `_write_metadata_whole` in another worker) exists.

    The staging store's render is queued before the first job's variables, which are decoded for
    0.1-1 s before they are written: a wait is rare and short. It ends with an error if the
    render failed, or if the scratch folder was removed (the caller gave up)."""
    while not store.exists():
        if _render_failed_marker(store).exists() or not store.parent.exists():
            raise RuntimeError(f"{store} was not rendered: see the error of its render")
        time.sleep(0.005)


def _every_chunk_holds_data(values: NDArray[Any], chunks: tuple[int, ...], fill_value: Any) -> bool:
    """Whether every chunk-shaped block of `values` (tiled from its origin, edge blocks cut
    short) holds a value other than a NaN `fill_value`. False for any other fill value."""
    if not (values.dtype.kind == "f" and np.isnan(fill_value)):
        return False
    starts = [range(0, size, chunk) for size, chunk in zip(values.shape, chunks, strict=True)]
    for origin in itertools.product(*starts):
        block = values[tuple(slice(o, o + c) for o, c in zip(origin, chunks, strict=True))]
        # The first value of each field (a missing lead 0 is NaN), then all of them.
        corners = block[(..., 0, 0)] if block.ndim >= 2 else block[:1]
        if np.isnan(corners).all() and np.isnan(block).all():
            return False
    return True


def _fill_unwritten(
    array: ArrayFloat32,
    dims: tuple[Hashable, ...],
    addressed_dims: set[str],
    written: Sequence[Indexer],
) -> None:
    """Set NaN wherever no successful read wrote (the buffer holds an earlier variable's data).

    Source files address positions along `addressed_dims` (e.g. init_time and lead_time); a
    position no file filled is NaN in every other dim.
    """
    axes = [axis for axis, dim in enumerate(dims) if str(dim) in addressed_dims]
    if not axes:
        if not written:
            array.fill(np.nan)
        return
    filled = np.zeros([array.shape[axis] for axis in axes], dtype=bool)
    for index in written:
        filled[tuple(index[axis] for axis in axes)] = True
    for position in np.argwhere(~filled):
        unwritten: list[int | slice] = [slice(None)] * array.ndim
        for axis, value in zip(axes, position, strict=True):
            unwritten[axis] = int(value)
        array[tuple(unwritten)] = np.nan


def _positional_index(
    ds: xr.Dataset, dims: tuple[Hashable, ...], labels: Mapping[str, Any]
) -> Indexer:
    unknown = set(labels) - {str(d) for d in dims}
    assert not unknown, f"out_loc names dims {unknown} that are not in {dims}"
    index: list[int | slice] = []
    for dim in dims:
        if dim in labels:
            position = ds.indexes[dim].get_loc(labels[str(dim)])
            assert isinstance(position, int | np.integer), f"{dim}={labels[str(dim)]} not unique"
            index.append(int(position))
        else:
            index.append(slice(None))
    return tuple(index)


def _populated_extent(
    ds: xr.Dataset, coords: Sequence[SourceFileCoord], populated: Sequence[SourceFileCoord]
) -> dict[str, slice]:
    """For every dim `coords` address: from 0 to just past the last position `populated` fill."""
    stops = {dim: 0 for coord in coords for dim in coord.out_loc()}
    for coord in populated:
        for dim, label in coord.out_loc().items():
            position = ds.indexes[dim].get_loc(label)
            assert isinstance(position, int | np.integer), f"{dim}={label} not unique"
            stops[dim] = max(stops[dim], int(position) + 1)
    return {dim: slice(0, stop) for dim, stop in stops.items()}


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


def file_statuses(
    results: Iterable[RegionJobResult],
) -> list[dict[str, list[tuple[SourceFileCoord, SourceFileStatus]]]]:
    """Each result's outcome per variable and file, without error messages (for comparing)."""
    return [
        {name: [(r.coord, r.status) for r in files] for name, files in result.files.items()}
        for result in results
    ]


def group_results_by_status(
    results: Iterable[RegionJobResult],
) -> dict[SourceFileStatus, list[SourceFileResult]]:
    grouped: dict[SourceFileStatus, list[SourceFileResult]] = defaultdict(list)
    for result in results:
        for file_results in result.files.values():
            for r in file_results:
                grouped[r.status].append(r)
    return dict(grouped)
