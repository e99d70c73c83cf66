"""ecmwf-ifs-ens-forecast-15-day-0-25-degree end to end, offline: a synthesized ENS mirror (every
member's messages in each step's ``ef`` file, CCSDS-packed, JSON-lines ``.index``; values for
members 0, 1 and 50 at steps 141, 144 and 150 h) served on loopback; every stored value must
equal the member's synthesized source value after the declared transforms (unit conversion,
scaling, deaccumulation from step 0, rounding)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pygrib
import pytest
import xarray as xr

from reformatters.core.dynamical_dataset import JobFilters
from reformatters.core.sources.synthesis import packing_tolerance
from reformatters.core.testing.backfill import backfill_from_mirror
from reformatters.core.testing.expected import (
    WithTolerance,
    assert_members_backfilled,
    assert_members_ingested,
    deaccumulated,
    in_output_units,
    rounding_tolerance,
)
from reformatters.core.testing.fixtures import session_mirror
from reformatters.ecmwf.ifs.common import step_url
from reformatters.ecmwf.ifs.ens_forecast.dynamical_dataset import make_ens_forecast_dataset
from reformatters.ecmwf.ifs.synthesis import (
    DEFAULT_SYNTHESIS_STEPS,
    source_values,
    synthesize_ifs_ens_mirror,
)
from reformatters.ecmwf.ifs.variables import IfsDataVar

INIT = pd.Timestamp("2024-04-01T00")
MEMBERS = (0, 1, 50)
DATA_VARS = make_ens_forecast_dataset().template_config.data_vars

ifs_mirror = session_mirror(
    "ecmwf-ifs-ens-mirror",
    synthesize_ifs_ens_mirror,
    [INIT],
    MEMBERS,
    DEFAULT_SYNTHESIS_STEPS,
    DATA_VARS,
    workers=2,
)


def _expected(var: IfsDataVar, member: int, step: int) -> WithTolerance:
    """(field in output layout and units, tolerance); the output layout is the source's.
    Accumulations are deaccumulated from the previous step; the step before the mirror's first
    (138 h) is not in the mirror: NaN there."""
    attrs = var.internal_attrs
    raw = source_values(attrs, INIT, member, step)
    tolerance = packing_tolerance(raw) * attrs.scale + 1e-5 * np.abs(raw) * attrs.scale
    field = in_output_units(raw * attrs.scale, attrs.unit_conversion)
    if attrs.accumulated_from_start:
        field, tolerance = deaccumulated(
            (field, tolerance),
            step,
            DEFAULT_SYNTHESIS_STEPS,
            lambda previous: (
                source_values(attrs, INIT, member, previous) * attrs.scale,
                tolerance,
            ),
        )
    return field, rounding_tolerance(field, attrs.keep_mantissa_bits) + tolerance + 1e-6


@pytest.mark.slow
def test_backfill_equals_each_members_source(
    ifs_mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = make_ens_forecast_dataset()
    filters = JobFilters(filter_ensemble_members=MEMBERS)
    end = (INIT + pd.Timedelta(days=1)).to_pydatetime()
    report, ds = backfill_from_mirror(dataset, ifs_mirror, end, tmp_path, monkeypatch, filters)
    # 3 members x 1 group of variables (one file per step holds them all).
    assert report.jobs_run == 3
    grid = {"latitude": 721, "longitude": 1440}
    assert ds.sizes == {"init_time": 1, "ensemble_member": 51, "lead_time": 85, **grid}
    assert_members_ingested(ds, INIT, MEMBERS, 51, timedelta(hours=150))
    assert ds["longitude"].values[[0, -1]].tolist() == [-180.0, 179.75]
    assert ds["latitude"].values[[0, -1]].tolist() == [90.0, -90.0]
    # Nothing at the leads the mirror lacks (0 h, 138 h, 360 h), nor for another member.
    assert_members_backfilled(
        ds,
        DATA_VARS,
        INIT,
        MEMBERS,
        DEFAULT_SYNTHESIS_STEPS,
        _expected,
        absent_leads=(0, 138, 360),
        absent_member=2,
    )
    # Members differ.
    t2m = ds["temperature_2m"].sel(init_time=INIT, lead_time=pd.Timedelta(hours=144))
    assert not np.allclose(t2m.sel(ensemble_member=0), t2m.sel(ensemble_member=1))
    _check_precipitation_by_hand(ifs_mirror, ds)


def _check_precipitation_by_hand(mirror: Path, ds: xr.Dataset) -> None:
    """Member 1's precipitation at 52.5 N 13.5 E from the GRIB files' own values (pygrib): the
    accumulations in metres at 144 h and 150 h, their difference x 1000 / 21600 s."""
    row, column = int((90 - 52.5) / 0.25), int((13.5 + 180) / 0.25)
    totals = {}
    for step in (144, 150):
        path = mirror / step_url(INIT, step).removeprefix("s3://")
        (message,) = [
            m
            for m in pygrib.open(str(path))
            if m["parameterNumber"] == 193 and m["perturbationNumber"] == 1
        ]
        totals[step] = float(message.values[row, column])
    rate = (totals[150] - totals[144]) * 1000 / 21600
    stored = ds["precipitation_surface"].sel(
        init_time=INIT, ensemble_member=1, lead_time=pd.Timedelta(hours=150)
    )
    value = float(stored.values[row, column])
    assert ds["latitude"].values[row] == 52.5 and ds["longitude"].values[column] == 13.5
    assert rate > 0
    assert value == pytest.approx(rate, rel=2**-7)
