"""The synthesized GEFS mirror the GEFS tests share: one run, three members, the leads on both
sides of the switch to 0.5 degree files; written once per test session (xdist workers take turns
through a file lock: core.testing.fixtures.session_mirror)."""

from __future__ import annotations

import pandas as pd

from reformatters.core.testing.fixtures import session_mirror
from reformatters.noaa.gefs.forecast.dynamical_dataset import make_forecast_dataset
from reformatters.noaa.gefs.synthesis import DEFAULT_SYNTHESIS_LEADS, synthesize_gefs_mirror

INIT = pd.Timestamp("2020-10-01T00")
MEMBERS = (0, 1, 30)
LEADS = DEFAULT_SYNTHESIS_LEADS
DATA_VARS = make_forecast_dataset().template_config.data_vars

gefs_mirror = session_mirror(
    "noaa-gefs-mirror", synthesize_gefs_mirror, [INIT], MEMBERS, LEADS, DATA_VARS, workers=2
)
