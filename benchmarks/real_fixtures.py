"""The real provider GRIB2 messages of ``../shared/fixtures/real`` (or
``$REFORMATTERS_REAL_FIXTURES``), with what the decoder benchmarks group them by: source
(the fixture folder: gfs, gefs, hrrr, ecmwf, dwd, mrms, misc), packing (data representation
template) and whether a bitmap marks missing points."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj  # noqa: F401  (must be imported before eccodes, see the shared library facts)

from benchmarks.common import REPO_ROOT

REAL_FIXTURES_ENV = "REFORMATTERS_REAL_FIXTURES"
# Inventories and notes beside the GRIB files.
_NOT_GRIB = (".idx", ".index", ".md", ".json", ".txt")

# Data representation templates (code table 5.0) by eccodes' packingType.
PACKINGS: dict[str, str] = {
    "grid_simple": "5.0 simple",
    "grid_complex": "5.2 complex",
    "grid_complex_spatial_differencing": "5.3 complex + spatial differencing",
    "grid_ieee": "5.4 IEEE",
    "grid_jpeg": "5.40 JPEG 2000",
    "grid_png": "5.41 PNG",
    "grid_ccsds": "5.42 CCSDS (AEC)",
}


def fixtures_dir(configured: Path | None = None) -> Path:
    """``configured``, else ``$REFORMATTERS_REAL_FIXTURES``, else ../shared/fixtures/real."""
    if configured is None:
        from_env = os.environ.get(REAL_FIXTURES_ENV)
        configured = Path(from_env) if from_env else REPO_ROOT.parent / "shared/fixtures/real"
    if not configured.is_dir():
        raise SystemExit(
            f"real fixtures not found at {configured}; pass --fixtures or set {REAL_FIXTURES_ENV}"
        )
    return configured


@dataclass(frozen=True)
class FixtureMessage:
    """One GRIB2 message of a fixture file (its first field, as every decoder here reads it)."""

    source: str  # the fixture folder
    file: str  # path relative to the fixtures folder
    index: int  # message number in the file, from 0
    raw: bytes = b""
    packing: str = ""  # a PACKINGS label (or eccodes' packingType when unknown)
    bitmap: bool = False
    shape: tuple[int, ...] = ()  # pygrib's (Nj, Ni), or (points,) on unstructured grids
    alternative_rows: bool = False  # boustrophedonic scanning: pygrib reverses every other row

    @property
    def points(self) -> int:
        return int(np.prod(self.shape))

    @property
    def name(self) -> str:
        return f"{self.file}#{self.index}"


def _fixture_files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix not in _NOT_GRIB and not p.name.startswith(".")
    )


def fixture_messages(root: Path) -> list[FixtureMessage]:
    """Every GRIB2 message in the fixture files under ``root``, in file order."""
    import pygrib

    from reformatters.core.sources.grib_framing import scan_messages

    found: list[FixtureMessage] = []
    for path in _fixture_files(root):
        data = path.read_bytes()
        if b"GRIB" not in data[:4]:
            continue
        for index, (offset, length) in enumerate(scan_messages(data)):
            raw = data[offset : offset + length]
            if raw[7] != 2:  # GRIB1
                continue
            message = pygrib.fromstring(raw)
            packing = str(message["packingType"])
            found.append(
                FixtureMessage(
                    source=path.relative_to(root).parts[0],
                    file=str(path.relative_to(root)),
                    index=index,
                    raw=raw,
                    packing=PACKINGS.get(packing, packing),
                    bitmap=int(message["bitMapIndicator"]) == 0,
                    shape=tuple(message.values.shape),
                    alternative_rows=bool(_key(message, "alternativeRowScanning")),
                )
            )
    return found


def _key(message: Any, key: str) -> Any:
    return message[key] if message.has_key(key) else None


def decode_like_core(raw: bytes) -> npt.NDArray[np.float64]:
    """The production decode (``reformatters.core.sources.grib``): pygrib, float64, NaN exactly
    where the message marks a point missing (bitmap or missing-value management)."""
    import pygrib

    from reformatters.core.sources.grib import _values_with_missing_as_nan

    return _values_with_missing_as_nan(pygrib.fromstring(raw), "", "<benchmark>")
