"""HRRR's grid and variables checked against real NOAA files (a real wrfsfcf12 message and real
wrfsfc .idx inventories in the shared fixtures)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pygrib
import pytest
from pyproj import CRS, Transformer

from reformatters.core.plugins import get_registry
from reformatters.core.sources.grib import read_message
from reformatters.core.sources.grib_framing import scan_messages
from reformatters.noaa.common.identity import noaa_identity
from reformatters.noaa.common.idx import parse_noaa_idx
from reformatters.noaa.common.synthesis import modelled_inventory
from reformatters.noaa.hrrr.analysis.dynamical_dataset import make_analysis_dataset
from reformatters.noaa.hrrr.common import (
    HRRR_CRS,
    HRRR_GRID,
    NX,
    NY,
    X_COORDS,
    Y_COORDS,
    hrrr_source_url,
    latitude_longitude,
    output_rows,
)
from reformatters.noaa.hrrr.forecast_48_hour.dynamical_dataset import (
    make_forecast_48_hour_dataset,
)
from reformatters.noaa.hrrr.forecast_48_hour.template_config import (
    HrrrForecast48HourTemplateConfig,
)
from reformatters.noaa.hrrr.synthesis import HRRR_SFC

REAL_MESSAGE = "hrrr/subset_20201214_hrrr.t00z.wrfsfcf12.grib2"
DATASET_IDS = ("noaa-hrrr-forecast-48-hour", "noaa-hrrr-analysis")


@pytest.fixture(scope="module")
def real_message(real_fixtures_dir: Path) -> pygrib.gribmessage:
    grbs = pygrib.open(str(real_fixtures_dir / REAL_MESSAGE))
    try:
        return grbs.message(1)
    finally:
        grbs.close()


def test_coordinates_match_the_real_hrrr_message(real_message: pygrib.gribmessage) -> None:
    lats, lons = real_message.latlons()
    # The file scans south to north; our rows run north to south.
    lats, lons = lats[::-1], lons[::-1]
    lat, lon = latitude_longitude()
    assert lat.shape == lats.shape == (NY, NX)
    np.testing.assert_allclose(lat, lats, rtol=0, atol=1e-6)
    np.testing.assert_allclose(lon, ((lons + 180) % 360) - 180, rtol=0, atol=1e-6)
    # pygrib's projection of the same message puts every cell centre on our x/y to 1 cm.
    projection = CRS.from_dict(real_message.projparams)
    to_xy = Transformer.from_crs(projection.geodetic_crs, projection, always_xy=True)
    x, y = to_xy.transform(lons, lats)
    np.testing.assert_allclose(x, np.broadcast_to(X_COORDS, (NY, NX)), rtol=0, atol=0.01)
    np.testing.assert_allclose(y, np.broadcast_to(Y_COORDS[:, None], (NY, NX)), rtol=0, atol=0.01)


def test_crs_matches_the_message_projection(real_message: pygrib.gribmessage) -> None:
    params = real_message.projparams
    assert params["proj"] == "lcc"
    assert params["a"] == params["b"] == 6371229
    assert (params["lat_1"], params["lat_2"], params["lat_0"]) == (38.5, 38.5, 38.5)
    assert (params["lon_0"] - 360.0) == pytest.approx(-97.5)
    cf = HRRR_CRS.to_cf()
    assert cf["grid_mapping_name"] == "lambert_conformal_conic"
    assert cf["standard_parallel"] == (38.5, 38.5)
    assert cf["longitude_of_central_meridian"] == -97.5
    assert cf["semi_major_axis"] == cf["semi_minor_axis"] == 6371229.0


def test_real_message_passes_the_grid_and_identity_checks(real_fixtures_dir: Path) -> None:
    data = (real_fixtures_dir / REAL_MESSAGE).read_bytes()
    # Message 2 is APCP 11-12 hour acc: what the forecast reads at lead 12.
    precipitation = make_forecast_48_hour_dataset().template_config.data_var(
        "precipitation_surface"
    )
    attrs = precipitation.internal_attrs
    forecast = attrs.forecast_description(12)
    assert forecast == "11-12 hour acc fcst"
    offsets = [offset for offset, _ in scan_messages(data)]
    assert len(offsets) == 2
    values = read_message(
        data,
        offsets[1],
        expected=noaa_identity(attrs.grib_element, attrs.grib_level, forecast),
        grid=HRRR_GRID,
    )
    assert values.shape == (NY, NX)
    output = output_rows(values)
    assert np.nanmin(output) >= 0
    np.testing.assert_array_equal(output[-1], values[0])


@pytest.mark.parametrize("lead", [0, 1, 8, 24])
def test_every_variable_is_in_the_real_inventory(real_fixtures_dir: Path, lead: int) -> None:
    """Element, level and window of every variable against real NOAA .idx lines.

    Real inventories exist for f00, f08 and f24; f01 uses the modelled inventory (the f08 file
    relabelled, which core's synthesis tests check against the real files).
    """
    real = {0: "f00", 8: "f08", 24: "f24"}
    if lead in real:
        path = real_fixtures_dir / "hrrr" / f"hrrr.t00z.wrfsfc{real[lead]}.grib2.idx"
        lines = {(e.element, e.level, e.forecast) for e in parse_noaa_idx(path.read_text())}
    else:
        lines = set(modelled_inventory(HRRR_SFC, lead))
    for dataset_id in DATASET_IDS:
        for var in get_registry().get(dataset_id).template_config.data_vars:
            attrs = var.internal_attrs
            forecast = attrs.forecast_description(lead)
            if forecast is None:
                assert not attrs.has_lead_0_value and lead == 0
                continue
            assert (attrs.grib_element, attrs.grib_level, forecast) in lines, (var.name, lead)


def test_declared_windows_and_units() -> None:
    config = make_forecast_48_hour_dataset().template_config
    precipitation = config.data_var("precipitation_surface").internal_attrs
    assert precipitation.forecast_description(8) == "7-8 hour acc fcst"
    assert precipitation.forecast_description(0) is None
    for name in (
        "downward_short_wave_radiation_flux_surface",
        "downward_long_wave_radiation_flux_surface",
        "total_cloud_cover_atmosphere",
        "categorical_rain_surface",
    ):
        assert config.data_var(name).internal_attrs.source_step_type == "instant", name
        assert config.data_var(name).attrs.step_type == "instant", name
    assert config.data_var("pressure_reduced_to_mean_sea_level").internal_attrs.grib_element == (
        "MSLMA"
    )
    assert config.data_var("temperature_2m").attrs.units == "degree_Celsius"
    assert config.data_var("wind_u_10m").attrs.standard_name == "x_wind"
    for var in config.data_vars:
        assert var.internal_attrs.keep_mantissa_bits in (6, 7, 9, 10, "no-rounding"), var.name


def test_chunks_tile_the_shards_and_the_grid() -> None:
    forecast = make_forecast_48_hour_dataset().template_config.data_vars[0].encoding
    assert forecast.shards is not None
    for chunk, shard in zip(forecast.chunks, forecast.shards, strict=True):
        assert shard % chunk == 0
    assert forecast.shards[1:] >= (49, NY, NX)
    analysis = make_analysis_dataset().template_config
    encoding = analysis.data_vars[0].encoding
    assert encoding.shards is not None and encoding.shards[1:] >= (NY, NX)


def test_source_urls_and_expected_forecast_length() -> None:
    assert hrrr_source_url(pd.Timestamp("2024-05-06T18"), 7) == (
        "s3://noaa-hrrr-bdp-pds/hrrr.20240506/conus/hrrr.t18z.wrfsfcf07.grib2"
    )
    inits = np.array(["2020-12-02T06", "2020-12-02T12"], dtype="datetime64[ns]")
    lengths = HrrrForecast48HourTemplateConfig().expected_forecast_length(inits)
    assert list(lengths) == [np.timedelta64(36, "h"), np.timedelta64(48, "h")]
