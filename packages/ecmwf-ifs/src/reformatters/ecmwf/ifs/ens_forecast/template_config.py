"""Structure of ecmwf-ifs-ens-forecast-15-day-0-25-degree.

Dims (init_time, ensemble_member, lead_time, latitude, longitude). An inner chunk is one member's
17 leads over 48 x 48 points (85 = 5 x 17); a shard is one member's whole run over the whole
globe (1 x 1 x 85 x 768 x 1440, overhanging the 721-row edge). The package README gives the
numbers behind this choice for the two reads users make: all members at a point over every
lead (255 chunks, 40 MB raw) and one member's map at one lead (480 chunks, 75 MB raw).

A shard holding one member lets a region job be one init and one member (core's partition along
``ensemble_member``): a worker holds one member's run of one variable (353 MB of float32), not
the whole ensemble's (18 GB).
"""

from __future__ import annotations

import pandas as pd

from reformatters.core.template_bases import ForecastTemplateConfig
from reformatters.ecmwf.ifs.common import MEMBERS, OUTPUT_GRID, STEP_HOURS
from reformatters.ecmwf.ifs.variables import IfsDataVar, data_vars

LEAD_TIMES = pd.TimedeltaIndex([pd.Timedelta(hours=h) for h in STEP_HOURS])

VAR_CHUNKS = (1, 1, 17, 48, 48)
VAR_SHARDS = (1, 1, 85, 768, 1440)
DATA_VARS = data_vars(VAR_CHUNKS, VAR_SHARDS)


class IfsEnsForecastTemplateConfig(ForecastTemplateConfig[IfsDataVar]):
    grid = OUTPUT_GRID
    lead_times = LEAD_TIMES
    ensemble_members = MEMBERS
    data_vars: tuple[IfsDataVar, ...] = DATA_VARS
