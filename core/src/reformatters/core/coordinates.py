"""Coordinate declarations every dataset shares: time encodings, horizontal grids, and the
coordinates of a forecast's source files.

A grid gives a template its spatial coordinates: the dimension coordinates (values along each
spatial dimension), their declarations (encoding and CF attributes), and the coordinates derived
from them (2-D latitude/longitude of a projected grid, the CRS variable ``spatial_ref``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray
from pyproj import CRS

from reformatters.core.config_models import Coordinate, CoordinateAttrs, Encoding
from reformatters.core.region_job import SourceFileCoord, whole_hours

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

# GRIB2 shapeOfTheEarth 6: a sphere of radius 6371229 m (the earth of many models' messages).
SPHERE_6371229_CRS = CRS.from_proj4("+proj=longlat +a=6371229 +b=6371229 +no_defs +type=crs")


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

    @classmethod
    def global_regular(cls, step_deg: float, crs: CRS, comment: str) -> LatLonGrid:
        """A global grid of ``step_deg``: latitude 90..-90, longitude -180..180 - step."""
        latitudes = np.linspace(90.0, -90.0, round(180 / step_deg) + 1, dtype=np.float64)
        longitudes = np.arange(round(360 / step_deg), dtype=np.float64) * step_deg - 180.0
        return cls(latitudes, longitudes, crs, comment)

    def dimension_coordinates(self) -> dict[str, Any]:
        return {"latitude": self.latitudes, "longitude": self.longitudes}

    def derived_coordinates(self) -> DerivedCoordinates:
        return dict(SPATIAL_REF_VALUE)


class ForecastFileCoord(SourceFileCoord):
    """A source file of one forecast run (init time) at one lead time; subclasses add what else
    addresses it (a member, a variable) and its ``get_url``."""

    init_time: pd.Timestamp
    lead_time: pd.Timedelta

    @property
    def lead_hours(self) -> int:
        return whole_hours(self.lead_time)

    def out_loc(self) -> Mapping[str, Any]:
        return {"init_time": self.init_time, "lead_time": self.lead_time}


def _label(value: Any) -> Any:
    """A coordinate value as a file coordinate field wants it."""
    kind = np.asarray(value).dtype.kind
    if kind == "M":
        return pd.Timestamp(value)
    if kind == "m":
        return pd.Timedelta(value)
    return int(value) if kind in "iu" else value


def region_positions(region: xr.Dataset, dims: Sequence[str]) -> Iterable[dict[str, Any]]:
    """Every combination of ``region``'s labels along ``dims`` (the first outermost), as the
    fields of a file coordinate: times as ``pd.Timestamp``/``pd.Timedelta``, integers as int."""
    labels = [[_label(value) for value in region[dim].values] for dim in dims]
    for combination in itertools.product(*labels):
        yield dict(zip(dims, combination, strict=True))
