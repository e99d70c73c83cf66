"""``reformat initialize-new-integration <provider> <model> <variant>``: scaffold a dataset.

Generates ``packages/<provider>-<model>/`` (distribution ``reformatters-<provider>-<model>``,
import path ``reformatters.<provider>.<model>``, entry point ``<provider>-<model>``) with one
dataset ``<provider>-<model>-<variant>`` in ``reformatters.<provider>.<model>.<variant>``, or adds
the variant to a package it generated before. The dataset works end to end as generated: a
forecast (init_time x lead_time) or an analysis (time) on a small global grid, read from GRIB2
files with ``.idx`` inventories, a synthesized source mirror and a test that backfills from it
over loopback; ``TODO`` marks what the integrator replaces (``docs/integration-guide.md``).

Nothing is overwritten: every file is planned first and the command stops with a one-line error
if any new file already exists. The workspace root's ``pyproject.toml`` gets the package in
``[tool.uv.sources]``, the ``dev`` dependency group and mypy's ``mypy_path``, as the existing
packages are registered. The template (``templates/latest.zarr``) is rendered in a subprocess
that sees the new sources, so the generated tests pass right after ``uv sync --all-packages``.
"""
