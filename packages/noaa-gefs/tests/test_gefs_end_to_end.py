"""noaa-gefs-forecast-35-day end to end, offline: a synthesized GEFS mirror (three members, leads
237, 240 and 246 h: 0.25 degree files, then 0.5 degree ones) served on loopback; every stored
value must equal the member's synthesized source value after the declared transforms (bilinear
placement of 0.5 degree fields, unit conversion, deaccumulation, rounding)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from conftest import INIT, LEADS, MEMBERS
from reformatters.core.dynamical_dataset import JobFilters
from reformatters.core.sources.mirror import SOURCE_MIRROR_ENV
from reformatters.core.sources.server import serve_mirror
from reformatters.core.sources.synthesis import packing_tolerance
from reformatters.core.storage import StoreLocation
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.gefs.common import SOURCES, Product
from reformatters.noaa.gefs.forecast.dynamical_dataset import make_forecast_dataset
from reformatters.noaa.gefs.forecast.region_job import GefsForecastRegionJob
from reformatters.noaa.gefs.synthesis import member_values, product_grid


def _on_quarter_degree(values: np.ndarray, product: Product) -> np.ndarray:
    """A product's field on the 0.25 degree source layout (lat 90..-90, lon 0..359.75); 0.5
    degree fields by separable linear interpolation with numpy's ``interp`` (an implementation
    independent of the reader's), longitude wrapped."""
    if product is Product.S:
        return values.astype(np.float64)
    grid = product_grid(product)
    lats, lons = grid.lats[:, 0], grid.lons[0, :]
    wrapped_lons = np.append(lons, 360.0)
    target_lons, target_lats = np.arange(1440) * 0.25, np.linspace(90, -90, 721)
    along_lon = np.array(
        [np.interp(target_lons, wrapped_lons, np.append(row, row[0])) for row in values]
    )
    # np.interp wants increasing coordinates: latitudes run north to south.
    return np.array(
        [np.interp(target_lats[::-1], lats[::-1], column[::-1])[::-1] for column in along_lon.T]
    ).T


def _source(var: NoaaDataVar, member: int, lead: int) -> tuple[np.ndarray, float] | None:
    """(field in output layout and units, packing tolerance) or None where no message."""
    attrs = var.internal_attrs
    product = SOURCES[var.name].product(lead)
    if product is None or attrs.forecast_description(lead) is None:
        return None
    start = timedelta(hours=attrs.window_start_hour(lead)) if attrs.is_window else None
    raw = member_values(
        attrs.grib_element,
        attrs.grib_level,
        INIT,
        member,
        start,
        timedelta(hours=lead),
        attrs.source_step_type,
        product_grid(product),
    )
    field = _on_quarter_degree(raw, product)
    if attrs.unit_conversion == "kelvin_to_celsius":
        field = field - 273.15
    rows, cols = GefsForecastRegionJob._layout_index()
    return field[np.ix_(rows, cols)], packing_tolerance(raw)


def _expected(var: NoaaDataVar, member: int, lead: int) -> tuple[np.ndarray, np.ndarray]:
    nan = np.full((721, 1440), np.nan)
    found = _source(var, member, lead)
    if found is None:
        return nan, nan
    field, tolerance = found
    attrs = var.internal_attrs
    if attrs.deaccumulate_to_rate:
        previous = LEADS[LEADS.index(lead) - 1] if LEADS.index(lead) else None
        start = attrs.window_start_hour(lead)
        step = lead - (previous if previous is not None and previous >= start else start)
        if start < lead - step:
            assert previous is not None
            prior = _source(var, member, previous)
            assert prior is not None
            field, tolerance = field - prior[0], 2 * tolerance
        field, tolerance = field / (3600 * step), tolerance / (3600 * step)
    bits = attrs.keep_mantissa_bits
    rounding = 0.0 if bits == "no-rounding" else 2.0**-bits
    return field, np.abs(field) * rounding + tolerance + 1e-5 * np.abs(field) + 1e-6


@pytest.mark.slow
def test_backfill_equals_each_members_source(
    gefs_mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFORMATTERS_DECODE_PROCESSES", "0")
    dataset = make_forecast_dataset()
    with serve_mirror(gefs_mirror) as server:
        monkeypatch.setenv(SOURCE_MIRROR_ENV, server.url)
        report = dataset.backfill_local(
            (INIT + pd.Timedelta(days=1)).to_pydatetime(),
            JobFilters(filter_ensemble_members=MEMBERS),
            str(tmp_path / "out"),
        )
    # 3 members x 3 groups of variables; every file of the other leads is missing, none failed.
    assert report.jobs_run == 9
    store = StoreLocation(str(tmp_path / "out" / dataset.dataset_id / "v0.1.0.zarr"))
    ds = xr.open_zarr(store.zarr_store(read_only=True), decode_timedelta=True, chunks=None)
    assert ds.sizes == {
        "init_time": 1,
        "ensemble_member": 31,
        "lead_time": 181,
        "latitude": 721,
        "longitude": 1440,
    }
    # Members are integers (no fill value to mask them into floats), 0 the control.
    assert ds["ensemble_member"].dtype == np.int16
    assert ds["ensemble_member"].values.tolist() == list(range(31))
    assert ds["ensemble_member"].attrs["standard_name"] == "realization"
    leads = [pd.Timedelta(hours=h) for h in LEADS]
    ingested = ds["ingested_forecast_length"].sel(init_time=INIT).values
    for member in range(31):
        want = np.timedelta64(246, "h") if member in MEMBERS else np.timedelta64("NaT", "ns")
        assert ingested[member] == want or (np.isnat(want) and np.isnat(ingested[member]))
    for var in dataset.template_config.data_vars:
        data = ds[var.name].sel(init_time=INIT)
        for member in MEMBERS:
            for lead in LEADS:
                actual = data.sel(ensemble_member=member, lead_time=pd.Timedelta(hours=lead))
                expected, tolerance = _expected(var, member, lead)
                what = f"{var.name} member {member} lead {lead}"
                actual_values = actual.values
                assert np.array_equal(np.isnan(actual_values), np.isnan(expected)), what
                finite = ~np.isnan(expected)
                excess = (np.abs(actual_values - expected) - tolerance)[finite]
                assert excess.size == 0 or excess.max() <= 0, f"{what}: off by {excess.max()}"
        # Nothing anywhere else: other leads of the members, another member.
        for member in MEMBERS:
            for position in (0, 40, 78, 83, 180):  # 0, 120, 234, 264, 840 h
                field = data.sel(ensemble_member=member).isel(lead_time=position)
                assert np.isnan(field.values).all(), f"{var.name} {member} {position}"
        assert np.isnan(data.sel(ensemble_member=2, lead_time=leads[1]).values).all(), var.name
    # Members differ.
    t2m = ds["temperature_2m"].sel(init_time=INIT, lead_time=pd.Timedelta(hours=240))
    assert not np.allclose(t2m.sel(ensemble_member=0), t2m.sel(ensemble_member=1))
