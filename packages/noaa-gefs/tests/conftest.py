"""The synthesized GEFS mirror the GEFS tests share: one run, three members, the leads on both
sides of the switch to 0.5 degree files; written once per test session (xdist workers take turns
through a file lock: core.testing.fixtures.session_folder)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from reformatters.core.testing.fixtures import session_folder
from reformatters.noaa.gefs.forecast.dynamical_dataset import make_forecast_dataset
from reformatters.noaa.gefs.synthesis import DEFAULT_SYNTHESIS_LEADS, synthesize_gefs_mirror

INIT = pd.Timestamp("2020-10-01T00")
MEMBERS = (0, 1, 30)
LEADS = DEFAULT_SYNTHESIS_LEADS


@pytest.fixture(scope="session")
def gefs_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_vars = make_forecast_dataset().template_config.data_vars
    return session_folder(
        tmp_path_factory,
        "noaa-gefs-mirror",
        lambda root: synthesize_gefs_mirror(root, [INIT], MEMBERS, LEADS, data_vars, workers=2),
    )
