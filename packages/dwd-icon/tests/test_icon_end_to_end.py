"""dwd-icon-eu-forecast-5-day end to end, offline: a synthesized DWD-layout mirror (one bz2 file
per variable and step, steps in minutes; steps 76, 77, 78 and 81 h) served on loopback; every
stored value must equal the synthesized source value after the declared transforms (unit
conversion, run-start accumulations and averages turned into interval means, row flip,
rounding)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from conftest import INIT
from reformatters.core.dynamical_dataset import JobFilters
from reformatters.core.sources.mirror import SOURCE_MIRROR_ENV
from reformatters.core.sources.server import serve_mirror
from reformatters.core.sources.synthesis import packing_tolerance
from reformatters.core.storage import StoreLocation
from reformatters.dwd.icon.common import STEP_HOURS
from reformatters.dwd.icon.eu_forecast.dynamical_dataset import make_eu_forecast_dataset
from reformatters.dwd.icon.synthesis import DEFAULT_SYNTHESIS_STEPS, source_values
from reformatters.dwd.icon.variables import IconDataVar

STEPS = DEFAULT_SYNTHESIS_STEPS


def expected_field(var: IconDataVar, step: int) -> tuple[np.ndarray, np.ndarray]:
    """(field in output layout and units, tolerance)."""
    attrs = var.internal_attrs
    raw = source_values(attrs, INIT, step)
    tolerance = packing_tolerance(raw) + 1e-6 * np.abs(raw)
    field = raw.copy()
    if attrs.unit_conversion == "kelvin_to_celsius":
        field = field - 273.15
    if attrs.from_start:
        position = STEPS.index(step)
        if position == 0:  # the previous lead (75 h) is not in the mirror
            nan = np.full(field.shape, np.nan)
            return nan, nan
        previous = STEPS[position - 1]
        prior = source_values(attrs, INIT, previous)
        seconds = (step - previous) * 3600
        if attrs.statistic == "average_from_start":
            field = (field * step * 3600 - prior * previous * 3600) / seconds
            tolerance = (packing_tolerance(raw) * step + packing_tolerance(prior) * previous) * (
                3600 / seconds
            )
        else:
            field = (field - prior) / seconds
            tolerance = 2 * tolerance / seconds
    bits = attrs.keep_mantissa_bits
    rounding = 0.0 if bits == "no-rounding" else 2.0**-bits
    return field[::-1], (np.abs(field) * rounding + tolerance + 1e-6)[::-1]


def backfill(mirror_url: str, output: Path, monkeypatch: pytest.MonkeyPatch) -> xr.Dataset:
    monkeypatch.setenv("REFORMATTERS_DECODE_PROCESSES", "0")
    monkeypatch.setenv(SOURCE_MIRROR_ENV, mirror_url)
    dataset = make_eu_forecast_dataset()
    report = dataset.backfill_local(
        (INIT + pd.Timedelta(hours=6)).to_pydatetime(), JobFilters(), str(output)
    )
    # One job per init (00 UTC: no files in the mirror; 06 UTC) and variable (its own files).
    assert report.jobs_run == 2 * len(dataset.template_config.data_vars)
    store = StoreLocation(
        str(output / dataset.dataset_id / f"v{dataset.template_config.version}.zarr")
    )
    return xr.open_zarr(store.zarr_store(read_only=True), decode_timedelta=True, chunks=None)


@pytest.mark.slow
def test_backfill_equals_source(
    icon_mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve_mirror(icon_mirror) as server:
        ds = backfill(server.url, tmp_path / "out", monkeypatch)
    assert dict(ds.sizes) == {"init_time": 2, "lead_time": 93, "latitude": 657, "longitude": 1377}
    assert ds["latitude"].values[[0, -1]].tolist() == [70.5, 29.5]
    assert ds["longitude"].values[[0, -1]].tolist() == [-23.5, 62.5]
    ingested = ds["ingested_forecast_length"].sel(init_time=INIT).values
    assert ingested == np.timedelta64(81, "h")
    dataset = make_eu_forecast_dataset()
    for var in dataset.template_config.data_vars:
        data = ds[var.name].sel(init_time=INIT)
        for step in STEPS:
            values = data.sel(lead_time=pd.Timedelta(hours=step)).values
            expected, tolerance = expected_field(var, step)
            what = f"{var.name} step {step}"
            assert np.array_equal(np.isnan(values), np.isnan(expected)), what
            finite = ~np.isnan(expected)
            excess = (np.abs(values - expected) - tolerance)[finite]
            assert excess.size == 0 or excess.max() <= 0, f"{what}: off by {excess.max()}"
        # Nothing at the leads the mirror lacks (0 h, 75 h, 84 h, 120 h).
        for hours in (0, 75, 84, 120):
            position = STEP_HOURS.index(hours)
            assert np.isnan(data.isel(lead_time=position).values).all(), f"{var.name} {hours}"
