from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pygrib
import pyproj  # noqa: F401  # must precede any eccodes import (PROJ database binding)
import pytest

from reformatters.core.sources.inventory import parse_noaa_idx
from reformatters.core.sources.synthesis import (
    FixedSurface,
    MessageSpec,
    StatisticalProcess,
    SyntheticIdentity,
    gfs_0p25_grid,
    hrrr_conus_grid,
    instantaneous_field,
    packing_tolerance,
    precipitation_rate,
    synthetic_field,
    write_grib_file,
)

INIT = np.datetime64("2025-08-01T00")
HOUR = timedelta(hours=1)
LATS = np.linspace(-89.0, 89.0, 37)[:, None]
LONS = np.arange(0.0, 360.0, 10.0)[None, :]
GRID_LATS, GRID_LONS = np.broadcast_arrays(LATS, LONS)


def field(element, level, start, end, step_type):
    start_step = None if start is None else start * HOUR
    return synthetic_field(element, level, INIT, start_step, end * HOUR, step_type, LATS, LONS)


def test_fixed_surface_scaling():
    assert FixedSurface.of(104, "0.995") == FixedSurface(104, 995, 3)
    assert FixedSurface.of(100, 50000) == FixedSurface(100, 50000, 0)
    assert FixedSurface.of(109, "-2e-06") == FixedSurface(109, -2, 6)
    assert FixedSurface.of(106, 0.1).value == pytest.approx(0.1)


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


def _spec(element, level, forecast, identity, end, *, start=None, statistic=None, values=None):
    return MessageSpec(
        element=element,
        level=level,
        forecast=forecast,
        identity=identity,
        end_step=end * HOUR,
        start_step=None if start is None else start * HOUR,
        statistic=statistic,
        values=values,
    )


def test_write_grib_file_offsets_values_bitmap_and_identity(tmp_path: Path):
    grid = gfs_0p25_grid()
    assert grid.shape == (721, 1440)
    tmp = synthetic_field(
        "TMP", "2 m above ground", INIT, None, 7 * HOUR, "instant", grid.lats, grid.lons
    )
    tmp[100:150, 200:400] = np.nan
    apcp = synthetic_field(
        "APCP", "surface", INIT, 6 * HOUR, 7 * HOUR, "accum", grid.lats, grid.lons
    )
    specs = [
        _spec(
            "TMP",
            "2 m above ground",
            "7 hour fcst",
            SyntheticIdentity(0, 0, 0, FixedSurface.of(103, 2)),
            7,
            values=tmp,
        ),
        _spec(
            "SOILW",
            "0.1-0.4 m below ground",
            "7 hour fcst",
            SyntheticIdentity(2, 0, 192, FixedSurface.of(106, "0.1"), FixedSurface.of(106, "0.4")),
            7,
        ),
        _spec(
            "APCP",
            "surface",
            "6-7 hour acc fcst",
            SyntheticIdentity(0, 1, 8, FixedSurface.of(1)),
            7,
            start=6,
            statistic=StatisticalProcess.ACCUMULATION,
            values=apcp,
        ),
    ]
    path = tmp_path / "out" / "gfs.t00z.pgrb2.0p25.f007"
    written = write_grib_file(path, specs, init_time=INIT, grid=grid)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".idx"]

    data = path.read_bytes()
    entries = parse_noaa_idx((path.parent / (path.name + ".idx")).read_text(), file_size=len(data))
    assert entries == written
    assert [(e.element, e.level, e.forecast) for e in entries] == [
        (s.element, s.level, s.forecast) for s in specs
    ]
    assert all(e.reference_time == "2025080100" for e in entries)
    for entry in entries:
        assert entry.end is not None
        raw = data[entry.offset : entry.end]
        assert raw[:4] == b"GRIB" and raw[-4:] == b"7777"
        assert int.from_bytes(raw[8:16], "big") == len(raw)

    decoded = [pygrib.fromstring(data[e.offset : e.end]) for e in entries]
    first = decoded[0]
    assert (first["Ni"], first["Nj"]) == (1440, 721)
    assert first["latitudeOfFirstGridPointInDegrees"] == 90
    assert first["longitudeOfLastGridPointInDegrees"] == 359.75
    assert first["packingType"] == "grid_complex_spatial_differencing"
    values = first.values
    assert np.ma.isMaskedArray(values)
    np.testing.assert_array_equal(np.ma.getmaskarray(values), np.isnan(tmp))
    assert np.nanmax(np.abs(values.filled(np.nan) - tmp)) <= packing_tolerance(tmp)
    assert first["stepType"] == "instant" and first["endStep"] == 7
    assert first["typeOfLevel"] == "heightAboveGround" and first["level"] == 2
    assert (first["dataDate"], first["dataTime"]) == (20250801, 0)

    soil = decoded[1]
    assert soil["typeOfLevel"] == "depthBelowLandLayer"
    assert (soil["scaledValueOfFirstFixedSurface"], soil["scaleFactorOfFirstFixedSurface"]) == (
        1,
        1,
    )
    assert (soil["scaledValueOfSecondFixedSurface"], soil["scaleFactorOfSecondFixedSurface"]) == (
        4,
        1,
    )
    assert soil["bitsPerValue"] == 0  # filler: constant field

    precip = decoded[2]
    assert precip["productDefinitionTemplateNumber"] == 8
    assert (precip["stepType"], precip["startStep"], precip["endStep"]) == ("accum", 6, 7)
    assert (precip["validityDate"], precip["validityTime"]) == (20250801, 700)
    assert np.abs(precip.values - apcp).max() <= packing_tolerance(apcp)


def test_eccodes_agrees_with_pygrib(tmp_path: Path):
    import eccodes

    grid = hrrr_conus_grid()
    values = synthetic_field(
        "DSWRF", "surface", INIT, None, 8 * HOUR, "instant", grid.lats, grid.lons
    )
    path = tmp_path / "hrrr.grib2"
    spec = _spec(
        "DSWRF", "surface", "8 hour fcst", SyntheticIdentity(0, 4, 192, FixedSurface.of(1)), 8
    )
    write_grib_file(
        path,
        [replace(spec, values=values)],
        init_time=datetime(2025, 8, 1),
        grid=grid,
    )
    handle = eccodes.codes_new_from_message(path.read_bytes())
    try:
        decoded = eccodes.codes_get_values(handle).reshape(grid.shape)
        assert eccodes.codes_get(handle, "gridType") == "lambert"
        assert eccodes.codes_get(handle, "Nx") == 1799
        assert eccodes.codes_get(handle, "Ny") == 1059
        assert eccodes.codes_get(handle, "LoVInDegrees") == 262.5
        assert eccodes.codes_get(handle, "endStep") == 8
    finally:
        eccodes.codes_release(handle)
    assert np.abs(decoded - values).max() <= packing_tolerance(values)
    np.testing.assert_allclose(decoded, pygrib.open(str(path)).message(1).values)


def test_shape_mismatch_is_rejected_without_leftovers(tmp_path: Path):
    spec = _spec(
        "TMP",
        "surface",
        "anl",
        SyntheticIdentity(0, 0, 0, FixedSurface.of(1)),
        0,
        values=np.zeros((3, 3), dtype=np.float32),
    )
    with pytest.raises(ValueError, match="shape"):
        write_grib_file(tmp_path / "x.grib2", [spec], init_time=INIT, grid=gfs_0p25_grid())
    assert list(tmp_path.iterdir()) == []  # no partial file or temporary left behind
