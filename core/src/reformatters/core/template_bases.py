"""The two dataset structures: forecasts as issued (init_time x lead_time) and analyses (time).

A subclass declares its dims, dataset attributes, data variables, grid and, for a forecast,
its lead times and expected forecast length; the coordinates follow from those.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import NDArray

from reformatters.core.config_models import Coordinate, CoordinateAttrs, DataVar, Encoding
from reformatters.core.coordinates import (
    DerivedCoordinates,
    Grid,
    time_encoding,
    timedelta_encoding,
)
from reformatters.core.region_job import RegionJobResult, SourceFileStatus, whole_hours
from reformatters.core.template_config import TemplateConfig

INGESTED_FORECAST_LENGTH_COMMENT = (
    "The longest lead time for which source data was ingested; NaT if none yet. Smaller than "
    "expected_forecast_length when files were missing."
)


ENSEMBLE_DIM = "ensemble_member"


class ForecastTemplateConfig[DataVarT: DataVar[Any]](TemplateConfig[DataVarT]):
    """Dims (init_time, lead_time, *grid dims); coordinates ``valid_time`` and the expected and
    ingested forecast length of each init.

    An ensemble declares ``ensemble_members`` (e.g. 0..30): dims become (init_time,
    ensemble_member, lead_time, *grid dims) and the ingested forecast length is kept per
    member (a member's files can be late or missing on their own)."""

    append_dim: str = "init_time"
    grid: ClassVar[Grid]
    lead_times: ClassVar[pd.TimedeltaIndex]
    ensemble_members: ClassVar[NDArray[np.int16] | None] = None
    # init_time values per chunk of the append-dim coordinates (they are small).
    append_coord_chunk: int
    expected_forecast_length_comment: str
    ensemble_member_comment: str = ""

    @classmethod
    def derived_attributes(cls, append_dim_start: datetime) -> dict[str, str]:
        hours = [whole_hours(lead) for lead in cls.lead_times]
        return {
            "time_domain": (
                f"Forecasts initialized {append_dim_start:%Y-%m-%d %H:%M} UTC to present"
            ),
            "forecast_domain": (
                f"Forecast lead time {hours[0]}-{hours[-1]} hours "
                f"({hours[0] / 24:g}-{hours[-1] / 24:g} days) ahead"
            ),
            "forecast_resolution": lead_time_resolution(hours),
        }

    @property
    def dims(self) -> tuple[str, ...]:
        return ("init_time", *self._member_dims, "lead_time", *self.grid.dims)

    @property
    def _member_dims(self) -> tuple[str, ...]:
        return () if self.ensemble_members is None else (ENSEMBLE_DIM,)

    def _member_coords(self) -> tuple[Coordinate, ...]:
        if self.ensemble_members is None:
            return ()
        return (
            Coordinate(
                name=ENSEMBLE_DIM,
                encoding=Encoding(
                    dtype="int16", fill_value=None, chunks=(len(self.ensemble_members),)
                ),
                attrs=CoordinateAttrs(
                    long_name="Ensemble member",
                    standard_name="realization",
                    units="1",
                    comment=self.ensemble_member_comment,
                ),
            ),
        )

    def expected_forecast_length(self, init_times: NDArray[np.datetime64]) -> NDArray[Any]:
        """The forecast length (timedelta64[ns]) the provider issues for each init time: by
        default the longest lead time, for every init."""
        return np.full(len(init_times), self.lead_times[-1].to_timedelta64())

    @property
    def coords(self) -> Sequence[Coordinate]:
        chunk = self.append_coord_chunk
        return (
            Coordinate(
                name="init_time",
                encoding=time_encoding((chunk,)),
                attrs=CoordinateAttrs(
                    long_name="Forecast initialization time",
                    standard_name="forecast_reference_time",
                ),
            ),
            *self._member_coords(),
            Coordinate(
                name="lead_time",
                encoding=timedelta_encoding((len(self.lead_times),)),
                attrs=CoordinateAttrs(
                    long_name="Forecast lead time", standard_name="forecast_period"
                ),
            ),
            *self.grid.coords(),
            Coordinate(
                name="valid_time",
                encoding=time_encoding((chunk, len(self.lead_times))),
                attrs=CoordinateAttrs(long_name="Valid time", standard_name="time"),
            ),
            Coordinate(
                name="expected_forecast_length",
                encoding=timedelta_encoding((chunk,)),
                attrs=CoordinateAttrs(
                    long_name="Expected forecast length",
                    comment=self.expected_forecast_length_comment,
                ),
            ),
            Coordinate(
                name="ingested_forecast_length",
                encoding=timedelta_encoding(
                    (chunk,)
                    if self.ensemble_members is None
                    else (chunk, len(self.ensemble_members))
                ),
                attrs=CoordinateAttrs(
                    long_name="Ingested forecast length",
                    comment=INGESTED_FORECAST_LENGTH_COMMENT,
                ),
            ),
        )

    def dimension_coordinates(self) -> dict[str, Any]:
        return {
            "init_time": self.append_dim_coordinates(
                self.append_dim_start + self.append_dim_frequency
            ),
            **({} if self.ensemble_members is None else {ENSEMBLE_DIM: self.ensemble_members}),
            "lead_time": self.lead_times,
            **self.grid.dimension_coordinates(),
        }

    def derive_coordinates(self, ds: xr.Dataset) -> DerivedCoordinates:
        init = ds["init_time"].values
        lead = ds["lead_time"].values
        ingested_dims = ("init_time", *self._member_dims)
        return {
            "valid_time": (("init_time", "lead_time"), init[:, None] + lead[None, :]),
            "expected_forecast_length": (("init_time",), self.expected_forecast_length(init)),
            "ingested_forecast_length": (
                ingested_dims,
                np.full(
                    tuple(ds.sizes[d] for d in ingested_dims),
                    np.timedelta64("NaT", "ns"),
                    dtype="timedelta64[ns]",
                ),
            ),
            **self.grid.derived_coordinates(),
        }


def lead_time_resolution(hours: Sequence[int]) -> str:
    """ "Hourly up to 120 hours, 3 hourly to 384 hours": each run of equal steps, in words."""
    runs: list[tuple[int, int]] = []  # (step, last lead of the run)
    for previous, lead in itertools.pairwise(hours):
        if runs and runs[-1][0] == lead - previous:
            runs[-1] = (lead - previous, lead)
        else:
            runs.append((lead - previous, lead))
    words = ["Hourly" if step == 1 else f"{step} hourly" for step, _ in runs]
    if len(runs) == 1:
        return words[0]
    parts = [f"{words[0]} up to {runs[0][1]} hours"]
    parts += [
        f"{word.lower()} to {end} hours" for word, (_, end) in zip(words[1:], runs[1:], strict=True)
    ]
    return ", ".join(parts)


def fill_ingested_forecast_length(
    template_ds: xr.Dataset, results: Sequence[RegionJobResult]
) -> xr.Dataset:
    """``template_ds`` with ``ingested_forecast_length`` set to the longest lead read per init
    (and per member, for an ensemble).

    A source file's init, member and lead are where it is written (``out_loc``). Positions not
    processed in ``results`` keep the template's value (NaT).
    """
    coordinate = template_ds["ingested_forecast_length"]
    ingested = coordinate.values.copy()
    dims = [str(d) for d in coordinate.dims]
    indexes = [template_ds.indexes[d] for d in dims]
    for result in results:
        for file_results in result.files.values():
            for file_result in file_results:
                if file_result.status != SourceFileStatus.SUCCEEDED:
                    continue
                loc = file_result.coord.out_loc()
                position = tuple(
                    index.get_loc(loc[d]) for d, index in zip(dims, indexes, strict=True)
                )
                assert all(isinstance(p, int) for p in position), f"{loc} is not one position"
                lead = pd.Timedelta(loc["lead_time"]).to_timedelta64()
                if np.isnat(ingested[position]) or ingested[position] < lead:
                    ingested[position] = lead
    ds = template_ds.copy()
    ds["ingested_forecast_length"] = (
        coordinate.dims,
        ingested,
        dict(template_ds["ingested_forecast_length"].attrs),
    )
    ds["ingested_forecast_length"].encoding = dict(template_ds["ingested_forecast_length"].encoding)
    return ds.set_coords("ingested_forecast_length")


class AnalysisTemplateConfig[DataVarT: DataVar[Any]](TemplateConfig[DataVarT]):
    """Dims (time, *grid dims): one value per time step."""

    append_dim: str = "time"
    grid: ClassVar[Grid]
    # time values per chunk of the append-dim coordinate.
    append_coord_chunk: int

    @classmethod
    def derived_attributes(cls, append_dim_start: datetime) -> dict[str, str]:
        return {"time_domain": f"{append_dim_start:%Y-%m-%d %H:%M} UTC to present"}

    @property
    def dims(self) -> tuple[str, ...]:
        return ("time", *self.grid.dims)

    @property
    def coords(self) -> Sequence[Coordinate]:
        return (
            Coordinate(
                name="time",
                encoding=time_encoding((self.append_coord_chunk,)),
                attrs=CoordinateAttrs(long_name="Time", standard_name="time", axis="T"),
            ),
            *self.grid.coords(),
        )

    def dimension_coordinates(self) -> dict[str, Any]:
        return {
            "time": self.append_dim_coordinates(self.append_dim_start + self.append_dim_frequency),
            **self.grid.dimension_coordinates(),
        }

    def derive_coordinates(self, ds: xr.Dataset) -> DerivedCoordinates:
        return self.grid.derived_coordinates()
