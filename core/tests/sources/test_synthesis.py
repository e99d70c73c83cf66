from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pygrib
import pyproj  # noqa: F401  # must precede any eccodes import (PROJ database binding)
import pytest

from reformatters.core.sources.grib_framing import scan_messages
from reformatters.core.sources.grid_templates import GridTemplate, regular_latlon_template
from reformatters.core.sources.smooth_field import (
    epoch_hours,
    grid_basis,
    hourly_samples,
    smooth_harmonic,
)
from reformatters.core.sources.synthesis import (
    FixedSurface,
    MessageSpec,
    StatisticalProcess,
    SyntheticIdentity,
    WrittenMessage,
    packing_tolerance,
    write_grib_file,
)

INIT = np.datetime64("2025-08-01T00")
HOUR = timedelta(hours=1)
GLOBAL = regular_latlon_template("global-1deg", 360, 181, 90.0, 0.0, -90.0, 359.0)


def smooth(grid: GridTemplate, name: str, centre: float, amplitude: float, t: float) -> np.ndarray:
    return smooth_harmonic(name, "x", centre, amplitude, grid_basis(grid.lats, grid.lons)).at(t)


def test_fixed_surface_scaling():
    assert FixedSurface.of(104, "0.995") == FixedSurface(104, 995, 3)
    assert FixedSurface.of(100, 50000) == FixedSurface(100, 50000, 0)
    assert FixedSurface.of(109, "-2e-06") == FixedSurface(109, -2, 6)
    assert FixedSurface.of(106, 0.1).value == pytest.approx(0.1)


def test_regular_latlon_template_describes_its_grid():
    message = pygrib.fromstring(GLOBAL.template)
    assert (message["gridType"], message["Ni"], message["Nj"]) == ("regular_ll", 360, 181)
    assert message["latitudeOfFirstGridPointInDegrees"] == 90.0
    assert message["longitudeOfLastGridPointInDegrees"] == 359.0
    assert message["iDirectionIncrementInDegrees"] == 1.0
    assert GLOBAL.shape == (181, 360)
    assert GLOBAL.lats[0, 0] == 90.0 and GLOBAL.lats[-1, 0] == -90.0
    south_up = regular_latlon_template("box", 10, 5, -10.0, -20.0, 10.0, 25.0)
    np.testing.assert_allclose(south_up.lats[:, 0], [-10.0, -5.0, 0.0, 5.0, 10.0])
    np.testing.assert_allclose(south_up.lons[0, [0, -1]], [-20.0, 25.0])


def test_smooth_harmonic_window_means_are_exact():
    basis = grid_basis(GLOBAL.lats[::10, ::10], GLOBAL.lons[::10, ::10])
    harmonic = smooth_harmonic("T", "x", 280.0, 28.0, basis)
    start = epoch_hours(INIT)
    np.testing.assert_array_equal(harmonic.at(start + 7), harmonic.at(start + 7))
    assert 252 <= harmonic.at(start).min() < harmonic.at(start).max() <= 308
    fine = np.linspace(start + 6, start + 12, 721)
    dense = np.stack([harmonic.at(t) for t in fine])
    np.testing.assert_allclose(
        harmonic.mean(start + 6, start + 12), np.trapezoid(dense, fine, axis=0) / 6.0, rtol=1e-6
    )
    np.testing.assert_array_equal(harmonic.mean(start, start), harmonic.at(start))
    assert list(hourly_samples(start, start + 3)) == [start + h for h in range(4)]


def _spec(level, forecast, identity, end, *, start=None, statistic=None, values=None):
    return MessageSpec(
        element="X",
        level=level,
        forecast=forecast,
        identity=identity,
        end_step=end * HOUR,
        start_step=None if start is None else start * HOUR,
        statistic=statistic,
        values=values,
    )


def test_write_grib_file_offsets_values_bitmap_identity_and_inventory(tmp_path: Path):
    t = epoch_hours(INIT) + 7
    temperature = smooth(GLOBAL, "T", 280.0, 28.0, t).astype(np.float32)
    temperature[100:150, 200:300] = np.nan
    precipitation = smooth(GLOBAL, "P", 2.0, 1.9, t).astype(np.float32)
    specs = [
        _spec(
            "2 m", "7 h", SyntheticIdentity(0, 0, 0, FixedSurface.of(103, 2)), 7,
            values=temperature,
        ),
        _spec(
            "soil", "7 h",
            SyntheticIdentity(2, 0, 192, FixedSurface.of(106, "0.1"), FixedSurface.of(106, "0.4")),
            7,
        ),
        _spec(
            "surface", "6-7 h", SyntheticIdentity(0, 1, 8, FixedSurface.of(1)), 7, start=6,
            statistic=StatisticalProcess.ACCUMULATION, values=precipitation,
        ),
    ]  # fmt: skip
    path = tmp_path / "out" / "model.f007.grib2"

    def inventory(written: Sequence[WrittenMessage]) -> tuple[Path, str]:
        assert path.with_name(f".{path.name}") != path  # the data file is not renamed yet
        lines = [f"{m.offset} {m.length} {m.spec.level}" for m in written]
        return path.with_name(path.name + ".lst"), "\n".join(lines)

    written = write_grib_file(path, specs, init_time=INIT, grid=GLOBAL, inventory=inventory)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".lst"]
    data = path.read_bytes()
    assert [(m.offset, m.length) for m in written] == scan_messages(data)
    assert path.with_name(path.name + ".lst").read_text().splitlines()[1].endswith(" soil")

    decoded = [pygrib.fromstring(data[m.offset : m.offset + m.length]) for m in written]
    first = decoded[0]
    values = first.values
    np.testing.assert_array_equal(np.ma.getmaskarray(values), np.isnan(temperature))
    assert np.nanmax(np.abs(values.filled(np.nan) - temperature)) <= packing_tolerance(temperature)
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
    accumulation = decoded[2]
    assert accumulation["productDefinitionTemplateNumber"] == 8
    assert (accumulation["stepType"], accumulation["startStep"], accumulation["endStep"]) == (
        "accum",
        6,
        7,
    )
    assert (accumulation["validityDate"], accumulation["validityTime"]) == (20250801, 700)
    assert np.abs(accumulation.values - precipitation).max() <= packing_tolerance(precipitation)


def test_eccodes_agrees_with_pygrib_on_a_lambert_grid(tmp_path: Path, real_fixtures_dir: Path):
    """A real Lambert conformal message (3 km, complex packing) as the template."""
    import eccodes

    real = real_fixtures_dir / "hrrr" / "subset_20201214_hrrr.t00z.wrfsfcf12.grib2"
    data = real.read_bytes()
    offset, length = scan_messages(data)[0]
    grid = GridTemplate("lambert", data[offset : offset + length])
    values = smooth(grid, "S", 300.0, 290.0, epoch_hours(INIT) + 8).astype(np.float32)
    path = tmp_path / "lambert.grib2"
    spec = _spec("surface", "8 h", SyntheticIdentity(0, 4, 192, FixedSurface.of(1)), 8)
    write_grib_file(path, [replace(spec, values=values)], init_time=datetime(2025, 8, 1), grid=grid)
    assert list(tmp_path.iterdir()) == [path]
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
        "surface",
        "anl",
        SyntheticIdentity(0, 0, 0, FixedSurface.of(1)),
        0,
        values=np.zeros((3, 3), dtype=np.float32),
    )
    with pytest.raises(ValueError, match="shape"):
        write_grib_file(tmp_path / "x.grib2", [spec], init_time=INIT, grid=GLOBAL)
    assert list(tmp_path.iterdir()) == []  # no partial file or temporary left behind
