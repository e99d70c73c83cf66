"""The ICON-EU reader against real DWD open-data files (../shared/fixtures/real/dwd): both grid
sizes (1097 columns up to 2022, 1377 since), steps in minutes, decoded through the backfill's
code path (the region job's ``read_data`` / ``read_icon_field``) and placed where the template
says: compared point by point with the GRIB grid definition (pygrib's ``latlons``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pygrib
import pytest

from reformatters.core.sources.grib_identity import GribIdentityMismatchError
from reformatters.dwd.icon.common import LATITUDES, LONGITUDES
from reformatters.dwd.icon.eu_forecast.dynamical_dataset import make_eu_forecast_dataset
from reformatters.dwd.icon.region_job import IconRegionJob, IconSourceFileCoord, read_icon_field
from reformatters.dwd.icon.variables import SURFACE, IconDataVar, IconInternalAttrs

PREFIX = "icon-eu_europe_regular-lat-lon_single-level_"


def _var(name: str) -> IconDataVar:
    (var,) = [v for v in make_eu_forecast_dataset().template_config.data_vars if v.name == name]
    return var


def _grib(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    message = pygrib.open(str(path)).message(1)
    lats, lons = message.latlons()
    return np.asarray(message.values, dtype=np.float64), lats, lons


def _assert_placed(field: np.ndarray, path: Path) -> None:
    """The stored field equals the message's values at the output's coordinates: rows flipped
    to north first, source columns in the first ``ni`` output columns, NaN beyond."""
    values, lats, lons = _grib(path)
    ni = values.shape[1]
    assert field.shape == (len(LATITUDES), len(LONGITUDES))
    # The template's coordinates are the message's: latitudes north first, longitudes -180..180.
    np.testing.assert_allclose(LATITUDES, lats[::-1, 0], atol=1e-6)
    np.testing.assert_allclose(LONGITUDES[:ni], (lons[0] + 180.0) % 360.0 - 180.0, atol=1e-6)
    np.testing.assert_array_equal(field[:, :ni], values[::-1, :].astype(np.float32))
    assert np.isnan(field[:, ni:]).all()


@pytest.mark.parametrize(
    ("file", "name", "init"),
    [
        (f"{PREFIX}2022050700_000_U_10M.grib2", "wind_u_10m", "2022-05-07T00"),
        (f"{PREFIX}2022050700_000_V_10M.grib2", "wind_v_10m", "2022-05-07T00"),
    ],
)
def test_legacy_grid_through_read_data(
    real_fixtures_dir: Path, file: str, name: str, init: str
) -> None:
    path = real_fixtures_dir / "dwd" / file
    var = _var(name)
    coord = IconSourceFileCoord(
        init_time=pd.Timestamp(init),
        lead_time=pd.Timedelta(0),
        dwd_name=var.internal_attrs.dwd_name,
    )
    field = IconRegionJob.read_data(None, coord, path, var)  # type: ignore[arg-type]
    _assert_placed(field, path)
    assert np.isnan(field[:, 1097:]).all() and not np.isnan(field[:, :1097]).any()


def test_legacy_grid_temperature_is_converted(real_fixtures_dir: Path) -> None:
    path = real_fixtures_dir / "dwd" / f"{PREFIX}2020062300_000_T_2M.grib2"
    var = _var("temperature_2m")
    field = read_icon_field(path, var.internal_attrs, pd.Timestamp("2020-06-23T00"), 0, str(path))
    values, _, _ = _grib(path)
    np.testing.assert_allclose(
        field[:, :1097], (values[::-1] - 273.15).astype(np.float32), atol=1e-4
    )
    assert -5 < np.nanmin(field) < np.nanmax(field) < 40


def test_minute_steps_are_checked(real_fixtures_dir: Path) -> None:
    """CLCT_MOD at 47 h is encoded as forecastTime 2820 minutes: read at step 47, refused at 46."""
    path = real_fixtures_dir / "dwd" / f"{PREFIX}2022042700_047_CLCT_MOD.grib2"
    attrs = IconInternalAttrs(
        dwd_name="CLCT_MOD", parameter_category=6, parameter_number=199, surface_type=SURFACE
    )
    init = pd.Timestamp("2022-04-27T00")
    _assert_placed(read_icon_field(path, attrs, init, 47, str(path)), path)
    with pytest.raises(GribIdentityMismatchError, match="end_step"):
        read_icon_field(path, attrs, init, 46, str(path))


def test_current_grid(real_fixtures_dir: Path) -> None:
    """The 1377-column grid fills every output column (CLCL at 800 hPa -> ground, 2023-10-25
    06 UTC; ASOB_S averaged from the run start, 2024-03-04, a constant field)."""
    folder = real_fixtures_dir / "dwd"
    clcl = IconInternalAttrs(
        dwd_name="CLCL", parameter_category=6, parameter_number=22, surface_type=100, level=800
    )
    path = folder / "test_icon_europe_001_CLCL.grib2"
    field = read_icon_field(path, clcl, pd.Timestamp("2023-10-25T06"), 0, str(path))
    _assert_placed(field, path)
    assert not np.isnan(field).any() and float(np.nanmax(field)) > 50
    asob = IconInternalAttrs(
        dwd_name="ASOB_S",
        parameter_category=4,
        parameter_number=9,
        surface_type=SURFACE,
        statistic="average_from_start",
    )
    path = folder / "test_icon_europe_000_ASOB_S.grib2"
    field = read_icon_field(path, asob, pd.Timestamp("2024-03-04T00"), 0, str(path))
    assert field.shape == (657, 1377) and (field == 0).all()
