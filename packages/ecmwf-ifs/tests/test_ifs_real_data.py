"""The IFS reader against real ECMWF open-data files (../shared/fixtures/real/ecmwf): the real
JSON-lines ``.index`` files of AIFS single runs (the same format and MARS keys as IFS's; type
``fc``, so the selection is checked with a deterministic member's keys), the IFS 0.25 degree
CCSDS message (tprate) and the AIFS 2 m temperature message, both with longitudes from 180,
decoded through the backfill's code path and placed where the template says."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pygrib
import pytest

from reformatters.core.sources.errors import SourceError
from reformatters.core.sources.grib import decode_message
from reformatters.core.sources.grib_identity import EnsembleRole, GribIdentity
from reformatters.core.sources.json_lines_index import parse_json_lines_index
from reformatters.core.testing.backfill import region_job_for_template
from reformatters.ecmwf.ifs.common import GRID, LATITUDES, LONGITUDES
from reformatters.ecmwf.ifs.ens_forecast.dynamical_dataset import make_ens_forecast_dataset
from reformatters.ecmwf.ifs.ens_forecast.region_job import (
    IfsEnsForecastRegionJob,
    IfsEnsSourceFileCoord,
)


class DeterministicJob(IfsEnsForecastRegionJob):
    """The ENS job reading a deterministic run's file (type ``fc``, no member in messages)."""

    def member_keys(self, coord: IfsEnsSourceFileCoord) -> dict[str, str]:
        return {"type": "fc"}

    def ensemble_role(self, coord: IfsEnsSourceFileCoord) -> EnsembleRole | None:
        return None


def _job(cls: type[IfsEnsForecastRegionJob] = DeterministicJob) -> IfsEnsForecastRegionJob:
    return region_job_for_template(make_ens_forecast_dataset(), cls, datetime(2024, 4, 3))


def _coord(init: str, step: int, member: int = 0) -> IfsEnsSourceFileCoord:
    return IfsEnsSourceFileCoord(
        init_time=pd.Timestamp(init), lead_time=pd.Timedelta(hours=step), ensemble_member=member
    )


@pytest.mark.parametrize("step", [0, 6])
def test_every_wanted_line_is_picked_exactly_once(real_fixtures_dir: Path, step: int) -> None:
    path = real_fixtures_dir / "ecmwf" / f"aifs_single_20250301_00z_{step}h.index"
    entries = parse_json_lines_index(path.read_text())
    assert {e.keys["step"] for e in entries} == {str(step)}
    wanted = _job().wanted(_coord("2025-03-01T00", step))
    names = {var.name for var, _ in wanted}
    accumulations = {
        "precipitation_surface",
        "downward_short_wave_radiation_flux_surface",
        "downward_long_wave_radiation_flux_surface",
    }
    all_names = {var.name for var in make_ens_forecast_dataset().template_config.data_vars}
    # Accumulations are not read at step 0 (an empty window): NaN there, by declaration.
    assert names == (all_names - accumulations if step == 0 else all_names)
    for var, selector in wanted:
        matches = [e for e in entries if selector.matches(e)]
        assert len(matches) == 1, (var.name, selector.describe(), len(matches))
        (entry,) = matches
        assert (entry.keys["param"], entry.keys["levtype"]) == (
            var.internal_attrs.param,
            var.internal_attrs.levtype,
        )
        assert "levelist" not in entry.keys
    if step == 0:
        # What ECMWF writes for an accumulation at step 0: a 224-byte constant message.
        for param in ("tp", "ssrd", "strd"):
            (entry,) = [e for e in entries if e.keys["param"] == param]
            assert entry.length == 224


def test_member_selectors_pick_their_own_line() -> None:
    """An ENS index lists the control (type cf, no number) and members (type pf, number)."""
    lines = [{"type": "cf", "step": "6", "levtype": "sfc", "param": "2t"}] + [
        {"type": "pf", "number": str(n), "step": "6", "levtype": "sfc", "param": "2t"}
        for n in range(1, 51)
    ]
    text = "\n".join(
        json.dumps({**line, "_offset": 100 * i, "_length": 100}) for i, line in enumerate(lines)
    )
    entries = parse_json_lines_index(text)
    job = _job(IfsEnsForecastRegionJob)
    for member in (0, 1, 10, 50):
        (selector,) = [
            s for v, s in job.wanted(_coord("2024-04-01", 6, member)) if v.name == "temperature_2m"
        ]
        (match,) = [e for e in entries if selector.matches(e)]
        assert match.offset == 100 * member


def _real_message(real_fixtures_dir: Path, name: str) -> tuple[Path, pygrib.gribmessage]:
    path = real_fixtures_dir / "ecmwf" / name
    (message,) = list(pygrib.open(str(path)))
    return path, message


def _check_grid_matches_template(message: pygrib.gribmessage) -> None:
    """The message's own coordinates (pygrib) are the template's latitude and longitude."""
    lats, lons = message.latlons()
    np.testing.assert_allclose(lats[:, 0], LATITUDES, atol=1e-9)
    np.testing.assert_allclose(((lons[0, :] + 180) % 360) - 180, LONGITUDES, atol=1e-9)
    assert message["longitudeOfFirstGridPointInDegrees"] == GRID.first_lon == 180.0


def test_ifs_quarter_degree_ccsds_message(real_fixtures_dir: Path) -> None:
    """IFS 0.25 degree tprate (oper fc, 2025-09-12T12, step 0): CCSDS, 1440 x 721."""
    path, message = _real_message(real_fixtures_dir, "20250912120000-0h-oper-fc.grib2.89")
    assert message["packingType"] == "grid_ccsds"
    _check_grid_matches_template(message)
    values = decode_message(
        path,
        0,
        expected=GribIdentity(
            0,
            1,
            52,
            surface_type=1,
            step_type="instant",
            end_step=timedelta(0),
            reference_time=datetime(2025, 9, 12, 12),
        ),
        grid=GRID,
    )
    out = np.empty((721, 1440), dtype=np.float32)
    _job().to_output_layout(values, out)
    np.testing.assert_array_equal(out, message.values.astype(np.float32))


def test_aifs_temperature_through_the_backfill_reader(
    real_fixtures_dir: Path, tmp_path: Path
) -> None:
    """AIFS 2 m temperature (2024-08-02T06, step 18): read as the backfill reads a downloaded
    file (the message and its sidecar), identity and grid checked, in degree_Celsius."""
    source, message = _real_message(
        real_fixtures_dir, "ecmwf-aifs-0p25-20240802060000-18h-oper-fc-tmp_2m.grib2"
    )
    _check_grid_matches_template(message)
    path = tmp_path / "downloaded.grib2"
    shutil.copyfile(source, path)
    path.with_name(path.name + ".json").write_text(
        json.dumps({"messages": {"temperature_2m": 0}, "absent": {}})
    )
    job = _job()
    (var,) = [v for v in job.data_vars if v.name == "temperature_2m"]
    out = job.read_data(_coord("2024-08-02T06", 18), path, var)
    expected = message.values.astype(np.float32) - np.float32(273.15)
    np.testing.assert_array_equal(out, expected)
    # Where the template puts it: Berlin's point is the message's point at 52.5 N 13.5 E.
    lats, lons = message.latlons()
    row, column = int((90 - 52.5) / 0.25), int((13.5 + 180) / 0.25)
    assert (lats[row, column], lons[row, column]) == (52.5, 13.5)
    assert out[row, column] == np.float32(message.values[row, column]) - np.float32(273.15)
    # Another run's message is refused.
    with pytest.raises(SourceError, match="reference_time"):
        job.read_data(_coord("2024-08-03T06", 18), path, var)
