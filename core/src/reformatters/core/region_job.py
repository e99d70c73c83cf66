"""RegionJob: what a dataset implements to reformat one region of the append dimension for one
group of variables, and how the regions are planned.

The engine that runs a job (worker processes, shard writes, metadata rendering) is
`reformatters.core.engine`; it calls the hooks below.
"""

from __future__ import annotations

import itertools
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from reformatters.core.config_models import DataVar, FrozenModel
from reformatters.core.logging import get_logger
from reformatters.core.rounding import round_float32_mantissa
from reformatters.core.sources.errors import SourceError, SourceFileMissingError

log = get_logger(__name__)

type ArrayFloat32 = NDArray[np.float32]

_NANOSECONDS_PER_HOUR = 3_600_000_000_000


def whole_hours(delta: pd.Timedelta) -> int:
    """A lead or step that must be whole hours, as hours (in nanoseconds: divmod of pandas
    Timedeltas costs 15 us, and this runs per file and variable)."""
    hours, remainder = divmod(delta.value, _NANOSECONDS_PER_HOUR)
    assert remainder == 0, f"{delta} is not whole hours"
    return int(hours)


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
    # Not fetched: its position is published with data, whose values the store keeps (an
    # update's reuse, see core.reuse).
    REUSED = "reused"


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


type PositionKey = tuple[tuple[str, Any], ...]
"""The output position of a file, hashable: its `out_loc` as sorted (dim, label) pairs."""


def position_key(coord: SourceFileCoord) -> PositionKey:
    return tuple(sorted(coord.out_loc().items()))


type Downloads[CoordT: SourceFileCoord] = dict[CoordT, Path | SourceFileResult]
"""A region job's source files, in order: each one's local path, or why it has none."""


@dataclass
class RegionJob[DataVarT: DataVar[Any], SourceFileCoordT: SourceFileCoord](ABC):
    """Reformat `region` (one shard along the append dim) of `data_vars` (sharing source files).

    A dataset too large to hold one region of a variable in memory splits it further along
    `partition_dims` (e.g. an ensemble's members): each job then covers one shard along each
    of those dims (`partition`, positions along them) and only the source files it addresses.

    Subclasses implement `generate_source_file_coords`, `download_file` and `read_data`; they may
    override the other hooks. `reformatters.core.engine.process.process_region_job` runs a job:
    the hooks up to `variable_costs` run in the calling process (which has `template_ds`),
    `read_data_into`/`read_data` and `apply_data_transformations` in a worker process, which
    gets the job without its template (see `__getstate__`).
    """

    template_ds: xr.Dataset
    data_vars: tuple[DataVarT, ...]
    append_dim: str
    region: slice
    download_threads: int = 8
    partition: Mapping[str, slice] = field(default_factory=dict)
    # Positions (`position_key` of a file's `out_loc`) whose output values are the published
    # ones, and the files of those positions that are not fetched (see core.reuse).
    reused_positions: frozenset[PositionKey] = frozenset()
    unfetched: frozenset[SourceFileCoordT] = frozenset()
    # Decode in worker processes (pygrib holds the GIL). Cheap readers can decode inline.
    decode_in_processes: ClassVar[bool] = True
    # Dims besides the append dim along which jobs are split, one job per shard (see above).
    partition_dims: ClassVar[tuple[str, ...]] = ()

    # ---- hooks for dataset packages ---------------------------------------------------------

    @classmethod
    def source_groups(cls, data_vars: Sequence[DataVarT]) -> list[list[DataVarT]]:
        """Groups of variables that are read from the same source files.

        Receives the variables being processed (after any variable filter); returns them split
        into groups, one job per region and group. Called while planning (`get_jobs`).
        Default: one group of every variable."""
        return [list(data_vars)]

    def needs_previous_step(self) -> bool:
        """Whether `apply_data_transformations` reads the step before a position (e.g. to
        deaccumulate) along the innermost dim the source files address (`lead_time` of a
        forecast, the append dim of an analysis).

        Called in the calling process while an update plans which published positions it
        reuses (core.reuse): it then also fetches the published step before each position it
        fetches. Default: True (one file more per run of new positions, always correct)."""
        return True

    def processing_region(self) -> slice:
        """The append-dim region to read; may start before `region` (e.g. for deaccumulation).

        Called in the calling process (to list the source files and build the workers' tasks)
        and in the worker process, without `template_ds`, which trims the transformed data
        back to `region` before writing it. Default: `region`."""
        return self.region

    @abstractmethod
    def generate_source_file_coords(
        self, processing_region_ds: xr.Dataset, data_var_group: Sequence[DataVarT]
    ) -> Sequence[SourceFileCoordT]:
        """Every source file the region needs.

        Receives the template over `processing_region()` and this job's variables; returns one
        coord per file, in the order the files are downloaded. Called before downloading
        (`source_file_coords`)."""

    @abstractmethod
    def download_file(self, coord: SourceFileCoordT, scratch: Path) -> Path:
        """Fetch what `data_vars` need from one file; raise SourceFileMissingError if absent.

        Receives one of `generate_source_file_coords`' coords and the job's scratch folder;
        returns the local path that `read_data` reads. Called from `download_threads` threads
        of the calling process (`fetch_each`); a SourceError, ValueError or RuntimeError fails
        only this file."""

    @abstractmethod
    def read_data(self, coord: SourceFileCoordT, path: Path, data_var: DataVarT) -> ArrayFloat32:
        """Decode one variable from a downloaded file into the output's spatial layout.

        Receives a file that downloaded, its path and one variable; returns the variable's
        field for the position the file fills (`coord.out_loc()`). Called through
        `read_data_into` in a worker process, without `template_ds`. Raise MessageAbsentError
        when the file lacks the variable's message; a SourceError, ValueError or RuntimeError
        fails only this file for this variable."""

    def read_data_into(
        self, coord: SourceFileCoordT, path: Path, data_var: DataVarT, out: ArrayFloat32
    ) -> None:
        """`read_data` into `out` (a view of the region being assembled). Override to decode
        straight into it where `read_data` would copy the field anyway.

        Called in a worker process, once per downloaded file and variable, with the same errors
        as `read_data`; `out` is set to NaN afterwards if the read fails."""
        out[...] = self.read_data(coord, path, data_var)

    def download_batches(
        self, scratch: Path
    ) -> Iterator[tuple[tuple[DataVarT, ...], Downloads[SourceFileCoordT]]]:
        """This job's downloads as batches of variables, each with the files it needs.

        Receives the job's scratch folder; yields (variables, their downloads). The engine
        queues a batch's variables for the workers as soon as it is yielded, so that they decode
        while the next batch downloads. Every variable is in exactly one batch. Called in the
        calling process when the job's downloads were not fetched ahead. Default: one batch of
        every variable (`download`)."""
        yield self.data_vars, self.download(scratch)

    def variable_costs(self, downloads: Downloads[SourceFileCoordT]) -> Mapping[str, float]:
        """Relative work of each variable in this job (e.g. bytes of its messages).

        Receives a batch's downloads; returns a cost per variable name. Called in the calling
        process once per batch: the engine starts the largest first, so that no large variable
        runs alone at the end. Default: unknown, variables run in their declared order."""
        return {}

    def apply_data_transformations(self, data: xr.DataArray, data_var: DataVarT) -> int:
        """In-place transforms on the whole region of one variable. Default: mantissa rounding.

        Receives the variable's data over the populated part of `processing_region()` (with its
        coordinates, NaN where no file was read) and the variable. Called in a worker process
        after every file is read and before the shards are written. Returns how many values the
        transforms set to NaN as invalid (e.g. deaccumulated precipitation more negative than
        the packing noise); the run's summary counts them."""
        bits = data_var.internal_attrs.keep_mantissa_bits
        if bits != "no-rounding":
            round_float32_mantissa(data.values, bits)
        return 0

    # ---- downloading, for download_batches ------------------------------------------------

    def download(self, scratch: Path) -> Downloads[SourceFileCoordT]:
        """Fetch every source file of the job into `scratch` (may run ahead of processing)."""
        return self.fetch_each(
            self.source_file_coords(), lambda coord: self.download_file(coord, scratch)
        )

    def processing_region_ds(self) -> xr.Dataset:
        """The template over `processing_region()` and this job's `partition`."""
        return self.template_ds.isel({self.append_dim: self.processing_region(), **self.partition})

    def source_file_coords(self) -> list[SourceFileCoordT]:
        return list(self.generate_source_file_coords(self.processing_region_ds(), self.data_vars))

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
            if coord in self.unfetched:
                return SourceFileResult(coord, SourceFileStatus.REUSED)
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
            reused=statuses.count(SourceFileStatus.REUSED),
            **size,
            seconds=round(time.perf_counter() - started, 2),
        )
        return fetched

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
        filter_positions: Mapping[str, Collection[int]] | None = None,
        **job_kwargs: Any,
    ) -> list[Self]:
        """All jobs, in a deterministic order: regions (shards) x partitions x variable groups.

        Filters select whole regions: a shard is always written whole, so a region that
        intersects [filter_start, filter_end) is processed completely, as is a partition that
        holds one of `filter_positions` (positions along a partition dim, e.g. members).
        """
        if filter_variable_names:
            wanted = set(filter_variable_names)
            data_vars = [v for v in data_vars if v.name in wanted]
        regions = shard_regions(template_ds, data_vars, append_dim)
        positions = filter_positions or {}
        assert set(positions) <= set(cls.partition_dims), f"{positions} are not partitioned"
        partitions = [
            dict(zip(cls.partition_dims, slices, strict=True))
            for slices in itertools.product(
                *(shard_regions(template_ds, data_vars, dim) for dim in cls.partition_dims)
            )
            if all(
                any(where.start <= p < where.stop for p in positions[dim])
                for dim, where in zip(cls.partition_dims, slices, strict=True)
                if dim in positions
            )
        ]
        append_values = pd.DatetimeIndex(template_ds[append_dim].values)
        jobs = []
        for region in regions:
            region_values = append_values[region]
            if filter_start is not None and region_values[-1] < pd.Timestamp(filter_start):
                continue
            if filter_end is not None and region_values[0] >= pd.Timestamp(filter_end):
                continue
            for partition in partitions:
                for group in cls.source_groups(data_vars):
                    jobs.append(
                        cls(
                            template_ds=template_ds,
                            data_vars=tuple(group),
                            append_dim=append_dim,
                            region=region,
                            partition=partition,
                            **job_kwargs,
                        )
                    )
        return jobs

    def summary(self) -> str:
        values = self.template_ds[self.append_dim].values[self.region]
        first, last = np.datetime_as_string(values[[0, -1]], unit="m")
        parts = "".join(
            f" {dim} {where.start}..{where.stop - 1}" for dim, where in self.partition.items()
        )
        names = ", ".join(v.name for v in self.data_vars)
        return f"{self.append_dim} {first}..{last}{parts} [{names}]"

    def __getstate__(self) -> dict[str, Any]:
        # Sent to worker processes: they get what they need in the engine's VariableTask, not
        # the template.
        state = self.__dict__.copy()
        state["template_ds"] = None
        return state


def shard_regions(
    template_ds: xr.Dataset, data_vars: Iterable[DataVar[Any]], dim: str
) -> list[slice]:
    """One region per shard along `dim` (all data variables share that shard size)."""
    shard_sizes = set()
    for var in data_vars:
        assert var.encoding.shards is not None
        axis = template_ds[var.name].dims.index(dim)
        shard_sizes.add(var.encoding.shards[axis])
    if not shard_sizes:
        return []
    assert len(shard_sizes) == 1, f"data variables disagree on the {dim} shard size"
    size = shard_sizes.pop()
    length = template_ds.sizes[dim]
    return [slice(start, min(start + size, length)) for start in range(0, length, size)]


def get_worker_jobs[T](jobs: Sequence[T], worker_index: int, workers_total: int) -> list[T]:
    """Round-robin share of `jobs` for one worker; every worker computes the same `jobs` list."""
    if workers_total < 1 or not 0 <= worker_index < workers_total:
        raise ValueError(f"worker index {worker_index} is not within 0..{workers_total - 1}")
    return list(jobs[worker_index::workers_total])
