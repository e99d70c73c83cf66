"""Time series at sites: nearest grid cell per point, read with pointwise (vectorised) indexing.

``extract.extract_points`` turns a dataset and a table of points (``id``, ``latitude``,
``longitude``) into a tidy table with one row per point and time step and one column per variable.
Only the chunks that hold the requested cells are read: the lazily opened Zarr arrays are indexed
with ``DataArray`` indexers along a ``point`` dimension, which xarray hands to Zarr as one
vectorised selection.

Modules: ``sites`` (the table of points), ``grid`` (the nearest cell), ``extract`` (the tidy
table), ``output`` (.csv, .parquet, .duckdb), ``store`` (opening a store, counting its reads),
``benchmark``.

Benchmark (a year of hourly data at 100 points from a local store; chunk and shard shapes are
optional, time x latitude x longitude)::

    uv run python -m reformatters.tools.points /tmp/points-benchmark [730x32x32 2190x64x64]
"""
