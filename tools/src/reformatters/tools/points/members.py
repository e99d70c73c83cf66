"""Ensemble members: parsing ``--ensemble-member`` and finding the members in a dataset.

Ensemble datasets have an integer ``ensemble_member`` dimension (GEFS: 0..30, 0 the control).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import xarray as xr

from reformatters.core.errors import InvalidArgumentError
from reformatters.core.template_bases import ENSEMBLE_DIM

__all__ = ["ENSEMBLE_DIM"]  # re-exported for the commands
CONTROL_MEMBER = 0
OPTION = "--ensemble-member"

type EnsembleStatistic = Literal["mean", "spread"]
STATISTICS: tuple[EnsembleStatistic, ...] = ("mean", "spread")
type FloatArray = npt.NDArray[np.float64]


def has_members(ds: xr.Dataset | xr.DataArray) -> bool:
    return ENSEMBLE_DIM in ds.dims


def parse_members(values: Sequence[str]) -> list[int]:
    """Member numbers from repeated or comma-separated values and inclusive ranges (``0,3,5-7``)."""
    members: list[int] = []
    for value in values:
        for text in (part.strip() for part in value.split(",")):
            if not text:
                continue
            first, sep, last = text.partition("-")
            if not first.strip().isdigit() or (sep and not last.strip().isdigit()):
                raise InvalidArgumentError(
                    f"{OPTION}: {text!r} is not a member number or range (e.g. 0, 3, 1-10)"
                )
            low, high = int(first), int(last) if sep else int(first)
            if high < low:
                raise InvalidArgumentError(f"{OPTION}: empty range {text!r}")
            members.extend(range(low, high + 1))
    if not members:
        raise InvalidArgumentError(f"{OPTION}: no member numbers given")
    return sorted(set(members))


def require_members(ds: xr.Dataset, option: str = OPTION) -> None:
    if not has_members(ds):
        name = ds.attrs.get("dataset_id") or "this dataset"
        raise InvalidArgumentError(f"{option}: {name} has no ensemble members")


def parse_member(value: str) -> int:
    text = value.strip()
    if not text.isdigit():
        raise InvalidArgumentError(f"{OPTION}: {value!r} is not a member number (e.g. 0)")
    return int(text)


def parse_statistic(value: str) -> EnsembleStatistic:
    for statistic in STATISTICS:
        if value.strip().lower() == statistic:
            return statistic
    raise InvalidArgumentError(
        f"--ensemble-statistic: {value!r} is not one of {', '.join(STATISTICS)}"
    )


def member_positions(ds: xr.Dataset, members: Sequence[int]) -> list[int]:
    """Positions along ``ensemble_member`` of the given member numbers, in the dataset's order."""
    require_members(ds)
    name = ds.attrs.get("dataset_id") or "this dataset"
    available = np.asarray(ds[ENSEMBLE_DIM].values)
    missing = sorted(set(members) - {int(v) for v in available})
    if missing:
        raise InvalidArgumentError(
            f"{OPTION}: no member {', '.join(map(str, missing))} in {name} "
            f"(members {available.min()} to {available.max()})"
        )
    wanted = set(members)
    return [i for i, value in enumerate(available) if int(value) in wanted]


def member_label(member: int) -> str:
    return f"member {member} (control)" if member == CONTROL_MEMBER else f"member {member}"


def member_statistic(values: FloatArray, statistic: EnsembleStatistic) -> FloatArray:
    """Mean or spread (standard deviation) over axis 0, the members, skipping NaN members."""
    count = np.isfinite(values).sum(axis=0)
    mean = np.nansum(values, axis=0) / np.maximum(count, 1)
    if statistic == "spread":
        result = np.sqrt(np.nansum((values - mean) ** 2, axis=0) / np.maximum(count, 1))
    else:
        result = mean
    return np.where(count > 0, result, np.nan)
