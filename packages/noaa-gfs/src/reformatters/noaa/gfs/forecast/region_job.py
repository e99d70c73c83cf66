"""Region job of noaa-gfs-forecast: one init time (one shard) x a group of variables."""

from __future__ import annotations

from reformatters.noaa.common.forecast import NoaaForecastFileCoord, NoaaForecastRegionJob
from reformatters.noaa.common.global_grid import LATITUDES, LONGITUDES
from reformatters.noaa.gfs.common import GFS_GRID, GfsSourceFileCoord


class GfsForecastSourceFileCoord(GfsSourceFileCoord, NoaaForecastFileCoord):
    pass


class GfsForecastRegionJob(NoaaForecastRegionJob[GfsForecastSourceFileCoord]):
    file_coord = GfsForecastSourceFileCoord
    grid = GFS_GRID
    output_latitudes = LATITUDES
    output_longitudes = LONGITUDES
