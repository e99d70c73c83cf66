"""noaa-hrrr-analysis: an hourly HRRR time series from each run's first hour (f00/f01)."""
