"""The synthesized ENS ``ef`` file: ECMWF's index keys with real byte ranges, every member's
message with the ensemble product templates, CCSDS packing, and members that differ."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pygrib

from reformatters.core.sources.json_lines_index import parse_json_lines_index
from reformatters.ecmwf.ifs.common import index_url, step_url
from reformatters.ecmwf.ifs.ens_forecast.dynamical_dataset import make_ens_forecast_dataset
from reformatters.ecmwf.ifs.synthesis import write_step_file

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
