import numpy as np
import pytest

from reformatters.core.rounding import round_float32_mantissa


def _reference_round(value: float, keep_bits: int) -> np.float32:
    """Round with exact integer arithmetic on the significand: nearest, ties to even."""
    as_float = np.float32(value)
    mantissa, exponent = np.frexp(np.float64(as_float))
    scale = 2.0 ** (keep_bits + 1)
    scaled = mantissa * scale
    rounded = np.round(scaled)  # numpy rounds half to even
    return np.float32(np.ldexp(rounded / scale, exponent))


@pytest.mark.parametrize("keep_bits", [1, 6, 7, 10, 22])
def test_matches_reference_rounding(keep_bits: int) -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [rng.normal(0, 1000, 5000), rng.uniform(-1e-5, 1e-5, 1000), [1.0, -2.5, 3.999999]]
    ).astype(np.float32)
    rounded = values.copy()
    round_float32_mantissa(rounded, keep_bits)
    expected = np.array([_reference_round(v, keep_bits) for v in values], dtype=np.float32)
    np.testing.assert_array_equal(rounded, expected)


def test_error_bound_and_specials() -> None:
    values = np.array([1.2345678, 273.15, -0.001, np.nan, np.inf, -np.inf, 0.0], dtype=np.float32)
    rounded = values.copy()
    round_float32_mantissa(rounded, 7)
    finite = np.isfinite(values)
    rel = np.abs(rounded[finite] - values[finite]) / np.maximum(np.abs(values[finite]), 1e-30)
    assert np.all(rel <= 2.0**-8)
    assert np.isnan(rounded[3])
    assert rounded[4] == np.inf and rounded[5] == -np.inf and rounded[6] == 0.0


def test_ties_go_to_even() -> None:
    # 1 + 2**-8 lies exactly between 1 and 1 + 2**-7 with 7 kept bits: ties to even -> 1.
    values = np.array([1 + 2**-8, 1 + 3 * 2**-8], dtype=np.float32)
    round_float32_mantissa(values, 7)
    np.testing.assert_array_equal(values, np.array([1.0, 1 + 2 * 2**-7], dtype=np.float32))


def test_rejects_other_dtypes() -> None:
    with pytest.raises(AssertionError):
        round_float32_mantissa(np.zeros(3, dtype=np.float64), 7)  # type: ignore[arg-type]
