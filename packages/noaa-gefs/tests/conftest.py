"""The synthesized GEFS mirror the GEFS tests share: one run, three members, the leads on both
sides of the switch to 0.5 degree files; written once per test session (xdist workers take turns
through a file lock)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pandas as pd
import pytest

from reformatters.noaa.gefs.forecast.dynamical_dataset import make_forecast_dataset
from reformatters.noaa.gefs.synthesis import DEFAULT_SYNTHESIS_LEADS, synthesize_gefs_mirror

INIT = pd.Timestamp("2020-10-01T00")
MEMBERS = (0, 1, 30)
LEADS = DEFAULT_SYNTHESIS_LEADS


@pytest.fixture(scope="session")
def gefs_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    session = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        session = session.parent
    root = session / "noaa-gefs-mirror"
    root.mkdir(parents=True, exist_ok=True)
    done = root / ".complete"
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            data_vars = make_forecast_dataset().template_config.data_vars
            synthesize_gefs_mirror(root, [INIT], MEMBERS, LEADS, data_vars, workers=2)
            done.write_text("ok")
    return root
