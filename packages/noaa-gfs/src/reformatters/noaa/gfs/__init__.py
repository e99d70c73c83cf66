"""reformatters-noaa-gfs: NOAA GFS 0.25 degree datasets (noaa-gfs-forecast, noaa-gfs-analysis)."""
