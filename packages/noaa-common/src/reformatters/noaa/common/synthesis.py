"""Model NOAA source files on real ``.idx`` inventories and synthesize them (GRIB2 + ``.idx``).

A real inventory (shipped by a model's package) is the model of a file's message order and
identities. ``NoaaInventoryModel.messages(lead)`` relabels its forecast descriptions for any lead
with the model's window reset rule; ``synthesize_noaa_file`` writes that file with smooth
``synthetic_field`` values for the messages a dataset reads and cheap constant filler for the
rest. Known limitation: message sets are modelled on one later lead per model, so fields that
NOAA adds or drops at long leads are not modelled.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from reformatters.core.sources.grid_templates import GridTemplate
from reformatters.core.sources.synthesis import (
    STEP_TYPE_OF_PROCESS,
    InventoryWriter,
    MessageSpec,
    StatisticalProcess,
    StepType,
    WrittenMessage,
    as_datetime,
    write_grib_file,
)
from reformatters.noaa.common.identity import identity_for
from reformatters.noaa.common.idx import (
    IdxEntry,
    WindowKind,
    format_forecast,
    format_noaa_idx,
    parse_forecast,
    parse_noaa_idx,
)
from reformatters.noaa.common.synthetic_values import synthetic_field

__all__ = [
    "NoaaInventoryModel",
    "NoaaMessage",
    "idx_beside",
    "idx_entries",
    "message_spec",
    "modelled_inventory",
    "synthesize_noaa_file",
]

_KIND_TO_PROCESS: Mapping[str, StatisticalProcess] = {
    "acc": StatisticalProcess.ACCUMULATION,
    "ave": StatisticalProcess.AVERAGE,
    "max": StatisticalProcess.MAXIMUM,
    "min": StatisticalProcess.MINIMUM,
}


def idx_entries(
    written: Sequence[WrittenMessage],
    init_time: np.datetime64 | datetime,
    extra: tuple[str, ...] = ("",),
) -> list[IdxEntry]:
    """The ``.idx`` entries (``end`` set) of messages as ``write_grib_file`` wrote them.
    ``extra`` are the fields after each line's forecast (an ensemble's ``("ENS=+1",)``)."""
    reference = as_datetime(init_time).strftime("%Y%m%d%H")
    return [
        IdxEntry(
            message=str(number),
            offset=message.offset,
            reference_time=reference,
            element=message.spec.element,
            level=message.spec.level,
            forecast=message.spec.forecast,
            extra=extra,
            end=message.offset + message.length,
        )
        for number, message in enumerate(written, start=1)
    ]


def idx_beside(
    path: Path, init_time: np.datetime64 | datetime, extra: tuple[str, ...] = ("",)
) -> InventoryWriter:
    """``write_grib_file``'s inventory for NOAA files: the ``.idx`` beside ``path``."""

    def inventory(written: Sequence[WrittenMessage]) -> tuple[Path, str]:
        text = format_noaa_idx(idx_entries(written, init_time, extra))
        return path.with_name(path.name + ".idx"), text

    return inventory


@dataclass(frozen=True, slots=True)
class NoaaMessage:
    """One modelled message: its ``.idx`` strings and decoded window."""

    element: str
    level: str
    forecast: str
    start_hour: int | None
    end_hour: int
    kind: WindowKind | None

    @property
    def step_type(self) -> StepType:
        return "instant" if self.kind is None else STEP_TYPE_OF_PROCESS[_KIND_TO_PROCESS[self.kind]]


@cache
def load_model_idx(path: Path) -> tuple[IdxEntry, ...]:
    """A real NOAA ``.idx`` shipped as a model of a file's layout."""
    return tuple(parse_noaa_idx(path.read_text()))


# Shipped inventories are of a 00 UTC run: NOAA's file names carry the hour, not the date.
_SHIPPED_RUN = pd.Timestamp("2000-01-01T00")


@dataclass(frozen=True, slots=True)
class NoaaInventoryModel:
    """How a NOAA product's files look at every lead, modelled on real inventories.

    ``lead_zero_idx`` models lead 0; ``later_idx`` (a real file at ``later_lead``) models every
    other lead, its windows relabelled: a window starting at 0 that spans the whole model lead is
    a since-init total (``0-7`` -> ``0-13``), any other window is periodic and starts at
    the last reset before the lead (``6-7`` -> ``12-13`` for a model that resets every 6 hours).
    """

    name: str
    lead_zero_idx: Path
    later_idx: Path
    later_lead: int
    window_reset_hours: int
    grid: Callable[[], GridTemplate]
    # (element, level) -> the synthetic value the product writes as missing points instead
    # (complex packing's missing-value management), e.g. "no cloud ceiling".
    missing_points: Mapping[tuple[str, str], float] = field(default_factory=dict)

    @classmethod
    def shipped(
        cls,
        name: str,
        data_dir: Path,
        source_url: Callable[[pd.Timestamp, int], str],
        later_lead: int,
        window_reset_hours: int,
        grid: Callable[[], GridTemplate],
        missing_points: Mapping[tuple[str, str], float] | None = None,
    ) -> NoaaInventoryModel:
        """The model of the real inventories a package ships in ``data_dir``, named as NOAA
        names them beside the files of a 00 UTC run at lead 0 and at ``later_lead``
        (``gfs.t00z.pgrb2.0p25.f000.idx``)."""

        def shipped_idx(lead: int) -> Path:
            return data_dir / f"{PurePosixPath(source_url(_SHIPPED_RUN, lead)).name}.idx"

        return cls(
            name,
            shipped_idx(0),
            shipped_idx(later_lead),
            later_lead,
            window_reset_hours,
            grid,
            missing_points or {},
        )

    def as_issued(
        self, element: str, level: str, values: NDArray[np.float32]
    ) -> NDArray[np.float32]:
        """``values`` with the points this product writes as missing set to NaN."""
        marker = self.missing_points.get((element, level))
        return values if marker is None else np.where(values == marker, np.float32("nan"), values)

    def window_start(self, lead: int) -> int:
        """Start (hours) of the periodic window ending at ``lead``: the last reset before it."""
        return ((lead - 1) // self.window_reset_hours) * self.window_reset_hours

    def messages(self, lead: int) -> list[NoaaMessage]:
        if lead < 0:
            raise ValueError(f"lead must be >= 0 hours, got {lead}")
        model_lead = 0 if lead == 0 else self.later_lead
        entries = load_model_idx(self.lead_zero_idx if lead == 0 else self.later_idx)
        if model_lead != 0 and self.window_start(model_lead) == 0:
            raise ValueError(
                f"{self.name}: model lead {model_lead} cannot tell totals from periods"
            )
        result: list[NoaaMessage] = []
        for entry in entries:
            start, end, kind = parse_forecast(entry.forecast)
            if end != model_lead:
                raise ValueError(f"{self.name}: {entry.label} does not end at lead {model_lead}")
            if lead != model_lead:
                end = lead
                if kind is not None and start is not None:
                    start = 0 if start == 0 else self.window_start(lead)
            result.append(
                NoaaMessage(
                    entry.element,
                    entry.level,
                    format_forecast(start, end, kind),
                    start,
                    end,
                    kind,
                )
            )
        return result


def message_spec(
    message: NoaaMessage,
    init_time: np.datetime64 | datetime,
    grid: GridTemplate | None,
    *,
    fill: bool,
) -> MessageSpec:
    """The engine's MessageSpec for a modelled message (values from ``synthetic_field`` if fill)."""
    start = None if message.start_hour is None else timedelta(hours=message.start_hour)
    end = timedelta(hours=message.end_hour)
    values = None
    if fill:
        if grid is None:
            raise ValueError("a grid is needed to fill values")
        values = synthetic_field(
            message.element,
            message.level,
            init_time,
            start,
            end,
            message.step_type,
            grid.lats,
            grid.lons,
        )
    return MessageSpec(
        element=message.element,
        level=message.level,
        forecast=message.forecast,
        identity=identity_for(message.element, message.level),
        end_step=end,
        start_step=start,
        statistic=None if message.kind is None else _KIND_TO_PROCESS[message.kind],
        values=values,
    )


type FillSelection = Callable[[NoaaMessage], bool] | Collection[tuple[str, str]]


def _fill_predicate(fill: FillSelection) -> Callable[[NoaaMessage], bool]:
    if callable(fill):
        return fill
    wanted = frozenset(fill)
    return lambda message: (message.element, message.level) in wanted


def synthesize_noaa_file(
    path: Path,
    model: NoaaInventoryModel,
    init_time: np.datetime64 | datetime,
    lead: int,
    fill: FillSelection,
    *,
    grid: GridTemplate | None = None,
) -> list[IdxEntry]:
    """Write the ``model`` file for ``init_time`` + ``lead`` hours to ``path`` (and ``path.idx``).

    ``fill`` selects the messages that get real ``synthetic_field`` values: a predicate on
    ``NoaaMessage`` or a collection of (element, level) pairs (every window of a pair is filled).
    All other messages are constant filler. ``grid`` defaults to the model's grid.
    """
    grid = grid if grid is not None else model.grid()
    wanted = _fill_predicate(fill)

    def as_issued(spec: MessageSpec) -> MessageSpec:
        if spec.values is None or (spec.element, spec.level) not in model.missing_points:
            return spec
        values = model.as_issued(spec.element, spec.level, spec.values.astype(np.float32))
        return replace(spec, values=values, missing_encoding="complex")

    specs = (
        as_issued(message_spec(message, init_time, grid, fill=wanted(message)))
        for message in model.messages(lead)
    )
    inventory = idx_beside(path, init_time)
    written = write_grib_file(path, specs, init_time=init_time, grid=grid, inventory=inventory)
    return idx_entries(written, init_time)


def modelled_inventory(model: NoaaInventoryModel, lead: int) -> Sequence[tuple[str, str, str]]:
    """(element, level, forecast) of every message of the modelled file, in file order."""
    return [(m.element, m.level, m.forecast) for m in model.messages(lead)]
