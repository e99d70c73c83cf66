"""Every HRRR variable against the real inventories of ../shared/fixtures/real: its line exists at
each lead we have a real inventory for, and at lead 0 it is a real field, not the constant
placeholder (a message of about 200 bytes) NOAA writes for some fields in a run's first file.

What the real inventories (HRRR 2025-08-01 00 UTC f00/f08/f24) show, message sizes in bytes:

- f00: CRAIN, CSNOW, CICEP, CFRZR 188 each (CRAIN at f08 93,333): placeholders, declared
  ``real_at_lead_0=False``. APCP 212 at f00 (``0-0 day acc``): never read (a window at lead 0).
  Every other HRRR variable is 0.4-2.4 MB at f00.
- f08: CSNOW, CICEP, CFRZR and DSWRF 188 each: real, constant fields (no snow on an August
  night; 08 UTC is night over CONUS). Size alone cannot tell them from placeholders, so only
  lead 0 is checked against a real later lead.

GFS's variables: packages/noaa-gfs/tests/test_noaa_gfs_real_inventories.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reformatters.core.plugins import get_registry
from reformatters.noaa.common.idx import IdxEntry, parse_noaa_idx
from reformatters.noaa.common.testing import (
    PLACEHOLDER_BYTES,
    assert_every_variable_reads_a_real_line,
    message_size,
)

REAL_INVENTORIES: dict[str, dict[int, str]] = {
    "noaa-hrrr-forecast-48-hour": {
        0: "hrrr/hrrr.t00z.wrfsfcf00.grib2.idx",
        8: "hrrr/hrrr.t00z.wrfsfcf08.grib2.idx",
        24: "hrrr/hrrr.t00z.wrfsfcf24.grib2.idx",
    },
    "noaa-hrrr-analysis": {
        0: "hrrr/hrrr.t00z.wrfsfcf00.grib2.idx",
        8: "hrrr/hrrr.t00z.wrfsfcf08.grib2.idx",
    },
}
CASES = [(d, lead) for d, leads in REAL_INVENTORIES.items() for lead in leads]


def _inventory(real_fixtures_dir: Path, relative: str) -> list[IdxEntry]:
    return parse_noaa_idx((real_fixtures_dir / relative).read_text())


@pytest.mark.parametrize(("dataset_id", "lead"), CASES)
def test_every_variable_reads_a_real_line(
    real_fixtures_dir: Path, dataset_id: str, lead: int
) -> None:
    entries = _inventory(real_fixtures_dir, REAL_INVENTORIES[dataset_id][lead])
    data_vars = get_registry().get(dataset_id).template_config.data_vars
    assert_every_variable_reads_a_real_line(data_vars, entries, lead)


@pytest.mark.parametrize("dataset_id", ["noaa-hrrr-forecast-48-hour", "noaa-hrrr-analysis"])
def test_hrrr_lead_0_placeholders_are_declared(real_fixtures_dir: Path, dataset_id: str) -> None:
    """A variable whose f00 message is a constant while its f08 one is a real field is declared
    as having no real value at lead 0, and the other way round."""
    f00 = _inventory(real_fixtures_dir, REAL_INVENTORIES[dataset_id][0])
    f08 = _inventory(real_fixtures_dir, REAL_INVENTORIES[dataset_id][8])
    categorical = set()
    for var in get_registry().get(dataset_id).template_config.data_vars:
        attrs = var.internal_attrs
        if attrs.is_window:
            continue
        at_0 = next(
            e for e in f00 if (e.element, e.level) == (attrs.grib_element, attrs.grib_level)
        )
        at_8 = next(
            e for e in f08 if (e.element, e.level) == (attrs.grib_element, attrs.grib_level)
        )
        placeholder = message_size(at_0) < PLACEHOLDER_BYTES
        if placeholder and message_size(at_8) > PLACEHOLDER_BYTES:
            assert not attrs.real_at_lead_0, var.name
        if not attrs.real_at_lead_0:
            assert placeholder, var.name
            categorical.add(attrs.grib_element)
    assert categorical == {"CRAIN", "CSNOW", "CICEP", "CFRZR"}
