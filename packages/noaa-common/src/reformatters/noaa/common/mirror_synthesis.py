"""Synthesize a NOAA source mirror for offline runs (``reformat demo``, tests).

A ``NoaaMirror`` is what differs between models: the inventory model (message order, grid,
window rule) and where files live (bucket and URL of each init and lead). Files land at
``<folder>/<bucket>/<key>``, so ``REFORMATTERS_SOURCE_MIRROR=<folder>`` (or a server over it)
replaces NOAA's bucket. The messages the datasets read carry smooth ``synthetic_field`` values,
every other message is cheap constant filler.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from reformatters.core.sources.synthesis import write_in_processes
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.common.synthesis import NoaaInventoryModel, NoaaMessage, synthesize_noaa_file
from reformatters.noaa.common.synthetic_values import synthetic_field

__all__ = ["NoaaMirror"]

type Wanted = frozenset[tuple[str, str, str]]


def _wanted(data_vars: Sequence[NoaaDataVar], lead: int) -> Wanted:
    wanted = set()
    for var in data_vars:
        attrs = var.internal_attrs
        forecast = attrs.forecast_description(lead)
        if forecast is not None:
            wanted.add((attrs.grib_element, attrs.grib_level, forecast))
    return frozenset(wanted)


@dataclass(frozen=True, slots=True)
class NoaaMirror:
    """A model's files in a mirror folder: ``source_url(init_time, lead_hours)`` is
    ``s3://<bucket>/<key>``."""

    model: NoaaInventoryModel
    bucket: str
    source_url: Callable[[pd.Timestamp, int], str]

    def path(self, folder: Path, init_time: pd.Timestamp, lead: int) -> Path:
        """Where the file of ``init_time`` + ``lead`` hours lives in a mirror folder."""
        return folder / self.source_url(init_time, lead).removeprefix("s3://")

    def write_file(self, folder: Path, init_time: pd.Timestamp, lead: int, wanted: Wanted) -> Path:
        """Write one file (and its ``.idx``), filling the ``wanted`` (element, level, forecast)."""
        path = self.path(folder, init_time, lead)

        def fill(message: NoaaMessage) -> bool:
            return (message.element, message.level, message.forecast) in wanted

        synthesize_noaa_file(path, self.model, init_time.to_pydatetime(), lead, fill)
        return path

    def synthesize(
        self,
        folder: Path,
        files: Sequence[tuple[pd.Timestamp, int]],
        data_vars: Sequence[NoaaDataVar],
        *,
        skip: Collection[tuple[pd.Timestamp, int]] = (),
        workers: int | None = None,
    ) -> list[Path]:
        """Write the file (+ ``.idx``) of every (init, lead) in ``files`` except ``skip``, in
        (init, lead) order."""
        jobs = sorted(
            {(pd.Timestamp(init), lead) for init, lead in files}
            - {(pd.Timestamp(init), lead) for init, lead in skip}
        )
        (folder / self.bucket).mkdir(parents=True, exist_ok=True)
        return write_in_processes(
            self.write_file,
            [(folder, i, lead, _wanted(data_vars, lead)) for i, lead in jobs],
            workers,
        )

    def source_values(
        self,
        data_var: NoaaDataVar,
        init_time: pd.Timestamp,
        lead: int,
        lats: NDArray[np.floating],
        lons: NDArray[np.floating],
    ) -> NDArray[np.float32] | None:
        """The values a synthesized file holds for ``data_var`` at a lead at points ``lats`` /
        ``lons``, in source units, NaN where the file marks points missing; None where the file
        has no message."""
        attrs = data_var.internal_attrs
        if attrs.forecast_description(lead) is None:
            return None
        start = timedelta(hours=attrs.window_start_hour(lead)) if attrs.is_window else None
        values = synthetic_field(
            attrs.grib_element,
            attrs.grib_level,
            init_time.to_pydatetime(),
            start,
            timedelta(hours=lead),
            attrs.source_step_type,
            lats,
            lons,
        )
        return self.model.as_issued(attrs.grib_element, attrs.grib_level, values)
