"""A synthesized DWD-layout mirror of one ICON-EU run (steps 76, 77, 78, 81 h), shared by the
end-to-end and archive tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from reformatters.core.testing.fixtures import session_folder
from reformatters.dwd.icon.eu_forecast.dynamical_dataset import make_eu_forecast_dataset
from reformatters.dwd.icon.synthesis import DEFAULT_SYNTHESIS_STEPS, synthesize_icon_eu_mirror

INIT = pd.Timestamp("2025-08-01T06")


@pytest.fixture(scope="session")
def icon_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_vars = make_eu_forecast_dataset().template_config.data_vars
    return session_folder(
        tmp_path_factory,
        "dwd-icon-eu-mirror",
        lambda root: synthesize_icon_eu_mirror(root, [INIT], DEFAULT_SYNTHESIS_STEPS, data_vars),
    )
