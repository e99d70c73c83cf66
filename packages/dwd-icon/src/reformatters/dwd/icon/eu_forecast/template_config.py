"""Structure of dwd-icon-eu-forecast-5-day.

Dims (init_time, lead_time, latitude, longitude). An inner chunk is a third of one run's 93
leads over 219 x 153 points (3 x 3 x 9 chunks cover a run); a shard is one run of one variable
over the whole grid (1 x 93 x 657 x 1377, 336 MB of float32). Version 0.2.0: chunks of 31 leads
instead of 93 (maps 3-4x faster, points unchanged; the package README has the numbers).
"""

from __future__ import annotations

import pandas as pd

from reformatters.core.template_bases import ForecastTemplateConfig
from reformatters.dwd.icon.common import OUTPUT_GRID, STEP_HOURS
from reformatters.dwd.icon.variables import IconDataVar, data_vars

LEAD_TIMES = pd.TimedeltaIndex([pd.Timedelta(hours=h) for h in STEP_HOURS])

DATA_VARS = data_vars((1, 31, 219, 153), (1, 93, 657, 1377))


class IconEuForecastTemplateConfig(ForecastTemplateConfig[IconDataVar]):
    grid = OUTPUT_GRID
    lead_times = LEAD_TIMES
    data_vars: tuple[IconDataVar, ...] = DATA_VARS
