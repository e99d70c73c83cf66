"""The ecmwf-ifs-ens-forecast-15-day-0-25-degree dataset: template, region job and offline
sources; its operations are declared in ``dataset.toml``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from reformatters.core.forecast_dataset import ForecastDataset
from reformatters.core.operations.validation import STANDARD_VALIDATORS, check_forecast_complete
from reformatters.ecmwf.ifs.common import MEMBERS
from reformatters.ecmwf.ifs.ens_forecast.region_job import (
    IfsEnsForecastRegionJob,
    IfsEnsSourceFileCoord,
)
from reformatters.ecmwf.ifs.ens_forecast.template_config import IfsEnsForecastTemplateConfig
from reformatters.ecmwf.ifs.synthesis import DEFAULT_SYNTHESIS_STEPS, synthesize_ifs_ens_mirror
from reformatters.ecmwf.ifs.variables import IfsDataVar


class IfsEnsForecastDataset(ForecastDataset[IfsDataVar, IfsEnsSourceFileCoord]):
    validators = (*STANDARD_VALIDATORS, check_forecast_complete)

    def synthesize_runs(self, folder: Path, inits: Sequence[pd.Timestamp]) -> list[Path]:
        """ENS ``ef`` files (every member) of these runs, steps ``DEFAULT_SYNTHESIS_STEPS``
        only."""
        members = [int(m) for m in MEMBERS]
        data_vars = self.template_config.data_vars
        return synthesize_ifs_ens_mirror(folder, inits, members, DEFAULT_SYNTHESIS_STEPS, data_vars)


def make_ens_forecast_dataset() -> IfsEnsForecastDataset:
    return IfsEnsForecastDataset(IfsEnsForecastTemplateConfig.declared(), IfsEnsForecastRegionJob)
