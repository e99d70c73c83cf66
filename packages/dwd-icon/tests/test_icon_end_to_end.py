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
from reformatters.core.sources.server import serve_mirror
from reformatters.core.sources.synthesis import packing_tolerance
from reformatters.core.testing.backfill import backfill_from_mirror
from reformatters.core.testing.expected import (
    WithTolerance,
    assert_stored_field,
    deaccumulated,
    in_output_units,
    rounding_tolerance,
)
from reformatters.dwd.icon.common import STEP_HOURS
from reformatters.dwd.icon.eu_forecast.dynamical_dataset import make_eu_forecast_dataset
from reformatters.dwd.icon.synthesis import DEFAULT_SYNTHESIS_STEPS, source_values
from reformatters.dwd.icon.variables import IconDataVar

STEPS = DEFAULT_SYNTHESIS_STEPS


def expected_field(var: IconDataVar, step: int) -> WithTolerance:
    """(field in output layout and units, tolerance). Values since the run's start become
    interval means since the previous step; the step before the mirror's first (75 h) is not in
    the mirror: NaN there."""
    attrs = var.internal_attrs
    raw = source_values(attrs, INIT, step)
    field = in_output_units(raw, attrs.unit_conversion)
    tolerance = packing_tolerance(raw) + 1e-6 * np.abs(raw)
    if attrs.statistic == "average_from_start":

        def since_start(hours: int) -> WithTolerance:
            """The average since the run's start x its seconds: the accumulation."""
            values = source_values(attrs, INIT, hours)
            return values * hours * 3600, packing_tolerance(values) * hours * 3600

        field, tolerance = deaccumulated(since_start(step), step, STEPS, since_start)
    elif attrs.from_start:
        field, tolerance = deaccumulated(
            (field, tolerance),
            step,
            STEPS,
            lambda previous: (source_values(attrs, INIT, previous), tolerance),
        )
    tolerance = rounding_tolerance(field, attrs.keep_mantissa_bits) + tolerance + 1e-6
    return field[::-1], tolerance[::-1]


def backfill(mirror_url: str, output: Path, monkeypatch: pytest.MonkeyPatch) -> xr.Dataset:
    dataset = make_eu_forecast_dataset()
    end = (INIT + pd.Timedelta(hours=6)).to_pydatetime()
    report, ds = backfill_from_mirror(dataset, mirror_url, end, output, monkeypatch)
    # One job per init (00 UTC: no files in the mirror; 06 UTC) and variable (its own files).
    assert report.jobs_run == 2 * len(dataset.template_config.data_vars)
    return ds


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
            at = {"init_time": INIT, "lead_time": pd.Timedelta(hours=step)}
            assert_stored_field(ds, var.name, at, expected_field(var, step))
        # Nothing at the leads the mirror lacks (0 h, 75 h, 84 h, 120 h).
        for hours in (0, 75, 84, 120):
            position = STEP_HOURS.index(hours)
            assert np.isnan(data.isel(lead_time=position).values).all(), f"{var.name} {hours}"
