"""reformatters-noaa-common: pieces shared by the NOAA dataset packages (GFS, HRRR).

- ``internal_attrs``: ``NoaaInternalAttrs``, how a variable is found in a NOAA ``.idx`` and
  transformed;
- ``variables``: the catalog of shared variable definitions (CF attributes and source fields);
- ``region_job``: ``NoaaRegionJob``, which downloads a variable group's messages by ``.idx``
  byte ranges and reads them with identity and grid checks.
"""
