"""What GEFS is: its bucket layout, members, products and grids, and where each variable comes from.

NOAA publishes every member's run as three products per lead (``.idx`` beside each file):

- ``pgrb2s.0p25``: the common surface fields on the 0.25 degree grid, leads 0-240 h;
- ``pgrb2a.0p50``: the same fields plus pressure levels on the 0.5 degree grid, leads 0-840 h;
- ``pgrb2b.0p50``: the less common fields (e.g. 100 m winds) on the 0.5 degree grid, 0-840 h.

The dataset's grid is the 0.25 degree one; fields read from a 0.5 degree file are placed on it
by bilinear interpolation (``upsample_half_degree``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from reformatters.core.sources.grib_identity import EnsembleRole, GridSpec
from reformatters.noaa.common.catalog import CATALOG
from reformatters.noaa.common.global_grid import GLOBAL_0P25, global_output_grid
from reformatters.noaa.common.variables import ModelVariables

SOURCE_BUCKET = "noaa-gefs-pds"
# GEFS statistics (accumulations, averages, max/min) reset every 6 hours, as GFS's.
WINDOW_RESET_HOURS = 6
# The last lead of the 0.25 degree files; later leads are 6-hourly in the 0.5 degree files.
LAST_QUARTER_DEGREE_LEAD = 240
MEMBERS = np.arange(31, dtype=np.int16)


def member_file_prefix(member: int) -> str:
    """``gec00`` for the control, ``gep01``..``gep30`` for the perturbed members."""
    assert 0 <= member < len(MEMBERS), f"GEFS has no member {member}"
    return "gec00" if member == 0 else f"gep{member:02d}"


def member_role(member: int) -> EnsembleRole:
    """What a member's messages say they are: the control is GRIB2 code table 4.6 type 1
    ("low-resolution control"), the perturbed members type 3 ("positively perturbed")."""
    return EnsembleRole(1, 0) if member == 0 else EnsembleRole(3, member)


QUARTER_DEGREE = GLOBAL_0P25
HALF_DEGREE = GridSpec.global_ll(0.5)  # 361 rows from 90 to -90, 720 columns from 0 east


class Product(StrEnum):
    S = "s"
    A = "a"
    B = "b"

    @property
    def grid(self) -> GridSpec:
        return QUARTER_DEGREE if self is Product.S else HALF_DEGREE

    def url(self, init_time: pd.Timestamp, member: int, lead_hours: int) -> str:
        """``gefs.YYYYMMDD/HH/atmos/pgrb2sp25/gep01.tHHz.pgrb2s.0p25.fFFF`` (``pgrb2ap5/...
        pgrb2a.0p50``, ``pgrb2bp5/... pgrb2b.0p50`` for the 0.5 degree products)."""
        resolution = "0p25" if self is Product.S else "0p50"
        folder = "pgrb2sp25" if self is Product.S else f"pgrb2{self.value}p5"
        return (
            f"s3://{SOURCE_BUCKET}/gefs.{init_time:%Y%m%d}/{init_time:%H}/atmos/{folder}/"
            f"{member_file_prefix(member)}.t{init_time:%H}z.pgrb2{self.value}.{resolution}."
            f"f{lead_hours:03d}"
        )


@dataclass(frozen=True)
class Source:
    """Which product holds a variable at each lead: ``early`` up to lead 240 h, ``late`` after
    (None: the variable has no message there)."""

    early: Product | None
    late: Product | None

    def product(self, lead_hours: int) -> Product | None:
        return self.early if lead_hours <= LAST_QUARTER_DEGREE_LEAD else self.late


SURFACE = Source(Product.S, Product.A)  # 0.25 degree to 240 h, 0.5 degree after
SURFACE_TO_240H = Source(Product.S, None)  # not in the 0.5 degree files
PRESSURE_LEVEL = Source(Product.A, Product.A)  # 0.5 degree only
EXTRA = Source(Product.B, Product.B)  # 0.5 degree only

SOURCES: dict[str, Source] = {
    "pressure_surface": SURFACE,
    "temperature_2m": SURFACE,
    "relative_humidity_2m": SURFACE,
    "maximum_temperature_2m": SURFACE,
    "minimum_temperature_2m": SURFACE,
    "wind_u_10m": SURFACE,
    "wind_v_10m": SURFACE,
    "precipitation_surface": SURFACE,
    "categorical_snow_surface": SURFACE,
    "categorical_ice_pellets_surface": SURFACE,
    "categorical_freezing_rain_surface": SURFACE,
    "categorical_rain_surface": SURFACE,
    "precipitable_water_atmosphere": SURFACE,
    "total_cloud_cover_atmosphere": SURFACE,
    "downward_short_wave_radiation_flux_surface": SURFACE,
    "downward_long_wave_radiation_flux_surface": SURFACE,
    "pressure_reduced_to_mean_sea_level": SURFACE,
    "dew_point_temperature_2m": SURFACE_TO_240H,
    "wind_gust_surface": SURFACE_TO_240H,
    "geopotential_height_500hpa": PRESSURE_LEVEL,
    "wind_u_100m": EXTRA,
    "wind_v_100m": EXTRA,
}

VARIABLES = ModelVariables(
    entries={name: CATALOG[name] for name in SOURCES},
    window_reset_hours=WINDOW_RESET_HOURS,
)

OUTPUT_GRID = global_output_grid("GEFS")


def upsample_half_degree(values: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """A 0.5 degree field (361 x 720, lat 90..-90, lon 0..359.5) on the 0.25 degree grid by
    bilinear interpolation: every 0.5 degree point keeps its value, a point between two of them
    is their mean, a point between four is the mean of the four (longitude wraps at 360). A
    NaN neighbour makes the point NaN."""
    assert values.shape == (HALF_DEGREE.nj, HALF_DEGREE.ni), values.shape
    out = np.empty((QUARTER_DEGREE.nj, QUARTER_DEGREE.ni), dtype=np.float64)
    out[0::2, 0::2] = values
    out[0::2, 1::2] = (values + np.roll(values, -1, axis=1)) / 2
    out[1::2, :] = (out[0:-1:2, :] + out[2::2, :]) / 2
    return out
