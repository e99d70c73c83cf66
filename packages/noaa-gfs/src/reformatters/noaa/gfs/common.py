"""What both GFS datasets share: the source files, the grid, coordinates and variables."""

from __future__ import annotations

from datetime import timedelta

from reformatters.noaa.common.catalog import CATALOG
from reformatters.noaa.common.global_grid import GLOBAL_0P25, global_output_grid
from reformatters.noaa.common.region_job import NoaaSourceFileCoord
from reformatters.noaa.common.variables import ModelVariables

SOURCE_BUCKET = "noaa-gfs-bdp-pds"
# GFS runs every 6 hours (00, 06, 12, 18 UTC).
INIT_FREQUENCY = timedelta(hours=6)
# GFS statistics (accumulations, averages, max/min) reset every 6 hours.
WINDOW_RESET_HOURS = 6

GFS_GRID = GLOBAL_0P25

VARIABLE_NAMES: tuple[str, ...] = (
    "pressure_surface",
    "temperature_2m",
    "relative_humidity_2m",
    "maximum_temperature_2m",
    "minimum_temperature_2m",
    "wind_u_10m",
    "wind_v_10m",
    "wind_u_100m",
    "wind_v_100m",
    "wind_u_80m",
    "wind_v_80m",
    "temperature_80m",
    "pressure_80m",
    "percent_frozen_precipitation_surface",
    "precipitation_surface",
    "categorical_snow_surface",
    "categorical_ice_pellets_surface",
    "categorical_freezing_rain_surface",
    "categorical_rain_surface",
    "precipitable_water_atmosphere",
    "total_cloud_cover_atmosphere",
    "geopotential_height_cloud_ceiling",
    "downward_short_wave_radiation_flux_surface",
    "downward_long_wave_radiation_flux_surface",
    "pressure_reduced_to_mean_sea_level",
)


VARIABLES = ModelVariables(
    entries={name: CATALOG[name] for name in VARIABLE_NAMES},
    window_reset_hours=WINDOW_RESET_HOURS,
)


class GfsSourceFileCoord(NoaaSourceFileCoord):
    """A GFS pgrb2.0p25 file."""

    bucket = SOURCE_BUCKET
    key_pattern = "gfs.{init:%Y%m%d}/{init:%H}/atmos/gfs.t{init:%H}z.pgrb2.0p25.f{lead:03d}"


gfs_source_url = GfsSourceFileCoord.source_url


# ---- template grid -------------------------------------------------------------------------


OUTPUT_GRID = global_output_grid("GFS")
