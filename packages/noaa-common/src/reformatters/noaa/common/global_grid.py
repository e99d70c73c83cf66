"""NOAA's global 0.25 degree latitude/longitude grid (GFS, GEFS): as GRIB declares it, and as
the datasets store it (latitude north first, longitude -180..179.75)."""

from __future__ import annotations

import numpy as np
from pyproj import CRS

from reformatters.core.sources.grib_identity import GridSpec

# 721 rows from 90 to -90, 1440 columns from 0 to 359.75 east.
GLOBAL_0P25 = GridSpec(
    grid_type="regular_ll",
    ni=1440,
    nj=721,
    first_lat=90.0,
    first_lon=0.0,
    last_lat=-90.0,
    last_lon=359.75,
)
LATITUDES = np.linspace(90.0, -90.0, 721, dtype=np.float64)
# Output longitudes run -180..179.75; the source's 0..359.75 are rolled explicitly on read.
LONGITUDES = np.arange(1440, dtype=np.float64) * 0.25 - 180.0
# NCEP's global models' earth is a sphere of radius 6371229 m.
NCEP_SPHERE_CRS = CRS.from_proj4("+proj=longlat +a=6371229 +b=6371229 +no_defs +type=crs")
