"""A NOAA mirror of many runs and leads built from a small pool of synthesized files.

Synthesizing a full-resolution file costs seconds of CPU (the smooth fields and their packing);
a model's 209 leads x several runs would take hours. A ``PooledNoaaMirror`` synthesizes a pool
once, the files of ``windows`` statistical windows of one pool run (every lead of each window)
and its lead 0, and writes each (init, lead) file as a byte copy of one pool file with every
message relabelled (``relabel_in_place``: run in section 1, steps in section 4) and its ``.idx``
rewritten for the new run and lead. Offsets do not change, values are exactly the pool's.

Which pool file a lead copies keeps window statistics consistent: lead L's window (the last reset
before L to L) maps onto a pool window at the same offset, so two leads of one window read two
leads of one pool window and an accumulation's increments stay non-negative and deaccumulate to
the pool's rates. Windows and runs take the pool windows in turn, so neighbouring windows and
runs hold different values.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from reformatters.core.sources.grib_relabel import relabel_in_place
from reformatters.core.sources.synthesis import write_in_processes
from reformatters.noaa.common.idx import format_noaa_idx, parse_noaa_idx
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.common.mirror_synthesis import NoaaMirror

__all__ = ["PooledNoaaMirror"]

_EPOCH = pd.Timestamp("1970-01-01T00")
_POOL_INIT = pd.Timestamp("2000-01-01T00")


@dataclass(frozen=True, slots=True)
class PooledNoaaMirror:
    """``mirror``'s files written as relabelled copies of a pool (see the module docstring)."""

    mirror: NoaaMirror
    windows: int = 2
    pool_init: pd.Timestamp = _POOL_INIT

    def pool_lead(self, init_time: pd.Timestamp, lead: int) -> int:
        """The lead of the pool file that the file of ``init_time`` + ``lead`` copies."""
        if lead == 0:
            return 0
        reset = self.mirror.model.window_reset_hours
        start = self.mirror.model.window_start(lead)
        run = (pd.Timestamp(init_time) - _EPOCH) // pd.Timedelta(hours=reset)
        variant = (start // reset + run) % self.windows
        # Pool windows start after the first reset, where since-init totals differ from them.
        return reset * (1 + variant) + lead - start

    def pool_leads(self) -> list[int]:
        reset = self.mirror.model.window_reset_hours
        return [0, *range(reset + 1, reset * (self.windows + 1) + 1)]

    def pool_dir(self, folder: Path, data_vars: Sequence[NoaaDataVar]) -> Path:
        """Where the pool of ``data_vars`` lives: beside the mirror's bucket, never served as
        a run of the model."""
        names = ",".join(sorted(v.name for v in data_vars))
        digest = hashlib.sha256(names.encode()).hexdigest()[:10]
        return folder / ".pool" / f"{self.mirror.model.name}-w{self.windows}-{digest}"

    def synthesize(
        self,
        folder: Path,
        files: Sequence[tuple[pd.Timestamp, int]],
        data_vars: Sequence[NoaaDataVar],
        *,
        workers: int | None = None,
        pool_folder: Path | None = None,
    ) -> list[Path]:
        """Write the file (+ ``.idx``) of every (init, lead) in ``files``, in (init, lead)
        order, synthesizing the pool first where it is missing. The pool lives in
        ``pool_folder`` (default ``folder``; several mirrors can share one pool)."""
        pool = self.pool_dir(pool_folder or folder, data_vars)
        missing = [
            (self.pool_init, lead)
            for lead in self.pool_leads()
            if not _complete(self.mirror.path(pool, self.pool_init, lead))
        ]
        if missing:
            self.mirror.synthesize(pool, missing, data_vars, workers=workers)
        jobs = sorted({(pd.Timestamp(init), lead) for init, lead in files})
        return write_in_processes(
            self.write_file, [(folder, pool, init, lead) for init, lead in jobs], workers
        )

    def write_file(self, folder: Path, pool: Path, init_time: pd.Timestamp, lead: int) -> Path:
        """Copy the pool file of ``init_time`` + ``lead``, relabelled, into ``folder``."""
        model = self.mirror.model
        source = self.mirror.path(pool, self.pool_init, self.pool_lead(init_time, lead))
        data = bytearray(source.read_bytes())
        entries = parse_noaa_idx(_idx(source).read_text(), file_size=len(data))
        messages = model.messages(lead)
        if len(entries) != len(messages):
            raise ValueError(f"{source}: {len(entries)} messages, lead {lead} has {len(messages)}")
        reference = pd.Timestamp(init_time).to_pydatetime()
        relabelled = []
        for entry, message in zip(entries, messages, strict=True):
            if (entry.element, entry.level) != (message.element, message.level):
                raise ValueError(f"{source}: {entry.label} is not {message} of lead {lead}")
            start = None if message.start_hour is None else timedelta(hours=message.start_hour)
            end = timedelta(hours=message.end_hour)
            relabel_in_place(data, entry.offset, reference, end, start if message.kind else None)
            relabelled.append(
                replace(entry, reference_time=f"{reference:%Y%m%d%H}", forecast=message.forecast)
            )
        path = self.mirror.path(folder, init_time, lead)
        _write_atomically(path, bytes(data))
        _write_atomically(_idx(path), format_noaa_idx(relabelled).encode())
        return path

    def source_values(
        self,
        data_var: NoaaDataVar,
        init_time: pd.Timestamp,
        lead: int,
        lats: NDArray[np.floating],
        lons: NDArray[np.floating],
    ) -> NDArray[np.float32] | None:
        """The values the file of ``init_time`` + ``lead`` holds for ``data_var`` (its pool
        file's), as ``NoaaMirror.source_values``; None where the file has no message."""
        if data_var.internal_attrs.forecast_description(lead) is None:
            return None
        pool_lead = self.pool_lead(init_time, lead)
        return self.mirror.source_values(data_var, self.pool_init, pool_lead, lats, lons)


def _idx(path: Path) -> Path:
    return path.with_name(path.name + ".idx")


def _complete(path: Path) -> bool:
    return path.exists() and _idx(path).exists()


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)
