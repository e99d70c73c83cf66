"""engine.worker: a reused buffer holds an earlier variable's data until the reads overwrite it,
so every position no read wrote is set to NaN."""

from __future__ import annotations

import numpy as np

from reformatters.core.engine.worker import fill_unwritten


def test_positions_no_read_wrote_are_nan() -> None:
    array = np.ones((2, 3, 4), dtype=np.float32)
    fill_unwritten(
        array, ("init_time", "lead_time", "x"), {"init_time", "lead_time"}, [(0, 1), (1, 2)]
    )
    filled = ~np.isnan(array).all(axis=2)
    assert filled.tolist() == [[False, True, False], [False, False, True]]
    assert (array[0, 1] == 1).all() and (array[1, 2] == 1).all()


def test_files_that_address_no_dim_fill_everything_or_nothing() -> None:
    array = np.ones((2, 3), dtype=np.float32)
    fill_unwritten(array, ("y", "x"), set(), [(slice(None), slice(None))])
    assert (array == 1).all()
    fill_unwritten(array, ("y", "x"), set(), [])
    assert np.isnan(array).all()
