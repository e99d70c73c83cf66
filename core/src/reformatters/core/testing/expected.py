"""The expected values of an end-to-end test: a synthesized source field after the transforms a
dataset declares (unit conversion, deaccumulation, mantissa rounding), compared with what the
backfill stored."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd
import xarray as xr

from reformatters.core.config_models import DataVar

__all__ = [
    "assert_matches",
    "assert_members_backfilled",
    "assert_members_ingested",
    "assert_stored_field",
    "deaccumulated",
    "in_output_units",
    "rounding_tolerance",
]

type Field = np.ndarray[Any, Any]
type WithTolerance = tuple[Field, Field]
"""A field and, point by point, how far a correct stored value may be from it."""


def in_output_units(values: Field, unit_conversion: str | None) -> Field:
    """Source values in the dataset's units after its declared ``unit_conversion`` (a copy)."""
    match unit_conversion:
        case None:
            return values.copy()
        case "kelvin_to_celsius":
            return values - 273.15
    raise ValueError(f"no expected values for unit conversion {unit_conversion!r}")


def deaccumulated(
    total: WithTolerance,
    step: int,
    steps: Sequence[int],
    total_at: Callable[[int], WithTolerance],
) -> WithTolerance:
    """A quantity accumulated since the run's start as its mean rate per second since the
    previous one of the mirror's ``steps`` (hours): ``total`` is the accumulation at ``step``,
    ``total_at(previous)`` the one at the previous step, each with its tolerance. At the mirror's
    first step, whose previous step the mirror lacks, NaN (values and tolerance)."""
    field, tolerance = total
    position = list(steps).index(step)
    if position == 0:
        nan = np.full(field.shape, np.nan)
        return nan, nan
    previous = steps[position - 1]
    prior, prior_tolerance = total_at(previous)
    seconds = (step - previous) * 3600
    return (field - prior) / seconds, (tolerance + prior_tolerance) / seconds


def rounding_tolerance(field: Field, keep_mantissa_bits: int | Literal["no-rounding"]) -> Field:
    """How far rounding the float32 mantissa to ``keep_mantissa_bits`` bits may move each value."""
    rounding = 0.0 if keep_mantissa_bits == "no-rounding" else 2.0**-keep_mantissa_bits
    return np.abs(field) * rounding


def assert_matches(actual: Field, expected: WithTolerance, what: str) -> None:
    """``actual`` has NaN exactly where the expected field has, and is within the tolerance of it
    everywhere else."""
    field, tolerance = expected
    assert actual.shape == field.shape, f"{what}: shape {actual.shape}, expected {field.shape}"
    assert np.array_equal(np.isnan(actual), np.isnan(field)), f"{what}: NaN elsewhere"
    finite = ~np.isnan(field)
    excess = (np.abs(actual - field) - tolerance)[finite]
    assert excess.size == 0 or excess.max() <= 0, f"{what}: off by {excess.max()}"


def assert_stored_field(
    ds: xr.Dataset, name: str, at: Mapping[str, Any], expected: WithTolerance
) -> None:
    """Variable ``name``'s field stored at the labels ``at`` matches ``expected`` (see
    ``assert_matches``)."""
    what = f"{name} at " + ", ".join(f"{dim}={label}" for dim, label in at.items())
    assert_matches(ds[name].sel(at).values, expected, what)


def assert_members_ingested(
    ds: xr.Dataset, init: datetime, members: Collection[int], n_members: int, last: timedelta
) -> None:
    """After a backfill of the ensemble ``members`` of the run ``init``: the store has all
    ``n_members`` members (0 to n_members - 1), its ``ingested_forecast_length`` is ``last`` for
    each member backfilled and NaT for every other."""
    assert ds["ensemble_member"].values.tolist() == list(range(n_members))
    ingested = ds["ingested_forecast_length"].sel(init_time=init).values
    for member in range(n_members):
        if member in members:
            assert ingested[member] == np.timedelta64(last), member
        else:
            assert np.isnat(ingested[member]), member


def assert_members_backfilled[V: DataVar[Any]](
    ds: xr.Dataset,
    data_vars: Iterable[V],
    init: datetime,
    members: Sequence[int],
    leads: Sequence[int],
    expected: Callable[[V, int, int], WithTolerance],
    *,
    absent_leads: Sequence[int],
    absent_member: int,
) -> None:
    """After a backfill of the ensemble ``members`` of the run ``init`` from a mirror holding the
    ``leads`` (hours): each variable's field of each member at each of those leads matches
    ``expected(var, member, lead)`` (see ``assert_matches``); it is NaN at ``absent_leads`` (the
    mirror lacks them) and for ``absent_member`` (not backfilled) at the mirror's leads."""
    for var in data_vars:
        for member, lead in itertools.product(members, leads):
            lead_time = pd.Timedelta(hours=lead)
            at = {"init_time": init, "ensemble_member": member, "lead_time": lead_time}
            assert_stored_field(ds, var.name, at, expected(var, member, lead))
        run = ds[var.name].sel(init_time=init)
        absent_times = [pd.Timedelta(hours=h) for h in absent_leads]
        absent = run.sel(ensemble_member=list(members), lead_time=absent_times)
        assert np.isnan(absent.values).all(), f"{var.name}: a value at {absent_leads} h"
        other = run.sel(
            ensemble_member=absent_member, lead_time=[pd.Timedelta(hours=h) for h in leads]
        )
        assert np.isnan(other.values).all(), f"{var.name}: a value of member {absent_member}"
