"""Read GRIB2 messages with pygrib and check that they are what the dataset expects.

A message is identified by its numeric GRIB2 codes (``GribIdentity``), never by description
strings or its position in the file, and its grid is checked against a ``GridSpec``.
``read_message`` returns a float32, C-contiguous 2-D array ``(Nj, Ni)`` in the file's scan order
(the grid's scanning mode decides whether rows run north to south or south to north).

Missing points are NaN wherever the message says a point is missing (a bitmap, or complex
packing's missing-value management with its primary and secondary substitutes) and wherever a
value equals one of the variable's declared sentinels. Nothing else is NaN: a legitimate 9999 in
a field that declares no missing points stays 9999.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from reformatters.core.sources.errors import CorruptMessageError, SourceError
from reformatters.core.sources.inventory import InventoryEntry

__all__ = [
    "NOAA_LEVELS",
    "NOAA_PARAMETERS",
    "GribDecodeError",
    "GribGridMismatchError",
    "GribIdentity",
    "GribIdentityMismatchError",
    "GridSpec",
    "build_noaa_inventory",
    "check_grid",
    "decode_message",
    "identity_of",
    "noaa_description",
    "noaa_identity",
    "read_message",
    "scan_messages",
]

type StepType = Literal["instant", "accum", "avg", "max", "min"] | str


class GribDecodeError(CorruptMessageError):
    """A message is truncated, corrupt or cannot be decoded."""


class GribIdentityMismatchError(SourceError):
    """A message is not the field the dataset expected (wrong parameter, level or step)."""


class GribGridMismatchError(SourceError):
    """A message's grid differs from the dataset's grid."""


@dataclass(frozen=True, slots=True)
class GribIdentity:
    """The GRIB2 codes that identify a field. ``None`` fields are not checked.

    ``surface_type`` is typeOfFirstFixedSurface (code table 4.5: 1 surface, 10 entire
    atmosphere, 100 isobaric, 101 mean sea level, 103 height above ground, 200 entire atmosphere
    as a single layer, 215 cloud ceiling). ``level`` is eccodes' ``level`` (hPa for isobaric,
    metres above ground for 103). ``step_type`` comes from typeOfStatisticalProcessing (0 avg,
    1 accum, 2 max, 3 min) or is ``instant`` for non-statistical templates; steps are the start
    and end of the statistical interval (equal for instantaneous fields). ``reference_time`` is
    the run the message belongs to (dataDate and dataTime, naive UTC): a stale or misfiled file
    holds another run's messages.
    """

    discipline: int
    parameter_category: int
    parameter_number: int
    surface_type: int | None = None
    level: float | None = None
    step_type: StepType | None = None
    start_step: timedelta | None = None
    end_step: timedelta | None = None
    reference_time: datetime | None = None

    def differences(self, actual: GribIdentity) -> list[str]:
        """Human-readable ``field: expected X, found Y`` for every checked field that differs."""
        problems: list[str] = []
        for spec in fields(self):
            expected = getattr(self, spec.name)
            found = getattr(actual, spec.name)
            if expected is None:
                continue
            if isinstance(expected, float) and isinstance(found, int | float):
                if abs(expected - found) > 1e-6:
                    problems.append(f"{spec.name}: expected {expected}, found {found}")
            elif expected != found:
                problems.append(f"{spec.name}: expected {expected}, found {found}")
        return problems


@dataclass(frozen=True, slots=True)
class GridSpec:
    """The expected grid. Latitudes/longitudes in degrees as GRIB stores them (lon 0..360).

    For regular lat/lon grids give first and last grid points; for Lambert conformal give
    the first point and the projection parameters (LoV, Latin1, Latin2, Dx, Dy in metres).
    """

    grid_type: str
    ni: int
    nj: int
    first_lat: float
    first_lon: float
    last_lat: float | None = None
    last_lon: float | None = None
    lov: float | None = None
    latin1: float | None = None
    latin2: float | None = None
    dx_m: float | None = None
    dy_m: float | None = None
    tolerance_deg: float = 1e-4


def scan_messages(data: bytes) -> list[tuple[int, int]]:
    """``(offset, length)`` of every GRIB message in ``data`` (for writing inventories)."""
    found: list[tuple[int, int]] = []
    position = data.find(b"GRIB")
    while position != -1 and position + 16 <= len(data):
        edition = data[position + 7]
        if edition == 2:
            length = int.from_bytes(data[position + 8 : position + 16], "big")
        elif edition == 1:
            length = int.from_bytes(data[position + 4 : position + 7], "big")
        else:
            raise ValueError(f"unknown GRIB edition {edition} at byte {position}")
        found.append((position, length))
        position = data.find(b"GRIB", position + length)
    return found


def _product_sections(message: bytes) -> list[bytes]:
    """Every section 4 (product definition) of a GRIB2 message, one per field.

    A message can hold several fields (sections 2-7 or 3-7 or 4-7 repeated, as in the GFS
    2.5-degree U/V pairs; wgrib2 lists them as sub-messages ``4.1``, ``4.2``).
    """
    found: list[bytes] = []
    position = 16
    while position + 5 <= len(message) and message[position : position + 4] != b"7777":
        length = int.from_bytes(message[position : position + 4], "big")
        if length < 5:
            break
        if message[position + 4] == 4:
            found.append(message[position : position + length])
        position += length
    return found


def _decode_fields(raw: bytes) -> list[tuple[Any, bytes | None]]:
    """pygrib messages for every field in ``raw`` with each field's section 4."""
    # Imported here: the process that plans and downloads (the worker processes decode) then
    # starts without pygrib, eccodes and pyproj (90 ms before its first download).
    import pygrib

    sections: list[bytes | None] = [*_product_sections(raw)]
    if len(sections) <= 1:
        return [(pygrib.fromstring(raw), sections[0] if sections else None)]
    # pygrib.fromstring decodes only the first field of a multi-field message.
    with tempfile.NamedTemporaryFile(suffix=".grib2") as handle:
        handle.write(raw)
        handle.flush()
        grbs = pygrib.open(handle.name)
        try:
            fields_found = list(grbs)
        finally:
            grbs.close()
    return list(zip(fields_found, sections, strict=False))


_STAT_NAMES: Mapping[int, str] = {0: "avg", 1: "accum", 2: "max", 3: "min"}
_STEP_UNITS: Mapping[str, timedelta] = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "D": timedelta(days=1),
}


def _step(value: Any) -> timedelta:
    # pygrib gives whole hours as int and other units as strings such as "15m".
    if isinstance(value, int):
        return timedelta(hours=value)
    match = re.fullmatch(r"(-?\d+)([smhD]?)", str(value))
    if match is None:
        raise ValueError(f"unrecognised GRIB step {value!r}")
    return int(match.group(1)) * _STEP_UNITS[match.group(2) or "h"]


def identity_of(message: Any, section4: bytes | None) -> GribIdentity:
    """The identity of a decoded pygrib field (``section4``: its raw product definition)."""
    # pygrib returns code-table keys as (ambiguous) abbreviations: read the code from octet 23.
    surface_type = section4[22] if section4 is not None and len(section4) > 22 else None
    if message.has_key("typeOfStatisticalProcessing"):
        code = int(message["typeOfStatisticalProcessing"])
        step_type = _STAT_NAMES.get(code, f"statistical-{code}")
    else:
        step_type = "instant"
    return GribIdentity(
        discipline=int(message["discipline"]),
        parameter_category=int(message["parameterCategory"]),
        parameter_number=int(message["parameterNumber"]),
        surface_type=surface_type,
        level=float(message["level"]),
        step_type=step_type,
        start_step=_step(message["startStep"]),
        end_step=_step(message["endStep"]),
        reference_time=datetime.strptime(
            f"{int(message['dataDate']):08d}{int(message['dataTime']):04d}", "%Y%m%d%H%M"
        ),
    )


def _size(message: Any, key: str, alternative: str) -> int:
    return int(message[key] if message.has_key(key) else message[alternative])


def check_grid(message: Any, grid: GridSpec, where: str, url: str = "") -> None:
    """Raise ``GribGridMismatchError`` (naming ``where``) if the message's grid differs."""
    problems: list[str] = []

    def compare(name: str, key: str, expected: float | None, tolerance: float) -> None:
        if expected is None:
            return
        found = float(message[key]) if message.has_key(key) else None
        if found is None or abs(found - expected) > tolerance:
            problems.append(f"{name}: expected {expected}, found {found}")

    if message["gridType"] != grid.grid_type:
        problems.append(f"grid_type: expected {grid.grid_type}, found {message['gridType']}")
    for name, found_size, value in (
        ("ni", _size(message, "Ni", "Nx"), grid.ni),
        ("nj", _size(message, "Nj", "Ny"), grid.nj),
    ):
        if found_size != value:
            problems.append(f"{name}: expected {value}, found {found_size}")
    tol = grid.tolerance_deg
    compare("first_lat", "latitudeOfFirstGridPointInDegrees", grid.first_lat, tol)
    compare("first_lon", "longitudeOfFirstGridPointInDegrees", grid.first_lon, tol)
    compare("last_lat", "latitudeOfLastGridPointInDegrees", grid.last_lat, tol)
    compare("last_lon", "longitudeOfLastGridPointInDegrees", grid.last_lon, tol)
    compare("lov", "LoVInDegrees", grid.lov, tol)
    compare("latin1", "Latin1InDegrees", grid.latin1, tol)
    compare("latin2", "Latin2InDegrees", grid.latin2, tol)
    compare("dx_m", "DxInMetres", grid.dx_m, 1e-3)
    compare("dy_m", "DyInMetres", grid.dy_m, 1e-3)
    if problems:
        raise GribGridMismatchError(
            url or where,
            f"{where}: grid differs from the dataset's grid: {'; '.join(problems)}. The provider "
            "may have changed its grid; the dataset's template must be updated before reading.",
        )


def _message_bytes(source: Path | bytes, offset: int) -> bytes:
    if isinstance(source, Path):
        with source.open("rb") as handle:
            handle.seek(offset)
            header = handle.read(16)
            if len(header) == 16 and header[:4] == b"GRIB" and header[7] == 2:
                length = int.from_bytes(header[8:16], "big")
                return header + handle.read(length - 16)
            return header
    if len(source) >= offset + 16 and source[offset : offset + 4] == b"GRIB":
        return source[offset : offset + int.from_bytes(source[offset + 8 : offset + 16], "big")]
    return source[offset : offset + 16]


def read_message(
    source: Path | bytes,
    offset: int = 0,
    *,
    expected: GribIdentity,
    grid: GridSpec | None = None,
    url: str | None = None,
    missing_values: Sequence[float] = (),
) -> npt.NDArray[np.float32]:
    """Decode the GRIB2 message at ``offset`` of ``source`` (a file or bytes) and check it.

    ``url`` names the data's origin in error messages (defaults to the path). Returns a
    float32 C-contiguous ``(Nj, Ni)`` array in the file's scan order, missing points (and
    values equal to one of ``missing_values``) as NaN.
    """
    values = decode_message(
        source, offset, expected=expected, grid=grid, url=url, missing_values=missing_values
    )
    return np.ascontiguousarray(values, dtype=np.float32)


def decode_message(
    source: Path | bytes,
    offset: int = 0,
    *,
    expected: GribIdentity,
    grid: GridSpec | None = None,
    url: str | None = None,
    missing_values: Sequence[float] = (),
) -> npt.NDArray[np.floating[Any]]:
    """``read_message`` as decoded, in eccodes' precision (float64): for callers that copy the
    field anyway (e.g. into an output layout), where a float32 copy first would be one more
    pass over every field. Missing points are NaN: those the message marks missing, and those
    equal to one of ``missing_values`` (the variable's declared sentinels)."""
    origin = url or (str(source) if isinstance(source, Path) else "<bytes>")
    where = f"{origin} message at byte {offset}"
    raw = _message_bytes(source, offset)
    if raw[:4] != b"GRIB" or len(raw) < 16 or raw[7] != 2:
        raise GribDecodeError(
            origin, f"{where}: not the start of a GRIB2 message ({raw[:8]!r}); re-download it."
        )
    declared = int.from_bytes(raw[8:16], "big")
    if len(raw) != declared or raw[-4:] != b"7777":
        raise GribDecodeError(
            origin,
            f"{where}: truncated GRIB2 message ({len(raw)} of {declared} bytes, ends with "
            f"{raw[-4:]!r}); the source file is incomplete or corrupt, re-download it.",
        )
    problems: list[str] = []
    try:
        for candidate, section4 in _decode_fields(raw):
            field_problems = expected.differences(identity_of(candidate, section4))
            if not field_problems:
                message = candidate
                break
            problems.extend(field_problems)
        else:
            raise GribIdentityMismatchError(
                origin,
                f"{where} is not the expected field: {'; '.join(problems)}. The inventory and "
                "the message disagree or the provider changed its encoding; check the source.",
            )
        if grid is not None:
            check_grid(message, grid, where, origin)
        data = _values_with_missing_as_nan(message, where, origin)
    except (RuntimeError, OSError, ValueError, KeyError, TypeError) as error:
        raise GribDecodeError(
            origin, f"{where}: cannot decode GRIB2 message: {error}; the file may be corrupt."
        ) from error
    for sentinel in missing_values:
        data[data == sentinel] = np.nan
    expected_shape = (_size(message, "Nj", "Ny"), _size(message, "Ni", "Nx"))
    if data.shape != expected_shape:
        raise GribDecodeError(
            origin, f"{where}: decoded shape {data.shape} differs from the grid {expected_shape}"
        )
    return data


# What eccodes writes at every missing point instead of its default missingValue (9999, a value
# real fields hold: a 9999 m ceiling, 9999 J kg-1 of CAPE). No field comes near -2**62, and
# pygrib sets this key as a C long because it reads back as an int.
_MISSING_SENTINEL = -(2**62)


def _values_with_missing_as_nan(message: Any, where: str, origin: str) -> npt.NDArray[np.float64]:
    """The field as eccodes decodes it (float64), NaN exactly where the message says a point is
    missing: a bitmap, or missing-value management (templates 5.2/5.3, primary and secondary
    substitutes). Checked against the message's own count of missing points."""
    message["missingValue"] = _MISSING_SENTINEL
    data: npt.NDArray[np.float64] = np.ma.getdata(message.values)
    missing = data == _MISSING_SENTINEL
    count = int(np.count_nonzero(missing))
    declared = int(message["numberOfMissing"]) if message.has_key("numberOfMissing") else count
    if count != declared:
        raise GribDecodeError(
            origin,
            f"{where}: {count} points decoded as missing but the message declares {declared}; "
            "the message may be corrupt.",
        )
    if count:
        data[missing] = np.nan
    return data


# NOAA wgrib2 element names -> (discipline, parameterCategory, parameterNumber) as GFS, GEFS and
# HRRR encode them. NCEP uses local codes (>= 192) for several fields (checked against real files).
NOAA_PARAMETERS: Mapping[str, tuple[int, int, int]] = {
    "TMP": (0, 0, 0),
    "TMAX": (0, 0, 4),
    "TMIN": (0, 0, 5),
    "DPT": (0, 0, 6),
    "SPFH": (0, 1, 0),
    "RH": (0, 1, 1),
    "PWAT": (0, 1, 3),
    "PRATE": (0, 1, 7),
    "APCP": (0, 1, 8),
    "ACPCP": (0, 1, 10),
    "SNOD": (0, 1, 11),
    "WEASD": (0, 1, 13),
    "CPOFP": (0, 1, 39),
    "CRAIN": (0, 1, 192),
    "CFRZR": (0, 1, 193),
    "CICEP": (0, 1, 194),
    "CSNOW": (0, 1, 195),
    "WDIR": (0, 2, 0),
    "WIND": (0, 2, 1),
    "UGRD": (0, 2, 2),
    "VGRD": (0, 2, 3),
    "GUST": (0, 2, 22),
    "PRES": (0, 3, 0),
    "PRMSL": (0, 3, 1),
    "HGT": (0, 3, 5),
    "MSLET": (0, 3, 192),
    "MSLMA": (0, 3, 198),
    "DSWRF": (0, 4, 192),
    "USWRF": (0, 4, 193),
    "DLWRF": (0, 5, 192),
    "ULWRF": (0, 5, 193),
    "TCDC": (0, 6, 1),
    "CAPE": (0, 7, 6),
    "CIN": (0, 7, 7),
    "REFC": (0, 16, 196),
    "VIS": (0, 19, 0),
    "SOILW": (2, 0, 192),
}

# wgrib2 level descriptions -> typeOfFirstFixedSurface; "N <unit>" levels are parsed separately.
NOAA_LEVELS: Mapping[str, int] = {
    "surface": 1,
    "cloud base": 2,
    "cloud top": 3,
    "entire atmosphere": 10,
    "mean sea level": 101,
    "entire atmosphere (considered as a single layer)": 200,
    "cloud ceiling": 215,
}
_NUMBERED_LEVELS: Mapping[str, int] = {
    "m above ground": 103,
    "mb": 100,
    "m above mean sea level": 102,
}
_FORECAST_UNITS: Mapping[str, timedelta] = {
    "min": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
_FORECAST_STATS: Mapping[str, str] = {"acc": "accum", "ave": "avg", "max": "max", "min": "min"}


def noaa_identity(
    element: str,
    level: str,
    forecast: str,
    *,
    parameter: tuple[int, int, int] | None = None,
    reference_time: datetime | None = None,
) -> GribIdentity:
    """The GribIdentity a NOAA ``.idx`` line (element, level, forecast description) describes.

    ``parameter`` overrides the (discipline, category, number) from ``NOAA_PARAMETERS``, for
    models that encode an element differently (e.g. WMO DSWRF 0/4/7 instead of NCEP's 0/4/192).
    ``reference_time`` is the run the message must belong to (unchecked if None).
    """
    codes = parameter or NOAA_PARAMETERS.get(element)
    if codes is None:
        raise KeyError(f"no GRIB2 codes known for NOAA element {element!r}; pass parameter=")
    surface_type: int | None
    level_value: float | None
    if level in NOAA_LEVELS:
        surface_type, level_value = NOAA_LEVELS[level], 0.0
    else:
        match = re.fullmatch(r"([-\d.]+) (.+)", level)
        if match is None or match.group(2) not in _NUMBERED_LEVELS:
            raise KeyError(f"unsupported NOAA level description {level!r}")
        surface_type, level_value = _NUMBERED_LEVELS[match.group(2)], float(match.group(1))
    if forecast == "anl":
        step_type: str = "instant"
        start = end = timedelta(0)
    elif match_instant := re.fullmatch(r"(\d+) (min|hour|day) fcst", forecast):
        step_type = "instant"
        start = end = int(match_instant.group(1)) * _FORECAST_UNITS[match_instant.group(2)]
    elif match_stat := re.fullmatch(r"(\d+)-(\d+) (min|hour|day) (acc|ave|max|min) fcst", forecast):
        unit = _FORECAST_UNITS[match_stat.group(3)]
        step_type = _FORECAST_STATS[match_stat.group(4)]
        start, end = int(match_stat.group(1)) * unit, int(match_stat.group(2)) * unit
    else:
        raise KeyError(f"unsupported NOAA forecast description {forecast!r}")
    return GribIdentity(
        discipline=codes[0],
        parameter_category=codes[1],
        parameter_number=codes[2],
        surface_type=surface_type,
        level=level_value,
        step_type=step_type,
        start_step=start,
        end_step=end,
        reference_time=reference_time,
    )


_SURFACE_NAMES: Mapping[int, str] = {code: name for name, code in NOAA_LEVELS.items()}
_NUMBERED_NAMES: Mapping[int, str] = {code: name for name, code in _NUMBERED_LEVELS.items()}
_ELEMENT_NAMES: Mapping[tuple[int, int, int], str] = {
    codes: name for name, codes in NOAA_PARAMETERS.items()
}
_STAT_ABBREVIATIONS: Mapping[str, str] = {name: abbr for abbr, name in _FORECAST_STATS.items()}


def _format_step(step: timedelta) -> tuple[int, str]:
    seconds = int(step.total_seconds())
    if seconds % 3600 == 0:
        return seconds // 3600, "hour"
    return seconds // 60, "min"


def noaa_description(identity: GribIdentity) -> tuple[str, str, str]:
    """The wgrib2-style (element, level, forecast) of an identity; inverse of ``noaa_identity``.

    Unknown parameters are written the way wgrib2 does (``var discipline=0 ...``-like).
    """
    codes = (identity.discipline, identity.parameter_category, identity.parameter_number)
    element = _ELEMENT_NAMES.get(codes) or (
        f"var discipline={codes[0]} parmcat={codes[1]} parm={codes[2]}"
    )
    level_value = identity.level or 0.0
    surface = identity.surface_type if identity.surface_type is not None else -1
    if surface in _SURFACE_NAMES:
        level = _SURFACE_NAMES[surface]
    elif surface in _NUMBERED_NAMES:
        level = f"{level_value:g} {_NUMBERED_NAMES[surface]}"
    else:
        level = f"level type {surface} value {level_value:g}"
    start = identity.start_step or timedelta(0)
    end = identity.end_step or start
    if identity.step_type in (None, "instant"):
        if end == timedelta(0):
            forecast = "anl"
        else:
            amount, unit = _format_step(end)
            forecast = f"{amount} {unit} fcst"
    else:
        start_amount, unit = _format_step(start)
        end_amount, end_unit = _format_step(end)
        if unit != end_unit:
            start_amount, end_amount, unit = (
                int(start.total_seconds() // 60),
                int(end.total_seconds() // 60),
                "min",
            )
        abbreviation = _STAT_ABBREVIATIONS.get(str(identity.step_type), str(identity.step_type))
        forecast = f"{start_amount}-{end_amount} {unit} {abbreviation} fcst"
    return element, level, forecast


def build_noaa_inventory(data: bytes) -> list[InventoryEntry]:
    """A wgrib2-style inventory of every GRIB2 message in ``data`` (we have no wgrib2 binary).

    Write it with ``format_noaa_idx``. Descriptions follow wgrib2's for the elements and levels
    in ``NOAA_PARAMETERS``/``NOAA_LEVELS``; others get a generic but unique description.
    """
    spans = scan_messages(data)
    entries: list[InventoryEntry] = []
    for number, (offset, length) in enumerate(spans, start=1):
        raw = data[offset : offset + length]
        try:
            decoded = _decode_fields(raw)
        except (RuntimeError, OSError, ValueError, KeyError, TypeError) as error:
            raise GribDecodeError(
                "<bytes>", f"message {number} at byte {offset} cannot be decoded: {error}"
            ) from error
        next_offset = spans[number][0] if number < len(spans) else offset + length
        for field_number, (message, section4) in enumerate(decoded, start=1):
            element, level, forecast = noaa_description(identity_of(message, section4))
            date, time = int(message["dataDate"]), int(message["dataTime"])
            entries.append(
                InventoryEntry(
                    message=f"{number}.{field_number}" if len(decoded) > 1 else str(number),
                    offset=offset,
                    reference_time=f"{date:08d}{time // 100:02d}",
                    element=element,
                    level=level,
                    forecast=forecast,
                    end=next_offset,
                )
            )
    return entries
