"""A synthesized DWD-layout mirror of one ICON-EU run (steps 76, 77, 78, 81 h), shared by the
end-to-end and archive tests."""

from __future__ import annotations

import pandas as pd

from reformatters.core.testing.fixtures import session_mirror
from reformatters.dwd.icon.eu_forecast.dynamical_dataset import make_eu_forecast_dataset
from reformatters.dwd.icon.synthesis import DEFAULT_SYNTHESIS_STEPS, synthesize_icon_eu_mirror

INIT = pd.Timestamp("2025-08-01T06")
DATA_VARS = make_eu_forecast_dataset().template_config.data_vars

icon_mirror = session_mirror(
    "dwd-icon-eu-mirror", synthesize_icon_eu_mirror, [INIT], DEFAULT_SYNTHESIS_STEPS, DATA_VARS
)
