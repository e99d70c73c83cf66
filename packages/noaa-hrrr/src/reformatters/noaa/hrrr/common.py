"""What both HRRR datasets share: the source files, the Lambert grid, coordinates, variables."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from reformatters.core.config_models import Coordinate, CoordinateAttrs, Encoding
from reformatters.core.coordinates import (
    SPATIAL_REF_VALUE,
    DerivedCoordinates,
    spatial_ref_coordinate,
)
from reformatters.core.sources.grib_identity import GridSpec
from reformatters.noaa.common.catalog import CATALOG
from reformatters.noaa.common.region_job import NoaaSourceFileCoord
from reformatters.noaa.common.variables import CatalogEntry, ModelVariables

SOURCE_BUCKET = "noaa-hrrr-bdp-pds"
# HRRR's accumulation windows (APCP) end at the valid time and reset every hour ("7-8 hour acc").
WINDOW_RESET_HOURS = 1

# ---- grid -----------------------------------------------------------------------------------

NX = 1799
NY = 1059
GRID_SPACING_M = 3000.0
# HRRR's earth is a sphere of radius 6371229 m (GRIB shapeOfTheEarth 6).
EARTH_RADIUS_M = 6371229.0
HRRR_CRS = CRS.from_proj4(
    "+proj=lcc +lat_0=38.5 +lon_0=-97.5 +lat_1=38.5 +lat_2=38.5 +x_0=0 +y_0=0 "
    f"+R={EARTH_RADIUS_M:.0f} +units=m +no_defs +type=crs"
)
# The first grid point (south-west corner) as GRIB encodes it, and its projected position
# (pyproj of those degrees; the GRIB degrees have 6 decimals, so these are good to ~0.1 m).
FIRST_LAT = 21.138123
FIRST_LON = 237.280472
X_FIRST_M = -2697520.1425
Y_FIRST_M = -1587306.1526

HRRR_GRID = GridSpec(
    grid_type="lambert",
    ni=NX,
    nj=NY,
    first_lat=FIRST_LAT,
    first_lon=FIRST_LON,
    lov=262.5,
    latin1=38.5,
    latin2=38.5,
    dx_m=GRID_SPACING_M,
    dy_m=GRID_SPACING_M,
)

# Output x runs west to east as in the file; output y runs north to south (the file scans
# south to north), so maps have north up like the GFS datasets' descending latitude.
X_COORDS: NDArray[np.float64] = X_FIRST_M + GRID_SPACING_M * np.arange(NX, dtype=np.float64)
Y_COORDS: NDArray[np.float64] = (Y_FIRST_M + GRID_SPACING_M * np.arange(NY, dtype=np.float64))[
    ::-1
].copy()


@cache
def latitude_longitude() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """2-D (y, x) latitude and longitude (degrees east, -180..180) of every output cell."""
    to_geodetic = Transformer.from_crs(HRRR_CRS, HRRR_CRS.geodetic_crs, always_xy=True)
    xx, yy = np.meshgrid(X_COORDS, Y_COORDS)
    lon, lat = to_geodetic.transform(xx, yy)
    return np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)


def output_rows[T: np.generic](values: NDArray[T]) -> NDArray[T]:
    """A field in the file's scan order (rows south to north) as output rows (north to south):
    a view."""
    return values[::-1, :]


# ---- source files ---------------------------------------------------------------------------


class HrrrSourceFileCoord(NoaaSourceFileCoord):
    """An HRRR CONUS surface file."""

    bucket = SOURCE_BUCKET
    key_pattern = "hrrr.{init:%Y%m%d}/conus/hrrr.t{init:%H}z.wrfsfcf{lead:02d}.grib2"


hrrr_source_url = HrrrSourceFileCoord.source_url


# ---- variables ------------------------------------------------------------------------------

_INSTANT_IN_HRRR = (
    "HRRR issues this field as an instantaneous value at the valid time (GFS issues a window "
    "average)."
)


def _instant(entry: CatalogEntry, comment: str | None = None) -> CatalogEntry:
    return entry.replace(
        attrs={"step_type": "instant", "comment": comment or _INSTANT_IN_HRRR},
        internal_attrs={"source_step_type": "instant"},
    )


def _categorical(name: str, what: str) -> CatalogEntry:
    # HRRR's f00 holds a constant 188-byte placeholder for each category (real inventories of
    # 2025-08-01: CRAIN 188 bytes at f00, 93 kB at f08).
    return _instant(
        CATALOG[name],
        f"1 where the model diagnoses {what} at the valid time, 0 elsewhere (HRRR issues "
        "the category as an instantaneous value).",
    ).replace(internal_attrs={"real_at_lead_0": False})


def _grid_relative(name: str, axis: str) -> CatalogEntry:
    attrs = CATALOG[name].attrs
    return CATALOG[name].replace(
        attrs={
            "standard_name": f"{axis}_wind",
            "long_name": attrs.long_name.replace("U wind", "U (grid x) wind").replace(
                "V wind", "V (grid y) wind"
            ),
            "comment": (
                "Relative to the Lambert grid (towards increasing x for U, increasing y for V), "
                "as HRRR issues it. Earth-relative components: with a = 0.6225146 * (longitude + "
                "97.5) degrees, eastward = cos(a) U + sin(a) V, northward = -sin(a) U + cos(a) V."
            ),
        }
    )


# HRRR variants of shared catalog entries: same variable, different source encoding.
HRRR_ENTRIES: dict[str, CatalogEntry] = {
    "wind_u_10m": _grid_relative("wind_u_10m", "x"),
    "wind_v_10m": _grid_relative("wind_v_10m", "y"),
    "wind_u_80m": _grid_relative("wind_u_80m", "x"),
    "wind_v_80m": _grid_relative("wind_v_80m", "y"),
    "pressure_reduced_to_mean_sea_level": CATALOG["pressure_reduced_to_mean_sea_level"].replace(
        attrs={
            "long_name": "Pressure reduced to MSL (MAPS system reduction)",
            "comment": "HRRR's MSLMA: mean sea level pressure with the MAPS system reduction.",
        },
        internal_attrs={"grib_element": "MSLMA"},
    ),
    "categorical_snow_surface": _categorical("categorical_snow_surface", "snow"),
    "categorical_ice_pellets_surface": _categorical(
        "categorical_ice_pellets_surface", "ice pellets"
    ),
    "categorical_freezing_rain_surface": _categorical(
        "categorical_freezing_rain_surface", "freezing rain"
    ),
    "categorical_rain_surface": _categorical("categorical_rain_surface", "rain"),
    "geopotential_height_cloud_ceiling": CATALOG["geopotential_height_cloud_ceiling"].replace(
        attrs={
            "comment": (
                "NaN where the model diagnoses no cloud ceiling: HRRR marks those points missing "
                "(GFS writes 20000 m instead)."
            )
        }
    ),
    "total_cloud_cover_atmosphere": _instant(CATALOG["total_cloud_cover_atmosphere"]),
    "downward_short_wave_radiation_flux_surface": _instant(
        CATALOG["downward_short_wave_radiation_flux_surface"]
    ),
    "downward_long_wave_radiation_flux_surface": _instant(
        CATALOG["downward_long_wave_radiation_flux_surface"]
    ),
}

VARIABLE_NAMES: tuple[str, ...] = (
    "temperature_2m",
    "dew_point_temperature_2m",
    "relative_humidity_2m",
    "wind_u_10m",
    "wind_v_10m",
    "wind_u_80m",
    "wind_v_80m",
    "wind_gust_surface",
    "pressure_surface",
    "pressure_reduced_to_mean_sea_level",
    "precipitation_surface",
    "categorical_snow_surface",
    "categorical_ice_pellets_surface",
    "categorical_freezing_rain_surface",
    "categorical_rain_surface",
    "total_cloud_cover_atmosphere",
    "downward_short_wave_radiation_flux_surface",
    "downward_long_wave_radiation_flux_surface",
    "composite_reflectivity",
    "visibility_surface",
    "precipitable_water_atmosphere",
    "geopotential_height_cloud_ceiling",
)


VARIABLES = ModelVariables(
    entries={name: HRRR_ENTRIES.get(name, CATALOG[name]) for name in VARIABLE_NAMES},
    window_reset_hours=WINDOW_RESET_HOURS,
)


# ---- template grid -------------------------------------------------------------------------


class HrrrGrid:
    """x, y (projected metres), 2-D latitude/longitude and the CRS variable ``spatial_ref``."""

    @property
    def dims(self) -> tuple[str, str]:
        return ("y", "x")

    def coords(self) -> Sequence[Coordinate]:
        # float32 keeps latitude/longitude within 4e-6 degrees (~0.4 m) and halves the template.
        lat_lon_encoding = Encoding(dtype="float32", fill_value=float("nan"), chunks=(NY, NX))
        return (
            Coordinate(
                name="x",
                encoding=Encoding(dtype="float64", fill_value=float("nan"), chunks=(NX,)),
                attrs=CoordinateAttrs(
                    units="m",
                    long_name="x coordinate of projection",
                    standard_name="projection_x_coordinate",
                    axis="X",
                ),
            ),
            Coordinate(
                name="y",
                encoding=Encoding(dtype="float64", fill_value=float("nan"), chunks=(NY,)),
                attrs=CoordinateAttrs(
                    units="m",
                    long_name="y coordinate of projection",
                    standard_name="projection_y_coordinate",
                    axis="Y",
                ),
            ),
            Coordinate(
                name="latitude",
                encoding=lat_lon_encoding,
                attrs=CoordinateAttrs(
                    units="degree_north", long_name="Latitude", standard_name="latitude"
                ),
            ),
            Coordinate(
                name="longitude",
                encoding=lat_lon_encoding,
                attrs=CoordinateAttrs(
                    units="degree_east", long_name="Longitude", standard_name="longitude"
                ),
            ),
            spatial_ref_coordinate(
                HRRR_CRS,
                "HRRR CONUS grid: Lambert conformal conic on a sphere of radius 6371229 m, "
                "standard parallels 38.5, central meridian -97.5, 3 km cells.",
            ),
        )

    def dimension_coordinates(self) -> dict[str, Any]:
        return {"y": Y_COORDS, "x": X_COORDS}

    def derived_coordinates(self) -> DerivedCoordinates:
        lat, lon = latitude_longitude()
        return {
            "latitude": (("y", "x"), lat),
            "longitude": (("y", "x"), lon),
            **SPATIAL_REF_VALUE,
        }


OUTPUT_GRID = HrrrGrid()
