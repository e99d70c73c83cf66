"""The IFS variables: how each is addressed in ECMWF's ``.index`` and GRIB2 messages, and how it
is transformed on the way in.

Accumulations (precipitation, radiation) are issued from the start of the run (step 0) to each
step, in metres of water or J m-2; they are stored as mean rates over the interval since the
previous step (``accumulated_from_start``), after ``scale`` (1000 kg m-3 turns metres of water
into kg m-2).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from reformatters.core.config_models import DataVar, DataVarAttrs
from reformatters.core.sources.grib_identity import EnsembleRole, GribIdentity
from reformatters.core.sources.grib_variables import (
    CELSIUS_COMMENT,
    INSTANT_COMMENT,
    GribCodedAttrs,
    VariableDeclaration,
    declared_data_vars,
)

MANTISSA_BITS_DEFAULT = 7
HEIGHT_ABOVE_GROUND = 103
SURFACE = 1
MEAN_SEA_LEVEL = 101


class IfsInternalAttrs(GribCodedAttrs):
    """Private attributes of an IFS variable (never written to the store).

    ``param``/``levtype`` are the ``.index`` keys (``2t``/``sfc``); the GRIB2 codes identify
    the message (discipline, category, number, fixed surface type and level). Local ECMWF
    parameters (tp: 0/1/193) need ``local_tables_version`` to be encoded.
    """

    keep_mantissa_bits: int | Literal["no-rounding"] = MANTISSA_BITS_DEFAULT
    param: str
    levtype: str = "sfc"
    accumulated_from_start: bool = False
    scale: float = 1.0

    def has_message(self, step_hours: int) -> bool:
        """Accumulations have no value at step 0 (an empty window): nothing is read there."""
        return step_hours > 0 or not self.accumulated_from_start

    def index_keys(self, step_hours: int, member_keys: dict[str, str]) -> dict[str, str]:
        """The ``.index`` keys of this variable's message at a step for one member."""
        return {
            "param": self.param,
            "levtype": self.levtype,
            "step": str(step_hours),
            **member_keys,
        }

    def identity(
        self, step_hours: int, reference_time: datetime, ensemble: EnsembleRole | None
    ) -> GribIdentity:
        """The GRIB2 identity of the message: accumulations run from step 0 to the step."""
        end = timedelta(hours=step_hours)
        if self.accumulated_from_start:
            return self.message_identity("accum", timedelta(0), end, reference_time, ensemble)
        return self.message_identity("instant", end, end, reference_time, ensemble)


type IfsDataVar = DataVar[IfsInternalAttrs]
Variable = VariableDeclaration[IfsInternalAttrs]


RATE_COMMENT = (
    "ECMWF issues it accumulated from the start of the run (step 0) to each step; stored as "
    "the mean over the interval since the previous lead time (3 hours up to lead 144 h, 6 hours "
    "after): the difference of consecutive accumulations divided by the interval's seconds. "
    "No value at lead 0; NaN where the previous lead is missing."
)


def _attrs(
    long_name: str,
    short_name: str,
    units: str,
    comment: str,
    standard_name: str | None = None,
    step_type: Literal["instant", "avg"] = "instant",
) -> DataVarAttrs:
    return DataVarAttrs(
        long_name=long_name,
        short_name=short_name,
        units=units,
        step_type=step_type,
        standard_name=standard_name,
        comment=comment,
        grid_mapping="spatial_ref",
    )


def _wind(height: int, component: Literal["u", "v"]) -> Variable:
    direction = "eastward" if component == "u" else "northward"
    return Variable(
        attrs=_attrs(
            f"{height} metre {component.upper()} wind component",
            f"{height}{component}",
            "m s-1",
            INSTANT_COMMENT,
            f"{direction}_wind",
        ),
        internal_attrs=IfsInternalAttrs(
            param=f"{height}{component}",
            parameter_category=2,
            parameter_number=2 if component == "u" else 3,
            surface_type=HEIGHT_ABOVE_GROUND,
            level=height,
        ),
    )


VARIABLES: dict[str, Variable] = {
    "temperature_2m": Variable(
        attrs=_attrs(
            "2 metre temperature",
            "2t",
            "degree_Celsius",
            f"{INSTANT_COMMENT} {CELSIUS_COMMENT}",
            "air_temperature",
        ),
        internal_attrs=IfsInternalAttrs(
            param="2t",
            parameter_category=0,
            parameter_number=0,
            surface_type=HEIGHT_ABOVE_GROUND,
            level=2,
            unit_conversion="kelvin_to_celsius",
        ),
    ),
    "dew_point_temperature_2m": Variable(
        attrs=_attrs(
            "2 metre dewpoint temperature",
            "2d",
            "degree_Celsius",
            f"{INSTANT_COMMENT} {CELSIUS_COMMENT}",
            "dew_point_temperature",
        ),
        internal_attrs=IfsInternalAttrs(
            param="2d",
            parameter_category=0,
            parameter_number=6,
            surface_type=HEIGHT_ABOVE_GROUND,
            level=2,
            unit_conversion="kelvin_to_celsius",
        ),
    ),
    "wind_u_10m": _wind(10, "u"),
    "wind_v_10m": _wind(10, "v"),
    "wind_u_100m": _wind(100, "u"),
    "wind_v_100m": _wind(100, "v"),
    "pressure_reduced_to_mean_sea_level": Variable(
        attrs=_attrs(
            "Mean sea level pressure",
            "msl",
            "Pa",
            INSTANT_COMMENT,
            "air_pressure_at_mean_sea_level",
        ),
        internal_attrs=IfsInternalAttrs(
            param="msl",
            parameter_category=3,
            parameter_number=0,
            surface_type=MEAN_SEA_LEVEL,
            keep_mantissa_bits=10,
        ),
    ),
    "pressure_surface": Variable(
        attrs=_attrs("Surface pressure", "sp", "Pa", INSTANT_COMMENT, "surface_air_pressure"),
        internal_attrs=IfsInternalAttrs(
            param="sp",
            parameter_category=3,
            parameter_number=0,
            surface_type=SURFACE,
            keep_mantissa_bits=10,
        ),
    ),
    "precipitation_surface": Variable(
        attrs=_attrs(
            "Total precipitation rate",
            "tp",
            "kg m-2 s-1",
            f"{RATE_COMMENT} ECMWF's tp is metres of water: multiplied by 1000 kg m-3.",
            "precipitation_flux",
            step_type="avg",
        ),
        internal_attrs=IfsInternalAttrs(
            param="tp",
            parameter_category=1,
            parameter_number=193,
            surface_type=SURFACE,
            local_tables_version=1,
            accumulated_from_start=True,
            scale=1000.0,
            # Packing noise of a 16-bit field of up to ~1 m of water, in kg m-2.
            deaccumulation_negative_tolerance=0.05,
            valid_min=0.0,
        ),
    ),
    "downward_short_wave_radiation_flux_surface": Variable(
        attrs=_attrs(
            "Surface solar radiation downwards",
            "ssrd",
            "W m-2",
            f"{RATE_COMMENT} From J m-2: a mean flux.",
            "surface_downwelling_shortwave_flux_in_air",
            step_type="avg",
        ),
        internal_attrs=IfsInternalAttrs(
            param="ssrd",
            parameter_category=4,
            parameter_number=7,
            surface_type=SURFACE,
            accumulated_from_start=True,
            deaccumulation_negative_tolerance=5e4,
            valid_min=0.0,
        ),
    ),
    "downward_long_wave_radiation_flux_surface": Variable(
        attrs=_attrs(
            "Surface thermal radiation downwards",
            "strd",
            "W m-2",
            f"{RATE_COMMENT} From J m-2: a mean flux.",
            "surface_downwelling_longwave_flux_in_air",
            step_type="avg",
        ),
        internal_attrs=IfsInternalAttrs(
            param="strd",
            parameter_category=5,
            parameter_number=3,
            surface_type=SURFACE,
            accumulated_from_start=True,
            deaccumulation_negative_tolerance=5e4,
            valid_min=0.0,
        ),
    ),
}


def data_vars(chunks: tuple[int, ...], shards: tuple[int, ...]) -> tuple[IfsDataVar, ...]:
    return declared_data_vars(VARIABLES, chunks, shards)
