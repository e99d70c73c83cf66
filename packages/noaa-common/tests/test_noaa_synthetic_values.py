from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyproj  # noqa: F401  # must precede any eccodes import (PROJ database binding)

from reformatters.noaa.common.synthetic_values import (
    instantaneous_field,
    precipitation_rate,
    synthetic_field,
)

INIT = np.datetime64("2025-08-01T00")
HOUR = timedelta(hours=1)
LATS = np.linspace(-89.0, 89.0, 37)[:, None]
LONS = np.arange(0.0, 360.0, 10.0)[None, :]
GRID_LATS, GRID_LONS = np.broadcast_arrays(LATS, LONS)


def field(element, level, start, end, step_type):
    start_step = None if start is None else start * HOUR
    return synthetic_field(element, level, INIT, start_step, end * HOUR, step_type, LATS, LONS)


def test_synthetic_field_is_deterministic_and_in_range():
    tmp = field("TMP", "2 m above ground", None, 7, "instant")
    np.testing.assert_array_equal(tmp, field("TMP", "2 m above ground", None, 7, "instant"))
    assert tmp.dtype == np.float32
    assert 250 < tmp.min() < tmp.max() < 310
    assert not np.array_equal(tmp, field("TMP", "2 m above ground", None, 8, "instant"))
    pres = field("PRES", "surface", None, 7, "instant")
    assert 50000 < pres.min() < pres.max() < 105000
    rh = field("RH", "2 m above ground", None, 7, "instant")
    assert 0 <= rh.min() < rh.max() <= 100
    for wind in ("UGRD", "VGRD"):
        values = field(wind, "10 m above ground", None, 7, "instant")
        assert -30 <= values.min() < 0 < values.max() <= 30


def test_categorical_cpofp_and_ceiling_sentinels():
    for element in ("CSNOW", "CICEP", "CFRZR", "CRAIN"):
        instant = field(element, "surface", None, 7, "instant")
        assert set(np.unique(instant)) == {0.0, 1.0}
        average = field(element, "surface", 0, 6, "avg")
        assert average.min() >= 0 and average.max() <= 1
        assert np.any((average > 0) & (average < 1))
    cpofp = field("CPOFP", "surface", None, 7, "instant")
    sentinel = cpofp == -50
    assert sentinel.any() and (~sentinel).any()
    assert cpofp[~sentinel].min() >= 0 and cpofp[~sentinel].max() <= 100
    ceiling = field("HGT", "cloud ceiling", None, 7, "instant")
    no_ceiling = ceiling == 20000
    assert no_ceiling.any() and (~no_ceiling).any()
    assert ceiling[~no_ceiling].min() > 0 and ceiling[~no_ceiling].max() < 20000


def test_accumulation_is_the_integral_of_the_rate():
    steps = np.linspace(6.0, 7.0, 3601)
    rates = np.stack(
        [
            precipitation_rate("APCP", INIT + np.timedelta64(int(h * 3600), "s"), LATS, LONS)
            for h in steps
        ]
    )
    assert rates.min() >= 0
    integral = np.trapezoid(rates, steps * 3600.0, axis=0)
    accumulated = field("APCP", "surface", 6, 7, "accum")
    np.testing.assert_allclose(accumulated, integral, rtol=1e-5)
    total_7 = field("APCP", "surface", 0, 7, "accum").astype(np.float64)
    total_6 = field("APCP", "surface", 0, 6, "accum").astype(np.float64)
    np.testing.assert_allclose(total_7 - total_6, accumulated, rtol=1e-4, atol=1e-5)
    # PRATE averages are the same rate: deaccumulation predicts them exactly.
    mean_rate = field("PRATE", "surface", 6, 7, "avg")
    np.testing.assert_allclose(accumulated / 3600.0, mean_rate, rtol=1e-5)


def test_average_max_min_follow_the_instantaneous_function():
    hours = [INIT + np.timedelta64(h, "h") for h in range(6, 13)]
    samples = np.stack(
        [instantaneous_field("TMP", "2 m above ground", t, GRID_LATS, GRID_LONS) for t in hours]
    )
    np.testing.assert_allclose(field("TMAX", "2 m above ground", 6, 12, "max"), samples.max(0))
    np.testing.assert_allclose(field("TMIN", "2 m above ground", 6, 12, "min"), samples.min(0))
    fine = np.linspace(6.0, 12.0, 721)
    dense = np.stack(
        [
            instantaneous_field(
                "DSWRF", "surface", INIT + np.timedelta64(int(h * 3600), "s"), LATS, LONS
            )
            for h in fine
        ]
    )
    mean = np.trapezoid(dense, fine, axis=0) / 6.0
    np.testing.assert_allclose(field("DSWRF", "surface", 6, 12, "avg"), mean, rtol=1e-5)
    instant = field("DSWRF", "surface", None, 0, "instant")
    np.testing.assert_allclose(field("DSWRF", "surface", 0, 0, "avg"), instant)
