from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pygrib
import pyproj  # noqa: F401  # must precede any eccodes import (PROJ database binding)
import pytest

from reformatters.core.sources.grib import decode_message
from reformatters.core.sources.grib_identity import EnsembleRole, GribIdentity, identity_of
from reformatters.core.sources.grib_relabel import relabel_in_place, relabelled
from reformatters.core.sources.grid_templates import regular_latlon_template
from reformatters.core.sources.smooth_field import grid_basis, smooth_harmonic
from reformatters.core.sources.synthesis import (
    FixedSurface,
    MessageSpec,
    StatisticalProcess,
    SyntheticIdentity,
    encode_message,
)

GRID = regular_latlon_template("global-2deg", 180, 91, 90.0, 0.0, -90.0, 358.0)
POOL_INIT = datetime(2000, 1, 1, 0)
HOUR = timedelta(hours=1)


def _values(name: str) -> np.ndarray:
    basis = grid_basis(GRID.lats, GRID.lons)
    values = smooth_harmonic(name, "x", 280.0, 28.0, basis).at(3.0).astype(np.float32)
    values[10:20, 30:50] = np.nan  # a bitmap: missing points must stay where they were
    return values


def _spec(
    statistic: StatisticalProcess | None,
    ensemble: EnsembleRole | None,
    *,
    start: int | None = None,
    end: int = 7,
    step_unit: str = "hour",
) -> MessageSpec:
    unit = HOUR if step_unit == "hour" else timedelta(minutes=1)
    return MessageSpec(
        element="X",
        level="2 m",
        forecast="",
        identity=SyntheticIdentity(0, 0, 0, FixedSurface.of(103, 2)),
        end_step=end * unit,
        start_step=None if start is None else start * unit,
        statistic=statistic,
        values=_values(f"X{statistic}{ensemble}"),
        ensemble=ensemble,
        ensemble_size=31,
        step_unit=step_unit,  # type: ignore[arg-type]
    )


CASES = [
    pytest.param(_spec(None, None), id="4.0"),
    pytest.param(_spec(None, EnsembleRole(3, 7)), id="4.1"),
    pytest.param(_spec(None, EnsembleRole("derived", 0)), id="4.2"),
    pytest.param(_spec(StatisticalProcess.ACCUMULATION, None, start=6), id="4.8"),
    pytest.param(_spec(StatisticalProcess.MAXIMUM, EnsembleRole(3, 7), start=6), id="4.11"),
    pytest.param(_spec(StatisticalProcess.AVERAGE, EnsembleRole("derived", 0), start=0), id="4.12"),
    pytest.param(_spec(None, None, end=90, step_unit="minute"), id="4.0-minutes"),
]


@pytest.mark.parametrize("spec", CASES)
def test_relabelled_message_decodes_with_new_identity_and_the_same_values(
    spec: MessageSpec,
) -> None:
    pooled = encode_message(spec, GRID, POOL_INIT)
    init = datetime(2024, 2, 29, 18)
    unit = spec.end_step / (90 if spec.step_unit == "minute" else 7)
    end = 130 * unit if spec.statistic is None else 132 * unit
    start = end if spec.statistic is None else 126 * unit
    patched = relabelled(pooled, init, end, None if spec.statistic is None else start)

    assert len(patched) == len(pooled)
    before = identity_of(pygrib.fromstring(pooled), None)
    after = identity_of(pygrib.fromstring(patched), None)
    assert after.reference_time == init
    assert (after.start_step, after.end_step) == (start, end)
    # Parameter, level, statistic and ensemble member are kept.
    assert after.step_type == before.step_type == spec.step_type
    assert after.ensemble == before.ensemble
    assert (after.discipline, after.parameter_category, after.parameter_number) == (0, 0, 0)
    assert after.level == before.level == 2.0
    if spec.statistic is not None:
        message = pygrib.fromstring(patched)
        assert message["yearOfEndOfOverallTimeInterval"] == (init + end).year
        assert message["dayOfEndOfOverallTimeInterval"] == (init + end).day
        assert message["hourOfEndOfOverallTimeInterval"] == (init + end).hour

    expected = GribIdentity(0, 0, 0, 103, 2.0, spec.step_type, start, end, init, before.ensemble)
    values = decode_message(patched, expected=expected)
    pooled_values = decode_message(pooled, expected=before)
    np.testing.assert_array_equal(values, pooled_values)
    assert np.isnan(values[10:20, 30:50]).all() and np.isfinite(values[:10]).all()


def test_relabel_in_place_patches_only_the_message_at_the_offset() -> None:
    first = encode_message(_spec(None, None), GRID, POOL_INIT)
    second = encode_message(_spec(StatisticalProcess.ACCUMULATION, None, start=6), GRID, POOL_INIT)
    buffer = bytearray(first + second)
    relabel_in_place(buffer, len(first), datetime(2024, 1, 1, 6), 9 * HOUR, 6 * HOUR)
    assert bytes(buffer[: len(first)]) == first
    identity = identity_of(pygrib.fromstring(bytes(buffer[len(first) :])), None)
    assert identity.reference_time == datetime(2024, 1, 1, 6)
    assert (identity.start_step, identity.end_step) == (6 * HOUR, 9 * HOUR)


def test_relabel_refuses_what_it_cannot_express() -> None:
    instant = encode_message(_spec(None, None), GRID, POOL_INIT)
    with pytest.raises(ValueError, match="one step"):
        relabelled(instant, POOL_INIT, 9 * HOUR, 6 * HOUR)
    accumulation = encode_message(
        _spec(StatisticalProcess.ACCUMULATION, None, start=6), GRID, POOL_INIT
    )
    with pytest.raises(ValueError, match="start step"):
        relabelled(accumulation, POOL_INIT, 9 * HOUR)
    with pytest.raises(ValueError, match="whole"):
        relabelled(instant, POOL_INIT, timedelta(minutes=30))
    with pytest.raises(ValueError, match="no GRIB2"):
        relabelled(b"GRIB" + bytes(12), POOL_INIT, HOUR)
