"""Region job of noaa-hrrr-forecast-48-hour: one init time (one shard) x a group of variables.

HRRR's accumulation windows are the last hour (lead L: L-1 to L).
"""

from __future__ import annotations

from reformatters.noaa.common.forecast import NoaaForecastFileCoord, NoaaForecastRegionJob
from reformatters.noaa.hrrr.common import HrrrSourceFileCoord
from reformatters.noaa.hrrr.region_job import HrrrRegionJob


class HrrrForecastSourceFileCoord(HrrrSourceFileCoord, NoaaForecastFileCoord):
    pass


class HrrrForecast48HourRegionJob(
    HrrrRegionJob[HrrrForecastSourceFileCoord], NoaaForecastRegionJob[HrrrForecastSourceFileCoord]
):
    file_coord = HrrrForecastSourceFileCoord
