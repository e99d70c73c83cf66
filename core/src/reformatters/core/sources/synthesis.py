"""Synthesize provider-layout GRIB2 files (with NOAA-style ``.idx``) for offline tests and demos.

The engine encodes a sequence of ``MessageSpec`` into one GRIB2 file with pygrib, starting from a
small packaged template message that carries the provider's grid and packing (GRIB2 data
template 5.3, complex packing with second-order spatial differencing, as GFS and HRRR use), then
writes the ``.idx`` from the real byte offsets. Both files are written atomically.

Packing precision: eccodes' complex packer always chooses the binary scale factor itself (it
resets the decimal scale factor to 0), so precision is controlled through ``bitsPerValue``. Each
filled message is packed with a step of ``packing_precision(values)`` = 2**(ceil(log2(max|v|))
- 16), i.e. about 16 significant bits relative to the field's largest magnitude; decoded values
differ from the float32 input by at most ``packing_tolerance(values)`` (half a step).

A message whose ``values`` is ``None`` is *filler*: it keeps the template's constant field (0
bits per value), so writing a full 743-message GFS file costs little while the real message
order and identities are kept.

``synthetic_field`` is a deterministic, smooth value function per NOAA element; its time
dependence is a sum of sinusoids so window statistics have exact closed forms (see its docstring).
"""

from __future__ import annotations

import math
import os
import threading
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import IntEnum
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from reformatters.core.sources.inventory import InventoryEntry, format_noaa_idx

__all__ = [
    "DATA_DIR",
    "NO_CEILING_HGT",
    "NO_PRECIPITATION_CPOFP",
    "STEP_TYPE_OF_PROCESS",
    "FixedSurface",
    "GridTemplate",
    "MessageSpec",
    "StatisticalProcess",
    "StepType",
    "SyntheticIdentity",
    "encode_message",
    "gfs_0p25_grid",
    "hrrr_conus_grid",
    "instantaneous_field",
    "packing_precision",
    "packing_tolerance",
    "precipitation_rate",
    "synthetic_field",
    "write_grib_file",
]

DATA_DIR = Path(__file__).with_name("synthesis_data")

type StepType = Literal["instant", "accum", "avg", "max", "min"]
type FloatArray = NDArray[np.float64]

_RELATIVE_PRECISION_BITS = 16
# Marks bitmap-missing points while packing; no synthetic field comes near it.
_MISSING_VALUE = 999_999_999
_COMPLEX_MISSING_VALUE = 9999


class StatisticalProcess(IntEnum):
    """GRIB2 code table 4.10 (typeOfStatisticalProcessing)."""

    AVERAGE = 0
    ACCUMULATION = 1
    MAXIMUM = 2
    MINIMUM = 3


STEP_TYPE_OF_PROCESS: dict[StatisticalProcess, StepType] = {
    StatisticalProcess.AVERAGE: "avg",
    StatisticalProcess.ACCUMULATION: "accum",
    StatisticalProcess.MAXIMUM: "max",
    StatisticalProcess.MINIMUM: "min",
}


@dataclass(frozen=True, slots=True)
class FixedSurface:
    """A GRIB2 fixed surface: code table 4.5 type and value = scaled_value * 10**-scale_factor."""

    type: int
    scaled_value: int = 0
    scale_factor: int = 0

    @classmethod
    def of(cls, surface_type: int, value: float | str = 0) -> FixedSurface:
        """From a decimal value, with the smallest exact scale factor (0.995 -> 995e-3)."""
        exact = Decimal(str(value)).normalize()
        exponent = int(exact.as_tuple().exponent)
        scale = max(0, -exponent)
        return cls(surface_type, int(exact.scaleb(scale)), scale)

    @property
    def value(self) -> float:
        return float(self.scaled_value / 10**self.scale_factor)


@dataclass(frozen=True, slots=True)
class SyntheticIdentity:
    """The GRIB2 keys that identify a message's parameter and level."""

    discipline: int
    parameter_category: int
    parameter_number: int
    first_surface: FixedSurface
    second_surface: FixedSurface | None = None
    local_tables_version: int | None = None


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """One message to synthesize.

    ``element``/``level``/``forecast`` are the ``.idx`` strings written for it. Instantaneous
    messages have ``statistic=None`` and use product template 4.0 with forecastTime =
    ``end_step``; statistical windows use template 4.8 over [``start_step``, ``end_step``].
    ``values`` (2-D, the grid's shape) or ``None`` for filler. NaN values are missing points,
    encoded as ``missing_encoding`` says: a bitmap, or complex packing's missing-value
    management (template 5.3, no bitmap; NCEP's usual encoding).
    """

    element: str
    level: str
    forecast: str
    identity: SyntheticIdentity
    end_step: timedelta
    start_step: timedelta | None = None
    statistic: StatisticalProcess | None = None
    values: NDArray[np.floating[Any]] | None = field(default=None, compare=False)
    missing_encoding: Literal["bitmap", "complex"] = "bitmap"

    @property
    def step_type(self) -> StepType:
        return "instant" if self.statistic is None else STEP_TYPE_OF_PROCESS[self.statistic]


@dataclass(frozen=True)
class GridTemplate:
    """A packaged one-message GRIB2 template holding a provider grid (constant field)."""

    name: str
    template: bytes

    @cached_property
    def _latlons(self) -> tuple[FloatArray, FloatArray]:
        import pygrib

        lats, lons = pygrib.fromstring(self.template).latlons()
        return np.asarray(lats, dtype=np.float64), np.asarray(lons, dtype=np.float64)

    @property
    def lats(self) -> FloatArray:
        """2-D latitudes in degrees (rows as stored: north to south for GFS)."""
        return self._latlons[0]

    @property
    def lons(self) -> FloatArray:
        """2-D longitudes in degrees as the decoder returns them."""
        return self._latlons[1]

    @cached_property
    def shape(self) -> tuple[int, int]:
        import pygrib

        message = pygrib.fromstring(self.template)
        return int(message["Nj"]), int(message["Ni"])

    @cache  # noqa: B019 - a handful of grids live for the whole process
    def base_message(self, template_number: int) -> bytes:
        """The template re-encoded with product definition template ``template_number``."""
        import pygrib

        message = pygrib.fromstring(self.template)
        if int(message["productDefinitionTemplateNumber"]) != template_number:
            message["productDefinitionTemplateNumber"] = template_number
        return bytes(message.tostring())


@cache
def gfs_0p25_grid() -> GridTemplate:
    """GFS 0.25 degree regular lat/lon, 1440x721, lat 90..-90, lon 0..359.75 (real GDAS message)."""
    return GridTemplate("gfs-0p25", (DATA_DIR / "gfs_0p25_template.grib2").read_bytes())


@cache
def hrrr_conus_grid() -> GridTemplate:
    """HRRR CONUS Lambert conformal 1799x1059, 3 km (grid section of a real HRRR message)."""
    return GridTemplate("hrrr-conus", (DATA_DIR / "hrrr_conus_template.grib2").read_bytes())


def packing_precision(values: NDArray[np.floating[Any]]) -> float:
    """The packing step used for ``values``: a power of two ~2**-16 of the largest magnitude."""
    finite = np.abs(values[np.isfinite(values)])
    largest = float(finite.max()) if finite.size else 0.0
    if largest == 0.0:
        return 2.0**-_RELATIVE_PRECISION_BITS
    return 2.0 ** (math.ceil(math.log2(largest)) - _RELATIVE_PRECISION_BITS)


def packing_tolerance(values: NDArray[np.floating[Any]]) -> float:
    """Maximum absolute difference between ``values`` and their decoded, packed form.

    Half a packing step plus one float32 rounding of the largest magnitude (decoders that return
    float32 round once more).
    """
    precision = packing_precision(values)
    return precision / 2 + precision * 2.0 ** (_RELATIVE_PRECISION_BITS - 23)


def _as_datetime(time: np.datetime64 | datetime) -> datetime:
    if isinstance(time, datetime):
        return time
    seconds = time.astype("datetime64[s]").astype(np.int64)
    return datetime(1970, 1, 1) + timedelta(seconds=int(seconds))


def _hours(step: timedelta) -> int:
    hours, remainder = divmod(step, timedelta(hours=1))
    if remainder:
        raise ValueError(f"steps must be whole hours, got {step}")
    return int(hours)


def encode_message(
    spec: MessageSpec, grid: GridTemplate, init_time: np.datetime64 | datetime
) -> bytes:
    """Encode one message on ``grid`` (see ``MessageSpec``)."""
    import pygrib

    reference = _as_datetime(init_time)
    template_number = 0 if spec.statistic is None else 8
    message = pygrib.fromstring(grid.base_message(template_number))
    identity = spec.identity
    if identity.local_tables_version is not None:
        message["localTablesVersion"] = identity.local_tables_version
    message["discipline"] = identity.discipline
    message["parameterCategory"] = identity.parameter_category
    message["parameterNumber"] = identity.parameter_number
    _set_surface(message, "First", identity.first_surface)
    if identity.second_surface is not None:
        _set_surface(message, "Second", identity.second_surface)
    message["dataDate"] = int(reference.strftime("%Y%m%d"))
    message["dataTime"] = int(reference.strftime("%H%M"))
    end_hours = _hours(spec.end_step)
    if spec.statistic is None:
        message["forecastTime"] = end_hours
    else:
        start_hours = _hours(spec.start_step if spec.start_step is not None else timedelta(0))
        end = reference + timedelta(hours=end_hours)
        message["forecastTime"] = start_hours
        _set_code(message, "typeOfStatisticalProcessing", int(spec.statistic))
        _set_code(message, "typeOfTimeIncrement", 2)
        message["lengthOfTimeRange"] = end_hours - start_hours
        message["yearOfEndOfOverallTimeInterval"] = end.year
        message["monthOfEndOfOverallTimeInterval"] = end.month
        message["dayOfEndOfOverallTimeInterval"] = end.day
        message["hourOfEndOfOverallTimeInterval"] = end.hour
        message["minuteOfEndOfOverallTimeInterval"] = 0
        message["secondOfEndOfOverallTimeInterval"] = 0
    if spec.values is not None:
        _set_values(message, spec.values, grid, spec.missing_encoding)
    return bytes(message.tostring())


def _set_code(message: Any, key: str, code: int) -> None:
    # pygrib picks the setter from the key's current Python type: code-table keys that hold a
    # known code read back as strings and must be set with a string, missing ones as integers.
    message[key] = str(code) if isinstance(message[key], str) else code


def _set_surface(message: Any, which: Literal["First", "Second"], surface: FixedSurface) -> None:
    _set_code(message, f"typeOf{which}FixedSurface", surface.type)
    message[f"scaleFactorOf{which}FixedSurface"] = surface.scale_factor
    scaled = surface.scaled_value
    if scaled < 0:
        # GRIB2 stores negative scaled values in sign-magnitude form (as NCEP does for PV=-2e-06);
        # eccodes treats the octets as unsigned.
        scaled = (1 << 31) | -scaled
    message[f"scaledValueOf{which}FixedSurface"] = scaled


def _set_values(
    message: Any,
    values: NDArray[np.floating[Any]],
    grid: GridTemplate,
    missing_encoding: Literal["bitmap", "complex"] = "bitmap",
) -> None:
    if values.shape != grid.shape:
        raise ValueError(f"values have shape {values.shape}, grid {grid.name} is {grid.shape}")
    data = np.asarray(values, dtype=np.float64)
    missing = np.isnan(data)
    finite = data[~missing]
    span = float(finite.max() - finite.min()) if finite.size else 0.0
    precision = packing_precision(values)
    message["bitsPerValue"] = max(1, math.ceil(math.log2(span / precision + 1)))
    if not missing.any() and np.any(np.abs(finite - _COMPLEX_MISSING_VALUE) <= 1.0):
        # eccodes' complex packing encodes every value that packs to 9999 as a missing point
        # (it turns missing-value management on by itself): values near 9999 (a 9999 m ceiling)
        # need simple packing.
        message["packingType"] = "grid_simple"
    if missing.any() and missing_encoding == "bitmap":
        message["bitmapPresent"] = 1
        message["missingValue"] = _MISSING_VALUE
        data = np.where(missing, float(_MISSING_VALUE), data)
    elif missing.any():
        # eccodes encodes missing-value management only for its default missingValue, 9999.
        assert not np.any(finite == _COMPLEX_MISSING_VALUE), "a value equals the missing marker"
        message["packingType"] = "grid_complex_spatial_differencing"
        message["missingValueManagementUsed"] = 1
        message["missingValue"] = _COMPLEX_MISSING_VALUE
        data = np.where(missing, float(_COMPLEX_MISSING_VALUE), data)
    message.values = data


def write_grib_file(
    path: Path,
    messages: Iterable[MessageSpec],
    *,
    init_time: np.datetime64 | datetime,
    grid: GridTemplate,
    idx_path: Path | None = None,
) -> list[InventoryEntry]:
    """Write ``messages`` to ``path`` and their inventory to ``idx_path`` (default ``path.idx``).

    Both files appear atomically (written to a temporary name, then renamed). Returns the
    inventory entries (with ``end`` set) as written.
    """
    reference = _as_datetime(init_time).strftime("%Y%m%d%H")
    idx_path = idx_path if idx_path is not None else path.with_name(path.name + ".idx")
    path.parent.mkdir(parents=True, exist_ok=True)
    entries: list[InventoryEntry] = []
    suffix = f"{os.getpid()}.{threading.get_ident()}.tmp"
    temporary = path.with_name(f".{path.name}.{suffix}")
    temporary_idx = idx_path.with_name(f".{idx_path.name}.{suffix}")
    try:
        offset = 0
        with temporary.open("wb") as out:
            for number, spec in enumerate(messages, start=1):
                encoded = encode_message(spec, grid, init_time)
                out.write(encoded)
                entries.append(
                    InventoryEntry(
                        message=str(number),
                        offset=offset,
                        reference_time=reference,
                        element=spec.element,
                        level=spec.level,
                        forecast=spec.forecast,
                        end=offset + len(encoded),
                    )
                )
                offset += len(encoded)
        temporary_idx.write_text(format_noaa_idx(entries))
        # Data first, inventory last: whoever sees the new .idx finds the matching file.
        temporary.replace(path)
        temporary_idx.replace(idx_path)
    finally:
        temporary.unlink(missing_ok=True)
        temporary_idx.unlink(missing_ok=True)
    return entries


# --- synthetic values -------------------------------------------------------------------------

_OMEGAS = (2 * math.pi / 24.0, 2 * math.pi / 96.0)  # diurnal and 4-day cycles, per hour
_CYCLE_WEIGHTS = (0.2, 0.1)


@dataclass(frozen=True, slots=True)
class _Basis:
    cos_lat: FloatArray
    sin_3lat: FloatArray
    cos_3lat: FloatArray
    cos_lat_sin_lon: FloatArray
    cos_lat_cos_lon: FloatArray
    cos_lat_sin_2lon: FloatArray
    cos_lat_cos_2lon: FloatArray
    sin_lon: FloatArray
    cos_lon: FloatArray


@dataclass(frozen=True, slots=True)
class _Harmonic:
    """g(t) = a + cos(lat) sum_k w_k A [cos(lon + k s) sin(W_k t) + sin(lon + k s) cos(W_k t)].

    t is in hours since 1970; the time factors collapse to two scalars per evaluation.
    """

    a: FloatArray
    basis: _Basis
    amplitude: float
    seed: float

    def _combine(self, sines: Sequence[float], cosines: Sequence[float]) -> FloatArray:
        p = q = 0.0
        for k, (weight, sine, cosine) in enumerate(
            zip(_CYCLE_WEIGHTS, sines, cosines, strict=True)
        ):
            phase = self.seed * (k + 1)
            cp, sp = math.cos(phase), math.sin(phase)
            p += self.amplitude * weight * (cp * sine + sp * cosine)
            q += self.amplitude * weight * (cp * cosine - sp * sine)
        return self.a + self.basis.cos_lat_cos_lon * p + self.basis.cos_lat_sin_lon * q

    def at(self, t: float) -> FloatArray:
        return self._combine([math.sin(w * t) for w in _OMEGAS], [math.cos(w * t) for w in _OMEGAS])

    def mean(self, t0: float, t1: float) -> FloatArray:
        if t1 == t0:
            return self.at(t1)
        sines = [(math.cos(w * t0) - math.cos(w * t1)) / (w * (t1 - t0)) for w in _OMEGAS]
        cosines = [(math.sin(w * t1) - math.sin(w * t0)) / (w * (t1 - t0)) for w in _OMEGAS]
        return self._combine(sines, cosines)


# element -> (centre, amplitude); the field stays within centre +- amplitude.
_RANGES: dict[str, tuple[float, float]] = {
    "TMP": (280.0, 28.0),
    "DPT": (270.0, 22.0),
    "POT": (290.0, 28.0),
    "APTMP": (280.0, 30.0),
    "PRES": (80000.0, 24000.0),
    "PRMSL": (101300.0, 2500.0),
    "MSLET": (101300.0, 2500.0),
    "HGT": (5000.0, 4000.0),
    "RH": (60.0, 38.0),
    "SPFH": (0.008, 0.0075),
    "UGRD": (2.0, 25.0),
    "VGRD": (0.0, 25.0),
    "GUST": (12.0, 11.0),
    "WIND": (10.0, 9.0),
    "PWAT": (30.0, 28.0),
    "CWAT": (0.3, 0.29),
    "TCDC": (50.0, 49.0),
    "LCDC": (35.0, 34.0),
    "MCDC": (35.0, 34.0),
    "HCDC": (35.0, 34.0),
    "DSWRF": (300.0, 290.0),
    "USWRF": (80.0, 75.0),
    "DLWRF": (330.0, 90.0),
    "ULWRF": (350.0, 100.0),
    "VIS": (20000.0, 19000.0),
    "CAPE": (1000.0, 990.0),
    "CIN": (-150.0, 145.0),
    "SNOD": (0.5, 0.49),
    "WEASD": (50.0, 49.0),
    "ICEC": (0.5, 0.49),
    "LAND": (0.5, 0.49),
    "HPBL": (1000.0, 900.0),
    "REFC": (10.0, 30.0),
    "VVEL": (0.0, 1.5),
    "SOILW": (0.3, 0.2),
    "TSOIL": (285.0, 20.0),
    "CPOFP": (50.0, 50.0),
    # Categorical indicators are ``pattern > 0``.
    "CRAIN": (-0.1, 1.0),
    "CSNOW": (-0.3, 1.0),
    "CICEP": (-0.4, 1.0),
    "CFRZR": (-0.4, 1.0),
}
_DEFAULT_RANGE = (100.0, 50.0)
_TEMPERATURES = frozenset({"TMP", "TMAX", "TMIN", "DPT", "POT", "APTMP", "TSOIL"})
# Accumulations integrate a non-negative rate; typical rate 1e-4 kg m-2 s-1 (0.36 mm/h).
_RATE_CENTRE = 1.0e-4
_ACCUMULATED_RATES: dict[str, tuple[str, float]] = {
    "APCP": ("PRATE", 1.0),
    "ACPCP": ("CPRAT", 0.4),
}
_CATEGORICAL = frozenset({"CRAIN", "CSNOW", "CICEP", "CFRZR"})
NO_PRECIPITATION_CPOFP = -50.0
NO_CEILING_HGT = 20000.0


def _seed(*parts: str) -> float:
    return (zlib.crc32("|".join(parts).encode()) % 10_000) / 10_000 * 2 * math.pi


_BASES: list[tuple[FloatArray, FloatArray, _Basis]] = []


def _basis(lats: FloatArray, lons: FloatArray) -> _Basis:
    # Trigonometry on a full grid dominates field synthesis; reuse it for the same coordinate
    # arrays (GridTemplate returns the same objects every time).
    for known_lats, known_lons, basis in _BASES:
        if known_lats is lats and known_lons is lons:
            return basis
    lat = np.deg2rad(lats)
    lon = np.deg2rad(lons)
    cos_lat, sin_lon, cos_lon = np.cos(lat), np.sin(lon), np.cos(lon)
    basis = _Basis(
        cos_lat=cos_lat,
        sin_3lat=np.sin(3 * lat),
        cos_3lat=np.cos(3 * lat),
        cos_lat_sin_lon=cos_lat * sin_lon,
        cos_lat_cos_lon=cos_lat * cos_lon,
        cos_lat_sin_2lon=cos_lat * np.sin(2 * lon),
        cos_lat_cos_2lon=cos_lat * np.cos(2 * lon),
        sin_lon=sin_lon,
        cos_lon=cos_lon,
    )
    _BASES.append((lats, lons, basis))
    del _BASES[:-4]
    return basis


def _harmonic(name: str, level: str, centre: float, amplitude: float, basis: _Basis) -> _Harmonic:
    """A smooth pattern within centre +- amplitude: 0.7 spatial part, 0.3 in the two cycles.

    spatial = 0.4 cos(lat) sin(2 lon + s) + 0.3 sin(3 lat + s) cos(lon - s), expanded with the
    angle-sum identities so only precomputed basis arrays are combined.
    """
    s = _seed(name, level)
    cs, ss = math.cos(s), math.sin(s)
    spatial = basis.cos_lat_sin_2lon * (0.4 * amplitude * cs)
    spatial += basis.cos_lat_cos_2lon * (0.4 * amplitude * ss)
    spatial += (
        basis.sin_3lat * (0.3 * amplitude * cs) + basis.cos_3lat * (0.3 * amplitude * ss)
    ) * (basis.cos_lon * cs + basis.sin_lon * ss)
    spatial += centre
    return _Harmonic(spatial, basis, amplitude, s)


def _level_shift(element: str, level: str) -> float:
    if (element in _TEMPERATURES or element == "PRES") and level.endswith(" m above ground"):
        height = float(level.split(" ", maxsplit=1)[0].split("-", maxsplit=1)[0])
        return -0.0065 * height if element != "PRES" else -12.0 * height
    return 0.0


def _instant_harmonic(element: str, level: str, lats: FloatArray, lons: FloatArray) -> _Harmonic:
    if element in ("TMAX", "TMIN"):
        element = "TMP"
    if element in ("PRATE", "CPRAT"):
        return _rate_harmonic(element, lats, lons)
    centre, amplitude = _RANGES.get(element, _DEFAULT_RANGE)
    shifted = centre + _level_shift(element, level)
    return _harmonic(element, level, shifted, amplitude, _basis(lats, lons))


def _rate_harmonic(rate_element: str, lats: FloatArray, lons: FloatArray) -> _Harmonic:
    scale = next((s for r, s in _ACCUMULATED_RATES.values() if r == rate_element), 1.0)
    centre = _RATE_CENTRE * scale
    return _harmonic(rate_element, "surface", centre, 0.999 * centre, _basis(lats, lons))


def instantaneous_field(
    element: str,
    level: str,
    valid_time: np.datetime64 | datetime,
    lats: FloatArray,
    lons: FloatArray,
) -> NDArray[np.float64]:
    """The smooth instantaneous value g(element, level, t) (float64) before sentinels/categories.

    Averages are exact means of this function; max/min are over its hourly samples.
    """
    return _instant_harmonic(element, level, lats, lons).at(_epoch_hours(valid_time))


def precipitation_rate(
    element: str, valid_time: np.datetime64 | datetime, lats: FloatArray, lons: FloatArray
) -> NDArray[np.float64]:
    """The non-negative rate (kg m-2 s-1) whose time integral is accumulation ``element``."""
    rate_element = _ACCUMULATED_RATES.get(element, (element, 1.0))[0]
    return _rate_harmonic(rate_element, lats, lons).at(_epoch_hours(valid_time))


def _epoch_hours(time: np.datetime64 | datetime) -> float:
    return (_as_datetime(time) - datetime(1970, 1, 1)) / timedelta(hours=1)


def synthetic_field(
    element: str,
    level: str,
    init_time: np.datetime64 | datetime,
    start_step: timedelta | None,
    end_step: timedelta,
    step_type: StepType,
    lats: NDArray[np.floating[Any]],
    lons: NDArray[np.floating[Any]],
) -> NDArray[np.float32]:
    """Deterministic, smooth synthetic values for a NOAA element over ``lats``/``lons``.

    Rules (t is valid time; windows run from init+start_step to init+end_step):

    - ``instant``: ``instantaneous_field`` at init+end_step, within realistic ranges (TMP
      ~252-308 K, PRES ~56-104 kPa, RH 22-98 %, UGRD/VGRD within +-25 m/s...).
    - ``accum`` (APCP, ACPCP and any other accumulation): the exact integral over the window of
      ``precipitation_rate`` (kg m-2 s-1) times seconds, so deaccumulating recovers the mean rate.
    - ``avg``: the exact mean of ``instantaneous_field`` over the window (for a zero-length
      window, the instantaneous value). PRATE/CPRAT averages equal APCP/ACPCP accumulations
      divided by the window's seconds.
    - ``max``/``min``: max/min of ``instantaneous_field`` over the hourly samples
      init+start_step, ..., init+end_step (TMAX/TMIN use TMP at the same level).
    - CRAIN/CSNOW/CICEP/CFRZR: instantaneous values are exactly 0 or 1 (the indicator
      ``instantaneous_field > 0``); their ``avg`` is the mean of the indicator over the hourly
      samples, a fraction in [0, 1].
    - CPOFP: percent frozen precipitation in [0, 100]; ``NO_PRECIPITATION_CPOFP`` (-50, NOAA's
      sentinel) where the APCP rate is below its centre value (no precipitation).
    - HGT at ``cloud ceiling``: 200-9000 m, ``NO_CEILING_HGT`` (20000 m, GFS's no-ceiling
      value) where the pattern is low.
    """
    lat = np.asarray(lats, dtype=np.float64)
    lon = np.asarray(lons, dtype=np.float64)
    if lat.shape != lon.shape:
        lat, lon = np.broadcast_arrays(lat, lon)
    init_hours = _epoch_hours(init_time)
    end = init_hours + end_step / timedelta(hours=1)
    start = end if start_step is None else init_hours + start_step / timedelta(hours=1)
    result: NDArray[np.float64]
    if element in _CATEGORICAL:
        samples = _hourly(start, end) if step_type == "avg" else [end]
        harmonic = _instant_harmonic(element, level, lat, lon)
        result = np.mean([harmonic.at(t) > 0 for t in samples], axis=0, dtype=np.float64)
    elif step_type == "accum":
        rate_element = _ACCUMULATED_RATES.get(element, (element, 1.0))[0]
        mean_rate = _rate_harmonic(rate_element, lat, lon).mean(start, end)
        result = mean_rate * ((end - start) * 3600.0)
    elif element == "CPOFP":
        precipitating = _rate_harmonic("PRATE", lat, lon).at(end) > _RATE_CENTRE
        frozen = np.clip(_instant_harmonic(element, level, lat, lon).at(end), 0.0, 100.0)
        result = np.where(precipitating, frozen, NO_PRECIPITATION_CPOFP)
    elif element == "HGT" and level == "cloud ceiling":
        # Clear and cloudy areas over every model's domain (CONUS included); ceilings stay
        # below 9000 m, clear of 9999, which eccodes' complex packing takes for missing.
        pattern = _harmonic("HGT", level, 0.0, 1.0, _basis(lat, lon)).at(end)
        ceiling = 200.0 + 8800.0 * (pattern - 0.2) / 0.8
        result = np.where(pattern > 0.2, ceiling, NO_CEILING_HGT)
    else:
        harmonic = _instant_harmonic(element, level, lat, lon)
        if step_type in ("max", "min"):
            stack = np.stack([harmonic.at(t) for t in _hourly(start, end)])
            result = stack.max(axis=0) if step_type == "max" else stack.min(axis=0)
        elif step_type == "avg":
            result = harmonic.mean(start, end)
        else:
            result = harmonic.at(end)
    return result.astype(np.float32)


def _hourly(start: float, end: float) -> Sequence[float]:
    count = round(end - start)
    return [start + hour for hour in range(count + 1)]
