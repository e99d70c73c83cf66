from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pygrib
import pytest

from reformatters.core.sources.grib import read_message
from reformatters.core.sources.grib_identity import GribIdentity, GridSpec
from reformatters.noaa.common.identity import build_noaa_inventory, noaa_identity
from reformatters.noaa.common.idx import format_noaa_idx, parse_noaa_idx

GFS_GRID_2P5 = GridSpec("regular_ll", 144, 73, 90.0, 0.0, -90.0, 357.5)


def test_noaa_identity_mapping() -> None:
    tmp = noaa_identity("TMP", "2 m above ground", "7 hour fcst")
    assert tmp == GribIdentity(0, 0, 0, 103, 2.0, "instant", timedelta(hours=7), timedelta(hours=7))
    apcp = noaa_identity("APCP", "surface", "6-7 hour acc fcst")
    assert (apcp.parameter_category, apcp.parameter_number, apcp.surface_type) == (1, 8, 1)
    assert (apcp.step_type, apcp.start_step, apcp.end_step) == (
        "accum", timedelta(hours=6), timedelta(hours=7),
    )  # fmt: skip
    assert noaa_identity("TCDC", "entire atmosphere", "0-7 hour ave fcst").step_type == "avg"
    assert noaa_identity("TMAX", "2 m above ground", "6-7 hour max fcst").step_type == "max"
    assert noaa_identity("PRMSL", "mean sea level", "anl").surface_type == 101
    assert noaa_identity("HGT", "cloud ceiling", "anl").surface_type == 215
    assert (
        noaa_identity(
            "PWAT", "entire atmosphere (considered as a single layer)", "anl"
        ).surface_type
        == 200
    )
    assert noaa_identity("TMP", "500 mb", "anl").level == 500.0
    assert noaa_identity("APCP", "surface", "0-1 day acc fcst").end_step == timedelta(days=1)
    with pytest.raises(KeyError, match="FOO"):
        noaa_identity("FOO", "surface", "anl")
    with pytest.raises(KeyError, match="level"):
        noaa_identity("TMP", "3 sigma things", "anl")


def test_required_elements_are_mapped() -> None:
    required = (
        "PRES TMP RH DPT TMAX TMIN UGRD VGRD GUST CPOFP APCP CSNOW CICEP CFRZR CRAIN PWAT TCDC "
        "HGT DSWRF DLWRF PRMSL MSLMA REFC VIS"
    )
    for element in required.split():
        noaa_identity(element, "surface", "anl")


def _gfs_2p5(real_fixtures_dir: Path) -> Path:
    return real_fixtures_dir / "gfs" / "gfs.t12z.pgrbf120.2p5deg.grib2"


def test_gfs_2p5_by_idx_description(real_fixtures_dir: Path) -> None:
    path = _gfs_2p5(real_fixtures_dir)
    entries = parse_noaa_idx(format_noaa_idx(build_noaa_inventory(path.read_bytes())))
    wanted = {
        ("TMP", "2 m above ground"),
        ("RH", "2 m above ground"),
        ("UGRD", "10 m above ground"),
        ("VGRD", "10 m above ground"),
        ("APCP", "surface"),
        ("CRAIN", "surface"),
        ("CSNOW", "surface"),
        ("PRMSL", "mean sea level"),
        ("PWAT", "entire atmosphere (considered as a single layer)"),
        ("DSWRF", "surface"),
        ("GUST", "surface"),
        ("TMP", "500 mb"),
    }
    checked = 0
    reference = {(m.shortName, m.typeOfLevel, m.level): m.values for m in pygrib.open(str(path))}
    for entry in entries:
        if (entry.element, entry.level) not in wanted:
            continue
        expected = noaa_identity(entry.element, entry.level, entry.forecast)
        values = read_message(path, entry.offset, expected=expected, grid=GFS_GRID_2P5)
        assert (
            values.dtype == np.float32 and values.flags.c_contiguous and values.shape == (73, 144)
        )
        checked += 1
        if entry.element == "VGRD":
            # A sub-message (196.2): found by identity inside the shared U/V message.
            np.testing.assert_array_equal(
                values, reference[("10v", "heightAboveGround", 10)].astype(np.float32)
            )
    assert checked == len(wanted)


def test_gdaswave_with_real_idx(real_fixtures_dir: Path) -> None:
    path = real_fixtures_dir / "misc" / "gdaswave.t00z.wcoast.0p16.f000.grib2"
    entries = parse_noaa_idx(Path(f"{path}.idx").read_text())
    grid = GridSpec("regular_ll", 241, 151, 50.0, 210.0, 25.0, 250.0)
    by_element = {e.element: e for e in entries}
    for element in ("WIND", "UGRD", "VGRD"):
        entry = by_element[element]
        # The wave model writes level value 1 for its surface: leave the level unchecked.
        expected = replace(noaa_identity(element, entry.level, entry.forecast), level=None)
        values = read_message(path, entry.offset, expected=expected, grid=grid)
        assert np.isnan(values).any()  # land mask bitmap
