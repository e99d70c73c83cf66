"""Catalog of NOAA surface variables shared by GFS and HRRR datasets.

Each entry holds the public (CF) attributes and the internal (source) attributes of one
variable. A dataset makes the DataVars it publishes of them with ``noaa_data_var``.
"""

from __future__ import annotations

from reformatters.core.config_models import DataVarAttrs
from reformatters.noaa.common.internal_attrs import NoaaInternalAttrs
from reformatters.noaa.common.variables import CatalogEntry

# NOAA's sentinels, kept as issued (masking them would make them look like missing data).
NO_PRECIPITATION_CPOFP = -50.0
NO_CEILING_HGT = 20000.0
# Interpolated no-ceiling values: real ceilings stay below this height.
NO_CEILING_BELOW = 19000.0

# Packing noise of a continuing accumulation: decreases up to this (kg m-2) are 0 mm.
PRECIPITATION_NEGATIVE_TOLERANCE = 0.25

MANTISSA_BITS_WIND = 6
MANTISSA_BITS_PRESSURE = 10
# 20000 m (the no-ceiling sentinel) needs 9 mantissa bits to stay exact.
MANTISSA_BITS_CEILING = 9


def _categorical(element: str, what: str) -> CatalogEntry:
    return CatalogEntry(
        attrs=DataVarAttrs(
            long_name=f"Categorical {what.replace('_', ' ')}",
            short_name=element.lower(),
            units="1",
            step_type="avg",
            comment=(
                f"1 where the model diagnoses {what.replace('_', ' ')}, 0 elsewhere. Stored as "
                "the provider's window average of that indicator, so values between 0 and 1 are "
                "the fraction of the window with the category."
            ),
            flag_values=(0, 1),
            flag_meanings=f"no_{what} {what}",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element=element,
            grib_level="surface",
            source_step_type="avg",
            keep_mantissa_bits="no-rounding",
            valid_min=0.0,
        ),
    )


def _wind(component: str, height: int) -> CatalogEntry:
    u = component == "u"
    return CatalogEntry(
        attrs=DataVarAttrs(
            long_name=f"{height} metre {component.upper()} wind component",
            short_name=f"{component}{height}",
            units="m s-1",
            step_type="instant",
            standard_name="eastward_wind" if u else "northward_wind",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="UGRD" if u else "VGRD",
            grib_level=f"{height} m above ground",
            keep_mantissa_bits=MANTISSA_BITS_WIND,
        ),
    )


CATALOG: dict[str, CatalogEntry] = {
    "pressure_surface": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="Surface pressure",
            short_name="sp",
            units="Pa",
            step_type="instant",
            standard_name="surface_air_pressure",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="PRES",
            grib_level="surface",
            keep_mantissa_bits=MANTISSA_BITS_PRESSURE,
            valid_min=0.0,
        ),
    ),
    "temperature_2m": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="2 metre temperature",
            short_name="t2m",
            units="degree_Celsius",
            step_type="instant",
            standard_name="air_temperature",
            comment="Converted from the provider's K.",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="TMP",
            grib_level="2 m above ground",
            unit_conversion="kelvin_to_celsius",
        ),
    ),
    "relative_humidity_2m": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="2 metre relative humidity",
            short_name="r2",
            units="%",
            step_type="instant",
            standard_name="relative_humidity",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="RH",
            grib_level="2 m above ground",
            valid_min=0.0,
        ),
    ),
    "maximum_temperature_2m": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="Maximum temperature",
            short_name="tmax",
            units="degree_Celsius",
            step_type="max",
            standard_name="air_temperature",
            comment="Maximum 2 metre temperature. Converted from the provider's K.",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="TMAX",
            grib_level="2 m above ground",
            source_step_type="max",
            unit_conversion="kelvin_to_celsius",
        ),
    ),
    "minimum_temperature_2m": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="Minimum temperature",
            short_name="tmin",
            units="degree_Celsius",
            step_type="min",
            standard_name="air_temperature",
            comment="Minimum 2 metre temperature. Converted from the provider's K.",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="TMIN",
            grib_level="2 m above ground",
            source_step_type="min",
            unit_conversion="kelvin_to_celsius",
        ),
    ),
    "wind_u_10m": _wind("u", 10),
    "wind_v_10m": _wind("v", 10),
    "wind_u_100m": _wind("u", 100),
    "wind_v_100m": _wind("v", 100),
    "wind_u_80m": _wind("u", 80),
    "wind_v_80m": _wind("v", 80),
    "temperature_80m": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="80 metre temperature",
            short_name="t80",
            units="degree_Celsius",
            step_type="instant",
            standard_name="air_temperature",
            comment="Converted from the provider's K.",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="TMP",
            grib_level="80 m above ground",
            unit_conversion="kelvin_to_celsius",
        ),
    ),
    "pressure_80m": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="80 metre pressure",
            short_name="pres80",
            units="Pa",
            step_type="instant",
            standard_name="air_pressure",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="PRES",
            grib_level="80 m above ground",
            keep_mantissa_bits=MANTISSA_BITS_PRESSURE,
            valid_min=0.0,
        ),
    ),
    "percent_frozen_precipitation_surface": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="Percent frozen precipitation",
            short_name="cpofp",
            units="%",
            step_type="instant",
            comment=(
                f"Percent of precipitation that is frozen, 0 to 100. {NO_PRECIPITATION_CPOFP:g} "
                "(the provider's sentinel, kept as issued) where there is no precipitation."
            ),
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="CPOFP",
            grib_level="surface",
            valid_min=NO_PRECIPITATION_CPOFP,
        ),
    ),
    "precipitation_surface": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="Total precipitation",
            short_name="tp",
            units="kg m-2 s-1",
            step_type="avg",
            standard_name="precipitation_flux",
            comment=(
                "Mean precipitation rate over the interval since the previous step, "
                "deaccumulated from the provider's accumulations (kg m-2). Multiply by the "
                "interval's seconds for the amount. Decreases of an accumulation of up to "
                f"{PRECIPITATION_NEGATIVE_TOLERANCE:g} kg m-2 (packing noise) count as 0; larger "
                "ones are inconsistent source data and stored as NaN."
            ),
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="APCP",
            grib_level="surface",
            source_step_type="accum",
            deaccumulate_to_rate=True,
            deaccumulation_negative_tolerance=PRECIPITATION_NEGATIVE_TOLERANCE,
            valid_min=0.0,
        ),
    ),
    "categorical_snow_surface": _categorical("CSNOW", "snow"),
    "categorical_ice_pellets_surface": _categorical("CICEP", "ice_pellets"),
    "categorical_freezing_rain_surface": _categorical("CFRZR", "freezing_rain"),
    "categorical_rain_surface": _categorical("CRAIN", "rain"),
    "precipitable_water_atmosphere": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="Precipitable water",
            short_name="pwat",
            units="kg m-2",
            step_type="instant",
            standard_name="atmosphere_mass_content_of_water_vapor",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="PWAT",
            grib_level="entire atmosphere (considered as a single layer)",
            valid_min=0.0,
        ),
    ),
    "total_cloud_cover_atmosphere": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="Total cloud cover",
            short_name="tcc",
            units="%",
            step_type="avg",
            standard_name="cloud_area_fraction",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="TCDC",
            grib_level="entire atmosphere",
            source_step_type="avg",
            valid_min=0.0,
        ),
    ),
    "geopotential_height_cloud_ceiling": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="Geopotential height of cloud ceiling",
            short_name="gh",
            units="m",
            step_type="instant",
            standard_name="geopotential_height",
            comment=(
                f"{NO_CEILING_HGT:g} m (the provider's no-ceiling value, kept as issued) where "
                "there is no cloud ceiling. The provider interpolates it with neighbouring "
                "ceilings onto this grid, so values between the highest real ceilings and it also "
                f"mean no ceiling: treat values above {NO_CEILING_BELOW:g} m as no ceiling."
            ),
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="HGT",
            grib_level="cloud ceiling",
            keep_mantissa_bits=MANTISSA_BITS_CEILING,
        ),
    ),
    "downward_short_wave_radiation_flux_surface": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="Surface downward short-wave radiation flux",
            short_name="sdswrf",
            units="W m-2",
            step_type="avg",
            standard_name="surface_downwelling_shortwave_flux_in_air",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="DSWRF",
            grib_level="surface",
            source_step_type="avg",
            valid_min=0.0,
        ),
    ),
    "downward_long_wave_radiation_flux_surface": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="Surface downward long-wave radiation flux",
            short_name="sdlwrf",
            units="W m-2",
            step_type="avg",
            standard_name="surface_downwelling_longwave_flux_in_air",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="DLWRF",
            grib_level="surface",
            source_step_type="avg",
            valid_min=0.0,
        ),
    ),
    "dew_point_temperature_2m": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="2 metre dewpoint temperature",
            short_name="d2m",
            units="degree_Celsius",
            step_type="instant",
            standard_name="dew_point_temperature",
            comment="Converted from the provider's K.",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="DPT",
            grib_level="2 m above ground",
            unit_conversion="kelvin_to_celsius",
        ),
    ),
    "wind_gust_surface": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="Wind speed (gust)",
            short_name="gust",
            units="m s-1",
            step_type="instant",
            standard_name="wind_speed_of_gust",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="GUST",
            grib_level="surface",
            keep_mantissa_bits=MANTISSA_BITS_WIND,
            valid_min=0.0,
        ),
    ),
    "composite_reflectivity": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="Composite reflectivity",
            short_name="refc",
            # dBZ: the canonical unit of CF's reflectivity standard names (a logarithmic unit).
            units="dBZ",
            step_type="instant",
            comment="Maximum simulated radar reflectivity in the column.",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="REFC",
            grib_level="entire atmosphere",
        ),
    ),
    "visibility_surface": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="Visibility",
            short_name="vis",
            units="m",
            step_type="instant",
            standard_name="visibility_in_air",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="VIS",
            grib_level="surface",
            valid_min=0.0,
        ),
    ),
    "geopotential_height_500hpa": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="Geopotential height",
            short_name="gh",
            units="m",
            step_type="instant",
            standard_name="geopotential_height",
            comment="At the 500 hPa isobaric surface.",
        ),
        internal_attrs=NoaaInternalAttrs(grib_element="HGT", grib_level="500 mb"),
    ),
    "pressure_reduced_to_mean_sea_level": CatalogEntry(
        attrs=DataVarAttrs(
            long_name="Pressure reduced to MSL",
            short_name="prmsl",
            units="Pa",
            step_type="instant",
            standard_name="air_pressure_at_mean_sea_level",
        ),
        internal_attrs=NoaaInternalAttrs(
            grib_element="PRMSL",
            grib_level="mean sea level",
            keep_mantissa_bits=MANTISSA_BITS_PRESSURE,
            valid_min=0.0,
        ),
    ),
}
