"""Synthetic values of NOAA elements: deterministic, smooth and realistic in range.

Each element maps onto core's ``smooth_field`` patterns (``_RANGES``: centre and amplitude),
accumulations integrate a non-negative rate exactly, and the sentinels NOAA writes (no
precipitation in CPOFP, no cloud ceiling in HGT) appear where the patterns say.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reformatters.core.sources.smooth_field import (
    Harmonic,
    epoch_hours,
    grid_basis,
    hourly_samples,
    smooth_harmonic,
)
from reformatters.core.sources.synthesis import StepType
from reformatters.noaa.common.catalog import NO_CEILING_HGT, NO_PRECIPITATION_CPOFP

__all__ = ["instantaneous_field", "precipitation_rate", "synthetic_field"]

type FloatArray = NDArray[np.float64]

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


def _level_shift(element: str, level: str) -> float:
    if (element in _TEMPERATURES or element == "PRES") and level.endswith(" m above ground"):
        height = float(level.split(" ", maxsplit=1)[0].split("-", maxsplit=1)[0])
        return -0.0065 * height if element != "PRES" else -12.0 * height
    return 0.0


def _instant_harmonic(element: str, level: str, lats: FloatArray, lons: FloatArray) -> Harmonic:
    if element in ("TMAX", "TMIN"):
        element = "TMP"
    if element in ("PRATE", "CPRAT"):
        return _rate_harmonic(element, lats, lons)
    centre, amplitude = _RANGES.get(element, _DEFAULT_RANGE)
    shifted = centre + _level_shift(element, level)
    return smooth_harmonic(element, level, shifted, amplitude, grid_basis(lats, lons))


def _rate_harmonic(rate_element: str, lats: FloatArray, lons: FloatArray) -> Harmonic:
    scale = next((s for r, s in _ACCUMULATED_RATES.values() if r == rate_element), 1.0)
    centre = _RATE_CENTRE * scale
    return smooth_harmonic(rate_element, "surface", centre, 0.999 * centre, grid_basis(lats, lons))


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
    return _instant_harmonic(element, level, lats, lons).at(epoch_hours(valid_time))


def precipitation_rate(
    element: str, valid_time: np.datetime64 | datetime, lats: FloatArray, lons: FloatArray
) -> NDArray[np.float64]:
    """The non-negative rate (kg m-2 s-1) whose time integral is accumulation ``element``."""
    rate_element = _ACCUMULATED_RATES.get(element, (element, 1.0))[0]
    return _rate_harmonic(rate_element, lats, lons).at(epoch_hours(valid_time))


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
    init_hours = epoch_hours(init_time)
    end = init_hours + end_step / timedelta(hours=1)
    start = end if start_step is None else init_hours + start_step / timedelta(hours=1)
    result: NDArray[np.float64]
    if element in _CATEGORICAL:
        samples = hourly_samples(start, end) if step_type == "avg" else [end]
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
        pattern = smooth_harmonic("HGT", level, 0.0, 1.0, grid_basis(lat, lon)).at(end)
        ceiling = 200.0 + 8800.0 * (pattern - 0.2) / 0.8
        result = np.where(pattern > 0.2, ceiling, NO_CEILING_HGT)
    else:
        harmonic = _instant_harmonic(element, level, lat, lon)
        if step_type in ("max", "min"):
            stack = np.stack([harmonic.at(t) for t in hourly_samples(start, end)])
            result = stack.max(axis=0) if step_type == "max" else stack.min(axis=0)
        elif step_type == "avg":
            result = harmonic.mean(start, end)
        else:
            result = harmonic.at(end)
    return result.astype(np.float32)
