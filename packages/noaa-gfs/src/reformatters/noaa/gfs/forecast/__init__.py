"""noaa-gfs-forecast: every GFS 0.25 degree run, as issued (init_time x lead_time)."""
