"""What DWD's ICON-EU open data is: its server layout, runs, steps and grids.

DWD publishes one bzip2-compressed GRIB2 file per variable, run and step, with no inventory:
``https://opendata.dwd.de/weather/nwp/icon-eu/grib/HH/<var>/icon-eu_europe_regular-lat-lon_
single-level_YYYYMMDDHH_SSS_<VAR>.grib2.bz2``, and keeps only about the last 24 hours of runs.
Messages encode steps in minutes (``indicatorOfUnitOfTimeRange`` 0) on a regular 0.0625 degree
grid whose rows run south to north (29.5..70.5) and whose columns start at 336.5 degrees east.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reformatters.core.coordinates import SPHERE_6371229_CRS, LatLonGrid
from reformatters.core.sources.grib_identity import GridSpec

# DWD keeps about one day of runs: older inits come only from an archive of the source files
# (``reformat <dataset-id> archive-sources``), served through REFORMATTERS_SOURCE_MIRROR.
SOURCE_HOST = "opendata.dwd.de"
# Hourly to 78 h, then 3-hourly to 120 h: 79 + 14 = 93 steps.
STEP_HOURS: tuple[int, ...] = (*range(79), *range(81, 121, 3))


def source_url(init_time: pd.Timestamp, variable: str, step_hours: int) -> str:
    """The published file of ``variable`` (DWD's name, e.g. ``T_2M``) at one run and step."""
    return (
        f"https://{SOURCE_HOST}/weather/nwp/icon-eu/grib/{init_time:%H}/{variable.lower()}/"
        f"icon-eu_europe_regular-lat-lon_single-level_{init_time:%Y%m%d%H}_{step_hours:03d}_"
        f"{variable}.grib2.bz2"
    )


_STEP_DEG = 0.0625
# The current grid: 1377 x 657 points, 336.5..62.5 degrees east (-23.5..62.5).
GRID = GridSpec.regular_ll(1377, 657, first=(29.5, 336.5), last=(70.5, 62.5))
# The grid of older runs (seen in files up to 2022; the switch date is not documented where we
# could find it): the same rows and first 1097 columns, 336.5..45.0 degrees east. Its fields are
# placed in the current grid's first 1097 columns; the 280 columns east of 45 E stay NaN.
LEGACY_GRID = GridSpec.regular_ll(1097, 657, first=(29.5, 336.5), last=(70.5, 45.0))
SOURCE_GRIDS = {grid.ni: grid for grid in (GRID, LEGACY_GRID)}

# Output: latitude north first (70.5..29.5), longitude ascending (-23.5..62.5).
LATITUDES = np.round(70.5 - np.arange(GRID.nj) * _STEP_DEG, 4)
LONGITUDES = np.round(-23.5 + np.arange(GRID.ni) * _STEP_DEG, 4)
# ICON's GRIB2 declares shapeOfTheEarth 6: a sphere of radius 6371229 m.
OUTPUT_GRID = LatLonGrid(
    latitudes=LATITUDES,
    longitudes=LONGITUDES,
    crs=SPHERE_6371229_CRS,
    comment="ICON-EU regular 0.0625 degree lat/lon grid on a sphere of radius 6371229 m.",
)
