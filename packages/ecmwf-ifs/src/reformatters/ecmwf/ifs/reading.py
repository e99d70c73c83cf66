"""IfsRegionJob: fetch a variable group's messages by the byte ranges ECMWF's JSON-lines
``.index`` gives, read them and turn accumulations into rates.

For every source file (one run, step and member) the job reads the step's ``.index`` (all
members' lines; kept in a small in-process cache, as every member's job of a run reads the same
one), picks one message per variable by its MARS keys, fetches just those byte ranges into one
local file and records where each variable's message sits in it (a JSON sidecar). Reading checks
each message's GRIB2 identity (parameter, level, step range, run and member) and grid before
the values are used, scales and converts units as declared, and places the field in the output
layout (latitude 90..-90, longitude -180..179.75).
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from reformatters.core.coordinates import ForecastFileCoord
from reformatters.core.deaccumulation import deaccumulate_to_rates
from reformatters.core.region_job import ArrayFloat32, RegionJob
from reformatters.core.rounding import round_fields
from reformatters.core.sources.download import download_messages, local_message_offsets
from reformatters.core.sources.errors import MessageAbsentError
from reformatters.core.sources.grib import decode_message
from reformatters.core.sources.grib_identity import EnsembleRole, GridSpec
from reformatters.core.sources.json_lines_index import (
    JsonLinesIndexEntry,
    KeySelector,
    parse_json_lines_index,
)
from reformatters.core.sources.mirror import resolve_source_url
from reformatters.core.sources.transport import download_file
from reformatters.ecmwf.ifs.common import GRID, LATITUDES, LONGITUDES, index_url
from reformatters.ecmwf.ifs.variables import IfsDataVar

_KELVIN_OFFSET = np.float32(273.15)
# Steps of the runs the process reads at once (a run has 85); an entry is a few hundred bytes
# per member and parameter kept.
_INDEX_CACHE_SIZE = 256


class IfsSourceFileCoord(ForecastFileCoord):
    """One member's messages in the file of one run's step."""

    ensemble_member: int

    def index_url(self) -> str:
        return index_url(self.get_url())

    def out_loc(self) -> Mapping[str, Any]:
        return {**super().out_loc(), "ensemble_member": self.ensemble_member}


@lru_cache(maxsize=_INDEX_CACHE_SIZE)
def index_entries(url: str, params: frozenset[str]) -> tuple[JsonLinesIndexEntry, ...]:
    """The lines of the ``.index`` at ``url`` (already resolved to a mirror) for ``params``.

    Cached: the 51 member jobs of a run read the same 85 inventories (a few MB each); a
    process downloads each once while it stays in the cache. A failed download is not cached.
    """
    entries = parse_json_lines_index(download_file(url).decode())
    return tuple(e for e in entries if e.keys.get("param") in params)


class IfsRegionJob[CoordT: IfsSourceFileCoord](RegionJob[IfsDataVar, CoordT]):
    """Region job for IFS open data files with JSON-lines ``.index`` inventories.

    Subclasses implement ``generate_source_file_coords`` and ``member_keys`` /
    ``ensemble_role`` (how a member is named in the index and in its messages).
    """

    grid: ClassVar[GridSpec] = GRID
    _layout_cache: ClassVar[tuple[NDArray[np.intp], NDArray[np.intp]] | None] = None

    @abstractmethod
    def member_keys(self, coord: CoordT) -> dict[str, str]:
        """The ``.index`` keys that name the coord's member (e.g. ``type``, ``number``)."""

    def ensemble_role(self, coord: CoordT) -> EnsembleRole | None:
        """The member the messages must hold (None: unchecked)."""
        return None

    # ---- download ---------------------------------------------------------------------------

    def wanted(self, coord: CoordT) -> list[tuple[IfsDataVar, KeySelector]]:
        """Each variable with a message at the coord's step, and the keys of its line."""
        member = self.member_keys(coord)
        return [
            (var, KeySelector(var.internal_attrs.index_keys(coord.lead_hours, member)))
            for var in self.data_vars
            if var.internal_attrs.has_message(coord.lead_hours)
        ]

    def download_file(self, coord: CoordT, scratch: Path) -> Path:
        path = scratch / (
            f"{coord.init_time:%Y%m%dT%H}-{coord.lead_hours:03d}-{coord.ensemble_member:02d}-"
            f"{id(self):x}.grib2"
        )
        wanted = self.wanted(coord)
        found: list[tuple[str, JsonLinesIndexEntry]] = []
        absent: dict[str, str] = {}
        if wanted:
            params = frozenset(var.internal_attrs.param for var in self.data_vars)
            entries = index_entries(resolve_source_url(coord.index_url()), params)
            for var, selector in wanted:
                matches = [e for e in entries if selector.matches(e)]
                if len(matches) > 1:
                    raise ValueError(
                        f"{coord.index_url()}: {selector.describe()} matches {len(matches)} lines"
                    )
                if matches:
                    found.append((var.name, matches[0]))
                else:
                    absent[var.name] = selector.describe()
        locations: dict[str, int] = {}
        if found:
            selected = [entry for _, entry in found]
            download_messages(resolve_source_url(coord.get_url()), selected, path)
            offsets = local_message_offsets(path, selected)
            locations = {name: offset for (name, _), offset in zip(found, offsets, strict=True)}
        else:
            path.write_bytes(b"")
        _sidecar(path).write_text(json.dumps({"messages": locations, "absent": absent}))
        return path

    # ---- read -------------------------------------------------------------------------------

    def read_data(self, coord: CoordT, path: Path, data_var: IfsDataVar) -> ArrayFloat32:
        out = np.empty((len(LATITUDES), len(LONGITUDES)), dtype=np.float32)
        self.read_data_into(coord, path, data_var, out)
        return out

    def read_data_into(
        self, coord: CoordT, path: Path, data_var: IfsDataVar, out: ArrayFloat32
    ) -> None:
        sidecar = json.loads(_sidecar(path).read_text())
        if data_var.name in sidecar["absent"]:
            raise MessageAbsentError(coord.get_url(), sidecar["absent"][data_var.name])
        if data_var.name not in sidecar["messages"]:
            out.fill(np.nan)  # an accumulation at step 0
            return
        attrs = data_var.internal_attrs
        values = decode_message(
            path,
            sidecar["messages"][data_var.name],
            expected=attrs.identity(
                coord.lead_hours, coord.init_time.to_pydatetime(), self.ensemble_role(coord)
            ),
            grid=self.grid,
            url=coord.get_url(),
            missing_values=attrs.source_missing_values,
        )
        self.to_output_layout(values, out)
        if attrs.scale != 1.0:
            out *= np.float32(attrs.scale)
        if attrs.unit_conversion == "kelvin_to_celsius":
            out -= _KELVIN_OFFSET

    @classmethod
    def layout_index(cls) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Source row and column of every output latitude and longitude."""
        cached = cls.__dict__.get("_layout_cache")
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        grid = cls.grid
        assert grid.last_lat is not None and grid.last_lon is not None
        lat_step = (grid.last_lat - grid.first_lat) / (grid.nj - 1)
        lon_step = ((grid.last_lon - grid.first_lon) % 360.0) / (grid.ni - 1)
        rows = np.rint((LATITUDES - grid.first_lat) / lat_step).astype(np.intp)
        cols = np.rint(((LONGITUDES - grid.first_lon) % 360.0) / lon_step).astype(np.intp)
        assert rows.min() >= 0 and rows.max() < grid.nj, "output latitudes outside the grid"
        assert cols.min() >= 0 and cols.max() < grid.ni, "output longitudes outside the grid"
        cls._layout_cache = (rows, cols)
        return rows, cols

    def to_output_layout(self, values: NDArray[np.floating[Any]], out: ArrayFloat32) -> None:
        """The field in the output's order, as float32. ECMWF's rows already run 90..-90 and its
        columns 180..179.75 east, i.e. -180..179.75: the index is the identity, a plain copy."""
        rows, cols = self.layout_index()
        if np.array_equal(rows, np.arange(len(rows))) and np.array_equal(
            cols, np.arange(len(cols))
        ):
            out[...] = values
        else:
            out[...] = values[np.ix_(rows, cols)]

    # ---- transform --------------------------------------------------------------------------

    def apply_data_transformations(self, data: xr.DataArray, data_var: IfsDataVar) -> int:
        """Deaccumulate accumulations from step 0 into rates since the previous lead, then
        round mantissas field by field (skipping empty ones)."""
        attrs = data_var.internal_attrs
        invalid = 0
        if attrs.accumulated_from_start:
            leads = data["lead_time"].values
            ends = (leads // np.timedelta64(1, "s")).astype(np.int64)
            data.values[...], invalid = deaccumulate_to_rates(
                data.values,
                ends,
                np.zeros_like(ends),
                axis=data.dims.index("lead_time"),
                negative_tolerance=attrs.deaccumulation_negative_tolerance,
            )
        round_fields(data.values, attrs.keep_mantissa_bits)
        return invalid


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")
