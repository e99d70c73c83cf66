"""Write synthetic GRIB2 files on a provider's grid, for offline tests and demos.

``write_grib_file`` encodes a sequence of ``MessageSpec`` into one GRIB2 file with pygrib,
starting from a ``GridTemplate`` (a one-message template that carries the grid and packing, e.g.
GRIB2 data template 5.3, complex packing with second-order spatial differencing), and hands the
real byte offsets to an inventory writer for the provider's inventory format. Both files are
written atomically, the data file first.

Packing precision: eccodes' complex packer always chooses the binary scale factor itself (it
resets the decimal scale factor to 0), so precision is controlled through ``bitsPerValue``. Each
filled message is packed with a step of ``packing_precision(values)`` = 2**(ceil(log2(max|v|))
- 16), i.e. about 16 significant bits relative to the field's largest magnitude; decoded values
differ from the float32 input by at most ``packing_tolerance(values)`` (half a step).

A message whose ``values`` is ``None`` is *filler*: it keeps the template's constant field (0
bits per value), so writing a file of several hundred messages costs little while the real
message order and identities are kept.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from reformatters.core.sources.grib_identity import EnsembleRole
from reformatters.core.sources.grid_templates import GridTemplate

__all__ = [
    "STEP_TYPE_OF_PROCESS",
    "FixedSurface",
    "InventoryWriter",
    "MessageSpec",
    "StatisticalProcess",
    "StepType",
    "SyntheticIdentity",
    "WrittenMessage",
    "as_datetime",
    "encode_message",
    "packing_precision",
    "packing_tolerance",
    "write_grib_file",
    "write_in_processes",
]

type StepType = Literal["instant", "accum", "avg", "max", "min"]

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

    ``element``/``level``/``forecast`` describe it in the inventory written beside the file.
    Instantaneous messages have ``statistic=None`` and use product template 4.0 with forecastTime =
    ``end_step``; statistical windows use template 4.8 over [``start_step``, ``end_step``].
    With ``ensemble`` the templates are the ensemble ones: 4.1/4.11 for a member, 4.2/4.12 for a
    statistic over the members (``EnsembleRole("derived", n)``); ``ensemble_size`` is the
    number of forecasts the provider says the ensemble has.
    ``values`` (2-D, the grid's shape) or ``None`` for filler. NaN values are missing points,
    encoded as ``missing_encoding`` says: a bitmap, or complex packing's missing-value
    management (template 5.3, no bitmap; some providers' usual encoding).
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
    ensemble: EnsembleRole | None = None
    ensemble_size: int = 1
    # The unit steps are encoded in (code table 4.4): hours (1) or minutes (0, some providers).
    step_unit: Literal["hour", "minute"] = "hour"

    @property
    def product_template(self) -> int:
        """Code table 4.0: 0/8 deterministic, 1/11 an ensemble member, 2/12 a derived field."""
        if self.ensemble is None:
            return 0 if self.statistic is None else 8
        if self.ensemble.kind == "derived":
            return 2 if self.statistic is None else 12
        return 1 if self.statistic is None else 11

    @property
    def step_type(self) -> StepType:
        return "instant" if self.statistic is None else STEP_TYPE_OF_PROCESS[self.statistic]


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


def as_datetime(time: np.datetime64 | datetime) -> datetime:
    if isinstance(time, datetime):
        return time
    seconds = time.astype("datetime64[s]").astype(np.int64)
    return datetime(1970, 1, 1) + timedelta(seconds=int(seconds))


_STEP_UNITS = {"hour": (timedelta(hours=1), 1), "minute": (timedelta(minutes=1), 0)}


def _in_unit(step: timedelta, unit: Literal["hour", "minute"]) -> int:
    count, remainder = divmod(step, _STEP_UNITS[unit][0])
    if remainder:
        raise ValueError(f"steps must be whole {unit}s, got {step}")
    return int(count)


def encode_message(
    spec: MessageSpec, grid: GridTemplate, init_time: np.datetime64 | datetime
) -> bytes:
    """Encode one message on ``grid`` (see ``MessageSpec``)."""
    import pygrib

    reference = as_datetime(init_time)
    message = pygrib.fromstring(grid.base_message(spec.product_template))
    identity = spec.identity
    if identity.local_tables_version is not None:
        message["localTablesVersion"] = identity.local_tables_version
    message["discipline"] = identity.discipline
    message["parameterCategory"] = identity.parameter_category
    message["parameterNumber"] = identity.parameter_number
    _set_surface(message, "First", identity.first_surface)
    if identity.second_surface is not None:
        _set_surface(message, "Second", identity.second_surface)
    if spec.ensemble is not None:
        _set_ensemble(message, spec.ensemble, spec.ensemble_size)
    message["dataDate"] = int(reference.strftime("%Y%m%d"))
    message["dataTime"] = int(reference.strftime("%H%M"))
    end_count = _in_unit(spec.end_step, spec.step_unit)
    unit_code = _STEP_UNITS[spec.step_unit][1]
    if spec.step_unit != "hour":
        _set_code(message, "indicatorOfUnitForForecastTime", unit_code)
    if spec.statistic is None:
        message["forecastTime"] = end_count
    else:
        start = spec.start_step if spec.start_step is not None else timedelta(0)
        start_count = _in_unit(start, spec.step_unit)
        end = reference + spec.end_step
        message["forecastTime"] = start_count
        _set_code(message, "typeOfStatisticalProcessing", int(spec.statistic))
        _set_code(message, "typeOfTimeIncrement", 2)
        if spec.step_unit != "hour":
            _set_code(message, "indicatorOfUnitForTimeRange", unit_code)
        message["lengthOfTimeRange"] = end_count - start_count
        message["yearOfEndOfOverallTimeInterval"] = end.year
        message["monthOfEndOfOverallTimeInterval"] = end.month
        message["dayOfEndOfOverallTimeInterval"] = end.day
        message["hourOfEndOfOverallTimeInterval"] = end.hour
        message["minuteOfEndOfOverallTimeInterval"] = end.minute
        message["secondOfEndOfOverallTimeInterval"] = 0
    if spec.values is not None:
        _set_values(message, spec.values, grid, spec.missing_encoding)
    return bytes(message.tostring())


def _set_ensemble(message: Any, role: EnsembleRole, size: int) -> None:
    assert role.kind != "member", "a synthesized message names its member's type"
    if role.kind == "derived":
        _set_code(message, "derivedForecast", role.number)
    else:
        _set_code(message, "typeOfEnsembleForecast", role.kind)
        message["perturbationNumber"] = role.number
    message["numberOfForecastsInEnsemble"] = size


def _set_code(message: Any, key: str, code: int) -> None:
    # pygrib picks the setter from the key's current Python type: code-table keys that hold a
    # known code read back as strings and must be set with a string, missing ones as integers.
    message[key] = str(code) if isinstance(message[key], str) else code


def _set_surface(message: Any, which: Literal["First", "Second"], surface: FixedSurface) -> None:
    _set_code(message, f"typeOf{which}FixedSurface", surface.type)
    message[f"scaleFactorOf{which}FixedSurface"] = surface.scale_factor
    scaled = surface.scaled_value
    if scaled < 0:
        # GRIB2 stores negative scaled values in sign-magnitude form (as providers do for
        # PV=-2e-06); eccodes treats the octets as unsigned.
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


@dataclass(frozen=True, slots=True)
class WrittenMessage:
    """A message as written: its spec and its byte range in the file."""

    spec: MessageSpec
    offset: int
    length: int


type InventoryWriter = Callable[[Sequence[WrittenMessage]], tuple[Path, str]]
"""Given the written messages, the path and text of the inventory to write beside the file."""


def write_grib_file(
    path: Path,
    messages: Iterable[MessageSpec],
    *,
    init_time: np.datetime64 | datetime,
    grid: GridTemplate,
    inventory: InventoryWriter | None = None,
) -> list[WrittenMessage]:
    """Write ``messages`` to ``path`` and, with ``inventory``, the inventory it describes.

    Both files appear atomically (written to a temporary name, then renamed), the data file
    first: whoever sees the new inventory finds the matching file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    written: list[WrittenMessage] = []
    suffix = f"{os.getpid()}.{threading.get_ident()}.tmp"
    temporary = path.with_name(f".{path.name}.{suffix}")
    temporary_inventory: Path | None = None
    try:
        offset = 0
        with temporary.open("wb") as out:
            for spec in messages:
                encoded = encode_message(spec, grid, init_time)
                out.write(encoded)
                written.append(WrittenMessage(spec, offset, len(encoded)))
                offset += len(encoded)
        if inventory is not None:
            inventory_path, text = inventory(written)
            temporary_inventory = inventory_path.with_name(f".{inventory_path.name}.{suffix}")
            temporary_inventory.write_text(text)
            temporary.replace(path)
            temporary_inventory.replace(inventory_path)
        else:
            temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
        if temporary_inventory is not None:
            temporary_inventory.unlink(missing_ok=True)
    return written


def write_in_processes[*Args](
    write: Callable[[*Args], Path], jobs: Sequence[tuple[*Args]], workers: int | None = None
) -> list[Path]:
    """``write(*job)`` for every job, in order, in up to ``workers`` processes (default: one
    per core); one process writes them in this one. Synthesized mirrors write many large files."""
    workers = workers or min(len(jobs), os.cpu_count() or 1) or 1
    if workers == 1:
        return [write(*job) for job in jobs]
    # forkserver: callers (tests, the CLI, servers, obstore) may have threads running; fork
    # would copy their locks and can deadlock.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(write, *job) for job in jobs]
        return [f.result() for f in futures]
