"""Mantissa rounding: drop float32 precision no user needs so chunks compress far better."""

from typing import Literal

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


def round_fields(
    values: NDArray[np.float32], keep_mantissa_bits: int | Literal["no-rounding"]
) -> None:
    """`round_float32_mantissa` over every 2-D field of `values` (its last two dims), in place,
    skipping all-NaN fields (a region's leads not yet published cost nothing)."""
    if keep_mantissa_bits == "no-rounding":
        return
    for index in np.ndindex(values.shape[:-2]):
        field = values[index]
        if not (np.isnan(field.flat[0]) and np.isnan(field).all()):
            round_float32_mantissa(field, keep_mantissa_bits)
