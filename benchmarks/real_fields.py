"""Real fields for `codecs --real`: fixture messages decoded as core decodes them, converted
and mantissa-rounded as a dataset variable declares (its ``unit_conversion`` and
``keep_mantissa_bits``), cut into that variable's inner chunks (latitude x longitude).

A fixture holds one step of each field, so a chunk here is one lead deep: a lead slice of the
dataset's chunk, NaN-padded at the grid's edges as zarr pads edge chunks. Fixture grids are not
always the dataset's (GFS fields at 1 degree, NDFD 2.5 km CONUS as HRRR), which changes the
texture a little, not the kind of field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.real_fixtures import decode_like_core

GFS = "noaa-gfs-forecast"
GEFS = "noaa-gefs-forecast-35-day"
HRRR = "noaa-hrrr-forecast-48-hour"
IFS = "ecmwf-ifs-ens-forecast-15-day-0-25-degree"
ICON = "dwd-icon-eu-forecast-5-day"
_ICON_EU = "dwd/icon-eu_europe_regular-lat-lon_single-level_"
_KELVIN_OFFSET = np.float32(273.15)


@dataclass(frozen=True)
class RealField:
    label: str
    file: str  # relative to the fixtures folder
    index: int  # message number in the file
    dataset: str
    variable: str  # whose rounding, units and chunks apply


REAL_FIELDS: tuple[RealField, ...] = (
    RealField(
        "GFS 0.25 HGT 500 hPa", "gfs/gfs.complex.grib2", 0, GEFS, "geopotential_height_500hpa"
    ),
    RealField(
        "GFS 1.0 UGRD 10 m",
        "gfs/test_NOAAS3_HRES-GFS_10u_20210509T06_S00.grib",
        0,
        GFS,
        "wind_u_10m",
    ),
    RealField(
        "GFS 1.0 DSWRF avg",
        "gfs/test_NOAAS3_HRES-GFS_dswrf-dlwrf_20250129T06_S27.grib",
        0,
        GFS,
        "downward_short_wave_radiation_flux_surface",
    ),
    RealField(
        "GFS 1.0 DLWRF avg",
        "gfs/test_NOAAS3_HRES-GFS_dswrf-dlwrf_20250129T06_S27.grib",
        1,
        GFS,
        "downward_long_wave_radiation_flux_surface",
    ),
    RealField(
        "HRRR APCP 0-12 h",
        "hrrr/subset_20201214_hrrr.t00z.wrfsfcf12.grib2",
        0,
        HRRR,
        "precipitation_surface",
    ),
    RealField("HRRR REFC", "hrrr/hrrr.wrfsubhf.sample.grib2", 0, HRRR, "composite_reflectivity"),
    RealField(
        "NDFD 2.5 km T 2 m (NaN off CONUS)", "misc/ndfd.ds.temp.bin", 0, HRRR, "temperature_2m"
    ),
    RealField(
        "IFS 0.25 2t (AIFS)",
        "ecmwf/ecmwf-aifs-0p25-20240802060000-18h-oper-fc-tmp_2m.grib2",
        0,
        IFS,
        "temperature_2m",
    ),
    RealField(
        "IFS 0.25 tprate",
        "ecmwf/20250912120000-0h-oper-fc.grib2.89",
        0,
        IFS,
        "precipitation_surface",
    ),
    RealField("ICON-EU T_2M", f"{_ICON_EU}2020062300_000_T_2M.grib2", 0, ICON, "temperature_2m"),
    RealField("ICON-EU U_10M", f"{_ICON_EU}2022050700_000_U_10M.grib2", 0, ICON, "wind_u_10m"),
    RealField("ICON-EU V_10M", f"{_ICON_EU}2022050700_000_V_10M.grib2", 0, ICON, "wind_v_10m"),
    RealField(
        "ICON-EU CLCT_MOD",
        f"{_ICON_EU}2022042700_047_CLCT_MOD.grib2",
        0,
        ICON,
        "total_cloud_cover_atmosphere",
    ),
)


def _data_var(dataset: str, variable: str) -> Any:
    from reformatters.core.plugins import load_registry

    data_vars = load_registry().get(dataset).template_config.data_vars
    return next(v for v in data_vars if v.name == variable)


def _message(path: Path, index: int) -> bytes:
    from reformatters.core.sources.grib_framing import scan_messages

    data = path.read_bytes()
    offset, length = list(scan_messages(data))[index]
    return data[offset : offset + length]


def stored_values(field: RealField, root: Path) -> tuple[npt.NDArray[np.float32], Any]:
    """The field as the pipeline stores it (float32, units converted, mantissas rounded) and
    the dataset variable it is stored as."""
    from reformatters.core.rounding import round_fields

    var = _data_var(field.dataset, field.variable)
    values = np.asarray(decode_like_core(_message(root / field.file, field.index)), np.float32)
    attrs = var.internal_attrs
    if getattr(attrs, "unit_conversion", None) == "kelvin_to_celsius":
        values -= _KELVIN_OFFSET
    round_fields(values, attrs.keep_mantissa_bits)
    return values, var


def lead_slices(
    values: npt.NDArray[np.float32], chunk_shape: tuple[int, int]
) -> list[npt.NDArray[np.float32]]:
    """``values`` cut into (1, lat, lon) chunks, edge chunks NaN-padded."""
    lat, lon = chunk_shape
    ny, nx = values.shape
    chunks = []
    for y in range(0, ny, lat):
        for x in range(0, nx, lon):
            chunk = np.full((1, lat, lon), np.nan, dtype=np.float32)
            tile = values[y : y + lat, x : x + lon]
            chunk[0, : tile.shape[0], : tile.shape[1]] = tile
            chunks.append(chunk)
    return chunks


def real_chunks(
    root: Path,
) -> tuple[dict[str, list[npt.NDArray[np.float32]]], dict[str, dict[str, Any]]]:
    """Chunks of every REAL_FIELDS field found under ``root`` by label, and what each is
    (or why it is skipped)."""
    chunks: dict[str, list[npt.NDArray[np.float32]]] = {}
    described: dict[str, dict[str, Any]] = {}
    for field in REAL_FIELDS:
        if not (root / field.file).is_file():
            described[field.label] = {"skipped": f"{field.file} not found"}
            continue
        values, var = stored_values(field, root)
        chunk_shape = tuple(var.encoding.chunks[-2:])
        chunks[field.label] = lead_slices(values, chunk_shape)
        described[field.label] = {
            "message": f"{field.file}#{field.index}",
            "dataset": field.dataset,
            "variable": field.variable,
            "keep_mantissa_bits": var.internal_attrs.keep_mantissa_bits,
            "grid": list(values.shape),
            "chunk": [1, *chunk_shape],
            "chunks": len(chunks[field.label]),
            "nan_fraction": float(np.isnan(values).mean()),
        }
    return chunks, described
