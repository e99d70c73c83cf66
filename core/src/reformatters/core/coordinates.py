"""Coordinate declarations every dataset shares: time encodings and horizontal grids.

A grid gives a template its spatial coordinates: the dimension coordinates (values along each
spatial dimension), their declarations (encoding and CF attributes), and the coordinates derived
from them (2-D latitude/longitude of a projected grid, the CRS variable ``spatial_ref``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS

from reformatters.core.config_models import Coordinate, CoordinateAttrs, Encoding

TIME_UNITS = "seconds since 1970-01-01 00:00:00"
TIMEDELTA_UNITS = "seconds"

type DerivedCoordinates = dict[str, tuple[tuple[str, ...], Any]]


def time_encoding(chunks: tuple[int, ...]) -> Encoding:
    return Encoding(
        dtype="int64", fill_value=0, chunks=chunks, units=TIME_UNITS, calendar="proleptic_gregorian"
    )


def timedelta_encoding(chunks: tuple[int, ...]) -> Encoding:
    # -1 s marks "not set" (NaT); 0 is a valid lead time.
    return Encoding(dtype="int64", fill_value=-1, chunks=chunks, units=TIMEDELTA_UNITS)


def spatial_ref_coordinate(crs: CRS, comment: str) -> Coordinate:
    """The CF grid-mapping variable ``spatial_ref`` (a scalar whose attributes are the CRS)."""
    crs_attrs = {k: v for k, v in crs.to_cf().items() if v is not None}
    return Coordinate(
        name="spatial_ref",
        encoding=Encoding(dtype="int64", fill_value=0, chunks=()),
        attrs=CoordinateAttrs(comment=comment, **crs_attrs),
    )


SPATIAL_REF_VALUE: DerivedCoordinates = {"spatial_ref": ((), np.int64(0))}


class Grid(Protocol):
    """The horizontal grid of a dataset, as its template declares it."""

    @property
    def dims(self) -> tuple[str, str]: ...

    def coords(self) -> Sequence[Coordinate]: ...

    def dimension_coordinates(self) -> dict[str, Any]: ...

    def derived_coordinates(self) -> DerivedCoordinates: ...


@dataclass(frozen=True)
class LatLonGrid:
    """A regular latitude/longitude grid: 1-D ``latitude`` (north first) and ``longitude``
    (-180..180) dimensions and the CRS variable ``spatial_ref``."""

    latitudes: NDArray[np.float64]
    longitudes: NDArray[np.float64]
    crs: CRS
    comment: str

    @property
    def dims(self) -> tuple[str, str]:
        return ("latitude", "longitude")

    def coords(self) -> Sequence[Coordinate]:
        return (
            Coordinate(
                name="latitude",
                encoding=Encoding(
                    dtype="float64", fill_value=float("nan"), chunks=(len(self.latitudes),)
                ),
                attrs=CoordinateAttrs(
                    units="degree_north", long_name="Latitude", standard_name="latitude", axis="Y"
                ),
            ),
            Coordinate(
                name="longitude",
                encoding=Encoding(
                    dtype="float64", fill_value=float("nan"), chunks=(len(self.longitudes),)
                ),
                attrs=CoordinateAttrs(
                    units="degree_east", long_name="Longitude", standard_name="longitude", axis="X"
                ),
            ),
            spatial_ref_coordinate(self.crs, self.comment),
        )

    def dimension_coordinates(self) -> dict[str, Any]:
        return {"latitude": self.latitudes, "longitude": self.longitudes}

    def derived_coordinates(self) -> DerivedCoordinates:
        return dict(SPATIAL_REF_VALUE)
