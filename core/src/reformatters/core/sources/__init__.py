"""Source files, provider-neutral: mirrors, inventories (an interface, JSON lines built in),
byte-range downloads, GRIB reading and writing. Provider formats live in provider packages."""
