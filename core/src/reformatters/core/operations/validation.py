"""Validators: is the published dataset current, complete and replicated?

A validator is a function of a ``ValidationContext`` returning ``CheckResult``s. Datasets list
theirs, and set thresholds, in ``OperationsSpec.validation`` (default: ``STANDARD_VALIDATORS``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import obstore
import pandas as pd
import xarray as xr

from reformatters.core.config_models import DataVar
from reformatters.core.errors import UserError
from reformatters.core.operations_spec import CheckResult, ValidationContext, Validator
from reformatters.core.storage import StoreLocation

if TYPE_CHECKING:
    from reformatters.core.dynamical_dataset import DynamicalDataset

_SHOW = 5


class StoreNotFoundError(UserError):
    pass


@dataclass(frozen=True)
class ValidationReport:
    dataset_id: str
    store: str
    checks: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


def open_published(location: StoreLocation) -> xr.Dataset:
    ds: xr.Dataset = xr.open_zarr(
        location.zarr_store(read_only=True), decode_timedelta=True, chunks=None
    )
    return ds


def check_latest_data_latency(ctx: ValidationContext) -> list[CheckResult]:
    newest = pd.Timestamp(ctx.ds[ctx.append_dim].values[-1]).to_pydatetime()
    age = ctx.now - newest
    limit = ctx.spec.max_latest_age
    return [
        CheckResult(
            "latest data within latency",
            age <= limit,
            f"newest {ctx.append_dim} {newest:%Y-%m-%dT%H:%M} is {_duration(age)} old "
            f"at {ctx.now:%Y-%m-%dT%H:%M} (limit {_duration(limit)})",
        )
    ]


def recent_data(ctx: ValidationContext) -> xr.Dataset:
    """The positions within ``recent_window`` of the newest one, minus excluded lead times."""
    values = pd.DatetimeIndex(ctx.ds[ctx.append_dim].values)
    recent = ctx.ds.isel({ctx.append_dim: values >= values[-1] - ctx.spec.recent_window})
    if ctx.spec.nan_check_exclude_leads and "lead_time" in recent.dims:
        excluded = pd.TimedeltaIndex(list(ctx.spec.nan_check_exclude_leads))
        recent = recent.isel(
            lead_time=~pd.TimedeltaIndex(recent["lead_time"].values).isin(excluded)
        )
    if ctx.spec.check_positions:
        recent = recent.isel({dim: list(p) for dim, p in ctx.spec.check_positions.items()})
    return recent


def check_newest_nan_fraction(ctx: ValidationContext) -> list[CheckResult]:
    recent = recent_data(ctx)
    times = recent[ctx.append_dim].values
    span = np.datetime_as_string(times[0], unit="m")
    if len(times) > 1:
        span += f"..{np.datetime_as_string(times[-1], unit='m')}"
    names = ctx.spec.nan_check_variables
    if names is None:
        names = tuple(var.name for var in ctx.data_vars)
    results = []
    for name in names:
        limit = ctx.spec.nan_fraction_limits.get(name, ctx.spec.max_nan_fraction)
        checked = recent[name]
        if name in ctx.spec.nan_check_max_lead:
            checked = checked.sel(lead_time=slice(None, ctx.spec.nan_check_max_lead[name]))
        values = np.asarray(checked.values)
        fraction = float(np.isnan(values).mean()) if values.size else 0.0
        results.append(
            CheckResult(
                f"NaN fraction of {name}",
                fraction <= limit,
                f"{fraction:.1%} NaN at {ctx.append_dim} {span} (limit {limit:.1%})",
            )
        )
    return results


def check_values_in_range(ctx: ValidationContext) -> list[CheckResult]:
    """No value of the newest data below its variable's ``valid_min`` (e.g. negative
    precipitation or radiation: a decoding or deaccumulation bug, or bad source data)."""
    recent = recent_data(ctx)
    results = []
    for var in ctx.data_vars:
        valid_min = var.internal_attrs.valid_min
        if valid_min is None:
            continue
        values = np.asarray(recent[var.name].values)
        below = int(np.count_nonzero(values < valid_min))
        lowest = float(np.nanmin(values)) if below else None
        results.append(
            CheckResult(
                f"values of {var.name} >= {valid_min:g}",
                below == 0,
                f"{below} value(s) below {valid_min:g} (lowest {lowest:g})"
                if below
                else f"none below {valid_min:g}",
            )
        )
    return results


def check_forecast_complete(ctx: ValidationContext) -> list[CheckResult]:
    """The newest init holds its expected forecast length (of every ensemble member): cheaper
    and surer than NaN counts for a dataset too large to read whole."""
    newest = ctx.ds.isel({ctx.append_dim: -1})
    expected = pd.Timedelta(newest["expected_forecast_length"].item())
    ingested = np.asarray(newest["ingested_forecast_length"].values)
    short = np.isnat(ingested) | (ingested < expected.to_timedelta64())
    where = ""
    if short.any() and ingested.ndim:
        dim = str(newest["ingested_forecast_length"].dims[0])
        where = f" ({dim} {', '.join(map(str, newest[dim].values[short][:_SHOW]))})"
    init = np.datetime_as_string(newest[ctx.append_dim].values, unit="m")
    return [
        CheckResult(
            "newest forecast complete",
            not short.any(),
            f"{int(short.sum())} of {short.size} short of {expected} at "
            f"{ctx.append_dim} {init}{where}"
            if short.any()
            else f"{ctx.append_dim} {init} ingested to {expected}",
        )
    ]


def expected_shard_keys(var: DataVar[Any], shape: tuple[int, ...]) -> set[str]:
    """Object keys of every shard of `var` (zarr v3 default chunk key encoding)."""
    shards = var.encoding.shards
    assert shards is not None
    counts = [math.ceil(size / shard) for size, shard in zip(shape, shards, strict=True)]
    return {
        "/".join([var.name, "c", *map(str, index)])
        for index in itertools.product(*(range(n) for n in counts))
    }


def check_expected_shards(ctx: ValidationContext) -> list[CheckResult]:
    results = []
    for var in ctx.data_vars:
        shape = tuple(int(n) for n in ctx.ds[var.name].shape)
        expected = expected_shard_keys(var, shape)
        present = set(ctx.outputs.primary.list_files(f"{var.name}/c/"))
        missing = sorted(expected - present)
        detail = f"{len(expected) - len(missing)} of {len(expected)} shards present"
        if missing:
            detail += f"; missing: {', '.join(missing[:_SHOW])}" + (" ..." * (len(missing) > _SHOW))
        results.append(CheckResult(f"shards of {var.name}", not missing, detail))
    return results


def _listing(location: StoreLocation) -> dict[str, int]:
    store = location.object_store()
    return {
        meta["path"]: int(meta["size"])
        for batch in obstore.list(store)
        for meta in batch
        if not meta["path"].startswith(".")
    }


def check_replicas_match(ctx: ValidationContext) -> list[CheckResult]:
    """Each replica holds the primary's objects with the same sizes and the same root metadata."""
    if not ctx.outputs.replicas:
        return [CheckResult("replicas equal primary", True, "no replicas configured")]
    primary = ctx.outputs.primary
    primary_listing = _listing(primary)
    primary_root = bytes(obstore.get(primary.object_store(), "zarr.json").bytes())
    results = []
    for replica in ctx.outputs.replicas:
        listing = _listing(replica) if replica.exists() else {}
        problems = []
        missing = sorted(set(primary_listing) - set(listing))
        extra = sorted(set(listing) - set(primary_listing))
        differ = sorted(
            p for p in set(primary_listing) & set(listing) if primary_listing[p] != listing[p]
        )
        for label, paths in (("missing", missing), ("extra", extra), ("size differs", differ)):
            if paths:
                problems.append(
                    f"{label}: {', '.join(paths[:_SHOW])}" + (" ..." * (len(paths) > _SHOW))
                )
        if "zarr.json" in listing:
            root = bytes(obstore.get(replica.object_store(), "zarr.json").bytes())
            if root != primary_root:
                problems.append("root metadata differs")
        results.append(
            CheckResult(
                f"replica {replica.url}",
                not problems,
                "; ".join(problems) or f"{len(listing)} objects equal to the primary",
            )
        )
    return results


STANDARD_VALIDATORS: tuple[Validator, ...] = (
    check_latest_data_latency,
    check_newest_nan_fraction,
    check_values_in_range,
    check_expected_shards,
    check_replicas_match,
)


def validate_dataset(
    dataset: DynamicalDataset[Any, Any], now: datetime, output_url: str | None = None
) -> ValidationReport:
    outputs = dataset.output_stores(output_url)
    if not outputs.primary.exists():
        raise StoreNotFoundError(f"no published dataset at {outputs.primary.url}")
    config = dataset.template_config
    spec = dataset.operations_config().validation
    ctx = ValidationContext(
        dataset_id=dataset.dataset_id,
        append_dim=dataset.append_dim,
        append_dim_frequency=config.append_dim_frequency,
        data_vars=tuple(config.data_vars),
        spec=spec,
        outputs=outputs,
        ds=open_published(outputs.primary),
        now=now,
    )
    validators = STANDARD_VALIDATORS if spec.validators is None else spec.validators
    checks = [check for validator in validators for check in validator(ctx)]
    return ValidationReport(dataset.dataset_id, outputs.primary.url, tuple(checks))


def _duration(delta: timedelta) -> str:
    total_minutes = int(delta.total_seconds() // 60)
    sign = "-" if total_minutes < 0 else ""
    days, rem = divmod(abs(total_minutes), 24 * 60)
    hours, minutes = divmod(rem, 60)
    parts = [f"{days}d"] * bool(days) + [f"{hours}h"] * bool(hours) + [f"{minutes}m"]
    return sign + "".join(parts)
