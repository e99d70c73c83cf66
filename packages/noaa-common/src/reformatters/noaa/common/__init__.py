"""reformatters-noaa-common: pieces shared by the NOAA dataset packages (GFS, HRRR).

- ``internal_attrs``: ``NoaaInternalAttrs``, how a variable is found in a NOAA ``.idx`` and
  transformed;
- ``variables``: the catalog of shared variable definitions (CF attributes and source fields);
- ``region_job``: ``NoaaRegionJob``, which downloads a variable group's messages by ``.idx``
  byte ranges and reads them with identity and grid checks;
- ``idx``, ``grib_codes``, ``identity``, ``fetch``: NOAA's wgrib2-style ``.idx`` inventories,
  its names for GRIB2 codes, and the identities and downloads they locate;
- ``synthetic_values``, ``synthesis``, ``mirror_synthesis``: synthesized NOAA source files and
  mirrors for offline runs, modelled on real inventories.
"""
