"""What `reads` compares: per dataset, its own encoding (from the checked-in template) and the
reference implementation's chunks and shards (or an alternative where there is no reference),
and the reads users make (a map; a point's series; for ensembles every member at a point).

The store of a case holds one variable (``temperature_2m``) over one init (forecasts) or
``hours`` hours (analyses), at the full grid, or the grid's first ``crop`` rows and columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from math import ceil
from pathlib import Path
from typing import Any, Literal

import pyproj  # noqa: F401  (must be imported before eccodes, see the shared library facts)

VARIABLE = "temperature_2m"
HOURS_PER_YEAR = 8760

type Kind = Literal["forecast", "ensemble", "analysis"]
# One entry per dimension: an index (the read takes one position) or None (all of the dim).
type Selection = tuple[int | None, ...]


@dataclass(frozen=True)
class Layout:
    """Chunks and shards of one encoding; the codec is always the dataset's own."""

    name: str  # "ours", "reference", "reference-like" or "alternative"
    chunks: tuple[int, ...]
    shards: tuple[int, ...] | None
    note: str = ""

    def describe(self) -> str:
        shards = f" in shards {self.shards}" if self.shards else " (unsharded)"
        return f"chunks {self.chunks}{shards}"


# The other side of each comparison. GFS and HRRR: the reference implementation's chunks and
# shards (HRRR forecast: the reference's own shard, which is ours too). GEFS: the reference's
# template. ECMWF and ICON: our choice of alternative (see each package's README).
OTHER_LAYOUTS: dict[str, Layout] = {
    "noaa-gfs-forecast": Layout("reference", (1, 105, 121, 121), (1, 210, 726, 726)),
    "noaa-gfs-analysis": Layout("reference", (1440, 50, 50), (1440, 400, 400)),
    "noaa-hrrr-forecast-48-hour": Layout(
        "reference", (1, 49, 265, 300), (1, 49, 1060, 1800), "the reference's shard (ours too)"
    ),
    "noaa-hrrr-analysis": Layout("reference", (2160, 45, 45), (2160, 540, 450)),
    "noaa-gefs-forecast-35-day": Layout(
        "reference-like", (1, 31, 64, 17, 16), (1, 31, 192, 374, 368), "the reference's template"
    ),
    "ecmwf-ifs-ens-forecast-15-day-0-25-degree": Layout(
        "alternative", (1, 1, 85, 48, 48), (1, 1, 85, 768, 1440), "all 85 steps in a chunk"
    ),
    "dwd-icon-eu-forecast-5-day": Layout(
        "version 0.1.0", (1, 93, 219, 153), (1, 93, 657, 1377), "93 leads per chunk (0.1.0), not 31"
    ),
}
DATASET_IDS = tuple(OTHER_LAYOUTS)


@dataclass(frozen=True)
class Case:
    """One dataset's store shape, codec, data and reads; ``layouts[0]`` is ours."""

    dataset_id: str
    kind: Kind
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    full_grid: tuple[int, int]  # the dataset's grid (the store may hold a crop of it)
    compressors: tuple[dict[str, Any], ...]
    keep_mantissa_bits: int
    step_hours: tuple[float, ...]  # hours since init (forecast) or since the first time
    layouts: tuple[Layout, Layout]

    def reads(self) -> dict[str, Selection]:
        """Named selections: a map at one lead or hour, a point's series (one member's), and for
        ensembles every member at the point. The point is over land in every grid."""
        ny, nx = self.shape[-2:]
        py, px = point_index(self.dataset_id, ny, nx)
        middle = len(self.step_hours) // 2
        if self.kind == "analysis":
            return {"map": (middle, None, None), "point": (None, py, px)}
        if self.kind == "forecast":
            return {"map": (0, middle, None, None), "point": (0, None, py, px)}
        return {
            "map": (0, 0, middle, None, None),
            "point": (0, 0, None, py, px),
            "members": (0, None, None, py, px),
        }

    def describe(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset_id,
            "kind": self.kind,
            "variable": VARIABLE,
            "dims": list(self.dims),
            "shape": list(self.shape),
            "full_grid": list(self.full_grid),
            "compressors": list(self.compressors),
            "keep_mantissa_bits": self.keep_mantissa_bits,
            "layouts": {
                layout.name: {"chunks": layout.chunks, "shards": layout.shards, "note": layout.note}
                for layout in self.layouts
            },
            "reads": {name: list(sel) for name, sel in self.reads().items()},
        }


def point_index(dataset_id: str, ny: int, nx: int) -> tuple[int, int]:
    """A land point, as fractions of the grid so that a cropped grid keeps it inside: Colorado
    (GFS, GEFS, IFS: 40.0 N 105.25 W; HRRR: 39.1 N 105.6 W) or Germany (ICON-EU: 50 N 11.75 E)."""
    fractions = {"dwd-icon-eu-forecast-5-day": (0.50, 0.41), "noaa-hrrr": (0.47, 0.37)}
    fy, fx = next(
        (f for prefix, f in fractions.items() if dataset_id.startswith(prefix)), (0.278, 0.208)
    )
    return int(fy * ny), int(fx * nx)


def template_array(dataset_id: str) -> tuple[dict[str, Any], Path, int]:
    """The variable's zarr.json in the dataset's checked-in template, the template's path and
    the variable's mantissa bits."""
    from reformatters.core.plugins import get_registry

    config = get_registry().get(dataset_id).template_config
    path = config.template_path()
    meta: dict[str, Any] = json.loads((path / VARIABLE / "zarr.json").read_text())
    bits = config.data_var(VARIABLE).internal_attrs.keep_mantissa_bits
    return meta, path, 23 if bits == "no-rounding" else int(bits)


def our_layout(meta: dict[str, Any]) -> tuple[Layout, tuple[dict[str, Any], ...]]:
    """Our chunks, shards and compressors from a template array's metadata."""
    outer = tuple(meta["chunk_grid"]["configuration"]["chunk_shape"])
    codecs = meta["codecs"]
    if codecs[0]["name"] == "sharding_indexed":
        config = codecs[0]["configuration"]
        inner = tuple(config["chunk_shape"])
        compressors = tuple(c for c in config["codecs"] if c["name"] != "bytes")
        return Layout("ours", inner, outer), compressors
    return Layout("ours", outer, None), tuple(c for c in codecs if c["name"] != "bytes")


def step_hours(template: Path, dims: tuple[str, ...], length: int) -> tuple[float, ...]:
    if "lead_time" not in dims:
        return tuple(float(h) for h in range(length))
    import xarray as xr

    leads = xr.open_zarr(template, consolidated=False, decode_timedelta=True)["lead_time"]
    return tuple(float(v) / 3600e9 for v in leads.values.astype("timedelta64[ns]").astype(int))


def make_case(dataset_id: str, hours: int = HOURS_PER_YEAR, crop: int | None = None) -> Case:
    meta, template, bits = template_array(dataset_id)
    dims = tuple(meta["dimension_names"])
    shape = list(meta["shape"])
    kind: Kind = (
        "ensemble"
        if "ensemble_member" in dims
        else ("forecast" if "lead_time" in dims else "analysis")
    )
    if kind == "analysis":
        shape[0] = hours
    full_grid = (shape[-2], shape[-1])
    if crop is not None:
        shape[-2], shape[-1] = min(shape[-2], crop), min(shape[-1], crop)
    steps = step_hours(
        template, dims, shape[dims.index("lead_time")] if kind != "analysis" else hours
    )
    ours, compressors = our_layout(meta)
    return Case(
        dataset_id,
        kind,
        dims,
        tuple(shape),
        full_grid,
        compressors,
        bits,
        steps,
        (ours, OTHER_LAYOUTS[dataset_id]),
    )


def chunk_count(shape: tuple[int, ...], chunks: tuple[int, ...]) -> int:
    count = 1
    for size, chunk in zip(shape, chunks, strict=True):
        count *= ceil(size / chunk)
    return count


def touched_chunks(selection: Selection, shape: tuple[int, ...], chunks: tuple[int, ...]) -> int:
    """How many inner chunks a selection reads."""
    count = 1
    for index, size, chunk in zip(selection, shape, chunks, strict=True):
        count *= 1 if index is not None else ceil(size / chunk)
    return count
