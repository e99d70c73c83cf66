"""Grid templates for synthesis: one-message GRIB2 files that carry a grid and its packing.

A provider package ships a template taken from (or derived from) one of its real messages;
``regular_latlon_template`` builds one for any regular latitude/longitude grid from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from reformatters.core.sources.grib_identity import GridSpec

__all__ = ["GridTemplate", "load_grid_template", "regular_latlon_template", "template_of"]

type FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class GridTemplate:
    """A one-message GRIB2 template holding a grid (constant field), e.g. a provider's."""

    name: str
    template: bytes

    @cached_property
    def _latlons(self) -> tuple[FloatArray, FloatArray]:
        import pygrib

        lats, lons = pygrib.fromstring(self.template).latlons()
        return np.asarray(lats, dtype=np.float64), np.asarray(lons, dtype=np.float64)

    @property
    def lats(self) -> FloatArray:
        """2-D latitudes in degrees (rows as stored, in the grid's scanning order)."""
        return self._latlons[0]

    @property
    def lons(self) -> FloatArray:
        """2-D longitudes in degrees as the decoder returns them."""
        return self._latlons[1]

    @cached_property
    def shape(self) -> tuple[int, int]:
        import pygrib

        message = pygrib.fromstring(self.template)
        return int(message["Nj"]), int(message["Ni"])

    @cache  # noqa: B019 - a handful of grids live for the whole process
    def base_message(self, template_number: int) -> bytes:
        """The template re-encoded with product definition template ``template_number``."""
        import pygrib

        message = pygrib.fromstring(self.template)
        if int(message["productDefinitionTemplateNumber"]) != template_number:
            message["productDefinitionTemplateNumber"] = template_number
        return bytes(message.tostring())


@cache
def load_grid_template(name: str, path: Path) -> GridTemplate:
    """The template a package ships at ``path``, read once per process (``partial`` of this
    is a picklable grid loader)."""
    return GridTemplate(name, path.read_bytes())


_MICRODEGREES = 1_000_000


def _section(number: int, body: bytes) -> bytes:
    return (len(body) + 5).to_bytes(4, "big") + bytes([number]) + body


def _signed(value: int, size: int) -> bytes:
    """GRIB2's sign-and-magnitude integers (the top bit is the sign)."""
    magnitude = abs(value).to_bytes(size, "big")
    return bytes([magnitude[0] | 0x80]) + magnitude[1:] if value < 0 else magnitude


@cache
def regular_latlon_template(
    name: str,
    ni: int,
    nj: int,
    first_lat: float,
    first_lon: float,
    last_lat: float,
    last_lon: float,
) -> GridTemplate:
    """A constant-field GRIB2 template on a regular lat/lon grid (template 3.0, spherical earth
    of radius 6371229 m, rows from ``first_lat`` to ``last_lat``), simple packing."""

    def degrees(value: float) -> bytes:
        return _signed(round(value * _MICRODEGREES), 4)

    def increment(span: float, count: int) -> bytes:
        return round(abs(span) / (count - 1) * _MICRODEGREES).to_bytes(4, "big")

    scanning = 0x00 if first_lat > last_lat else 0x40  # rows north to south, or south to north
    # Centre 255 (missing), tables version 2, reference time 2000-01-01T00 (start of forecast),
    # an operational forecast product.
    identification = (255).to_bytes(2, "big") + (0).to_bytes(2, "big") + bytes([2, 0, 1])
    identification += (2000).to_bytes(2, "big") + bytes([1, 1, 0, 0, 0]) + bytes([0, 1])
    grid = (
        bytes([0])
        + (ni * nj).to_bytes(4, "big")
        + bytes([0, 0, 0, 0])
        + bytes([6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        + ni.to_bytes(4, "big")
        + nj.to_bytes(4, "big")
        + (0).to_bytes(4, "big")
        + (0xFFFFFFFF).to_bytes(4, "big")
        + degrees(first_lat)
        + degrees(first_lon)
        + bytes([48])
        + degrees(last_lat)
        + degrees(last_lon)
        # Columns run east from first_lon: across the antimeridian or Greenwich (336.5 -> 62.5)
        # the span is taken modulo 360.
        + increment((last_lon - first_lon) % 360.0, ni)
        + increment(last_lat - first_lat, nj)
        + bytes([scanning])
    )
    product = (0).to_bytes(2, "big") + (0).to_bytes(2, "big")
    product += bytes([0, 0, 2, 0, 0]) + (0).to_bytes(2, "big") + bytes([0, 1])
    product += (0).to_bytes(4, "big") + bytes([1, 0]) + (0).to_bytes(4, "big")
    product += bytes([255, 0]) + (0).to_bytes(4, "big")
    representation = (ni * nj).to_bytes(4, "big") + (0).to_bytes(2, "big")
    representation += (0).to_bytes(4, "big") + (0).to_bytes(2, "big") * 2 + bytes([0, 0])
    sections = (
        _section(1, identification)
        + _section(3, grid)
        + _section(4, product)
        + _section(5, representation)
        + _section(6, bytes([255]))
        + _section(7, b"")
        + b"7777"
    )
    indicator = b"GRIB" + bytes([0, 0, 0, 2]) + (16 + len(sections)).to_bytes(8, "big")
    return GridTemplate(name, indicator + sections)


def template_of(name: str, grid: GridSpec) -> GridTemplate:
    """``regular_latlon_template`` of a declared regular lat/lon grid."""
    assert grid.grid_type == "regular_ll", grid
    assert grid.last_lat is not None and grid.last_lon is not None, grid
    return regular_latlon_template(
        name, grid.ni, grid.nj, grid.first_lat, grid.first_lon, grid.last_lat, grid.last_lon
    )
