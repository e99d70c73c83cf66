"""What a GRIB2 message is: its identity (numeric codes) and its grid, and checks of both.

A message is identified by its numeric GRIB2 codes (``GribIdentity``), never by description
strings or its position in the file, and its grid is checked against a ``GridSpec``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Literal

from reformatters.core.sources.errors import SourceError

__all__ = [
    "EnsembleRole",
    "GribGridMismatchError",
    "GribIdentity",
    "GribIdentityMismatchError",
    "GridSpec",
    "StepType",
    "check_grid",
    "identity_of",
    "product_sections",
    "size_of",
]

type StepType = Literal["instant", "accum", "avg", "max", "min"] | str


class GribIdentityMismatchError(SourceError):
    """A message is not the field the dataset expected (wrong parameter, level or step)."""


class GribGridMismatchError(SourceError):
    """A message's grid differs from the dataset's grid."""


@dataclass(frozen=True, slots=True)
class EnsembleRole:
    """Which field of an ensemble a message holds: one member (``kind`` from code table 4.6: 0/1
    control, 2/3 perturbed; ``number`` the perturbation number) or a statistic over the members
    (``kind`` ``derived``, ``number`` from code table 4.7: 0 unweighted mean, 2 standard
    deviation, 4 spread). As an expectation, ``kind`` ``member`` is any individual member with
    that perturbation number, whatever its code table 4.6 type (for providers whose type codes
    are not documented, or differ between control and perturbed members)."""

    kind: int | Literal["derived", "member"]
    number: int

    def __str__(self) -> str:
        if self.kind == "derived":
            return f"ensemble statistic {self.number} (code table 4.7)"
        if self.kind == "member":
            return f"ensemble member {self.number} (any type of code table 4.6)"
        return f"ensemble member {self.number} (type {self.kind}, code table 4.6)"

    def accepts(self, found: EnsembleRole | None) -> bool:
        """Whether a message's role ``found`` is this expected role."""
        if self.kind == "member":
            return found is not None and found.kind != "derived" and found.number == self.number
        return found == self


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
    holds another run's messages. ``ensemble`` is the member a message of an ensemble belongs to
    (product templates 4.1/4.11: code table 4.6's type and the perturbation number) or the
    statistic over its members (4.2/4.12: ``derived-N`` with N from code table 4.7, 0 the mean);
    None in a deterministic model's messages.
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
    ensemble: EnsembleRole | None = None

    def differences(self, actual: GribIdentity) -> list[str]:
        """Human-readable ``field: expected X, found Y`` for every checked field that differs."""
        problems: list[str] = []
        for spec in fields(self):
            expected = getattr(self, spec.name)
            found = getattr(actual, spec.name)
            if expected is None:
                continue
            if isinstance(expected, EnsembleRole):
                if not expected.accepts(found):
                    problems.append(f"{spec.name}: expected {expected}, found {found}")
            elif isinstance(expected, float) and isinstance(found, int | float):
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

    @classmethod
    def regular_ll(
        cls, ni: int, nj: int, first: tuple[float, float], last: tuple[float, float]
    ) -> GridSpec:
        """A regular lat/lon grid of ``ni`` columns and ``nj`` rows from the ``first`` to the
        ``last`` (latitude, longitude) point, as the messages declare them."""
        return cls("regular_ll", ni, nj, first[0], first[1], last[0], last[1])

    @classmethod
    def global_ll(cls, step_deg: float, first_lon: float = 0.0) -> GridSpec:
        """A global regular lat/lon grid of ``step_deg``: rows from 90 to -90, a full circle of
        columns starting ``first_lon`` degrees east."""
        ni, nj = round(360 / step_deg), round(180 / step_deg) + 1
        return cls.regular_ll(ni, nj, (90.0, first_lon), (-90.0, (first_lon - step_deg) % 360))


def product_sections(message: bytes) -> list[bytes]:
    """Every section 4 (product definition) of a GRIB2 message, one per field.

    A message can hold several fields (sections 2-7 or 3-7 or 4-7 repeated, as in U/V pairs
    of some coarse global products; wgrib2 lists them as sub-messages ``4.1``, ``4.2``).
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
    ensemble = None
    if message.has_key("perturbationNumber"):
        ensemble = EnsembleRole(
            int(message["typeOfEnsembleForecast"]), int(message["perturbationNumber"])
        )
    elif message.has_key("derivedForecast"):
        ensemble = EnsembleRole("derived", int(message["derivedForecast"]))
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
        ensemble=ensemble,
    )


def size_of(message: Any, key: str, alternative: str) -> int:
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
        ("ni", size_of(message, "Ni", "Nx"), grid.ni),
        ("nj", size_of(message, "Nj", "Ny"), grid.nj),
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
