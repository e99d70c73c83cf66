"""Declarative configuration: dataset attributes, coordinates, data variables, encodings."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from zarr.codecs import BloscCodec

type StepType = Literal["instant", "accum", "avg", "min", "max"]


class FrozenModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class DatasetAttributes(FrozenModel):
    dataset_id: str
    dataset_version: str
    name: str
    description: str
    attribution: str
    license: str = "CC-BY-4.0"
    spatial_domain: str
    spatial_resolution: str
    time_domain: str
    time_resolution: str
    forecast_domain: str | None = None
    forecast_resolution: str | None = None

    @field_validator("dataset_id")
    @classmethod
    def _id_is_cli_friendly(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c == "-" for c in value) or value != value.lower():
            raise ValueError(f"dataset_id must be lowercase letters, digits and '-': {value!r}")
        return value


class BloscCompression(FrozenModel):
    """Blosc zstd with bitshuffle: measured fastest, with a good ratio, on smooth float32 fields."""

    cname: Literal["zstd", "lz4", "lz4hc"] = "zstd"
    clevel: int = 3
    shuffle: Literal["bitshuffle", "shuffle", "noshuffle"] = "bitshuffle"

    def codec(self, typesize: int) -> BloscCodec:
        return BloscCodec(
            cname=self.cname, clevel=self.clevel, shuffle=self.shuffle, typesize=typesize
        )


class Encoding(FrozenModel):
    """How one array is stored. `chunks` are inner chunks; `shards` (if set) the stored objects."""

    dtype: Literal["float32", "float64", "int64", "int32", "int16", "uint8", "bool"]
    # None: no CF _FillValue (an integer coordinate every position of which is set; a fill
    # value would make xarray mask it and decode it as floats).
    fill_value: float | int | bool | None
    chunks: tuple[int, ...]
    shards: tuple[int, ...] | None = None
    compression: BloscCompression = BloscCompression()
    # CF encoding of datetime64/timedelta64 values.
    units: str | None = None
    calendar: str | None = None

    @model_validator(mode="after")
    def _shards_are_multiples_of_chunks(self) -> Encoding:
        if self.shards is not None:
            assert len(self.shards) == len(self.chunks), "shards and chunks need the same rank"
            for shard, chunk in zip(self.shards, self.chunks, strict=True):
                if shard % chunk != 0:
                    raise ValueError(
                        f"shard shape {self.shards} is not a multiple of {self.chunks}"
                    )
        return self

    def to_xarray(self) -> dict[str, Any]:
        encoding: dict[str, Any] = {
            "dtype": self.dtype,
            "chunks": self.chunks,
            "compressors": [self.compression.codec(np.dtype(self.dtype).itemsize)],
        }
        if self.shards is not None:
            encoding["shards"] = self.shards
        if self.units is not None:
            encoding["units"] = self.units
            # xarray stores the fill of CF-encoded times in the encoded integer dtype.
            encoding["_FillValue"] = self.fill_value
        elif self.fill_value is None:
            encoding["_FillValue"] = None
        else:
            encoding["_FillValue"] = np.dtype(self.dtype).type(self.fill_value)
        if self.calendar is not None:
            encoding["calendar"] = self.calendar
        return encoding


class CoordinateAttrs(FrozenModel):
    """CF attributes of a coordinate; extra keys (e.g. CRS attributes of spatial_ref) allowed."""

    model_config = ConfigDict(frozen=True, extra="allow")

    units: str | None = None
    long_name: str | None = None
    standard_name: str | None = None
    axis: str | None = None
    comment: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Coordinate(FrozenModel):
    name: str
    encoding: Encoding
    attrs: CoordinateAttrs


class DataVarAttrs(FrozenModel):
    long_name: str
    short_name: str
    units: str
    step_type: StepType
    standard_name: str | None = None
    comment: str | None = None
    flag_values: tuple[int, ...] | None = None
    flag_meanings: str | None = None
    # CF: the name of the variable holding the CRS of a projected grid (e.g. "spatial_ref").
    grid_mapping: str | None = None

    def to_dict(self) -> dict[str, Any]:
        attrs = {k: v for k, v in self.model_dump().items() if v is not None}
        if self.flag_values is not None:
            attrs["flag_values"] = list(self.flag_values)
        return attrs


class BaseInternalAttrs(FrozenModel):
    """Private (not written to the store) attributes: source addressing and transforms."""

    keep_mantissa_bits: int | Literal["no-rounding"]
    # Values the provider writes instead of a missing point (e.g. MRMS's -999): stored as NaN.
    source_missing_values: tuple[float, ...] = ()
    # The smallest physically valid value (0 for precipitation, radiation, humidity...):
    # `validate` flags published values below it.
    valid_min: float | None = None

    @field_validator("keep_mantissa_bits")
    @classmethod
    def _mantissa_bits_in_range(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= 23:
            raise ValueError("keep_mantissa_bits must be within 1..23 for float32")
        return value


class DataVar[InternalAttrsT: BaseInternalAttrs](FrozenModel):
    name: str
    encoding: Encoding
    attrs: DataVarAttrs
    internal_attrs: InternalAttrsT

    @model_validator(mode="after")
    def _float_with_nan_fill(self) -> DataVar[InternalAttrsT]:
        assert self.encoding.dtype == "float32", f"{self.name}: data variables are float32"
        assert isinstance(self.encoding.fill_value, float) and math.isnan(self.encoding.fill_value)
        assert self.encoding.shards is not None, f"{self.name}: data variables are sharded"
        return self


def datetime_utc_naive(value: datetime) -> datetime:
    """Our append-dimension timestamps are naive UTC."""
    if value.tzinfo is not None:
        offset = value.utcoffset()
        assert offset is not None
        value = (value - offset).replace(tzinfo=None)
    return value


def ensure_timedelta(value: timedelta | np.timedelta64) -> timedelta:
    if isinstance(value, np.timedelta64):
        return timedelta(seconds=float(value / np.timedelta64(1, "s")))
    return value
