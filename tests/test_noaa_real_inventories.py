"""Every NOAA variable against the real inventories of ../shared/fixtures/real: its line exists at
each lead we have a real inventory for, and at lead 0 it is a real field, not the constant
placeholder (a message of about 200 bytes) NOAA writes for some fields in a run's first file.

What the real inventories (GFS 2025-08-01 00 UTC f000/f007, HRRR 2025-08-01 00 UTC f00/f08/f24)
show, message sizes in bytes:

- HRRR f00: CRAIN, CSNOW, CICEP, CFRZR 188 each (CRAIN at f08 93,333): placeholders, declared
  ``real_at_lead_0=False``. APCP 212 at f00 (``0-0 day acc``): never read (a window at lead 0).
  Every other HRRR variable is 0.4-2.4 MB at f00.
- HRRR f08: CSNOW, CICEP, CFRZR and DSWRF 188 each: real, constant fields (no snow on an August
  night; 08 UTC is night over CONUS). Size alone cannot tell them from placeholders, so only
  lead 0 is checked against a real later lead.
- GFS f000: CICEP 258 and CFRZR 1,218 are constant-ish in August at every lead; GFS reads the
  categorical types as window averages, which have no lead-0 message. Every variable GFS reads
  at lead 0 is 0.5-1.3 MB.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reformatters.core.plugins import get_registry
from reformatters.noaa.common.idx import IdxEntry, parse_noaa_idx

REAL_INVENTORIES: dict[str, dict[int, str]] = {
    "noaa-gfs-forecast": {
        0: "gfs/gfs.t00z.pgrb2.0p25.f000.idx",
        7: "gfs/gfs.t00z.pgrb2.0p25.f007.idx",
    },
    "noaa-gfs-analysis": {
        0: "gfs/gfs.t00z.pgrb2.0p25.f000.idx",
        7: "gfs/gfs.t00z.pgrb2.0p25.f007.idx",
    },
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
# A constant field packs into a few hundred bytes on these grids; a real one into 100s of kB.
PLACEHOLDER_BYTES = 1000
CASES = [(d, lead) for d, leads in REAL_INVENTORIES.items() for lead in leads]


def _inventory(real_fixtures_dir: Path, relative: str) -> list[IdxEntry]:
    return parse_noaa_idx((real_fixtures_dir / relative).read_text())


def _size(entry: IdxEntry) -> int:
    assert entry.end is not None, "the last line of a file has no known size"
    return entry.end - entry.offset


@pytest.mark.parametrize(("dataset_id", "lead"), CASES)
def test_every_variable_reads_a_real_line(
    real_fixtures_dir: Path, dataset_id: str, lead: int
) -> None:
    entries = _inventory(real_fixtures_dir, REAL_INVENTORIES[dataset_id][lead])
    by_line = {(e.element, e.level, e.forecast): e for e in reversed(entries)}
    for var in get_registry().get(dataset_id).template_config.data_vars:
        attrs = var.internal_attrs
        forecast = attrs.forecast_description(lead)
        if forecast is None:
            assert lead == 0 and not attrs.has_lead_0_value, var.name
            continue
        entry = by_line.get((attrs.grib_element, attrs.grib_level, forecast))
        assert entry is not None, f"{var.name}: no line {attrs.grib_element}:{attrs.grib_level}"
        if lead == 0:
            assert _size(entry) > PLACEHOLDER_BYTES, f"{var.name} reads a placeholder at lead 0"


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
        placeholder = _size(at_0) < PLACEHOLDER_BYTES
        if placeholder and _size(at_8) > PLACEHOLDER_BYTES:
            assert not attrs.real_at_lead_0, var.name
        if not attrs.real_at_lead_0:
            assert placeholder, var.name
            categorical.add(attrs.grib_element)
    assert categorical == {"CRAIN", "CSNOW", "CICEP", "CFRZR"}
