from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pygrib
import pytest

from reformatters.core.sources.synthesis import MessageSpec, packing_tolerance, write_grib_file
from reformatters.noaa.common.grib_codes import NOAA_PARAMETERS
from reformatters.noaa.common.identity import identity_for, noaa_identity
from reformatters.noaa.common.idx import IdxEntry, format_forecast, parse_forecast, parse_noaa_idx
from reformatters.noaa.common.synthesis import (
    NoaaInventoryModel,
    NoaaMessage,
    idx_beside,
    idx_entries,
    message_spec,
    modelled_inventory,
    synthesize_noaa_file,
)
from reformatters.noaa.common.synthetic_values import synthetic_field
from reformatters.noaa.gfs.synthesis import GFS_0P25, gfs_0p25_grid
from reformatters.noaa.hrrr.synthesis import HRRR_SFC

REAL_IDX = {
    (GFS_0P25.name, 0): "gfs/gfs.t00z.pgrb2.0p25.f000.idx",
    (GFS_0P25.name, 7): "gfs/gfs.t00z.pgrb2.0p25.f007.idx",
    (HRRR_SFC.name, 0): "hrrr/hrrr.t00z.wrfsfcf00.grib2.idx",
    (HRRR_SFC.name, 8): "hrrr/hrrr.t00z.wrfsfcf08.grib2.idx",
    (HRRR_SFC.name, 24): "hrrr/hrrr.t00z.wrfsfcf24.grib2.idx",
}
MODELS = {GFS_0P25.name: GFS_0P25, HRRR_SFC.name: HRRR_SFC}
INIT = datetime(2024, 2, 29, 12)
HOUR = timedelta(hours=1)
IDENTITY_KEYS = (
    "discipline",
    "parameterCategory",
    "parameterNumber",
    "typeOfFirstFixedSurface",
    "level",
    "stepType",
    "startStep",
    "endStep",
    "productDefinitionTemplateNumber",
)


def real_idx(real_fixtures_dir: Path, model: NoaaInventoryModel, lead: int) -> list[IdxEntry]:
    return parse_noaa_idx((real_fixtures_dir / REAL_IDX[model.name, lead]).read_text())


def without_offsets_and_date(entries: list[IdxEntry]) -> list[tuple[str, ...]]:
    return [(e.message, e.element, e.level, e.forecast, *e.extra) for e in entries]


@pytest.mark.parametrize(("model_name", "lead"), sorted(REAL_IDX))
def test_modelled_inventory_equals_the_real_one(real_fixtures_dir, model_name, lead):
    model = MODELS[model_name]
    real = real_idx(real_fixtures_dir, model, lead)
    assert modelled_inventory(model, lead) == [(e.element, e.level, e.forecast) for e in real]


@pytest.mark.parametrize(
    ("model", "lead", "expected"),
    [
        (
            GFS_0P25,
            13,
            {
                "7 hour fcst": "13 hour fcst",
                "6-7 hour acc fcst": "12-13 hour acc fcst",
                "0-7 hour acc fcst": "0-13 hour acc fcst",
                "6-7 hour ave fcst": "12-13 hour ave fcst",
                "6-7 hour max fcst": "12-13 hour max fcst",
                "6-7 hour min fcst": "12-13 hour min fcst",
            },
        ),
        (
            GFS_0P25,
            123,
            {
                "6-7 hour acc fcst": "120-123 hour acc fcst",
                "0-7 hour acc fcst": "0-123 hour acc fcst",
            },
        ),
        (
            GFS_0P25,
            126,
            {
                "7 hour fcst": "126 hour fcst",
                "6-7 hour acc fcst": "120-126 hour acc fcst",
                "0-7 hour acc fcst": "0-126 hour acc fcst",
                "6-7 hour ave fcst": "120-126 hour ave fcst",
            },
        ),
        (
            GFS_0P25,
            6,
            {"6-7 hour acc fcst": "0-6 hour acc fcst", "0-7 hour acc fcst": "0-6 hour acc fcst"},
        ),
        (
            HRRR_SFC,
            1,
            {
                "8 hour fcst": "1 hour fcst",
                "7-8 hour acc fcst": "0-1 hour acc fcst",
                "0-8 hour acc fcst": "0-1 hour acc fcst",
                "7-8 hour max fcst": "0-1 hour max fcst",
            },
        ),
        (
            HRRR_SFC,
            48,
            {
                "8 hour fcst": "48 hour fcst",
                "7-8 hour acc fcst": "47-48 hour acc fcst",
                "0-8 hour acc fcst": "0-2 day acc fcst",
                "7-8 hour ave fcst": "47-48 hour ave fcst",
            },
        ),
    ],
)
def test_descriptions_are_relabelled_for_the_lead(real_fixtures_dir, model, lead, expected):
    model_lead = model.later_lead
    real = real_idx(real_fixtures_dir, model, model_lead)
    messages = model.messages(lead)
    assert len(messages) == len(real)
    seen = set()
    for entry, message in zip(real, messages, strict=True):
        assert (message.element, message.level) == (entry.element, entry.level)
        if entry.forecast in expected:
            assert message.forecast == expected[entry.forecast], entry.label
            seen.add(entry.forecast)
    assert seen == set(expected)


def test_forecast_descriptions_round_trip():
    cases = {
        "anl": (None, 0, None),
        "7 hour fcst": (None, 7, None),
        "24 hour fcst": (None, 24, None),
        "6-7 hour acc fcst": (6, 7, "acc"),
        "0-0 day acc fcst": (0, 0, "acc"),
        "0-1 day acc fcst": (0, 24, "acc"),
        "120-126 hour ave fcst": (120, 126, "ave"),
    }
    for text, parsed in cases.items():
        assert parse_forecast(text) == parsed
        assert format_forecast(*parsed) == text


def test_every_real_message_has_an_identity_agreeing_with_the_reader(real_fixtures_dir):
    compared = 0
    for relative in REAL_IDX.values():
        for entry in parse_noaa_idx((real_fixtures_dir / relative).read_text()):
            identity = identity_for(entry.element, entry.level)
            if entry.element not in NOAA_PARAMETERS:
                continue
            try:
                expected = noaa_identity(entry.element, entry.level, entry.forecast)
            except (KeyError, ValueError):  # levels (e.g. layers) the reader does not address
                continue
            assert (
                identity.discipline,
                identity.parameter_category,
                identity.parameter_number,
                identity.first_surface.type,
            ) == (
                expected.discipline,
                expected.parameter_category,
                expected.parameter_number,
                expected.surface_type,
            ), entry.label
            compared += 1
    assert compared > 200


def decoded_messages(path: Path) -> list[pygrib.gribmessage]:
    with pygrib.open(str(path)) as grbs:
        return list(grbs)


def check_file(path: Path, model: NoaaInventoryModel, lead: int, written: list[IdxEntry]):
    """The written idx matches the messages, and each message's keys match its idx line."""
    data = path.read_bytes()
    idx = parse_noaa_idx(path.with_name(path.name + ".idx").read_text(), file_size=len(data))
    assert idx == written
    assert all(e.reference_time == INIT.strftime("%Y%m%d%H") for e in idx)
    messages = decoded_messages(path)
    assert len(messages) == len(idx) == len(model.messages(lead))
    for entry, message in zip(idx, messages, strict=True):
        assert entry.end is not None
        assert data[entry.offset : entry.offset + 4] == b"GRIB"
        assert entry.end - entry.offset == message["totalLength"]
        start, end, kind = parse_forecast(entry.forecast)
        identity = identity_for(entry.element, entry.level)
        assert message["discipline"] == identity.discipline, entry.label
        assert message["parameterCategory"] == identity.parameter_category
        assert message["parameterNumber"] == identity.parameter_number
        assert message["endStep"] == end, entry.label
        assert message["startStep"] == (end if start is None else start), entry.label
        expected_type = {None: "instant", "acc": "accum", "ave": "avg", "max": "max", "min": "min"}
        assert message["stepType"] == expected_type[kind], entry.label
        assert (message["dataDate"], message["dataTime"]) == (20240229, 1200)
    return messages


@pytest.mark.parametrize(("model_name", "lead"), sorted(REAL_IDX))
def test_synthesized_file_inventory_equals_real_except_offsets_and_date(
    tmp_path, real_fixtures_dir, model_name, lead
):
    model = MODELS[model_name]
    path = tmp_path / f"{model_name}.f{lead:03d}.grib2"
    written = synthesize_noaa_file(path, model, INIT, lead, fill=())
    real = real_idx(real_fixtures_dir, model, lead)
    assert without_offsets_and_date(written) == without_offsets_and_date(real)
    assert [e.offset for e in written] != [e.offset for e in real]
    check_file(path, model, lead, written)


@pytest.mark.parametrize("lead", [13, 126])
def test_synthesized_gfs_file_at_other_leads(tmp_path, lead):
    path = tmp_path / f"gfs.f{lead:03d}.grib2"
    written = synthesize_noaa_file(path, GFS_0P25, INIT, lead, fill=())
    assert [(e.element, e.level, e.forecast) for e in written] == modelled_inventory(GFS_0P25, lead)
    check_file(path, GFS_0P25, lead, written)


def test_filled_gfs_values_decode_to_synthetic_field(tmp_path):
    fill = {("TMP", "2 m above ground"), ("CPOFP", "surface"), ("APCP", "surface")}
    path = tmp_path / "gfs.f013.grib2"
    written = synthesize_noaa_file(path, GFS_0P25, INIT, 13, fill)
    grid = gfs_0p25_grid()
    checked = 0
    for entry, message in zip(written, decoded_messages(path), strict=True):
        if (entry.element, entry.level) not in fill:
            assert message["bitsPerValue"] == 0
            continue
        start, end, _ = parse_forecast(entry.forecast)
        step_type = message["stepType"]
        expected = synthetic_field(
            entry.element,
            entry.level,
            INIT,
            None if start is None else timedelta(hours=start),
            timedelta(hours=end),
            step_type,
            grid.lats,
            grid.lons,
        )
        assert np.abs(message.values - expected).max() <= packing_tolerance(expected)
        checked += 1
    assert checked == 4  # TMP, CPOFP and APCP 12-13 and 0-13


def _keys(message: pygrib.gribmessage, keys: tuple[str, ...]) -> dict[str, object]:
    return {key: message[key] for key in keys}


GRID_KEYS_LAMBERT = (
    "gridDefinitionTemplateNumber",
    "Nx",
    "Ny",
    "latitudeOfFirstGridPointInDegrees",
    "longitudeOfFirstGridPointInDegrees",
    "LoVInDegrees",
    "Latin1InDegrees",
    "Latin2InDegrees",
    "DxInMetres",
    "DyInMetres",
    "shapeOfTheEarth",
    "radius",
    "scanningMode",
)
GRID_KEYS_LATLON = (
    "gridDefinitionTemplateNumber",
    "Ni",
    "Nj",
    "latitudeOfFirstGridPointInDegrees",
    "longitudeOfFirstGridPointInDegrees",
    "latitudeOfLastGridPointInDegrees",
    "longitudeOfLastGridPointInDegrees",
    "iDirectionIncrementInDegrees",
    "jDirectionIncrementInDegrees",
    "shapeOfTheEarth",
    "scanningMode",
)
PACKING_KEYS = ("packingType", "orderOfSpatialDifferencing", "centre")


def test_hrrr_apcp_matches_real_hrrr_messages(tmp_path, real_fixtures_dir):
    real = decoded_messages(
        real_fixtures_dir / "hrrr" / "subset_20201214_hrrr.t00z.wrfsfcf12.grib2"
    )
    path = tmp_path / "hrrr.t12z.wrfsfcf12.grib2"
    written = synthesize_noaa_file(path, HRRR_SFC, INIT, 12, {("APCP", "surface")})
    synthesized = {
        entry.forecast: message
        for entry, message in zip(written, decoded_messages(path), strict=True)
        if entry.element == "APCP"
    }
    assert set(synthesized) == {"0-12 hour acc fcst", "11-12 hour acc fcst"}
    for real_message in real:
        window = f"{real_message['startStep']}-{real_message['endStep']} hour acc fcst"
        mine = synthesized[window]
        keys = (*IDENTITY_KEYS, "typeOfStatisticalProcessing", "lengthOfTimeRange")
        assert _keys(mine, keys) == _keys(real_message, keys)
        grid_keys = GRID_KEYS_LAMBERT + PACKING_KEYS
        assert _keys(mine, grid_keys) == _keys(real_message, grid_keys)
        lats, lons = mine.latlons()
        real_lats, real_lons = real_message.latlons()
        np.testing.assert_allclose(lats, real_lats)
        np.testing.assert_allclose(lons, real_lons)
        expected = synthetic_field(
            "APCP",
            "surface",
            INIT,
            timedelta(hours=mine["startStep"]),
            timedelta(hours=12),
            "accum",
            lats,
            lons,
        )
        assert np.abs(mine.values - expected).max() <= packing_tolerance(expected)


def _single_gfs_message(tmp_path: Path, message: NoaaMessage) -> pygrib.gribmessage:
    grid = gfs_0p25_grid()
    path = tmp_path / f"{message.element}.grib2"
    specs = [message_spec(message, INIT, grid, fill=True)]
    write_grib_file(path, specs, init_time=INIT, grid=grid, inventory=idx_beside(path, INIT))
    return decoded_messages(path)[0]


def test_gfs_messages_match_real_gfs_messages(tmp_path, real_fixtures_dir):
    hgt = _single_gfs_message(
        tmp_path, NoaaMessage("HGT", "500 mb", "24 hour fcst", None, 24, None)
    )
    (real_hgt,) = decoded_messages(real_fixtures_dir / "gfs" / "gfs.complex.grib2")
    keys = IDENTITY_KEYS + GRID_KEYS_LATLON + PACKING_KEYS
    assert _keys(hgt, keys) == _keys(real_hgt, keys)

    real_radiation = decoded_messages(
        real_fixtures_dir / "gfs" / "test_NOAAS3_HRES-GFS_dswrf-dlwrf_20250129T06_S27.grib"
    )
    for real_message, element in zip(real_radiation, ("DSWRF", "DLWRF"), strict=True):
        mine = _single_gfs_message(
            tmp_path, NoaaMessage(element, "surface", "24-27 hour ave fcst", 24, 27, "ave")
        )
        keys = (
            *IDENTITY_KEYS,
            "typeOfStatisticalProcessing",
            "lengthOfTimeRange",
            *PACKING_KEYS,
        )
        assert _keys(mine, keys) == _keys(real_message, keys)


def test_idx_beside_writes_the_idx_of_the_real_offsets(tmp_path: Path):
    grid = gfs_0p25_grid()
    assert grid.shape == (721, 1440)
    tmp = synthetic_field(
        "TMP", "2 m above ground", INIT, None, 7 * HOUR, "instant", grid.lats, grid.lons
    )
    tmp[100:150, 200:400] = np.nan
    specs = [
        MessageSpec(element, level, forecast, identity_for(element, level), 7 * HOUR, values=values)
        for element, level, forecast, values in (
            ("TMP", "2 m above ground", "7 hour fcst", tmp),
            ("SOILW", "0.1-0.4 m below ground", "7 hour fcst", None),
        )
    ]
    path = tmp_path / "out" / "gfs.t00z.pgrb2.0p25.f007"
    inventory = idx_beside(path, INIT)
    written = idx_entries(
        write_grib_file(path, specs, init_time=INIT, grid=grid, inventory=inventory), INIT
    )
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, path.name + ".idx"]

    data = path.read_bytes()
    entries = parse_noaa_idx((path.parent / (path.name + ".idx")).read_text(), file_size=len(data))
    assert entries == written
    assert [(e.message, e.element, e.level, e.forecast) for e in entries] == [
        ("1", "TMP", "2 m above ground", "7 hour fcst"),
        ("2", "SOILW", "0.1-0.4 m below ground", "7 hour fcst"),
    ]
    assert all(e.reference_time == "2024022912" for e in entries)
    assert entries[-1].end == len(data)
    first = pygrib.fromstring(data[entries[0].offset : entries[0].end])
    assert first["packingType"] == "grid_complex_spatial_differencing"  # the template's
    values = first.values
    np.testing.assert_array_equal(np.ma.getmaskarray(values), np.isnan(tmp))
    assert np.nanmax(np.abs(values.filled(np.nan) - tmp)) <= packing_tolerance(tmp)
