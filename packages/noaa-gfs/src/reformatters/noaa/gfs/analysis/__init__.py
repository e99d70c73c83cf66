"""noaa-gfs-analysis: an hourly, analysis-like time series from the first hours of each GFS run."""
