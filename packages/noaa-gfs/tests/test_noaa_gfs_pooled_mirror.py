"""A pooled GFS mirror (relabelled copies of a few synthesized files, as the scale benchmarks
use): its messages are what their new run and lead say, hold exactly their pool file's values,
and a backfill over it stores those values after the declared transforms.

Expected store values are computed from the messages actually in the files (decoded through
their ``.idx``), so fields reused across leads and runs are checked as what they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from reformatters.core.dynamical_dataset import JobFilters
from reformatters.core.sources.grib import decode_message
from reformatters.core.sources.mirror import SOURCE_MIRROR_ENV
from reformatters.core.sources.server import serve_mirror
from reformatters.core.sources.synthesis import packing_tolerance
from reformatters.noaa.common.identity import noaa_identity
from reformatters.noaa.common.idx import parse_noaa_idx
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.gfs.forecast.dynamical_dataset import make_forecast_dataset
from reformatters.noaa.gfs.forecast.region_job import GfsForecastRegionJob
from reformatters.noaa.gfs.synthesis import (
    GFS_POOLED_MIRROR,
    mirror_path,
    pooled_source_values,
    synthesize_pooled_gfs_mirror,
)

INITS = (pd.Timestamp("2021-05-01T00"), pd.Timestamp("2021-05-01T06"))
LEADS = tuple(range(9))  # across the 6-hour window reset
NAMES = (
    "temperature_2m",
    "precipitation_surface",
    "maximum_temperature_2m",
    "downward_short_wave_radiation_flux_surface",
)


def _data_vars() -> list[NoaaDataVar]:
    config = make_forecast_dataset().template_config
    return [config.data_var(name) for name in NAMES]


@pytest.fixture(scope="module")
def pooled_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("gfs-pooled-mirror")
    synthesize_pooled_gfs_mirror(folder, INITS, LEADS, _data_vars(), workers=2)
    return folder


def _message(folder: Path, var: NoaaDataVar, init: pd.Timestamp, lead: int) -> bytes | None:
    """The variable's message in the file of ``init`` + ``lead``, found through its .idx."""
    forecast = var.internal_attrs.forecast_description(lead)
    if forecast is None:
        return None
    path = mirror_path(folder, init, lead)
    data = path.read_bytes()
    entries = parse_noaa_idx(path.with_name(path.name + ".idx").read_text(), file_size=len(data))
    attrs = var.internal_attrs
    entry = next(
        e for e in entries if (e.element, e.level, e.forecast) == (
            attrs.grib_element, attrs.grib_level, forecast
        )
    )  # fmt: skip
    assert entry.end is not None
    return data[entry.offset : entry.end]


def _decoded(folder: Path, var: NoaaDataVar, init: pd.Timestamp, lead: int) -> np.ndarray | None:
    """The file's values (float64, source layout); the decode checks the message is the
    variable's field of run ``init`` at ``lead``."""
    message = _message(folder, var, init, lead)
    if message is None:
        return None
    attrs = var.internal_attrs
    forecast = attrs.forecast_description(lead)
    assert forecast is not None
    expected = noaa_identity(
        attrs.grib_element, attrs.grib_level, forecast, reference_time=init.to_pydatetime()
    )
    return decode_message(message, expected=expected, missing_values=attrs.source_missing_values)


def test_relabelled_messages_hold_their_pool_values_under_their_new_identity(
    pooled_mirror: Path,
) -> None:
    pool = GFS_POOLED_MIRROR.pool_dir(pooled_mirror, _data_vars())
    pool_init = GFS_POOLED_MIRROR.pool_init
    used = set()
    for var in _data_vars():
        for init in INITS:
            for lead in LEADS:
                values = _decoded(pooled_mirror, var, init, lead)
                if values is None:
                    continue
                pool_lead = GFS_POOLED_MIRROR.pool_lead(init, lead)
                used.add(pool_lead)
                pooled = _decoded(pool, var, pool_init, pool_lead)
                assert pooled is not None
                np.testing.assert_array_equal(values, pooled)
                synthesized = pooled_source_values(var, init, lead)
                assert synthesized is not None
                tolerance = packing_tolerance(synthesized)
                assert np.nanmax(np.abs(values - synthesized)) <= tolerance, var.name
    # Both pool windows serve these runs, and a lead's file differs from the other run's.
    assert len(used) == 13
    a = _message(pooled_mirror, _data_vars()[0], INITS[0], 3)
    b = _message(pooled_mirror, _data_vars()[0], INITS[1], 3)
    assert a is not None and b is not None and a[16:] != b[16:]


def test_pool_leads_keep_a_window_in_one_pool_window() -> None:
    for run in range(4):
        init = INITS[0] + pd.Timedelta(hours=6 * run)
        for lead in (*range(1, 121), *range(123, 385, 3)):
            pool_lead = GFS_POOLED_MIRROR.pool_lead(init, lead)
            start = ((lead - 1) // 6) * 6
            assert pool_lead - ((pool_lead - 1) // 6) * 6 == lead - start
            if lead - 1 > start:  # the previous lead is in the same window: same pool window
                previous = GFS_POOLED_MIRROR.pool_lead(init, lead - 1)
                assert (previous - 1) // 6 == (pool_lead - 1) // 6


@pytest.fixture
def served(pooled_mirror: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("REFORMATTERS_DECODE_PROCESSES", "0")
    with serve_mirror(pooled_mirror) as server:
        monkeypatch.setenv(SOURCE_MIRROR_ENV, server.url)
        yield server.url


def _in_output_layout(values: np.ndarray, var: NoaaDataVar) -> np.ndarray:
    rows, cols = GfsForecastRegionJob._layout_index()
    out = values[np.ix_(rows, cols)].astype(np.float32)
    if var.internal_attrs.unit_conversion == "kelvin_to_celsius":
        out -= np.float32(273.15)
    return out


def _expected(folder: Path, var: NoaaDataVar, init: pd.Timestamp, lead: int) -> np.ndarray:
    attrs = var.internal_attrs
    values = _decoded(folder, var, init, lead)
    if values is None:
        return np.full((721, 1440), np.nan, dtype=np.float32)
    field = _in_output_layout(values, var).astype(np.float64)
    if not attrs.deaccumulate_to_rate:
        return field
    if attrs.window_start_hour(lead) == lead - 1:
        return field / 3600.0
    previous = _decoded(folder, var, init, lead - 1)
    assert previous is not None
    increment: np.ndarray = field - _in_output_layout(previous, var)
    return increment / 3600.0


def test_backfill_over_a_pooled_mirror_stores_the_files_values(
    pooled_mirror: Path, served: str, tmp_path: Path
) -> None:
    dataset = make_forecast_dataset()
    report = dataset.backfill_local(
        datetime(2021, 5, 1, 12),
        JobFilters(filter_start=INITS[0], filter_variable_names=NAMES),
        output_url=str(tmp_path),
    )
    assert report.jobs_run == 2
    store = tmp_path / "noaa-gfs-forecast" / "v0.1.0.zarr"
    ds = xr.open_zarr(store, decode_timedelta=True, chunks=None)
    for var in _data_vars():
        bits = var.internal_attrs.keep_mantissa_bits
        assert bits != "no-rounding"
        stored = ds[var.name].isel(lead_time=slice(0, len(LEADS) + 1)).load()
        for init in INITS:
            for lead in LEADS:
                expected = _expected(pooled_mirror, var, init, lead)
                actual = stored.sel(init_time=init).isel(lead_time=lead).values
                what = f"{var.name} {init} f{lead:03d}"
                assert np.array_equal(np.isnan(actual), np.isnan(expected)), what
                if np.isnan(expected).all():
                    continue
                error = np.abs(actual - expected)
                tolerance = np.abs(expected) * (2.0**-bits + 2.0**-20)
                assert np.nanmax(error - tolerance) <= 0, what
            assert np.isnan(stored.sel(init_time=init).isel(lead_time=len(LEADS)).values).all()
