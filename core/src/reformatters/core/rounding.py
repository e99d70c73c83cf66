"""Mantissa rounding: drop float32 precision no user needs so chunks compress far better."""

import numpy as np
from numpy.typing import NDArray

_FLOAT32_MANTISSA_BITS = 23


def round_float32_mantissa(values: NDArray[np.float32], keep_mantissa_bits: int) -> None:
    """Round to nearest, ties to even, keeping `keep_mantissa_bits` bits, in place.

    NaN and infinities pass through unchanged. Rounding may carry into the exponent, which is
    the correct result (e.g. 1.9999 -> 2.0).
    """
    assert values.dtype == np.float32, values.dtype
    assert 1 <= keep_mantissa_bits <= _FLOAT32_MANTISSA_BITS, keep_mantissa_bits
    if keep_mantissa_bits == _FLOAT32_MANTISSA_BITS:
        return
    drop_bits = _FLOAT32_MANTISSA_BITS - keep_mantissa_bits
    bits = values.view(np.uint32)
    finite = np.isfinite(values)
    half = np.uint32(1 << (drop_bits - 1))
    # Ties to even: add half minus one plus the lowest kept bit.
    lowest_kept = (bits >> np.uint32(drop_bits)) & np.uint32(1)
    mask = np.uint32(~((1 << drop_bits) - 1) & 0xFFFFFFFF)
    rounded = ((bits + (half - np.uint32(1)) + lowest_kept) & mask).astype(np.uint32)
    np.copyto(bits, rounded, where=finite)
