"""NoaaRegionJob: fetch a variable group's GRIB messages by ``.idx`` byte ranges and read them.

For every source file the job downloads the ``.idx``, selects one message per variable (element,
level and the forecast description of the variable's window at that lead), fetches just those
byte ranges into one local file and records where each variable's message sits in it (a small
JSON sidecar). Reading checks each message's GRIB identity (parameter, level, statistic and
window) and grid before the values are used, converts units as declared and returns the field
in the output layout (latitude descending, longitude -180..180 for global grids).
"""

from __future__ import annotations

import bisect
import json
from abc import abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from reformatters.core.coordinates import ForecastFileCoord
from reformatters.core.deaccumulation import deaccumulate_to_rates
from reformatters.core.parallel import decode_processes
from reformatters.core.region_job import (
    ArrayFloat32,
    Downloads,
    RegionJob,
    SourceFileResult,
)
from reformatters.core.rounding import round_fields
from reformatters.core.sources.download import download_messages, local_message_offsets
from reformatters.core.sources.errors import MessageAbsentError
from reformatters.core.sources.grib import decode_message
from reformatters.core.sources.grib_identity import EnsembleRole, GridSpec
from reformatters.core.sources.mirror import resolve_source_url
from reformatters.core.sources.transport import download_file
from reformatters.noaa.common.identity import noaa_identity
from reformatters.noaa.common.idx import (
    IdxEntry,
    MessageSelector,
    check_run,
    parse_noaa_idx,
    select_messages,
)
from reformatters.noaa.common.internal_attrs import NoaaDataVar

_KELVIN_OFFSET = np.float32(273.15)


class NoaaSourceFileCoord(ForecastFileCoord):
    """One NOAA GRIB file: a model run (init time) at one lead time, at its model's
    ``source_url`` (or where a subclass's ``get_url`` says)."""

    bucket: ClassVar[str]
    # The file's key in the bucket: a ``str.format`` pattern of ``init`` (the init time, a
    # Timestamp: strftime codes) and ``lead`` (whole hours).
    key_pattern: ClassVar[str]

    @classmethod
    def source_url(cls, init_time: pd.Timestamp, lead_hours: int) -> str:
        return f"s3://{cls.bucket}/" + cls.key_pattern.format(init=init_time, lead=lead_hours)

    def get_url(self) -> str:
        return self.source_url(self.init_time, self.lead_hours)

    def idx_url(self) -> str:
        return f"{self.get_url()}.idx"


class NoaaRegionJob[SourceFileCoordT: NoaaSourceFileCoord](
    RegionJob[NoaaDataVar, SourceFileCoordT]
):
    """Region job for NOAA GRIB2 sources with wgrib2-style ``.idx`` inventories.

    Subclasses set ``grid`` and implement ``generate_source_file_coords`` and
    ``accumulation_steps`` (where each step's accumulation window starts).
    """

    grid: ClassVar[GridSpec]
    # The output's latitude and longitude values (read_data runs in worker processes that do
    # not get the template, so the layout comes from these class attributes).
    output_latitudes: ClassVar[NDArray[np.float64]]
    output_longitudes: ClassVar[NDArray[np.float64]]
    _layout_index_cache: ClassVar[tuple[NDArray[np.intp], NDArray[np.intp]] | None] = None
    _layout_plan_cache: ClassVar[tuple[slice | None, int | None] | None] = None

    # ---- hooks ------------------------------------------------------------------------------

    @abstractmethod
    def accumulation_steps(
        self, data: xr.DataArray, data_var: NoaaDataVar
    ) -> tuple[int, NDArray[np.int64], NDArray[np.int64]]:
        """(axis, step end seconds, window start seconds) along the axis to deaccumulate."""

    def source_grid(self, coord: SourceFileCoordT) -> GridSpec:
        """The grid of the file's messages. Default: the model's `grid`."""
        return self.grid

    def on_model_grid(
        self, coord: SourceFileCoordT, values: NDArray[np.floating[Any]]
    ) -> NDArray[np.floating[Any]]:
        """A field of the file on the model's `grid` (where `source_grid` differs: the declared
        regridding). Default: as decoded."""
        return values

    def ensemble_role(self, coord: SourceFileCoordT) -> EnsembleRole | None:
        """The ensemble member or statistic the file's messages must hold (None: a
        deterministic model, unchecked)."""
        return None

    def needs_previous_step(self) -> bool:
        """Only deaccumulation looks back a step."""
        return any(v.internal_attrs.deaccumulate_to_rate for v in self.data_vars)

    # ---- download ---------------------------------------------------------------------------

    def _wanted(self, coord: SourceFileCoordT) -> list[tuple[NoaaDataVar, MessageSelector]]:
        wanted = []
        for var in self.data_vars:
            attrs = var.internal_attrs
            forecast = attrs.forecast_description(coord.lead_hours)
            if forecast is not None:
                wanted.append(
                    (var, MessageSelector(attrs.grib_element, attrs.grib_level, forecast))
                )
        return wanted

    def _select(self, coord: SourceFileCoordT) -> _Selection:
        """The inventory entry of each variable's message in the file (none for a variable
        without a message at this lead, e.g. a window statistic at lead 0), and the line each
        variable's message lacks in the inventory. The inventory must be the run's."""
        wanted = self._wanted(coord)
        if not wanted:
            return _Selection([], {})
        idx_text = download_file(resolve_source_url(coord.idx_url())).decode()
        selectors = [s for _, s in wanted]
        entries = parse_noaa_idx(idx_text, fields={(s.element, s.level) for s in selectors})
        check_run(entries, coord.init_time, resolve_source_url(coord.idx_url()))
        found, absent = [], {}
        for (var, selector), entry in zip(wanted, select_messages(entries, selectors), strict=True):
            if entry is None:
                absent[var.name] = selector.describe()
            else:
                found.append((var.name, entry))
        return _Selection(found, absent)

    def _fetch_selected(self, coord: SourceFileCoordT, selection: _Selection, path: Path) -> Path:
        """Download the messages of `selection` into `path` and record where each one is."""
        locations: dict[str, tuple[int, str]] = {}
        if selection.found:
            entries = [entry for _, entry in selection.found]
            download_messages(resolve_source_url(coord.get_url()), entries, path)
            offsets = local_message_offsets(path, entries)
            for (name, entry), offset in zip(selection.found, offsets, strict=True):
                locations[name] = (offset, entry.forecast)
        else:
            path.write_bytes(b"")
        _sidecar(path).write_text(json.dumps({"messages": locations, "absent": selection.absent}))
        return path

    def _local_path(self, coord: SourceFileCoordT, scratch: Path, suffix: str = "") -> Path:
        return (
            scratch
            / f"{coord.init_time:%Y%m%dT%H}-{coord.lead_hours:03d}-{id(self):x}{suffix}.grib2"
        )

    def download_file(self, coord: SourceFileCoordT, scratch: Path) -> Path:
        return self._fetch_selected(coord, self._select(coord), self._local_path(coord, scratch))

    def download_batches(
        self, scratch: Path
    ) -> Iterator[tuple[tuple[NoaaDataVar, ...], Downloads[SourceFileCoordT]]]:
        """Every file's inventory first; then the messages of the costliest variables, one per
        worker process, which those decode while the other variables' messages download. (The
        second batch's requests may read through the first's messages, as coalescing reads
        through any gap of less than 1 MiB: bytes cost less than requests.) Without worker
        processes there is nothing to overlap: one batch, as `download`."""
        workers = decode_processes() if self.decode_in_processes else 0
        if not 0 < workers < len(self.data_vars):
            yield from super().download_batches(scratch)
            return
        coords = self.source_file_coords()
        selections = self.fetch_each(coords, self._select, what="inventories read")
        costs = _message_sizes(selections.values())
        order = sorted(self.data_vars, key=lambda v: -costs[v.name])
        readable = [c for c in coords if not isinstance(selections[c], SourceFileResult)]
        for number, batch in enumerate((order[:workers], order[workers:])):
            fetched = self.fetch_each(
                readable,
                partial(
                    self._fetch_batch,
                    selections=selections,
                    names={v.name for v in batch},
                    scratch=scratch,
                    suffix=f"-{number}",
                ),
            )
            downloads: Downloads[SourceFileCoordT] = {}
            for coord in coords:
                selection = selections[coord]
                downloads[coord] = (
                    selection if isinstance(selection, SourceFileResult) else fetched[coord]
                )
            yield tuple(batch), downloads

    def _fetch_batch(
        self,
        coord: SourceFileCoordT,
        *,
        selections: Mapping[SourceFileCoordT, _Selection | SourceFileResult],
        names: set[str],
        scratch: Path,
        suffix: str,
    ) -> Path:
        """The messages of the variables `names` from one file."""
        selection = selections[coord]
        assert not isinstance(selection, SourceFileResult)
        return self._fetch_selected(
            coord,
            _Selection(
                [(name, entry) for name, entry in selection.found if name in names],
                {name: line for name, line in selection.absent.items() if name in names},
            ),
            self._local_path(coord, scratch, suffix),
        )

    def variable_costs(self, downloads: Downloads[SourceFileCoordT]) -> dict[str, float]:
        """Bytes of each variable's messages: decoding and encoding grow with them (measured on
        GFS: 0.5 s for 1 MB of messages, 0.7-1.3 s for 6 MB)."""
        costs: dict[str, float] = defaultdict(float)
        for path in downloads.values():
            if not isinstance(path, Path):
                continue
            locations: dict[str, tuple[int, str]] = _read_sidecar(path)["messages"]
            ends = sorted({offset for offset, _ in locations.values()} | {path.stat().st_size})
            for name, (offset, _) in locations.items():
                costs[name] += ends[bisect.bisect_right(ends, offset)] - offset
        return costs

    # ---- read -------------------------------------------------------------------------------

    def read_data(self, coord: SourceFileCoordT, path: Path, data_var: NoaaDataVar) -> ArrayFloat32:
        out = np.empty(self._output_shape, dtype=np.float32)
        self.read_data_into(coord, path, data_var, out)
        return out

    def read_data_into(
        self, coord: SourceFileCoordT, path: Path, data_var: NoaaDataVar, out: ArrayFloat32
    ) -> None:
        """Decode the variable's message and write it into `out` in the output layout: one
        pass from eccodes' float64 values (the float32 conversion happens in the layout copy)."""
        sidecar = _read_sidecar(path)
        if data_var.name in sidecar["absent"]:
            raise MessageAbsentError(coord.get_url(), sidecar["absent"][data_var.name])
        if data_var.name not in sidecar["messages"]:
            # A window statistic at lead 0 (or a lead-0 placeholder): no message, NaN.
            out.fill(np.nan)
            return
        offset, forecast = sidecar["messages"][data_var.name]
        attrs = data_var.internal_attrs
        values = decode_message(
            path,
            offset,
            expected=noaa_identity(
                attrs.grib_element,
                attrs.grib_level,
                forecast,
                reference_time=coord.init_time.to_pydatetime(),
                ensemble=self.ensemble_role(coord),
            ),
            grid=self.source_grid(coord),
            url=coord.get_url(),
            missing_values=attrs.source_missing_values,
        )
        self.to_output_layout(self.on_model_grid(coord, values), out)
        if attrs.unit_conversion == "kelvin_to_celsius":
            # After the conversion to float32, as the Celsius values were always computed.
            out -= _KELVIN_OFFSET

    @property
    def _output_shape(self) -> tuple[int, int]:
        return (len(self.output_latitudes), len(self.output_longitudes))

    @classmethod
    def _layout_index(cls) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Source row and column of every output latitude and longitude (regular lat/lon)."""
        cached: tuple[NDArray[np.intp], NDArray[np.intp]] | None = cls.__dict__.get(
            "_layout_index_cache"
        )
        if cached is not None:
            return cached
        grid = cls.grid
        assert grid.last_lat is not None and grid.last_lon is not None
        lat_step = (grid.last_lat - grid.first_lat) / (grid.nj - 1)
        lon_step = (grid.last_lon - grid.first_lon) / (grid.ni - 1)
        rows = np.rint((cls.output_latitudes - grid.first_lat) / lat_step).astype(np.intp)
        cols = np.rint(((cls.output_longitudes - grid.first_lon) % 360.0) / lon_step).astype(
            np.intp
        )
        assert rows.min() >= 0 and rows.max() < grid.nj, "output latitudes outside the grid"
        assert cols.min() >= 0 and cols.max() < grid.ni, "output longitudes outside the grid"
        cls._layout_index_cache = (rows, cols)
        return rows, cols

    @classmethod
    def _layout_plan(cls) -> tuple[slice | None, int | None]:
        """The layout as slicing where it is one: (rows as a slice, columns as a rotation)."""
        cached: tuple[slice | None, int | None] | None = cls.__dict__.get("_layout_plan_cache")
        if cached is not None:
            return cached
        rows, cols = cls._layout_index()
        row_slice = None
        if len(rows) > 1 and abs(int(rows[1]) - int(rows[0])) == 1:
            step = int(rows[1]) - int(rows[0])
            stop = int(rows[-1]) + step
            candidate = slice(int(rows[0]), None if stop < 0 else stop, step)
            if np.array_equal(np.arange(cls.grid.nj)[candidate], rows):
                row_slice = candidate
        shift = int(cols[0])
        rotation = (np.arange(cls.grid.ni) + shift) % cls.grid.ni
        column_shift = shift if np.array_equal(rotation, cols) else None
        cls._layout_plan_cache = (row_slice, column_shift)
        return row_slice, column_shift

    def to_output_layout(self, values: NDArray[np.floating[Any]], out: ArrayFloat32) -> None:
        """Write a field from the file's scan order into `out` in the output's latitude and
        longitude order, converting to float32.

        For GFS: rows already run 90 -> -90; columns 0..359.75 are rolled to -180..179.75 (two
        block copies rather than a gather: this runs for every message).
        """
        rows, cols = self._layout_index()
        row_slice, shift = self._layout_plan()
        picked = values[row_slice] if row_slice is not None else values[rows]
        if shift is None:
            out[...] = np.take(picked, cols, axis=1)
            return
        width = picked.shape[1]
        out[:, : width - shift] = picked[:, shift:]
        out[:, width - shift :] = picked[:, :shift]

    # ---- transform --------------------------------------------------------------------------

    def apply_data_transformations(self, data: xr.DataArray, data_var: NoaaDataVar) -> int:
        """Deaccumulate (if declared), then round mantissas field by field (skipping empty ones).
        Returns the deaccumulated increments set to NaN as inconsistent."""
        attrs = data_var.internal_attrs
        invalid = 0
        if attrs.deaccumulate_to_rate:
            axis, ends, starts = self.accumulation_steps(data, data_var)
            data.values[...], invalid = deaccumulate_to_rates(
                data.values,
                ends,
                starts,
                axis=axis,
                negative_tolerance=attrs.deaccumulation_negative_tolerance,
            )
        round_fields(data.values, attrs.keep_mantissa_bits)
        return invalid


@dataclass(frozen=True)
class _Selection:
    """The variables of one file: (name, its message's inventory entry) for those the inventory
    lists, and the line expected for each variable it lacks."""

    found: list[tuple[str, IdxEntry]]
    absent: dict[str, str]


def _message_sizes(selections: Iterable[_Selection | SourceFileResult]) -> dict[str, float]:
    """Bytes of each variable's messages over all files (a message without an end in its
    inventory, the file's last, counts as the mean of the file's others)."""
    costs: dict[str, float] = defaultdict(float)
    for selection in selections:
        if isinstance(selection, SourceFileResult):
            continue
        sizes = {name: e.end - e.offset for name, e in selection.found if e.end is not None}
        mean = sum(sizes.values()) / len(sizes) if sizes else 0.0
        for name, _ in selection.found:
            costs[name] += sizes.get(name, mean)
    return costs


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _read_sidecar(path: Path) -> dict[str, Any]:
    """``{"messages": {name: [offset, forecast]}, "absent": {name: expected line}}``."""
    sidecar: dict[str, Any] = json.loads(_sidecar(path).read_text())
    return sidecar
