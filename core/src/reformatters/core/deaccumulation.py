"""Deaccumulation: turn accumulations since a window start into mean rates since the previous step.

Providers issue accumulated fields (precipitation, ...) as totals over a window that starts at a
*reset* time and ends at the step's valid time: a model that resets its accumulation every 6
hours issues windows 6-7, 6-8, ..., 6-12 hours, then 12-13 hours; another resets every hour. We
store the mean rate over the interval since the previous step, (end[i-1], end[i]].

For step ``i`` with accumulation ``a[i]`` over ``(window_start[i], end[i]]``:

- if ``window_start[i] == end[i-1]`` (a window reset at the previous step), the increment is
  ``a[i]``;
- if ``window_start[i] == window_start[i-1]`` (the same window continues), the increment is
  ``a[i] - a[i-1]``;
- otherwise (the windows do not line up, e.g. the previous step is from another source) the
  rate is NaN.

The rate is the increment divided by ``end[i] - end[i-1]`` seconds. The first step has no
previous step: its rate is the mean over its whole window (``a[0] / (end[0] - window_start[0])``),
or NaN if that window is empty (e.g. lead 0). Callers that need "since the previous step" for
their first output step include the step before it in the input.

Missing steps: NaN propagates. A NaN accumulation makes its own rate NaN, and the next step's
rate NaN too when that step continues the same window (its increment needs the missing value);
a step whose window starts at the previous step is unaffected.

Negative noise: packing makes a continuing window's accumulation occasionally a little smaller
than the previous one. Increments in ``[-negative_tolerance, 0)`` become 0. Larger negative
increments are an inconsistency in the source, not an amount: their rates are NaN, and the
result counts them (``Deaccumulated.negative``) so that the run reports them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["Deaccumulated", "deaccumulate_to_rates"]


class Deaccumulated(NamedTuple):
    rates: NDArray[np.float32]
    # Increments more negative than the tolerance, set to NaN.
    negative: int


def deaccumulate_to_rates(
    accumulations: NDArray[np.float32],
    step_end_seconds: NDArray[np.int64] | NDArray[np.float64],
    window_start_seconds: NDArray[np.int64] | NDArray[np.float64],
    *,
    axis: int = 0,
    negative_tolerance: float = 0.0,
    signed: bool = False,
) -> Deaccumulated:
    """Mean rates (per second) since the previous step, as a new float32 array.

    ``step_end_seconds[i]`` and ``window_start_seconds[i]`` give step ``i``'s valid time and its
    accumulation window's start (any common origin, in seconds) along ``axis``. Steps must be
    strictly increasing. Works step by step, so memory stays at one step's field beyond the
    output. ``signed`` quantities (a net flux) may decrease: no increment is inconsistent and
    ``negative_tolerance`` does not apply.
    """
    ends = np.asarray(step_end_seconds, dtype=np.float64)
    starts = np.asarray(window_start_seconds, dtype=np.float64)
    n = accumulations.shape[axis]
    if ends.shape != (n,) or starts.shape != (n,):
        raise ValueError(
            f"need one step end and window start per step: {n} steps, got {ends.shape} ends and "
            f"{starts.shape} window starts"
        )
    if n > 1 and not np.all(np.diff(ends) > 0):
        raise ValueError("step ends must be strictly increasing")
    if np.any(starts > ends):
        raise ValueError("a window cannot start after its step ends")
    if negative_tolerance < 0:
        raise ValueError("negative_tolerance must be >= 0")

    source = np.moveaxis(accumulations, axis, 0)
    result = np.full(source.shape, np.nan, dtype=np.float32)
    tolerance = np.float32(negative_tolerance)
    negative = 0
    for i in range(n):
        current = source[i]
        if i == 0:
            duration = ends[0] - starts[0]
            if duration <= 0:
                continue
            increment = np.array(current, dtype=np.float32, copy=True)
        elif starts[i] == ends[i - 1]:
            duration = ends[i] - ends[i - 1]
            increment = np.array(current, dtype=np.float32, copy=True)
        elif starts[i] == starts[i - 1]:
            duration = ends[i] - ends[i - 1]
            increment = np.asarray(current - source[i - 1], dtype=np.float32)
        else:
            continue
        if signed:
            result[i] = increment / np.float32(duration)
            continue
        increment[(increment < 0) & (increment >= -tolerance)] = 0
        inconsistent = increment < -tolerance
        if inconsistent.any():
            negative += int(np.count_nonzero(inconsistent))
            increment[inconsistent] = np.nan
        result[i] = increment / np.float32(duration)
    return Deaccumulated(np.moveaxis(result, 0, axis), negative)
