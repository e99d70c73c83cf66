"""example-tiny: a provider-free dataset for reformatters' own tests.

Its source is a folder tree of ``.npz`` files (one per hour, all variables), laid out like a
provider bucket ``s3://example-tiny-source/YYYY/MM/DD/HH.npz`` and read through
``REFORMATTERS_SOURCE_MIRROR``. Values are a deterministic function of (variable, time, lat, lon).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from reformatters.core import (
    BaseInternalAttrs,
    Coordinate,
    CoordinateAttrs,
    DatasetAttributes,
    DataVar,
    DataVarAttrs,
    DynamicalDataset,
    Encoding,
    RegionJob,
    SourceFileCoord,
    TemplateConfig,
)
from reformatters.core.region_job import ArrayFloat32
from reformatters.core.sources.errors import SourceFileMissingError
from reformatters.core.sources.mirror import resolve_source_url
from reformatters.core.sources.transport import download_file

SOURCE_BUCKET = "example-tiny-source"
LATITUDES = np.linspace(35.0, -35.0, 8)
LONGITUDES = np.linspace(-165.0, 165.0, 12)
TIME_SHARD = 24


class ExampleInternalAttrs(BaseInternalAttrs):
    source_key: str
    scale: float
    offset: float


type ExampleDataVar = DataVar[ExampleInternalAttrs]


def _encoding(chunks: tuple[int, ...], shards: tuple[int, ...]) -> Encoding:
    return Encoding(dtype="float32", fill_value=float("nan"), chunks=chunks, shards=shards)


def _instant(
    name: str,
    long_name: str,
    units: str,
    internal_attrs: ExampleInternalAttrs,
    **attrs: Any,
) -> ExampleDataVar:
    """An instantaneous variable, its short name the source's key (``attrs``: the optional
    ``DataVarAttrs``, e.g. ``standard_name``)."""
    return DataVar(
        name=name,
        encoding=_encoding((6, 4, 6), (TIME_SHARD, 8, 12)),
        attrs=DataVarAttrs(
            long_name=long_name,
            short_name=internal_attrs.source_key,
            units=units,
            step_type="instant",
            **attrs,
        ),
        internal_attrs=internal_attrs,
    )


# Values are ``source * scale + offset``; ``source_value`` below is what the source holds.
DATA_VARS: tuple[ExampleDataVar, ...] = (
    _instant(
        "temperature_2m",
        "2 metre temperature",
        "degree_Celsius",
        ExampleInternalAttrs(keep_mantissa_bits=7, source_key="t2m", scale=1.0, offset=-273.15),
        standard_name="air_temperature",
    ),
    _instant(
        "wind_speed_10m",
        "10 metre wind speed",
        "m s-1",
        ExampleInternalAttrs(
            keep_mantissa_bits=6, source_key="ws10", scale=1.0, offset=0.0, valid_min=0.0
        ),
        standard_name="wind_speed",
    ),
    _instant(
        "categorical_rain_surface",
        "Categorical rain",
        "1",
        ExampleInternalAttrs(
            keep_mantissa_bits="no-rounding", source_key="crain", scale=1.0, offset=0.0
        ),
        flag_values=(0, 1),
        flag_meanings="no_rain rain",
    ),
)


def source_value(source_key: str, time: np.datetime64, lat: Any, lon: Any) -> Any:
    """The value the source file for `time` holds for `source_key` (float64, not rounded)."""
    hours = float((time - np.datetime64("2000-01-01T00")) / np.timedelta64(1, "h"))
    lat_r, lon_r = np.deg2rad(lat), np.deg2rad(lon)
    match source_key:
        case "t2m":
            return 288.0 + 20 * np.cos(lat_r) * np.sin(lon_r + hours / 24 * 2 * np.pi) - 0.1 * hours
        case "ws10":
            return 5.0 + 3 * np.sin(lat_r * 3 + hours / 7) * np.cos(lon_r)
        case "crain":
            return (np.sin(lat_r * 4 + lon_r * 2 + hours / 5) > 0.3).astype(np.float64)
    raise KeyError(source_key)


def source_key_path(time: pd.Timestamp) -> str:
    return f"{time:%Y/%m/%d/%H}.npz"


def write_example_source(
    mirror: Path, times: Sequence[pd.Timestamp], skip: Sequence[pd.Timestamp] = ()
) -> list[Path]:
    """Write the source files for `times` (except `skip`) into a mirror folder tree."""
    lat, lon = np.meshgrid(LATITUDES, LONGITUDES, indexing="ij")
    written = []
    for time in times:
        if time in skip:
            continue
        path = mirror / SOURCE_BUCKET / source_key_path(time)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {
            var.internal_attrs.source_key: source_value(
                var.internal_attrs.source_key, np.datetime64(time), lat, lon
            ).astype(np.float32)
            for var in DATA_VARS
        }
        np.savez(path, **arrays)
        written.append(path)
    return written


class ExampleTemplateConfig(TemplateConfig[ExampleDataVar]):
    """Declared wholly in code (no dataset.toml card)."""

    append_dim: str = "time"
    append_dim_start: datetime = datetime(2000, 1, 1)
    append_dim_frequency: timedelta = timedelta(hours=1)
    dataset_attributes: DatasetAttributes = DatasetAttributes(
        dataset_id="example-tiny",
        dataset_version="0.1.0",
        name="Example tiny analysis",
        description="A tiny synthetic hourly dataset used to test reformatters itself.",
        attribution="Synthetic data generated by reformatters' tests.",
        license="CC0-1.0",
        spatial_domain="Global band 35S-35N",
        spatial_resolution="10 x 30 degrees",
        time_domain="2000-01-01 00:00 UTC to present",
        time_resolution="1 hour",
    )

    data_vars: tuple[ExampleDataVar, ...] = DATA_VARS

    @property
    def dims(self) -> tuple[str, ...]:
        return ("time", "latitude", "longitude")

    @property
    def coords(self) -> Sequence[Coordinate]:
        return (
            Coordinate(
                name="time",
                encoding=Encoding(
                    dtype="int64",
                    fill_value=0,
                    chunks=(8760,),
                    units="seconds since 1970-01-01 00:00:00",
                    calendar="proleptic_gregorian",
                ),
                attrs=CoordinateAttrs(long_name="Time", standard_name="time", axis="T"),
            ),
            Coordinate(
                name="latitude",
                encoding=Encoding(dtype="float64", fill_value=float("nan"), chunks=(8,)),
                attrs=CoordinateAttrs(
                    units="degree_north", long_name="Latitude", standard_name="latitude", axis="Y"
                ),
            ),
            Coordinate(
                name="longitude",
                encoding=Encoding(dtype="float64", fill_value=float("nan"), chunks=(12,)),
                attrs=CoordinateAttrs(
                    units="degree_east", long_name="Longitude", standard_name="longitude", axis="X"
                ),
            ),
        )

    def dimension_coordinates(self) -> dict[str, Any]:
        return {
            "time": self.append_dim_coordinates(self.append_dim_start + self.append_dim_frequency),
            "latitude": LATITUDES,
            "longitude": LONGITUDES,
        }


class ExampleSourceFileCoord(SourceFileCoord):
    time: pd.Timestamp

    def get_url(self) -> str:
        return f"s3://{SOURCE_BUCKET}/{source_key_path(self.time)}"

    def out_loc(self) -> Mapping[str, Any]:
        return {"time": self.time}


class ExampleRegionJob(RegionJob[ExampleDataVar, ExampleSourceFileCoord]):
    decode_in_processes = False

    def generate_source_file_coords(
        self, processing_region_ds: xr.Dataset, data_var_group: Sequence[ExampleDataVar]
    ) -> Sequence[ExampleSourceFileCoord]:
        times = pd.DatetimeIndex(processing_region_ds["time"].values)
        return [ExampleSourceFileCoord(time=t) for t in times]

    def download_file(self, coord: ExampleSourceFileCoord, scratch: Path) -> Path:
        url = resolve_source_url(coord.get_url())
        if url.startswith("s3://"):
            raise SourceFileMissingError(
                url, "example-tiny has no public source; set REFORMATTERS_SOURCE_MIRROR"
            )
        path = scratch / f"{coord.time:%Y%m%dT%H}.npz"
        path.write_bytes(download_file(url))
        return path

    def read_data(
        self, coord: ExampleSourceFileCoord, path: Path, data_var: ExampleDataVar
    ) -> ArrayFloat32:
        with np.load(io.BytesIO(path.read_bytes())) as npz:
            raw = npz[data_var.internal_attrs.source_key]
        attrs = data_var.internal_attrs
        values: ArrayFloat32 = (raw * np.float32(attrs.scale) + np.float32(attrs.offset)).astype(
            np.float32
        )
        return values


class ExampleDataset(DynamicalDataset[ExampleDataVar, ExampleSourceFileCoord]):
    def synthesize_source_mirror(self, start: datetime, end: datetime, folder: Path) -> list[Path]:
        times = pd.date_range(start, end, freq=self.template_config.append_dim_frequency)
        return write_example_source(folder, [t for t in times if t < end])


def make_dataset() -> ExampleDataset:
    return ExampleDataset(ExampleTemplateConfig(), ExampleRegionJob)
