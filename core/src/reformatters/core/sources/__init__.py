"""Source files: mirrors, inventories, byte-range downloads and GRIB reading."""
