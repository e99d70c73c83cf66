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

from conftest import DATA_VARS, INIT, LEADS, MEMBERS
from reformatters.core.dynamical_dataset import JobFilters
from reformatters.core.sources.synthesis import packing_tolerance
from reformatters.core.testing.backfill import backfill_from_mirror
from reformatters.core.testing.expected import (
    WithTolerance,
    assert_members_backfilled,
    assert_members_ingested,
    in_output_units,
    rounding_tolerance,
)
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
    field = in_output_units(_on_quarter_degree(raw, product), attrs.unit_conversion)
    rows, cols = GefsForecastRegionJob._layout_index()
    return field[np.ix_(rows, cols)], packing_tolerance(raw)


def _expected(var: NoaaDataVar, member: int, lead: int) -> WithTolerance:
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
    rounding = rounding_tolerance(field, attrs.keep_mantissa_bits)
    return field, rounding + tolerance + 1e-5 * np.abs(field) + 1e-6


@pytest.mark.slow
def test_backfill_equals_each_members_source(
    gefs_mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = make_forecast_dataset()
    end = (INIT + pd.Timedelta(days=1)).to_pydatetime()
    filters = JobFilters(filter_ensemble_members=MEMBERS)
    report, ds = backfill_from_mirror(dataset, gefs_mirror, end, tmp_path, monkeypatch, filters)
    # 3 members x 3 groups of variables; every file of the other leads is missing, none failed.
    assert report.jobs_run == 9
    assert dict(ds.sizes) == {
        "init_time": 1,
        "ensemble_member": 31,
        "lead_time": 181,
        "latitude": 721,
        "longitude": 1440,
    }
    # Members are integers (no fill value to mask them into floats), 0 the control.
    assert ds["ensemble_member"].dtype == np.int16
    assert ds["ensemble_member"].attrs["standard_name"] == "realization"
    assert_members_ingested(ds, INIT, MEMBERS, 31, timedelta(hours=246))
    # Nothing at other leads of the members (0, 120, 234, 264, 840 h), nor for another member.
    assert_members_backfilled(
        ds,
        DATA_VARS,
        INIT,
        MEMBERS,
        LEADS,
        _expected,
        absent_leads=(0, 120, 234, 264, 840),
        absent_member=2,
    )
    # Members differ.
    t2m = ds["temperature_2m"].sel(init_time=INIT, lead_time=pd.Timedelta(hours=240))
    assert not np.allclose(t2m.sel(ensemble_member=0), t2m.sel(ensemble_member=1))
