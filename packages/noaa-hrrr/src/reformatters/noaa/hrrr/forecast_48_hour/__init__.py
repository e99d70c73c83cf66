"""noaa-hrrr-forecast-48-hour: HRRR's 00/06/12/18 UTC runs, as issued (init_time x lead_time)."""
