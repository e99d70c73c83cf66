"""The synthesized ENS ``ef`` file: ECMWF's index keys with real byte ranges, every member's
message with the ensemble product templates, CCSDS packing, and members that differ."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pygrib
import pytest

from reformatters.core.sources.json_lines_index import parse_json_lines_index
from reformatters.core.sources.mirror import SOURCE_MIRROR_ENV
from reformatters.ecmwf.ifs.common import index_url, member_url, step_url
from reformatters.ecmwf.ifs.ens_forecast.dynamical_dataset import make_ens_forecast_dataset
from reformatters.ecmwf.ifs.ens_forecast.region_job import (
    IfsEnsForecastRegionJob,
    IfsEnsSourceFileCoord,
)
from reformatters.ecmwf.ifs.synthesis import source_values, write_step_file

INIT = pd.Timestamp("2024-04-01T00")


def test_step_file_layout_and_index(tmp_path: Path) -> None:
    data_vars = [
        v
        for v in make_ens_forecast_dataset().template_config.data_vars
        if v.name in ("temperature_2m", "precipitation_surface")
    ]
    path = write_step_file(tmp_path, INIT, 6, (0, 1), data_vars)
    assert path == tmp_path / step_url(INIT, 6).removeprefix("s3://")
    assert path.name == "20240401000000-6h-enfo-ef.grib2"
    index = tmp_path / index_url(step_url(INIT, 6)).removeprefix("s3://")
    lines = [json.loads(line) for line in index.read_text().splitlines()]
    assert len(lines) == 51 * 2
    assert lines[0] == {
        "domain": "g",
        "date": "20240401",
        "time": "0000",
        "expver": "0001",
        "class": "od",
        "type": "cf",
        "stream": "enfo",
        "step": "6",
        "levtype": "sfc",
        "param": "2t",
        "_offset": 0,
        "_length": lines[0]["_length"],
    }
    assert lines[2]["type"] == "pf" and lines[2]["number"] == "1"
    data = path.read_bytes()
    entries = parse_json_lines_index(index.read_text())
    assert entries[-1].end == len(data)
    messages = list(pygrib.open(str(path)))
    for entry, message in zip(entries, messages, strict=True):
        assert data[entry.offset : entry.offset + 4] == b"GRIB"
        assert message["perturbationNumber"] == int(entry.keys.get("number", 0))
        template = 11 if entry.keys["param"] == "tp" else 1
        assert message["productDefinitionTemplateNumber"] == template
        assert message["packingType"] == "grid_ccsds"
    control, member_1 = messages[0].values, messages[2].values
    assert control.shape == (721, 1440)
    assert not np.allclose(control, member_1)
    # Members not asked for are constant fillers.
    assert np.ptp(messages[4].values) == 0


def test_since_50r1_the_control_is_read_from_the_oper_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the 2026-05-12 06 UTC run the ``ef`` files have no control (``cf``) lines: member 0
    comes from the ``oper`` ``fc`` file (type ``fc``, no ``number``), the others as before;
    both through the backfill's download and read."""
    init = pd.Timestamp("2026-06-01T00")
    dataset = make_ens_forecast_dataset()
    data_vars = tuple(v for v in dataset.template_config.data_vars if v.name == "temperature_2m")
    write_step_file(tmp_path / "mirror", init, 6, (0, 1), data_vars)
    assert member_url(init, 0, 6).endswith("/ifs/0p25/oper/20260601000000-6h-oper-fc.grib2")
    assert member_url(INIT, 0, 6) == step_url(INIT, 6)
    assert member_url(init, 1, 6) == step_url(init, 6)
    ef_index = (
        tmp_path / "mirror" / index_url(step_url(init, 6)).removeprefix("s3://")
    ).read_text()
    assert '"cf"' not in ef_index and len(ef_index.splitlines()) == 50
    oper_index = tmp_path / "mirror" / index_url(member_url(init, 0, 6)).removeprefix("s3://")
    (oper_line,) = [json.loads(line) for line in oper_index.read_text().splitlines()]
    assert oper_line["type"] == "fc" and oper_line["stream"] == "oper" and "number" not in oper_line

    monkeypatch.setenv(SOURCE_MIRROR_ENV, str(tmp_path / "mirror"))
    template = dataset.template_config.get_template(pd.Timestamp("2026-06-02").to_pydatetime())
    job = IfsEnsForecastRegionJob(
        template_ds=template,
        data_vars=data_vars,
        append_dim="init_time",
        region=slice(len(template.init_time) - 1, len(template.init_time)),
    )
    for member in (0, 1):
        coord = IfsEnsSourceFileCoord(
            init_time=init, lead_time=pd.Timedelta(hours=6), ensemble_member=member
        )
        path = job.download_file(coord, tmp_path)
        values = job.read_data(coord, path, data_vars[0])
        expected = source_values(data_vars[0].internal_attrs, init, member, 6) - 273.15
        np.testing.assert_allclose(values, expected, atol=0.01)
