"""Hand-computed deaccumulation cases: reset boundaries, missing steps, negative noise."""

import numpy as np
import pytest

from reformatters.core.deaccumulation import deaccumulate_to_rates

HOUR = 3600.0


def _rates(
    acc: list[float], ends_h: list[int], starts_h: list[int], **kwargs: float
) -> list[float]:
    values = np.array(acc, dtype=np.float32)
    out, _ = deaccumulate_to_rates(
        values,
        np.array(ends_h) * HOUR,
        np.array(starts_h) * HOUR,
        **kwargs,  # type: ignore[arg-type]
    )
    return [float(v) * HOUR for v in out]  # mm per hour, easy to check by hand


def test_gfs_six_hour_resets_hourly_steps() -> None:
    # leads 0..8; windows 0-1 .. 0-6 then 6-7, 6-8 (GFS resets every 6 hours)
    ends = [0, 1, 2, 3, 4, 5, 6, 7, 8]
    starts = [0, 0, 0, 0, 0, 0, 0, 6, 6]
    acc = [np.nan, 1.0, 3.0, 3.0, 4.5, 6.5, 7.0, 2.0, 2.5]
    rates = _rates(acc, ends, starts)
    assert np.isnan(rates[0])  # lead 0: empty window
    assert rates[1:] == pytest.approx([1.0, 2.0, 0.0, 1.5, 2.0, 0.5, 2.0, 0.5])


def test_three_hourly_steps_divide_by_step_length() -> None:
    # GFS after lead 120: 120-123, 120-126, 126-129
    rates = _rates([3.0, 9.0, 6.0], [123, 126, 129], [120, 120, 126])
    # the first step is the mean over its whole window (3 h)
    assert rates == pytest.approx([1.0, 2.0, 2.0])


def test_missing_step_propagates_to_the_next_step_of_the_same_window() -> None:
    ends = [1, 2, 3, 4, 5, 6, 7]
    starts = [0, 0, 0, 0, 0, 0, 6]
    acc = [1.0, np.nan, 4.0, 5.0, 6.0, 8.0, 1.0]
    rates = _rates(acc, ends, starts)
    assert rates[0] == pytest.approx(1.0)
    assert np.isnan(rates[1])  # missing itself
    assert np.isnan(rates[2])  # needs the missing step
    assert rates[3:] == pytest.approx([1.0, 1.0, 2.0, 1.0])  # the reset step is unaffected


def test_small_negative_noise_is_clamped_larger_is_nan_and_counted() -> None:
    ends = [1, 2, 3, 4]
    starts = [0, 0, 0, 0]
    acc = np.array([[2.0, 2.0], [1.99, 2.0], [1.0, 2.5], [1.5, 2.0]], dtype=np.float32)
    out, negative = deaccumulate_to_rates(
        acc, np.array(ends) * HOUR, np.array(starts) * HOUR, negative_tolerance=0.05
    )
    rates = out * HOUR
    assert rates[1, 0] == 0.0  # -0.01: packing noise
    assert np.isnan(rates[2, 0])  # -0.99: not an amount
    assert rates[3, 0] == pytest.approx(0.5)  # the next step is measured from the bad value
    assert np.isnan(rates[3, 1])  # -0.5
    assert negative == 2
    assert rates[2, 1] == pytest.approx(0.5)


def test_windows_that_do_not_line_up_give_nan() -> None:
    # step 2's window (6-8) neither starts at step 1's end (5) nor continues its window (0-5)
    rates = _rates([5.0, 5.0, 2.0], [4, 5, 8], [0, 0, 6])
    assert np.isnan(rates[2])


def test_hourly_windows_hrrr_style() -> None:
    rates = _rates([1.0, 2.0, 0.5], [1, 2, 3], [0, 1, 2])
    assert rates == pytest.approx([1.0, 2.0, 0.5])


def test_axis_and_extra_dims() -> None:
    acc = np.array([[[1.0, 2.0]], [[3.0, 2.0]]], dtype=np.float32)  # (1 init, 2 leads, 2 points)
    acc = np.moveaxis(acc, 0, 1)  # (1, 2, 2) with leads on axis 1
    out, negative = deaccumulate_to_rates(
        acc, np.array([1, 2]) * HOUR, np.array([0, 0]) * HOUR, axis=1, negative_tolerance=0.5
    )
    assert negative == 0
    assert out.shape == acc.shape
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0, :, 0] * HOUR, [1.0, 2.0], rtol=1e-6)
    np.testing.assert_allclose(out[0, :, 1] * HOUR, [2.0, 0.0], rtol=1e-6)


def test_argument_checks() -> None:
    values = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(ValueError, match="one step end"):
        deaccumulate_to_rates(values, np.array([1.0]), np.array([0.0]))
    with pytest.raises(ValueError, match="strictly increasing"):
        deaccumulate_to_rates(values, np.array([2.0, 1.0]), np.array([0.0, 0.0]))
    with pytest.raises(ValueError, match="cannot start after"):
        deaccumulate_to_rates(values, np.array([1.0, 2.0]), np.array([0.0, 3.0]))
