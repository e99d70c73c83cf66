"""ecmwf-ifs-ens-forecast-15-day-0-25-degree end to end, offline: a synthesized ENS mirror (every
member's messages in each step's ``ef`` file, CCSDS-packed, JSON-lines ``.index``; values for
members 0, 1 and 50 at steps 141, 144 and 150 h) served on loopback; every stored value must
equal the member's synthesized source value after the declared transforms (unit conversion,
scaling, deaccumulation from step 0, rounding)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pygrib
import pytest
import xarray as xr

from reformatters.core.dynamical_dataset import JobFilters
from reformatters.core.sources.mirror import SOURCE_MIRROR_ENV
from reformatters.core.sources.server import serve_mirror
from reformatters.core.sources.synthesis import packing_tolerance
from reformatters.core.storage import StoreLocation
from reformatters.core.testing.fixtures import session_folder
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
STEPS = DEFAULT_SYNTHESIS_STEPS


@pytest.fixture(scope="session")
def ifs_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_vars = make_ens_forecast_dataset().template_config.data_vars
    return session_folder(
        tmp_path_factory,
        "ecmwf-ifs-ens-mirror",
        lambda root: synthesize_ifs_ens_mirror(root, [INIT], MEMBERS, STEPS, data_vars, workers=2),
    )


def _expected(var: IfsDataVar, member: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """(field in output layout and units, tolerance); the output layout is the source's."""
    attrs = var.internal_attrs
    raw = source_values(attrs, INIT, member, step)
    tolerance = packing_tolerance(raw) * attrs.scale + 1e-5 * np.abs(raw) * attrs.scale
    field = raw * attrs.scale
    if attrs.unit_conversion == "kelvin_to_celsius":
        field = field - 273.15
    if attrs.accumulated_from_start:
        position = STEPS.index(step)
        if position == 0:  # the previous lead (138 h) is not in the mirror
            nan = np.full(field.shape, np.nan)
            return nan, nan
        previous = STEPS[position - 1]
        prior = source_values(attrs, INIT, member, previous) * attrs.scale
        seconds = (step - previous) * 3600
        field = (field - prior) / seconds
        tolerance = 2 * tolerance / seconds
    bits = attrs.keep_mantissa_bits
    rounding = 0.0 if bits == "no-rounding" else 2.0**-bits
    return field, np.abs(field) * rounding + tolerance + 1e-6


@pytest.mark.slow
def test_backfill_equals_each_members_source(
    ifs_mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFORMATTERS_DECODE_PROCESSES", "0")
    dataset = make_ens_forecast_dataset()
    with serve_mirror(ifs_mirror) as server:
        monkeypatch.setenv(SOURCE_MIRROR_ENV, server.url)
        report = dataset.backfill_local(
            (INIT + pd.Timedelta(days=1)).to_pydatetime(),
            JobFilters(filter_ensemble_members=MEMBERS),
            str(tmp_path / "out"),
        )
    # 3 members x 1 group of variables (one file per step holds them all).
    assert report.jobs_run == 3
    store = StoreLocation(str(tmp_path / "out" / dataset.dataset_id / "v0.1.0.zarr"))
    ds = xr.open_zarr(store.zarr_store(read_only=True), decode_timedelta=True, chunks=None)
    assert ds.sizes == {
        "init_time": 1,
        "ensemble_member": 51,
        "lead_time": 85,
        "latitude": 721,
        "longitude": 1440,
    }
    assert ds["ensemble_member"].values.tolist() == list(range(51))
    assert ds["longitude"].values[[0, -1]].tolist() == [-180.0, 179.75]
    assert ds["latitude"].values[[0, -1]].tolist() == [90.0, -90.0]
    ingested = ds["ingested_forecast_length"].sel(init_time=INIT).values
    for member in range(51):
        if member in MEMBERS:
            assert ingested[member] == np.timedelta64(150, "h"), member
        else:
            assert np.isnat(ingested[member]), member
    for var in dataset.template_config.data_vars:
        data = ds[var.name].sel(init_time=INIT)
        for member in MEMBERS:
            for step in STEPS:
                actual = data.sel(ensemble_member=member, lead_time=pd.Timedelta(hours=step))
                expected, tolerance = _expected(var, member, step)
                what = f"{var.name} member {member} step {step}"
                values = actual.values
                assert np.array_equal(np.isnan(values), np.isnan(expected)), what
                finite = ~np.isnan(expected)
                excess = (np.abs(values - expected) - tolerance)[finite]
                assert excess.size == 0 or excess.max() <= 0, f"{what}: off by {excess.max()}"
            # Nothing at the leads the mirror lacks (0 h, 138 h, 360 h).
            for position in (0, 46, 84):
                field = data.sel(ensemble_member=member).isel(lead_time=position)
                assert np.isnan(field.values).all(), f"{var.name} {member} {position}"
        assert np.isnan(data.sel(ensemble_member=2, lead_time=pd.Timedelta(hours=144))).all()
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
