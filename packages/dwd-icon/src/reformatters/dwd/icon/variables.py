"""The ICON-EU variables: DWD's file name for each, the GRIB2 codes of its message, and how it
is transformed on the way in.

DWD's statistical fields run from the start of the run: TOT_PREC is accumulated (kg m-2) from
step 0, the radiation fluxes (ASWDIR_S, ASWDIFD_S, ATHB_S) are averages (W m-2) from step 0.
Both are stored as means over the interval since the previous lead: an accumulation's
increment divided by the interval's seconds; for an average ``x`` the interval's mean flux
``(x_i t_i - x_(i-1) t_(i-1)) / (t_i - t_(i-1))`` (t from the start of the run). VMAX_10M, the
gust, is DWD's maximum since the previous output step (1 h up to 78 h, 3 h after).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from reformatters.core.config_models import DataVar, DataVarAttrs
from reformatters.core.sources.grib_identity import GribIdentity
from reformatters.core.sources.grib_variables import (
    CELSIUS_COMMENT,
    INSTANT_COMMENT,
    GribCodedAttrs,
    VariableDeclaration,
    declared_data_vars,
)

HEIGHT_ABOVE_GROUND = 103
SURFACE = 1
MEAN_SEA_LEVEL = 101

type Statistic = Literal["accumulated_from_start", "average_from_start", "max_since_previous"]


class IconInternalAttrs(GribCodedAttrs):
    """Private attributes of an ICON-EU variable (never written to the store).

    ``dwd_name`` names the file (``T_2M``); the GRIB2 codes identify its message. DWD-local
    parameters (numbers 192-254) are encoded with a ``local_tables_version``.
    """

    keep_mantissa_bits: int | Literal["no-rounding"] = 7
    dwd_name: str
    statistic: Statistic | None = None
    # A net flux (ATHB_S) may decrease over an interval: its increments are never invalid.
    signed: bool = False

    @property
    def from_start(self) -> bool:
        return self.statistic in ("accumulated_from_start", "average_from_start")

    def window(self, step_hours: int, previous_step_hours: int) -> tuple[timedelta, timedelta]:
        """The message's (start, end) step: from 0 for run-start statistics, from the previous
        output step for the gust, the valid time for instantaneous fields."""
        end = timedelta(hours=step_hours)
        if self.from_start:
            return timedelta(0), end
        if self.statistic == "max_since_previous":
            return timedelta(hours=previous_step_hours), end
        return end, end

    def step_type(self) -> Literal["instant", "accum", "avg", "max"]:
        match self.statistic:
            case "accumulated_from_start":
                return "accum"
            case "average_from_start":
                return "avg"
            case "max_since_previous":
                return "max"
            case None:
                return "instant"

    def identity(
        self, step_hours: int, previous_step_hours: int, reference_time: datetime
    ) -> GribIdentity:
        start, end = self.window(step_hours, previous_step_hours)
        return self.message_identity(self.step_type(), start, end, reference_time)


type IconDataVar = DataVar[IconInternalAttrs]
Variable = VariableDeclaration[IconInternalAttrs]


INTERVAL = (
    "the mean over the interval since the previous lead time (1 hour up to lead 78 h, 3 hours "
    "after). No value at lead 0; NaN where the previous lead is missing."
)
ACCUMULATED = f"DWD issues it accumulated from the start of the run; stored as {INTERVAL}"
AVERAGED = (
    "DWD issues it averaged from the start of the run (x at t seconds); stored as "
    f"(x_i t_i - x_(i-1) t_(i-1)) / (t_i - t_(i-1)): {INTERVAL}"
)


def _var(
    name: str,
    long_name: str,
    units: str,
    comment: str,
    standard_name: str | None,
    internal: IconInternalAttrs,
) -> tuple[str, Variable]:
    step_type = internal.step_type()
    attrs = DataVarAttrs(
        long_name=long_name,
        short_name=internal.dwd_name.lower(),
        units=units,
        step_type="avg" if step_type == "accum" else step_type,
        standard_name=standard_name,
        comment=comment,
        grid_mapping="spatial_ref",
    )
    return name, Variable(attrs=attrs, internal_attrs=internal)


def _at(height: int, **codes: object) -> IconInternalAttrs:
    return IconInternalAttrs.model_validate(
        {"surface_type": HEIGHT_ABOVE_GROUND, "level": height, **codes}
    )


def _surface(**codes: object) -> IconInternalAttrs:
    return IconInternalAttrs.model_validate({"surface_type": SURFACE, **codes})


_FLUX = {"statistic": "average_from_start", "deaccumulation_negative_tolerance": 5e4}

VARIABLES: dict[str, Variable] = dict(
    [
        _var(
            "temperature_2m",
            "2 metre temperature",
            "degree_Celsius",
            f"{INSTANT_COMMENT} {CELSIUS_COMMENT}",
            "air_temperature",
            _at(
                2,
                dwd_name="T_2M",
                parameter_category=0,
                parameter_number=0,
                unit_conversion="kelvin_to_celsius",
            ),
        ),
        _var(
            "dew_point_temperature_2m",
            "2 metre dewpoint temperature",
            "degree_Celsius",
            f"{INSTANT_COMMENT} {CELSIUS_COMMENT}",
            "dew_point_temperature",
            _at(
                2,
                dwd_name="TD_2M",
                parameter_category=0,
                parameter_number=6,
                unit_conversion="kelvin_to_celsius",
            ),
        ),
        _var(
            "wind_u_10m",
            "10 metre U wind component",
            "m s-1",
            INSTANT_COMMENT,
            "eastward_wind",
            _at(10, dwd_name="U_10M", parameter_category=2, parameter_number=2),
        ),
        _var(
            "wind_v_10m",
            "10 metre V wind component",
            "m s-1",
            INSTANT_COMMENT,
            "northward_wind",
            _at(10, dwd_name="V_10M", parameter_category=2, parameter_number=3),
        ),
        _var(
            "wind_gust_10m",
            "Maximum 10 metre wind gust since the previous lead time",
            "m s-1",
            "DWD's VMAX_10M: the maximum gust since the previous output step (1 hour up to "
            "lead 78 h, 3 hours after).",
            "wind_speed_of_gust",
            _at(
                10,
                dwd_name="VMAX_10M",
                parameter_category=2,
                parameter_number=22,
                statistic="max_since_previous",
            ),
        ),
        _var(
            "pressure_reduced_to_mean_sea_level",
            "Mean sea level pressure",
            "Pa",
            INSTANT_COMMENT,
            "air_pressure_at_mean_sea_level",
            IconInternalAttrs(
                dwd_name="PMSL",
                parameter_category=3,
                parameter_number=1,
                surface_type=MEAN_SEA_LEVEL,
                keep_mantissa_bits=10,
            ),
        ),
        _var(
            "pressure_surface",
            "Surface pressure",
            "Pa",
            INSTANT_COMMENT,
            "surface_air_pressure",
            _surface(
                dwd_name="PS", parameter_category=3, parameter_number=0, keep_mantissa_bits=10
            ),
        ),
        _var(
            "precipitation_surface",
            "Total precipitation rate",
            "kg m-2 s-1",
            ACCUMULATED,
            "precipitation_flux",
            _surface(
                dwd_name="TOT_PREC",
                parameter_category=1,
                parameter_number=52,
                statistic="accumulated_from_start",
                deaccumulation_negative_tolerance=0.05,
                valid_min=0.0,
            ),
        ),
        _var(
            "snow_depth_surface",
            "Snow depth",
            "m",
            INSTANT_COMMENT + " Total snow depth (DWD H_SNOW), 0 where there is no snow.",
            "surface_snow_thickness",
            _surface(dwd_name="H_SNOW", parameter_category=1, parameter_number=11, valid_min=0.0),
        ),
        _var(
            "total_cloud_cover_atmosphere",
            "Total cloud cover",
            "percent",
            INSTANT_COMMENT,
            "cloud_area_fraction",
            _surface(dwd_name="CLCT", parameter_category=6, parameter_number=1, valid_min=0.0),
        ),
        _var(
            "downward_direct_short_wave_radiation_flux_surface",
            "Surface direct downward short-wave radiation",
            "W m-2",
            AVERAGED,
            None,
            _surface(
                dwd_name="ASWDIR_S",
                parameter_category=4,
                parameter_number=198,
                local_tables_version=1,
                valid_min=0.0,
                **_FLUX,
            ),
        ),
        _var(
            "downward_diffuse_short_wave_radiation_flux_surface",
            "Surface diffuse downward short-wave radiation",
            "W m-2",
            AVERAGED,
            None,
            _surface(
                dwd_name="ASWDIFD_S",
                parameter_category=4,
                parameter_number=199,
                local_tables_version=1,
                valid_min=0.0,
                **_FLUX,
            ),
        ),
        _var(
            "net_long_wave_radiation_flux_surface",
            "Surface net long-wave radiation",
            "W m-2",
            AVERAGED,
            "surface_net_downward_longwave_flux",
            _surface(
                dwd_name="ATHB_S",
                parameter_category=5,
                parameter_number=5,
                statistic="average_from_start",
                signed=True,
            ),
        ),
    ]
)


def data_vars(chunks: tuple[int, ...], shards: tuple[int, ...]) -> tuple[IconDataVar, ...]:
    return declared_data_vars(VARIABLES, chunks, shards)
