"""NOAA's global 0.25 degree latitude/longitude grid (GFS, GEFS): as GRIB declares it, and as
the datasets store it (latitude north first, longitude -180..179.75)."""

from __future__ import annotations

from reformatters.core.coordinates import SPHERE_6371229_CRS, LatLonGrid
from reformatters.core.sources.grib_identity import GridSpec

# 721 rows from 90 to -90, 1440 columns from 0 to 359.75 east.
GLOBAL_0P25 = GridSpec.global_ll(0.25)


def global_output_grid(model: str) -> LatLonGrid:
    """The output grid of a model on ``GLOBAL_0P25``. Output longitudes run -180..179.75; the
    source's 0..359.75 are rolled explicitly on read."""
    comment = f"{model} grid: a sphere of radius 6371229 m, regular 0.25 degree lat/lon."
    # NCEP's global models' earth is a sphere of radius 6371229 m.
    return LatLonGrid.global_regular(0.25, SPHERE_6371229_CRS, comment)


LATITUDES = global_output_grid("NCEP").latitudes
LONGITUDES = global_output_grid("NCEP").longitudes
