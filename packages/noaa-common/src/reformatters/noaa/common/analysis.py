"""The NOAA analysis datasets (time): each hour from a run's analysis or a short forecast."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reformatters.noaa.common.internal_attrs import NoaaDataVar
from reformatters.noaa.common.region_job import NoaaRegionJob, NoaaSourceFileCoord


class NoaaAnalysisFileCoord(NoaaSourceFileCoord):
    def out_loc(self) -> Mapping[str, Any]:
        return {"time": self.init_time + self.lead_time}


class NoaaAnalysisRegionJob[CoordT: NoaaAnalysisFileCoord](NoaaRegionJob[CoordT]):
    @classmethod
    def source_groups(cls, data_vars: Sequence[NoaaDataVar]) -> list[list[NoaaDataVar]]:
        """Variables with a real value at a run's lead 0, then the others (window statistics,
        placeholders at lead 0): they come from different files for the same hour."""
        at_lead_0 = [v for v in data_vars if v.internal_attrs.has_lead_0_value]
        after_lead_0 = [v for v in data_vars if not v.internal_attrs.has_lead_0_value]
        return [group for group in (at_lead_0, after_lead_0) if group]
