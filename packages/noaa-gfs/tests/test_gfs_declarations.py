"""Fast checks of the GFS declarations: source addressing, window rules, layout, chunking."""

import numpy as np
import pandas as pd
import pytest

from reformatters.core.sources.errors import SourceRunMismatchError
from reformatters.noaa.common.idx import (
    MessageSelector,
    check_run,
    parse_noaa_idx,
    select_messages,
)
from reformatters.noaa.gfs.analysis.region_job import source_run
from reformatters.noaa.gfs.analysis.template_config import GfsAnalysisTemplateConfig
from reformatters.noaa.gfs.common import GfsSourceFileCoord
from reformatters.noaa.gfs.forecast.region_job import (
    GfsForecastRegionJob,
    GfsForecastSourceFileCoord,
)
from reformatters.noaa.gfs.forecast.template_config import LEAD_TIMES, GfsForecastTemplateConfig

FORECAST = GfsForecastTemplateConfig()
ANALYSIS = GfsAnalysisTemplateConfig()


def test_source_url() -> None:
    coord = GfsForecastSourceFileCoord(
        init_time=pd.Timestamp("2024-01-02T06"), lead_time=pd.Timedelta(hours=123)
    )
    assert isinstance(coord, GfsSourceFileCoord)
    assert coord.get_url() == (
        "s3://noaa-gfs-bdp-pds/gfs.20240102/06/atmos/gfs.t06z.pgrb2.0p25.f123"
    )
    assert coord.idx_url().endswith(".f123.idx")


def test_lead_times() -> None:
    hours = LEAD_TIMES / pd.Timedelta(hours=1)
    assert len(LEAD_TIMES) == 209
    assert list(hours[:3]) == [0, 1, 2]
    assert list(hours[119:123]) == [119, 120, 123, 126]
    assert hours[-1] == 384


@pytest.mark.parametrize(
    ("name", "lead", "forecast"),
    [
        ("temperature_2m", 0, "anl"),
        ("temperature_2m", 7, "7 hour fcst"),
        ("precipitation_surface", 0, None),
        ("precipitation_surface", 1, "0-1 hour acc fcst"),
        ("precipitation_surface", 6, "0-6 hour acc fcst"),
        ("precipitation_surface", 8, "6-8 hour acc fcst"),
        ("precipitation_surface", 123, "120-123 hour acc fcst"),
        ("precipitation_surface", 126, "120-126 hour acc fcst"),
        ("maximum_temperature_2m", 7, "6-7 hour max fcst"),
        ("minimum_temperature_2m", 12, "6-12 hour min fcst"),
        ("total_cloud_cover_atmosphere", 13, "12-13 hour ave fcst"),
        ("categorical_rain_surface", 2, "0-2 hour ave fcst"),
        ("downward_short_wave_radiation_flux_surface", 0, None),
    ],
)
def test_forecast_descriptions(name: str, lead: int, forecast: str | None) -> None:
    assert FORECAST.data_var(name).internal_attrs.forecast_description(lead) == forecast


def test_every_variable_has_cf_attrs_and_expected_encoding() -> None:
    assert len(FORECAST.data_vars) == 25
    for var in FORECAST.data_vars:
        assert var.attrs.long_name and var.attrs.units
        assert var.encoding.chunks == (1, 42, 121, 121)
        assert var.encoding.shards == (1, 210, 726, 1452)
        if var.attrs.flag_values is not None:
            assert var.internal_attrs.keep_mantissa_bits == "no-rounding"
    for var in ANALYSIS.data_vars:
        assert var.encoding.chunks == (24, 61, 60)
    bits = {v.name: v.internal_attrs.keep_mantissa_bits for v in FORECAST.data_vars}
    assert bits["wind_u_10m"] == 6
    assert bits["pressure_surface"] == 10
    assert bits["temperature_2m"] == 7


@pytest.mark.parametrize(
    ("hour", "window", "init", "lead"),
    [
        ("2024-01-01T00", False, "2024-01-01T00", 0),
        ("2024-01-01T05", False, "2024-01-01T00", 5),
        ("2024-01-01T06", False, "2024-01-01T06", 0),
        ("2024-01-01T00", True, "2023-12-31T18", 6),
        ("2024-01-01T01", True, "2024-01-01T00", 1),
        ("2024-01-01T06", True, "2024-01-01T00", 6),
        ("2024-01-01T07", True, "2024-01-01T06", 1),
    ],
)
def test_analysis_source_run(hour: str, window: bool, init: str, lead: int) -> None:
    found_init, found_lead = source_run(pd.Timestamp(hour), window=window)
    assert found_init == pd.Timestamp(init)
    assert found_lead == pd.Timedelta(hours=lead)


def test_longitudes_are_rolled_from_0_360() -> None:
    rows, cols = GfsForecastRegionJob._layout_index()
    source = np.arange(721 * 1440, dtype=np.float32).reshape(721, 1440)
    out = source[np.ix_(rows, cols)]
    # output column 0 is -180 (source 180 = column 720); output column 720 is 0 degrees
    assert out[0, 0] == source[0, 720]
    assert out[0, 720] == source[0, 0]
    assert out[-1, -1] == source[-1, 719]
    np.testing.assert_array_equal(rows, np.arange(721))


def test_duplicate_idx_lines_pick_the_first_and_an_absent_line_is_none() -> None:
    text = (
        "1:0:d=2024010100:APCP:surface:0-6 hour acc fcst:\n"
        "2:100:d=2024010100:APCP:surface:0-6 hour acc fcst:\n"
        "3:200:d=2024010100:TMP:2 m above ground:6 hour fcst:\n"
    )
    entries = parse_noaa_idx(text, file_size=300)
    wanted = [
        MessageSelector("APCP", "surface", "0-6 hour acc fcst"),
        MessageSelector("PRES", "surface", "anl"),
        MessageSelector("TMP", "2 m above ground", "6 hour fcst"),
    ]
    apcp, pres, tmp = select_messages(entries, wanted)
    assert apcp is not None and apcp.offset == 0
    assert pres is None
    assert tmp is not None and tmp.offset == 200


def test_an_inventory_of_another_run_is_refused() -> None:
    entries = parse_noaa_idx("1:0:d=2024010100:TMP:2 m above ground:6 hour fcst:\n")
    check_run(entries, pd.Timestamp("2024-01-01T00"), "u.idx")
    with pytest.raises(SourceRunMismatchError, match=r"run of 2024-01-01T06 .* d=2024010100"):
        check_run(entries, pd.Timestamp("2024-01-01T06"), "u.idx")
