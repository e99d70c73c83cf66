"""reformatters-noaa-hrrr: NOAA HRRR 3 km CONUS datasets (noaa-hrrr-forecast-48-hour,
noaa-hrrr-analysis)."""
