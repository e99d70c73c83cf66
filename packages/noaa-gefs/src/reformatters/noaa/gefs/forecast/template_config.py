"""Structure of noaa-gefs-forecast-35-day.

Dims (init_time, ensemble_member, lead_time, latitude, longitude). An inner chunk is one member's
16 leads over 48 x 48 points; a shard is one member's whole run over the whole globe
(1 x 1 x 192 x 768 x 1440, overhanging the 181 x 721 x 1440 array edge). The package README
gives the numbers behind this choice for the two reads users make: all members at a point over
every lead (372 chunks, 55 MB raw) and one member's map at one lead (480 chunks, 71 MB raw).

A shard holding one member lets a region job be one init and one member (core's partition along
``ensemble_member``): a worker holds one member's run of one variable (750 MB of float32), not
the whole ensemble's (23 GB). The template keeps its append dimension at length 1; it is
expanded at run time.
"""

from __future__ import annotations

import pandas as pd

from reformatters.core.dataset_card import card_table_beside
from reformatters.core.template_bases import ForecastTemplateConfig
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.gefs.common import (
    MEMBERS,
    OUTPUT_GRID,
    SOURCES,
    SURFACE,
    SURFACE_TO_240H,
    VARIABLES,
)

# 0-240 h 3-hourly, then 6-hourly to 840 h: 81 + 100 = 181 leads.
LEAD_TIMES = pd.TimedeltaIndex(
    [pd.Timedelta(hours=h) for h in (*range(0, 241, 3), *range(246, 841, 6))]
)

VAR_CHUNKS = (1, 1, 16, 48, 48)
VAR_SHARDS = (1, 1, 192, 768, 1440)

_BILINEAR = (
    "placed on this 0.25 degree grid by bilinear interpolation: values at the 0.5 degree points "
    "are the source's, a point between two (or four) of them is their mean."
)
SOURCE_COMMENTS = {
    SURFACE: f"Leads 0-240 h from NOAA's 0.25 degree files; 246-840 h from its 0.5 degree files, "
    f"{_BILINEAR}",
    SURFACE_TO_240H: "Leads 0-240 h only, from NOAA's 0.25 degree files (its 0.5 degree files "
    "do not carry it): NaN after 240 h.",
}
HALF_DEGREE_COMMENT = f"From NOAA's 0.5 degree files at every lead, {_BILINEAR}"
CATEGORICAL_COMMENT = (
    "Where interpolated from 0.5 degree, values between 0 and 1 are the fraction of the "
    "neighbouring source points flagged."
)


def _with_source(var: NoaaDataVar) -> NoaaDataVar:
    source = SOURCES[var.name]
    notes = [var.attrs.comment, SOURCE_COMMENTS.get(source, HALF_DEGREE_COMMENT)]
    if var.attrs.units == "1" and var.name.startswith("categorical_"):
        notes.append(CATEGORICAL_COMMENT)
    return var.model_copy(
        update={"attrs": var.attrs.model_copy(update={"comment": " ".join(n for n in notes if n)})}
    )


DATA_VARS: tuple[NoaaDataVar, ...] = tuple(
    _with_source(var)
    for var in VARIABLES.data_vars(
        VAR_CHUNKS, VAR_SHARDS, **card_table_beside(__file__, "variable_comments")
    )
)


class GefsForecastTemplateConfig(ForecastTemplateConfig[NoaaDataVar]):
    grid = OUTPUT_GRID
    lead_times = LEAD_TIMES
    ensemble_members = MEMBERS
    data_vars: tuple[NoaaDataVar, ...] = DATA_VARS
