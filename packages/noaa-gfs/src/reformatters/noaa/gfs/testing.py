"""The synthesized GFS mirror the GFS tests share: two runs' first leads and the files the
analysis reads for eight hours, written once per test session (xdist workers take turns through
a file lock) and never reused by a later session.

``gfs_mirror`` is a pytest fixture: a ``conftest.py`` makes it available to the tests beside it
by importing it (``from reformatters.noaa.gfs.testing import gfs_mirror``). Needs the package's
``testing`` extra (pytest).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from reformatters.core.testing.fixtures import session_folder
from reformatters.noaa.gfs.analysis.region_job import source_run
from reformatters.noaa.gfs.forecast.dynamical_dataset import make_forecast_dataset
from reformatters.noaa.gfs.synthesis import synthesize_gfs_mirror

INIT_00 = pd.Timestamp("2021-05-01T00")
INIT_06 = pd.Timestamp("2021-05-01T06")
INIT_18_BEFORE = pd.Timestamp("2021-04-30T18")
FORECAST_LEADS = (0, 1, 2, 3)
WITHHELD = (INIT_06, 2)
ANALYSIS_HOURS = 8  # 2021-05-01T00..07


def mirror_files() -> list[tuple[pd.Timestamp, int]]:
    files = {(init, lead) for init in (INIT_00, INIT_06) for lead in FORECAST_LEADS}
    hours = pd.date_range(INIT_00, periods=ANALYSIS_HOURS, freq="h")
    for hour in hours:
        for window in (False, True):
            init, lead = source_run(hour, window=window)
            files.add((init, int(lead / pd.Timedelta(hours=1))))
    files.discard(WITHHELD)
    return sorted(files)


@pytest.fixture(scope="session")
def gfs_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    def write(root: Path) -> None:
        data_vars = make_forecast_dataset().template_config.data_vars
        wanted = set(mirror_files())
        inits = sorted({init for init, _ in wanted})
        leads = sorted({lead for _, lead in wanted})
        skip = {(i, lead) for i in inits for lead in leads} - wanted
        synthesize_gfs_mirror(root, inits, leads, data_vars, skip=skip, workers=2)

    return session_folder(tmp_path_factory, "noaa-gfs-mirror", write)
