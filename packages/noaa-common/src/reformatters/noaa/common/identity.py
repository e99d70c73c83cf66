"""Between NOAA's ``.idx`` descriptions and GRIB2 identities.

``noaa_identity`` turns an ``.idx`` line's (element, level, forecast) into the ``GribIdentity``
the reader checks; ``noaa_description`` is its inverse, and ``build_noaa_inventory`` writes a
wgrib2-style inventory of a GRIB2 file with it (we have no wgrib2 binary). ``identity_for``
gives the parameter and fixed surfaces a synthesized message with those names carries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from reformatters.core.sources.grib import message_fields
from reformatters.core.sources.grib_identity import EnsembleRole, GribIdentity
from reformatters.core.sources.synthesis import FixedSurface, SyntheticIdentity
from reformatters.noaa.common.grib_codes import (
    EXTRA_PARAMETERS,
    NOAA_LEVELS,
    NOAA_PARAMETERS,
    SYNTHESIS_LEVELS,
    SYNTHESIS_NUMBERED_LEVELS,
)
from reformatters.noaa.common.idx import IdxEntry

__all__ = ["build_noaa_inventory", "identity_for", "noaa_description", "noaa_identity"]

_NUMBERED_LEVELS: Mapping[str, int] = {
    "m above ground": 103,
    "mb": 100,
    "m above mean sea level": 102,
}
_FORECAST_UNITS: Mapping[str, timedelta] = {
    "min": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
_FORECAST_STATS: Mapping[str, str] = {"acc": "accum", "ave": "avg", "max": "max", "min": "min"}


def noaa_identity(
    element: str,
    level: str,
    forecast: str,
    *,
    parameter: tuple[int, int, int] | None = None,
    reference_time: datetime | None = None,
    ensemble: EnsembleRole | None = None,
) -> GribIdentity:
    """The GribIdentity a NOAA ``.idx`` line (element, level, forecast description) describes.

    ``parameter`` overrides the (discipline, category, number) from ``NOAA_PARAMETERS``, for
    models that encode an element differently (e.g. WMO DSWRF 0/4/7 instead of NCEP's 0/4/192).
    ``reference_time`` is the run the message must belong to, ``ensemble`` the member or
    ensemble statistic it must hold (both unchecked if None).
    """
    codes = parameter or NOAA_PARAMETERS.get(element)
    if codes is None:
        raise KeyError(f"no GRIB2 codes known for NOAA element {element!r}; pass parameter=")
    surface_type: int | None
    level_value: float | None
    if level in NOAA_LEVELS:
        surface_type, level_value = NOAA_LEVELS[level], 0.0
    else:
        match = re.fullmatch(r"([-\d.]+) (.+)", level)
        if match is None or match.group(2) not in _NUMBERED_LEVELS:
            raise KeyError(f"unsupported NOAA level description {level!r}")
        surface_type, level_value = _NUMBERED_LEVELS[match.group(2)], float(match.group(1))
    if forecast == "anl":
        step_type: str = "instant"
        start = end = timedelta(0)
    elif match_instant := re.fullmatch(r"(\d+) (min|hour|day) fcst", forecast):
        step_type = "instant"
        start = end = int(match_instant.group(1)) * _FORECAST_UNITS[match_instant.group(2)]
    elif match_stat := re.fullmatch(r"(\d+)-(\d+) (min|hour|day) (acc|ave|max|min) fcst", forecast):
        unit = _FORECAST_UNITS[match_stat.group(3)]
        step_type = _FORECAST_STATS[match_stat.group(4)]
        start, end = int(match_stat.group(1)) * unit, int(match_stat.group(2)) * unit
    else:
        raise KeyError(f"unsupported NOAA forecast description {forecast!r}")
    # GribIdentity's fields in order: codes, surface, statistic and window, run, member.
    return GribIdentity(
        *codes, surface_type, level_value, step_type, start, end, reference_time, ensemble
    )


_SURFACE_NAMES: Mapping[int, str] = {code: name for name, code in NOAA_LEVELS.items()}
_NUMBERED_NAMES: Mapping[int, str] = {code: name for name, code in _NUMBERED_LEVELS.items()}
_ELEMENT_NAMES: Mapping[tuple[int, int, int], str] = {
    codes: name for name, codes in NOAA_PARAMETERS.items()
}
_STAT_ABBREVIATIONS: Mapping[str, str] = {name: abbr for abbr, name in _FORECAST_STATS.items()}


def _format_step(step: timedelta) -> tuple[int, str]:
    seconds = int(step.total_seconds())
    if seconds % 3600 == 0:
        return seconds // 3600, "hour"
    return seconds // 60, "min"


def noaa_description(identity: GribIdentity) -> tuple[str, str, str]:
    """The wgrib2-style (element, level, forecast) of an identity; inverse of ``noaa_identity``.

    Unknown parameters are written the way wgrib2 does (``var discipline=0 ...``-like).
    """
    codes = (identity.discipline, identity.parameter_category, identity.parameter_number)
    element = _ELEMENT_NAMES.get(codes) or (
        f"var discipline={codes[0]} parmcat={codes[1]} parm={codes[2]}"
    )
    level_value = identity.level or 0.0
    surface = identity.surface_type if identity.surface_type is not None else -1
    if surface in _SURFACE_NAMES:
        level = _SURFACE_NAMES[surface]
    elif surface in _NUMBERED_NAMES:
        level = f"{level_value:g} {_NUMBERED_NAMES[surface]}"
    else:
        level = f"level type {surface} value {level_value:g}"
    start = identity.start_step or timedelta(0)
    end = identity.end_step or start
    if identity.step_type in (None, "instant"):
        if end == timedelta(0):
            forecast = "anl"
        else:
            amount, unit = _format_step(end)
            forecast = f"{amount} {unit} fcst"
    else:
        start_amount, unit = _format_step(start)
        end_amount, end_unit = _format_step(end)
        if unit != end_unit:
            start_amount, end_amount, unit = (
                int(start.total_seconds() // 60),
                int(end.total_seconds() // 60),
                "min",
            )
        abbreviation = _STAT_ABBREVIATIONS.get(str(identity.step_type), str(identity.step_type))
        forecast = f"{start_amount}-{end_amount} {unit} {abbreviation} fcst"
    return element, level, forecast


def build_noaa_inventory(data: bytes) -> list[IdxEntry]:
    """A wgrib2-style inventory of every GRIB2 message in ``data`` (we have no wgrib2 binary).

    Write it with ``format_noaa_idx``. Descriptions follow wgrib2's for the elements and levels
    in ``NOAA_PARAMETERS``/``NOAA_LEVELS``; others get a generic but unique description.
    """
    found = message_fields(data)
    offsets = sorted({field.offset for field in found})
    numbers = {offset: number for number, offset in enumerate(offsets, start=1)}
    entries: list[IdxEntry] = []
    for field in found:
        number = numbers[field.offset]
        next_offset = offsets[number] if number < len(offsets) else field.offset + field.length
        element, level, forecast = noaa_description(field.identity)
        reference = field.identity.reference_time
        assert reference is not None
        entries.append(
            IdxEntry(
                message=f"{number}.{field.field_number}" if field.field_count > 1 else str(number),
                offset=field.offset,
                reference_time=f"{reference:%Y%m%d%H}",
                element=element,
                level=level,
                forecast=forecast,
                end=next_offset,
            )
        )
    return entries


_NUMBER = r"-?[\d.]+(?:e-?\d+)?"
_PV_LEVEL = re.compile(rf"PV=({_NUMBER}) \(Km\^2/kg/s\) surface")
_LAYER = re.compile(rf"({_NUMBER})-({_NUMBER}) (.+)")
_SINGLE = re.compile(rf"({_NUMBER}) (.+)")
_ISOTHERM_LAYER = re.compile(r"(\d+) K level - (\d+) K level")
_VAR_ELEMENT = re.compile(
    r"var discipline=(\d+) center=\d+ local_table=(\d+) parmcat=(\d+) parm=(\d+)"
)


def _surface(surface_type: int, value: str, multiplier: int) -> FixedSurface:
    return FixedSurface.of(surface_type, str(Decimal(value) * multiplier))


def _level_surfaces(level: str) -> tuple[FixedSurface, FixedSurface | None]:
    if level in SYNTHESIS_LEVELS:
        return FixedSurface(SYNTHESIS_LEVELS[level]), None
    if pv := _PV_LEVEL.fullmatch(level):
        return FixedSurface.of(109, pv.group(1)), None
    if isotherms := _ISOTHERM_LAYER.fullmatch(level):
        return FixedSurface.of(20, isotherms.group(1)), FixedSurface.of(20, isotherms.group(2))
    if (layer := _LAYER.fullmatch(level)) and layer.group(3) in SYNTHESIS_NUMBERED_LEVELS:
        surface_type, multiplier = SYNTHESIS_NUMBERED_LEVELS[layer.group(3)]
        return (
            _surface(surface_type, layer.group(1), multiplier),
            _surface(surface_type, layer.group(2), multiplier),
        )
    if (single := _SINGLE.fullmatch(level)) and single.group(2) in SYNTHESIS_NUMBERED_LEVELS:
        surface_type, multiplier = SYNTHESIS_NUMBERED_LEVELS[single.group(2)]
        return _surface(surface_type, single.group(1), multiplier), None
    raise KeyError(f"unsupported NOAA level description {level!r}")


def identity_for(element: str, level: str) -> SyntheticIdentity:
    """The GRIB2 parameter and fixed surfaces of a NOAA ``.idx`` element and level."""
    first, second = _level_surfaces(level)
    if var := _VAR_ELEMENT.fullmatch(element):
        discipline, local_table, category, number = (int(g) for g in var.groups())
        return SyntheticIdentity(discipline, category, number, first, second, local_table)
    codes = NOAA_PARAMETERS.get(element) or EXTRA_PARAMETERS.get(element)
    if codes is None:
        raise KeyError(f"no GRIB2 codes known for NOAA element {element!r}")
    return SyntheticIdentity(codes[0], codes[1], codes[2], first, second)
