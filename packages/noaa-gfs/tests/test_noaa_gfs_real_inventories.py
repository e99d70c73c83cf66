"""Every GFS variable against the real inventories of ../shared/fixtures/real: its line exists at
each lead we have a real inventory for, and at lead 0 it is a real field, not the constant
placeholder (a message of a few hundred bytes) NOAA writes for some fields in a run's first file.

What the real inventories (GFS 2025-08-01 00 UTC f000/f007) show: CICEP 258 and CFRZR 1,218 bytes
are constant-ish in August at every lead; GFS reads the categorical types as window averages,
which have no lead-0 message. Every variable GFS reads at lead 0 is 0.5-1.3 MB.

HRRR's variables: packages/noaa-hrrr/tests/test_noaa_hrrr_real_inventories.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reformatters.core.plugins import get_registry
from reformatters.noaa.common.idx import parse_noaa_idx
from reformatters.noaa.common.testing import assert_every_variable_reads_a_real_line

REAL_INVENTORIES = {0: "gfs/gfs.t00z.pgrb2.0p25.f000.idx", 7: "gfs/gfs.t00z.pgrb2.0p25.f007.idx"}


@pytest.mark.parametrize("lead", sorted(REAL_INVENTORIES))
@pytest.mark.parametrize("dataset_id", ["noaa-gfs-forecast", "noaa-gfs-analysis"])
def test_every_variable_reads_a_real_line(
    real_fixtures_dir: Path, dataset_id: str, lead: int
) -> None:
    entries = parse_noaa_idx((real_fixtures_dir / REAL_INVENTORIES[lead]).read_text())
    data_vars = get_registry().get(dataset_id).template_config.data_vars
    assert_every_variable_reads_a_real_line(data_vars, entries, lead)
