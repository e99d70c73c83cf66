# pyproj must be imported before eccodes (see the shared README): eccodes' wheel bundles PROJ.
import pyproj  # noqa: F401  # isort: skip
import pygrib  # isort: skip
import eccodes  # isort: skip

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from reformatters.core.sources.errors import MessageAbsentError
from reformatters.core.sources.grib import (
    GribDecodeError,
    locate_message,
    message_fields,
    read_message,
)
from reformatters.core.sources.grib_framing import scan_messages
from reformatters.core.sources.grib_identity import (
    GribGridMismatchError,
    GribIdentity,
    GribIdentityMismatchError,
    GridSpec,
)

GFS_GRID_0P25 = GridSpec("regular_ll", 1440, 721, 90.0, 0.0, -90.0, 359.75)
GFS_GRID_2P5 = GridSpec("regular_ll", 144, 73, 90.0, 0.0, -90.0, 357.5)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
# Geopotential height at 500 hPa, 24 h forecast (the real 0.25 degree message).
HGT_500 = GribIdentity(0, 3, 5, 100, 500.0, "instant", 24 * HOUR, 24 * HOUR)
HRRR_GRID = GridSpec(
    "lambert", 1799, 1059, 21.138123, 237.280472, lov=262.5, latin1=38.5, latin2=38.5,
    dx_m=3000.0, dy_m=3000.0,
)  # fmt: skip

REAL_FILES = [
    "gfs/gfs.complex.grib2",
    "gfs/test_NOAAS3_HRES-GFS_10u_20210509T06_S00.grib",
    "gfs/test_NOAAS3_HRES-GFS_dswrf-dlwrf_20250129T06_S27.grib",
    "hrrr/subset_20201214_hrrr.t00z.wrfsfcf12.grib2",
    "gefs/gec00_20250101_00_soilw.grib",
    "misc/gdaswave.t00z.wcoast.0p16.f000.grib2",
]


def test_identity_mismatch_names_file_and_difference(real_fixtures_dir: Path) -> None:
    path = real_fixtures_dir / "gfs" / "gfs.complex.grib2"
    wrong = GribIdentity(0, 0, 0, 100, 500.0, "instant", 24 * HOUR, 24 * HOUR)
    with pytest.raises(GribIdentityMismatchError) as error:
        read_message(path, 0, expected=wrong, url="https://example/gfs.complex.grib2")
    text = str(error.value)
    assert "https://example/gfs.complex.grib2 message at byte 0" in text
    assert "parameter_category: expected 0, found 3" in text
    right = HGT_500
    read_message(path, 0, expected=right, grid=GFS_GRID_0P25)
    with pytest.raises(GribIdentityMismatchError, match="end_step"):
        read_message(path, 0, expected=replace(right, end_step=timedelta(hours=25)))


def test_grid_mismatch(real_fixtures_dir: Path) -> None:
    path = real_fixtures_dir / "gfs" / "gfs.complex.grib2"
    expected = HGT_500
    with pytest.raises(GribGridMismatchError, match=r"ni: expected 1441, found 1440"):
        read_message(path, 0, expected=expected, grid=replace(GFS_GRID_0P25, ni=1441))
    with pytest.raises(GribGridMismatchError, match="first_lat"):
        read_message(path, 0, expected=expected, grid=replace(GFS_GRID_0P25, first_lat=-90.0))


def test_truncated_and_corrupt_messages(real_fixtures_dir: Path) -> None:
    data = (real_fixtures_dir / "gfs" / "gfs.complex.grib2").read_bytes()
    expected = HGT_500
    with pytest.raises(GribDecodeError, match=r"u://x message at byte 0: truncated"):
        read_message(data[: len(data) // 2], expected=expected, url="u://x")
    with pytest.raises(GribDecodeError, match="not the start of a GRIB2 message"):
        read_message(b"<html>oops</html>" * 3, expected=expected, url="u://x")
    # Garble the data section (section 7) but keep framing intact.
    corrupt = bytearray(data)
    corrupt[200:-4] = b"\xff" * (len(data) - 204)
    with pytest.raises((GribDecodeError, GribIdentityMismatchError), match="u://x"):
        read_message(bytes(corrupt), expected=expected, url="u://x")


def test_hrrr_lambert_and_minutes(real_fixtures_dir: Path) -> None:
    path = real_fixtures_dir / "hrrr" / "subset_20201214_hrrr.t00z.wrfsfcf12.grib2"
    (first, _), (second, _) = scan_messages(path.read_bytes())
    total = read_message(
        path,
        first,
        expected=GribIdentity(0, 1, 8, 1, 0.0, "accum", timedelta(0), 12 * HOUR),
        grid=HRRR_GRID,
    )
    hourly = read_message(
        path,
        second,
        expected=GribIdentity(0, 1, 8, 1, 0.0, "accum", 11 * HOUR, 12 * HOUR),
        grid=HRRR_GRID,
    )
    assert total.shape == (1059, 1799)
    assert np.nanmax(total) >= np.nanmax(hourly) > 0
    sub = real_fixtures_dir / "hrrr" / "hrrr.wrfsubhf.sample.grib2"
    offsets = [offset for offset, _ in scan_messages(sub.read_bytes())]
    refc = GribIdentity(0, 16, 196, 10, 0.0, "instant", 15 * MINUTE, 15 * MINUTE)
    read_message(sub, offsets[0], expected=refc, grid=HRRR_GRID)
    vbdsf = GribIdentity(0, 4, 200, 1, 0.0, "avg", timedelta(0), timedelta(minutes=15))
    read_message(sub, offsets[1], expected=vbdsf)


def test_gefs_bitmap_becomes_nan(real_fixtures_dir: Path) -> None:
    path = real_fixtures_dir / "gefs" / "gec00_20250101_00_soilw.grib"
    soilw = GribIdentity(2, 0, 192, 106, None, "instant", timedelta(hours=3), timedelta(hours=3))
    values = read_message(
        path, 0, expected=soilw, grid=GridSpec("regular_ll", 720, 361, 90.0, 0.0, -90.0, 359.5)
    )
    assert np.isnan(values).any() and np.isfinite(values).any()
    assert np.nanmax(values) <= 1.0


def _eccodes_fields(path: Path) -> list[dict[str, object]]:
    fields: list[dict[str, object]] = []
    with path.open("rb") as handle:
        while (gid := eccodes.codes_grib_new_from_file(handle)) is not None:
            try:
                ni = eccodes.codes_get(gid, "Nx")
                nj = eccodes.codes_get(gid, "Ny")
                values = eccodes.codes_get_values(gid).reshape(nj, ni)
                if eccodes.codes_get(gid, "bitmapPresent"):
                    values = np.where(
                        values == eccodes.codes_get(gid, "missingValue"), np.nan, values
                    )
                fields.append(
                    {
                        "offset": eccodes.codes_get(gid, "offset"),
                        "values": values,
                        "identity": (
                            eccodes.codes_get(gid, "discipline"),
                            eccodes.codes_get(gid, "parameterCategory"),
                            eccodes.codes_get(gid, "parameterNumber"),
                            eccodes.codes_get(gid, "typeOfFirstFixedSurface", ktype=int),
                        ),
                        "grid": {
                            key: eccodes.codes_get(gid, key)
                            for key in (
                                "gridType",
                                "latitudeOfFirstGridPointInDegrees",
                                "longitudeOfFirstGridPointInDegrees",
                                "jScansPositively",
                            )
                        },
                    }
                )
            finally:
                eccodes.codes_release(gid)
    return fields


@pytest.mark.parametrize("relative", REAL_FILES)
def test_matches_eccodes(real_fixtures_dir: Path, relative: str) -> None:
    path = real_fixtures_dir / relative
    fields = _eccodes_fields(path)
    assert fields
    for field in fields:
        discipline, category, number, surface = field["identity"]  # type: ignore[misc]
        grid_keys = field["grid"]
        assert isinstance(grid_keys, dict)
        reference = field["values"]
        assert isinstance(reference, np.ndarray)
        grid = GridSpec(
            str(grid_keys["gridType"]),
            reference.shape[1],
            reference.shape[0],
            float(grid_keys["latitudeOfFirstGridPointInDegrees"]),
            float(grid_keys["longitudeOfFirstGridPointInDegrees"]),
        )
        values = read_message(
            path,
            int(field["offset"]),  # type: ignore[call-overload]
            expected=GribIdentity(discipline, category, number, surface),
            grid=grid,
        )
        # Same orientation as eccodes' file-order values: row 0 is the first scanned row.
        np.testing.assert_array_equal(np.isnan(values), np.isnan(reference))
        np.testing.assert_allclose(values, reference.astype(np.float32), rtol=1e-6, equal_nan=True)
        if grid_keys["gridType"] == "regular_ll" and relative.startswith("gfs/"):
            assert grid_keys["latitudeOfFirstGridPointInDegrees"] == 90.0  # GFS: north -> south


# ---- missing points: exactly where the message says ---------------------------------------------

# Real messages whose missing points are encoded by complex packing's missing-value management
# (NDFD, templates 5.3 and 5.2, no bitmap) or by a bitmap (GEFS SOILW, the GEFS ensemble-mean
# file's soil and sea-ice fields, ICON-D2, the GDAS wave model's land mask).
MISSING_POINT_FILES = [
    "misc/ndfd.ds.temp.bin",
    "misc/ndfd.ds.critfireo.bin",
    "gefs/gec00_20250101_00_soilw.grib",
    "gefs/geavg.t06z.pgrb2a.0p50.f006",
    "dwd/icon-d2_germany_regular-lat-lon_single-level_2022042600_000_2d_u_10m.grib2",
    "misc/gdaswave.t00z.wcoast.0p16.f000.grib2",
]


@pytest.mark.parametrize("relative", MISSING_POINT_FILES)
def test_missing_points_are_nan_exactly_where_pygrib_masks_them(
    real_fixtures_dir: Path, relative: str
) -> None:
    path = real_fixtures_dir / relative
    offsets = [offset for offset, _ in scan_messages(path.read_bytes())]
    messages = list(pygrib.open(str(path)))
    assert len(offsets) == len(messages)
    missing_total = 0
    for offset, message in zip(offsets, messages, strict=True):
        masked = message.values  # pygrib's masked decode
        missing = np.ma.getmaskarray(masked)
        expected = GribIdentity(
            int(message["discipline"]),
            int(message["parameterCategory"]),
            int(message["parameterNumber"]),
        )
        values = read_message(path, offset, expected=expected)
        np.testing.assert_array_equal(np.isnan(values), missing)
        np.testing.assert_array_equal(
            values[~missing], np.ma.getdata(masked)[~missing].astype(np.float32)
        )
        assert int(np.count_nonzero(missing)) == int(message["numberOfMissing"])
        missing_total += int(np.count_nonzero(missing))
    assert missing_total > 0


def test_missing_value_management_is_what_the_ndfd_files_use(real_fixtures_dir: Path) -> None:
    for name, template in (("ndfd.ds.temp.bin", 3), ("ndfd.ds.critfireo.bin", 2)):
        for message in pygrib.open(str(real_fixtures_dir / "misc" / name)):
            assert int(message["dataRepresentationTemplateNumber"]) == template
            assert int(message["bitmapPresent"]) == 0
            assert int(message["missingValueManagementUsed"]) == 1
            # eccodes' own decode puts its missingValue, 9999, at the missing points.
            assert np.count_nonzero(np.ma.getdata(message.values) == 9999.0) > 1_000_000


def _with_values(raw: bytes, values: np.ndarray, *, bitmap: bool = False) -> bytes:
    message = pygrib.fromstring(raw)
    message["packingType"] = "grid_simple"
    message["bitsPerValue"] = 24
    message["decimalScaleFactor"] = 1
    if bitmap:
        message["bitmapPresent"] = 1
        message["missingValue"] = 999_999_999
    message.values = values
    return bytes(message.tostring())


@pytest.mark.parametrize("bitmap", [False, True])
def test_a_real_9999_is_a_value_not_a_missing_point(real_fixtures_dir: Path, bitmap: bool) -> None:
    """A real GFS field with some points set to exactly 9999 (as a 9999 m ceiling would be): it
    stays 9999, with or without a bitmap elsewhere; pygrib alone would mask it."""
    raw = (real_fixtures_dir / "gfs" / "gfs.complex.grib2").read_bytes()
    field = np.ma.getdata(pygrib.fromstring(raw).values).copy()
    field[100:110, :] = 9999.0
    if bitmap:
        field[300:310, :] = 999_999_999.0
    encoded = _with_values(raw, field, bitmap=bitmap)
    assert np.ma.count_masked(pygrib.fromstring(encoded).values) >= 10 * 1440  # pygrib's hazard
    values = read_message(encoded, expected=HGT_500)
    assert np.all(values[100:110, :] == 9999.0)
    assert np.isnan(values).sum() == (10 * 1440 if bitmap else 0)
    if bitmap:
        assert np.isnan(values[300:310, :]).all()


def test_declared_sentinels_become_nan(real_fixtures_dir: Path) -> None:
    """MRMS writes -999 (no coverage) and -99 (no data) as values, without a bitmap."""
    path = real_fixtures_dir / "mrms" / "MRMS_MergedRhoHV_19.00_20260219-042039.grib2"
    raw = np.ma.getdata(pygrib.open(str(path)).message(1).values)
    sentinel = np.isin(raw, (-999.0, -99.0))
    assert sentinel.any() and not sentinel.all()
    rho_hv = GribIdentity(209, 9, 3)
    kept = read_message(path, expected=rho_hv)
    np.testing.assert_array_equal(kept, raw.astype(np.float32))
    values = read_message(path, expected=rho_hv, missing_values=(-999.0, -99.0))
    np.testing.assert_array_equal(np.isnan(values), sentinel)
    np.testing.assert_array_equal(values[~sentinel], raw[~sentinel].astype(np.float32))


def test_a_message_of_another_run_is_rejected(real_fixtures_dir: Path) -> None:
    path = real_fixtures_dir / "gfs" / "gfs.complex.grib2"  # init 2020-10-26T00, f024
    right = replace(
        HGT_500,
        reference_time=datetime(2020, 10, 26, 0),
    )
    read_message(path, expected=right)
    with pytest.raises(GribIdentityMismatchError) as error:
        read_message(path, expected=replace(right, reference_time=datetime(2020, 10, 26, 6)))
    assert "reference_time: expected 2020-10-26 06:00:00, found 2020-10-26 00:00:00" in str(
        error.value
    )


def test_message_fields_list_every_field_of_multi_field_messages(real_fixtures_dir: Path) -> None:
    """The coarse global file's 10 m U and V share one message (two fields, one byte range)."""
    path = real_fixtures_dir / "gfs" / "gfs.t12z.pgrbf120.2p5deg.grib2"
    data = path.read_bytes()
    found = message_fields(data)
    assert len({f.offset for f in found}) == len(scan_messages(data))
    wind = [f for f in found if f.field_count == 2 and f.identity.surface_type == 103]
    u, v = wind[:2]
    assert (u.offset, u.length, u.field_number) == (v.offset, v.length, 1)
    assert v.field_number == 2
    assert (u.identity.parameter_number, v.identity.parameter_number) == (2, 3)
    assert all(f.identity.reference_time == datetime(2011, 1, 10, 12) for f in found)
    values = read_message(path, v.offset, expected=v.identity, grid=GFS_GRID_2P5)
    reference = {(m.shortName, m.level): m.values for m in pygrib.open(str(path))}
    np.testing.assert_array_equal(values, reference[("10v", 10)].astype(np.float32))


def test_locate_message_finds_a_field_in_a_whole_file(real_fixtures_dir: Path) -> None:
    data = (real_fixtures_dir / "gfs" / "gfs.t12z.pgrbf120.2p5deg.grib2").read_bytes()
    v_wind = GribIdentity(0, 2, 3, 103, 10.0, reference_time=datetime(2011, 1, 10, 12))
    offset = locate_message(data, v_wind, "https://example/f120")
    assert offset == next(
        f.offset
        for f in message_fields(data)
        if f.identity.parameter_number == 3 and f.identity.surface_type == 103
    )
    read_message(data, offset, expected=v_wind, grid=GFS_GRID_2P5)
    with pytest.raises(MessageAbsentError, match="https://example/f120"):
        locate_message(data, replace(v_wind, level=11.0), "https://example/f120")
