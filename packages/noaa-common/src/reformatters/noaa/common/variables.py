"""Catalog of NOAA surface variables shared by GFS and HRRR datasets.

Each entry holds the CF attributes and the source field of one variable. A dataset picks the
names it publishes and supplies the encoding and its model's window rule with ``noaa_data_var``.
Window semantics are model-specific, so the dataset also passes the sentence that says what
interval a window statistic covers; it is appended to the variable's ``comment``.
"""

from __future__ import annotations

from dataclasses import dataclass

from reformatters.core.config_models import DataVar, DataVarAttrs, Encoding, StepType
from reformatters.noaa.common.internal_attrs import (
    NoaaDataVar,
    NoaaInternalAttrs,
    SourceStepType,
    UnitConversion,
)

# NOAA's sentinels, kept as issued (masking them would make them look like missing data).
NO_PRECIPITATION_CPOFP = -50.0
NO_CEILING_HGT = 20000.0
# Interpolated no-ceiling values: real ceilings stay below this height.
NO_CEILING_BELOW = 19000.0

# Packing noise of a continuing accumulation: decreases up to this (kg m-2) are 0 mm.
PRECIPITATION_NEGATIVE_TOLERANCE = 0.25

MANTISSA_BITS_DEFAULT = 7
MANTISSA_BITS_WIND = 6
MANTISSA_BITS_PRESSURE = 10
# 20000 m (the no-ceiling sentinel) needs 9 mantissa bits to stay exact.
MANTISSA_BITS_CEILING = 9


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    element: str
    level: str
    long_name: str
    short_name: str
    units: str
    standard_name: str | None = None
    source_step_type: SourceStepType = "instant"
    unit_conversion: UnitConversion | None = None
    deaccumulate_to_rate: bool = False
    deaccumulation_negative_tolerance: float = 0.0
    keep_mantissa_bits: int | None = MANTISSA_BITS_DEFAULT  # None: no rounding
    comment: str | None = None
    flag_meanings: str | None = None
    valid_min: float | None = None
    real_at_lead_0: bool = True

    @property
    def output_step_type(self) -> StepType:
        # A deaccumulated accumulation is a mean rate over the interval since the previous step.
        if self.source_step_type == "accum":
            return "avg"
        return self.source_step_type


def _categorical(element: str, what: str) -> CatalogEntry:
    return CatalogEntry(
        element=element,
        level="surface",
        long_name=f"Categorical {what.replace('_', ' ')}",
        short_name=element.lower(),
        units="1",
        source_step_type="avg",
        keep_mantissa_bits=None,
        flag_meanings=f"no_{what} {what}",
        valid_min=0.0,
        comment=(
            f"1 where the model diagnoses {what.replace('_', ' ')}, 0 elsewhere. Stored as the "
            "provider's window average of that indicator, so values between 0 and 1 are the "
            "fraction of the window with the category."
        ),
    )


def _wind(component: str, height: int) -> CatalogEntry:
    u = component == "u"
    return CatalogEntry(
        element="UGRD" if u else "VGRD",
        level=f"{height} m above ground",
        long_name=f"{height} metre {component.upper()} wind component",
        short_name=f"{component}{height}",
        units="m s-1",
        standard_name="eastward_wind" if u else "northward_wind",
        keep_mantissa_bits=MANTISSA_BITS_WIND,
    )


CATALOG: dict[str, CatalogEntry] = {
    "pressure_surface": CatalogEntry(
        element="PRES",
        level="surface",
        long_name="Surface pressure",
        short_name="sp",
        units="Pa",
        standard_name="surface_air_pressure",
        keep_mantissa_bits=MANTISSA_BITS_PRESSURE,
        valid_min=0.0,
    ),
    "temperature_2m": CatalogEntry(
        element="TMP",
        level="2 m above ground",
        long_name="2 metre temperature",
        short_name="t2m",
        units="degree_Celsius",
        standard_name="air_temperature",
        unit_conversion="kelvin_to_celsius",
        comment="Converted from the provider's K.",
    ),
    "relative_humidity_2m": CatalogEntry(
        element="RH",
        level="2 m above ground",
        long_name="2 metre relative humidity",
        short_name="r2",
        units="%",
        standard_name="relative_humidity",
        valid_min=0.0,
    ),
    "maximum_temperature_2m": CatalogEntry(
        element="TMAX",
        level="2 m above ground",
        long_name="Maximum temperature",
        short_name="tmax",
        units="degree_Celsius",
        standard_name="air_temperature",
        source_step_type="max",
        unit_conversion="kelvin_to_celsius",
        comment="Maximum 2 metre temperature. Converted from the provider's K.",
    ),
    "minimum_temperature_2m": CatalogEntry(
        element="TMIN",
        level="2 m above ground",
        long_name="Minimum temperature",
        short_name="tmin",
        units="degree_Celsius",
        standard_name="air_temperature",
        source_step_type="min",
        unit_conversion="kelvin_to_celsius",
        comment="Minimum 2 metre temperature. Converted from the provider's K.",
    ),
    "wind_u_10m": _wind("u", 10),
    "wind_v_10m": _wind("v", 10),
    "wind_u_100m": _wind("u", 100),
    "wind_v_100m": _wind("v", 100),
    "wind_u_80m": _wind("u", 80),
    "wind_v_80m": _wind("v", 80),
    "temperature_80m": CatalogEntry(
        element="TMP",
        level="80 m above ground",
        long_name="80 metre temperature",
        short_name="t80",
        units="degree_Celsius",
        standard_name="air_temperature",
        unit_conversion="kelvin_to_celsius",
        comment="Converted from the provider's K.",
    ),
    "pressure_80m": CatalogEntry(
        element="PRES",
        level="80 m above ground",
        long_name="80 metre pressure",
        short_name="pres80",
        units="Pa",
        standard_name="air_pressure",
        keep_mantissa_bits=MANTISSA_BITS_PRESSURE,
        valid_min=0.0,
    ),
    "percent_frozen_precipitation_surface": CatalogEntry(
        element="CPOFP",
        level="surface",
        long_name="Percent frozen precipitation",
        short_name="cpofp",
        units="%",
        comment=(
            f"Percent of precipitation that is frozen, 0 to 100. {NO_PRECIPITATION_CPOFP:g} "
            "(the provider's sentinel, kept as issued) where there is no precipitation."
        ),
        valid_min=NO_PRECIPITATION_CPOFP,
    ),
    "precipitation_surface": CatalogEntry(
        element="APCP",
        level="surface",
        long_name="Total precipitation",
        short_name="tp",
        units="kg m-2 s-1",
        standard_name="precipitation_flux",
        source_step_type="accum",
        deaccumulate_to_rate=True,
        deaccumulation_negative_tolerance=PRECIPITATION_NEGATIVE_TOLERANCE,
        comment=(
            "Mean precipitation rate over the interval since the previous step, deaccumulated "
            "from the provider's accumulations (kg m-2). Multiply by the interval's seconds for "
            "the amount. Decreases of an accumulation of up to "
            f"{PRECIPITATION_NEGATIVE_TOLERANCE:g} kg m-2 (packing noise) count as 0; larger "
            "ones are inconsistent source data and stored as NaN."
        ),
        valid_min=0.0,
    ),
    "categorical_snow_surface": _categorical("CSNOW", "snow"),
    "categorical_ice_pellets_surface": _categorical("CICEP", "ice_pellets"),
    "categorical_freezing_rain_surface": _categorical("CFRZR", "freezing_rain"),
    "categorical_rain_surface": _categorical("CRAIN", "rain"),
    "precipitable_water_atmosphere": CatalogEntry(
        element="PWAT",
        level="entire atmosphere (considered as a single layer)",
        long_name="Precipitable water",
        short_name="pwat",
        units="kg m-2",
        standard_name="atmosphere_mass_content_of_water_vapor",
        valid_min=0.0,
    ),
    "total_cloud_cover_atmosphere": CatalogEntry(
        element="TCDC",
        level="entire atmosphere",
        long_name="Total cloud cover",
        short_name="tcc",
        units="%",
        standard_name="cloud_area_fraction",
        source_step_type="avg",
        valid_min=0.0,
    ),
    "geopotential_height_cloud_ceiling": CatalogEntry(
        element="HGT",
        level="cloud ceiling",
        long_name="Geopotential height of cloud ceiling",
        short_name="gh",
        units="m",
        standard_name="geopotential_height",
        keep_mantissa_bits=MANTISSA_BITS_CEILING,
        comment=(
            f"{NO_CEILING_HGT:g} m (the provider's no-ceiling value, kept as issued) where there "
            "is no cloud ceiling. The provider interpolates it with neighbouring ceilings onto "
            "this grid, so values between the highest real ceilings and it also mean no "
            f"ceiling: treat values above {NO_CEILING_BELOW:g} m as no ceiling."
        ),
    ),
    "downward_short_wave_radiation_flux_surface": CatalogEntry(
        element="DSWRF",
        level="surface",
        long_name="Surface downward short-wave radiation flux",
        short_name="sdswrf",
        units="W m-2",
        standard_name="surface_downwelling_shortwave_flux_in_air",
        source_step_type="avg",
        valid_min=0.0,
    ),
    "downward_long_wave_radiation_flux_surface": CatalogEntry(
        element="DLWRF",
        level="surface",
        long_name="Surface downward long-wave radiation flux",
        short_name="sdlwrf",
        units="W m-2",
        standard_name="surface_downwelling_longwave_flux_in_air",
        source_step_type="avg",
        valid_min=0.0,
    ),
    "dew_point_temperature_2m": CatalogEntry(
        element="DPT",
        level="2 m above ground",
        long_name="2 metre dewpoint temperature",
        short_name="d2m",
        units="degree_Celsius",
        standard_name="dew_point_temperature",
        unit_conversion="kelvin_to_celsius",
        comment="Converted from the provider's K.",
    ),
    "wind_gust_surface": CatalogEntry(
        element="GUST",
        level="surface",
        long_name="Wind speed (gust)",
        short_name="gust",
        units="m s-1",
        standard_name="wind_speed_of_gust",
        keep_mantissa_bits=MANTISSA_BITS_WIND,
        valid_min=0.0,
    ),
    "composite_reflectivity": CatalogEntry(
        element="REFC",
        level="entire atmosphere",
        long_name="Composite reflectivity",
        short_name="refc",
        # dBZ: the canonical unit of CF's reflectivity standard names (a logarithmic unit).
        units="dBZ",
        comment="Maximum simulated radar reflectivity in the column.",
    ),
    "visibility_surface": CatalogEntry(
        element="VIS",
        level="surface",
        long_name="Visibility",
        short_name="vis",
        units="m",
        standard_name="visibility_in_air",
        valid_min=0.0,
    ),
    "pressure_reduced_to_mean_sea_level": CatalogEntry(
        element="PRMSL",
        level="mean sea level",
        long_name="Pressure reduced to MSL",
        short_name="prmsl",
        units="Pa",
        standard_name="air_pressure_at_mean_sea_level",
        keep_mantissa_bits=MANTISSA_BITS_PRESSURE,
        valid_min=0.0,
    ),
}


def noaa_data_var(
    name: str,
    encoding: Encoding,
    *,
    window_reset_hours: int,
    window_comment: str,
    rate_comment: str,
    entry: CatalogEntry | None = None,
    grid_mapping: str | None = None,
    lead_0_comment: str = "",
) -> NoaaDataVar:
    """The DataVar of catalog entry ``name`` for a model whose windows reset every N hours.

    ``window_comment`` (what interval a window statistic covers in this dataset) is appended to
    the comment of window statistics kept as issued, ``rate_comment`` (what interval a
    deaccumulated mean rate covers) to that of deaccumulated variables. ``entry`` replaces the
    catalog's entry for models that issue the same variable differently (e.g. a
    ``dataclasses.replace`` of it with another element or step type); ``grid_mapping`` names
    the CRS variable of a projected grid (CF). ``lead_0_comment`` says what the dataset holds
    for a variable whose lead 0 is only a placeholder in the source.
    """
    entry = entry if entry is not None else CATALOG[name]
    is_window = entry.source_step_type != "instant"
    extra = None
    if entry.deaccumulate_to_rate:
        extra = rate_comment
    elif is_window:
        extra = window_comment
    lead_0 = lead_0_comment if not entry.real_at_lead_0 else None
    comment = " ".join(c for c in (entry.comment, extra, lead_0) if c)
    return DataVar(
        name=name,
        encoding=encoding,
        attrs=DataVarAttrs(
            long_name=entry.long_name,
            short_name=entry.short_name,
            units=entry.units,
            step_type=entry.output_step_type,
            standard_name=entry.standard_name,
            comment=comment or None,
            flag_values=(0, 1) if entry.flag_meanings else None,
            flag_meanings=entry.flag_meanings,
            grid_mapping=grid_mapping,
        ),
        internal_attrs=NoaaInternalAttrs(
            keep_mantissa_bits=entry.keep_mantissa_bits or "no-rounding",
            grib_element=entry.element,
            grib_level=entry.level,
            source_step_type=entry.source_step_type,
            window_reset_hours=window_reset_hours if is_window else None,
            unit_conversion=entry.unit_conversion,
            deaccumulate_to_rate=entry.deaccumulate_to_rate,
            deaccumulation_negative_tolerance=entry.deaccumulation_negative_tolerance,
            real_at_lead_0=entry.real_at_lead_0,
            valid_min=entry.valid_min,
        ),
    )
