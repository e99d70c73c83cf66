"""noaa-gfs-forecast reads what the provider meant, through `reformat ... backfill-local` as a
user runs it: missing points of real messages (missing-value management and a bitmap), an
inventory that lacks lines, a file of another run, accumulations that decrease.

Each test copies a few files of the synthesized GFS mirror into a mirror of its own and edits
them (reformatters.noaa.common.testing) the way real files differ from ours.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pygrib
import pytest
import xarray as xr

from reformatters.core.rounding import round_float32_mantissa
from reformatters.noaa.common.testing import (
    copy_source_file,
    keep_inventory_lines,
    message_bytes,
    relabelled,
    replace_message,
    set_inventory_run,
)
from reformatters.noaa.gfs.forecast.region_job import GfsForecastRegionJob
from reformatters.noaa.gfs.synthesis import mirror_path
from reformatters.noaa.gfs.testing import INIT_00, INIT_06
from reformatters.tools.testing import run_reformat

pytestmark = pytest.mark.slow

TMP_2M = ("TMP", "2 m above ground")


def _mirror(gfs_mirror: Path, tmp_path: Path, leads: tuple[int, ...] = (0, 1)) -> Path:
    mirror = tmp_path / "mirror"
    for lead in leads:
        copy_source_file(gfs_mirror, mirror, mirror_path(gfs_mirror, INIT_00, lead))
    return mirror


def _backfill(mirror: Path, tmp_path: Path, *names: str) -> tuple[int, str, xr.Dataset]:
    """`reformat noaa-gfs-forecast backfill-local` of INIT_00: (exit status, stderr, store)."""
    output = tmp_path / "output"
    variables = [arg for name in names for arg in ("--filter-variable-names", name)]
    result = run_reformat(
        "noaa-gfs-forecast",
        "backfill-local",
        "2021-05-01T06",
        "--filter-start",
        "2021-05-01T00",
        *variables,
        "--output-url",
        str(output),
        env={"REFORMATTERS_SOURCE_MIRROR": str(mirror), "REFORMATTERS_DECODE_PROCESSES": "0"},
        check=False,
        timeout=600,
    )
    store = output / "noaa-gfs-forecast" / "v0.1.0.zarr"
    ds = xr.open_zarr(store, decode_timedelta=True, chunks=None).sel(init_time=INIT_00)
    return result.returncode, result.stderr, ds


def _assert_only_unmirrored_missing(status: int, stderr: str, read: int) -> None:
    """The backfill covers all 209 leads of INIT_00; the test's mirror holds ``read`` of them, so
    the run exits 1 with the rest missing and nothing failed."""
    assert status == 1, stderr
    assert f"source files: {read} read, {209 - read} missing, 0 failed" in stderr, stderr


def _land_mask(real_fixtures_dir: Path) -> np.ndarray:
    """Where a real GEFS 0.5 degree soil field (land only) is missing, on the 0.25 degree grid:
    the sea, 690 thousand points, as in NCEP's land-only fields."""
    soilw = pygrib.open(str(real_fixtures_dir / "gefs" / "gec00_20250101_00_soilw.grib"))
    sea = np.ma.getmaskarray(soilw.message(1).values)  # 361 x 720
    return np.repeat(np.repeat(sea, 2, axis=0), 2, axis=1)[:721]


def _as_stored(source_kelvin: np.ndarray) -> np.ndarray:
    """What the store holds for a source TMP field: float32 Celsius, output layout, 7 bits."""
    values = np.asarray(source_kelvin, dtype=np.float32) - np.float32(273.15)
    round_float32_mantissa(values, 7)
    rows, cols = GfsForecastRegionJob._layout_index()
    return values[np.ix_(rows, cols)]


def test_missing_points_of_real_messages_are_nan_exactly_there(
    gfs_mirror: Path, tmp_path: Path, real_fixtures_dir: Path
) -> None:
    """A real GFS 0.25 degree message (HGT 500 hPa, complex packing) relabelled as TMP 2 m, its
    sea points missing: at lead 0 by missing-value management (no bitmap), at lead 1 by a
    bitmap. The store is NaN exactly where pygrib masks, pygrib's values elsewhere."""
    mirror = _mirror(gfs_mirror, tmp_path)
    real = (real_fixtures_dir / "gfs" / "gfs.complex.grib2").read_bytes()
    values = np.ma.getdata(pygrib.fromstring(real).values)
    sea = _land_mask(real_fixtures_dir)
    served = {}
    for lead, encoding in ((0, "complex"), (1, "bitmap")):
        path = mirror_path(mirror, INIT_00, lead)
        like = message_bytes(path, *TMP_2M)
        served[lead] = relabelled(real, like, values, missing=sea, encoding=encoding)
        replace_message(path, *TMP_2M, served[lead])
    status, stderr, ds = _backfill(mirror, tmp_path, "temperature_2m")
    _assert_only_unmirrored_missing(status, stderr, read=2)
    rows, cols = GfsForecastRegionJob._layout_index()
    for lead, message in served.items():
        decoded = pygrib.fromstring(message).values  # pygrib's masked decode
        missing = np.ma.getmaskarray(decoded)[np.ix_(rows, cols)]
        assert missing.sum() == sea.sum() > 600_000
        stored = ds["temperature_2m"].isel(lead_time=lead).values
        np.testing.assert_array_equal(np.isnan(stored), missing)
        expected = _as_stored(np.ma.getdata(decoded))
        np.testing.assert_array_equal(stored[~missing], expected[~missing])
        assert np.nanmax(stored) < 6000  # never 9999 K (9728 degC) at a missing point


def test_an_absent_inventory_line_costs_only_that_variable(
    gfs_mirror: Path, tmp_path: Path
) -> None:
    mirror = _mirror(gfs_mirror, tmp_path)
    keep_inventory_lines(
        mirror_path(mirror, INIT_00, 1),
        lambda e: (e.element, e.level) == ("TMP", "2 m above ground"),
    )
    names = ("temperature_2m", "relative_humidity_2m", "wind_u_10m")
    status, stderr, ds = _backfill(mirror, tmp_path, *names)
    assert status == 1
    assert "source files: 2 read, " in stderr
    for name, line in (
        ("relative_humidity_2m", "RH:2 m above ground:1 hour fcst"),
        ("wind_u_10m", "UGRD:10 m above ground:1 hour fcst"),
    ):
        assert f"absent: {name} in 1 file(s)" in stderr and repr(line) in stderr
        assert np.isnan(ds[name].isel(lead_time=1).values).all()
        assert np.isfinite(ds[name].isel(lead_time=0).values).all()
    # The warning, once per variable and run, names the line that was expected.
    warnings = [line for line in stderr.splitlines() if "inventory lacks" in line]
    assert len(warnings) == 2 and "RH:2 m above ground:1 hour fcst" in warnings[0]
    assert np.isfinite(ds["temperature_2m"].isel(lead_time=slice(0, 2)).values).all()


def test_a_file_of_another_run_is_not_stored(gfs_mirror: Path, tmp_path: Path) -> None:
    """Lead 1 filed under the 00 UTC run holds the 06 UTC run (inventory and messages); lead 0's
    inventory says 00 UTC but its messages are the 06 UTC run's."""
    mirror = _mirror(gfs_mirror, tmp_path, leads=(0,))
    stale = mirror_path(mirror, INIT_00, 1)
    stale.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".idx"):
        source = mirror_path(gfs_mirror, INIT_06, 1)
        Path(f"{stale}{suffix}").write_bytes(Path(f"{source}{suffix}").read_bytes())
    relabel = mirror_path(mirror, INIT_00, 0)
    copy_source_file(gfs_mirror, tmp_path / "other", mirror_path(gfs_mirror, INIT_06, 0))
    for suffix in ("", ".idx"):
        other = mirror_path(tmp_path / "other", INIT_06, 0)
        relabel.with_name(relabel.name + suffix).write_bytes(Path(f"{other}{suffix}").read_bytes())
    set_inventory_run(relabel, "2021050100")
    status, stderr, ds = _backfill(mirror, tmp_path, "temperature_2m")
    assert status == 1
    assert "source files: 0 read, " in stderr and ", 2 failed" in stderr
    assert "filed under the run of 2021-05-01T00 but its inventory says d=2021050106" in stderr
    assert "reference_time: expected 2021-05-01 00:00:00, found 2021-05-01 06:00:00" in stderr
    assert np.isnan(ds["temperature_2m"].values).all()


def test_a_decreasing_accumulation_is_nan_and_counted(gfs_mirror: Path, tmp_path: Path) -> None:
    """Lead 2's 0-2 hour APCP below lead 1's 0-1 hour APCP by 0.5 kg m-2 in 40 rows: those
    increments are not amounts (beyond the 0.25 kg m-2 tolerance): NaN, counted, reported."""
    mirror = _mirror(gfs_mirror, tmp_path, leads=(0, 1, 2))
    apcp = ("APCP", "surface")
    lead_1 = pygrib.fromstring(message_bytes(mirror_path(mirror, INIT_00, 1), *apcp))
    lead_2_path = mirror_path(mirror, INIT_00, 2)
    lead_2 = pygrib.fromstring(message_bytes(lead_2_path, *apcp))
    values = np.ma.getdata(lead_2.values).copy()
    values[100:140] = np.ma.getdata(lead_1.values)[100:140] - 0.5
    lead_2.values = values
    replace_message(lead_2_path, *apcp, bytes(lead_2.tostring()))
    status, stderr, ds = _backfill(mirror, tmp_path, "precipitation_surface")
    _assert_only_unmirrored_missing(status, stderr, read=3)
    rates = ds["precipitation_surface"].isel(lead_time=2).values
    assert np.isnan(rates[100:140]).all() and np.isfinite(rates[140:]).all()
    assert f"invalid: {40 * 1440} value(s) of precipitation_surface set to NaN" in stderr
    assert np.nanmin(rates) >= 0
    assert pd.Timestamp(ds["init_time"].values) == INIT_00
