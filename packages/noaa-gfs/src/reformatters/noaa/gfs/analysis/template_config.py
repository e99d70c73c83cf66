"""Structure of noaa-gfs-analysis.

Dims (time, latitude, longitude), hourly from 2021-05-01T00. Chunks (24 h, 61 lat, 60 lon) and
shards (96 h, 732 lat, 1440 lon) serve both access patterns:

- a whole map at one hour reads 12 x 24 inner chunks (24 fields' worth of bytes, ~100 MB raw,
  a fraction of that compressed) from one shard object;
- a point's time series reads one 351 kB (raw) chunk per day: a year is 365 small byte-range
  reads, ~128 MB raw, much less compressed. Larger spatial chunks (121 x 121) would make the
  point read 4x bigger for a 2x smaller map read.

A shard is 4 days of the whole grid (~430 MB raw per variable), which is also one region job:
the job's memory holds one shard of one variable at a time. 732 rows = 12 x 61 overhangs the
721-row grid; 1440 = 24 x 60 columns fit exactly.
"""

from __future__ import annotations

from reformatters.core.dataset_card import card_table_beside
from reformatters.core.template_bases import AnalysisTemplateConfig
from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.gfs.common import OUTPUT_GRID, VARIABLES


class GfsAnalysisTemplateConfig(AnalysisTemplateConfig[NoaaDataVar]):
    grid = OUTPUT_GRID
    data_vars: tuple[NoaaDataVar, ...] = VARIABLES.data_vars(
        (24, 61, 60), (96, 732, 1440), **card_table_beside(__file__, "variable_comments")
    )
