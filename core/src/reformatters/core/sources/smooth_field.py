"""Smooth, deterministic synthetic fields on any grid, with exact window statistics.

``smooth_harmonic(name, level, centre, amplitude, basis)`` is a pattern within
``centre +- amplitude`` whose time dependence is a sum of sinusoids (a daily and a 4-day cycle),
so its mean over any window has a closed form (``Harmonic.mean``) and sampled maxima and minima
are cheap. A provider package maps its variables onto such patterns.
"""

from __future__ import annotations

import math
import tomllib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from reformatters.core.sources.synthesis import as_datetime

__all__ = [
    "Basis",
    "Harmonic",
    "epoch_hours",
    "grid_basis",
    "hourly_samples",
    "smooth_harmonic",
]

type FloatArray = NDArray[np.float64]

_OMEGAS = (2 * math.pi / 24.0, 2 * math.pi / 96.0)  # diurnal and 4-day cycles, per hour
_CYCLE_WEIGHTS = (0.2, 0.1)


@dataclass(frozen=True, slots=True)
class Basis:
    """Trigonometric functions of a grid's latitudes and longitudes, computed once per grid."""

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
class Harmonic:
    """g(t) = a + cos(lat) sum_k w_k A [cos(lon + k s) sin(W_k t) + sin(lon + k s) cos(W_k t)].

    t is in hours since 1970; the time factors collapse to two scalars per evaluation.
    """

    a: FloatArray
    basis: Basis
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


def _seed(*parts: str) -> float:
    return (zlib.crc32("|".join(parts).encode()) % 10_000) / 10_000 * 2 * math.pi


_BASES: list[tuple[FloatArray, FloatArray, Basis]] = []


def grid_basis(lats: FloatArray, lons: FloatArray) -> Basis:
    # Trigonometry on a full grid dominates field synthesis; reuse it for the same coordinate
    # arrays (GridTemplate returns the same objects every time).
    for known_lats, known_lons, basis in _BASES:
        if known_lats is lats and known_lons is lons:
            return basis
    lat = np.deg2rad(lats)
    lon = np.deg2rad(lons)
    cos_lat, sin_lon, cos_lon = np.cos(lat), np.sin(lon), np.cos(lon)
    basis = Basis(
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


def smooth_harmonic(
    name: str, level: str, centre: float, amplitude: float, basis: Basis
) -> Harmonic:
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
    return Harmonic(spatial, basis, amplitude, s)


def epoch_hours(time: np.datetime64 | datetime) -> float:
    """Hours since 1970-01-01 (naive UTC), the time axis of every ``Harmonic``."""
    return (as_datetime(time) - datetime(1970, 1, 1)) / timedelta(hours=1)


def hourly_samples(start: float, end: float) -> Sequence[float]:
    """Whole hours from ``start`` to ``end`` (epoch hours), both included."""
    count = round(end - start)
    return [start + hour for hour in range(count + 1)]


def read_patterns(path: Path) -> dict[str, tuple[float, float]]:
    """A table of synthesized fields' (centre, amplitude) by source name: a TOML file of lines
    ``name = [centre, amplitude]``, data beside the synthesis code that uses it."""
    with path.open("rb") as file:
        table = tomllib.load(file)
    patterns = {
        name: (float(centre), float(amplitude)) for name, (centre, amplitude) in table.items()
    }
    assert all(amplitude >= 0 for _, amplitude in patterns.values()), f"{path}: negative amplitude"
    return patterns
