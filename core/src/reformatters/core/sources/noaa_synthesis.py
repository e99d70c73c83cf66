"""Model NOAA (GFS, HRRR) source files from real ``.idx`` inventories and synthesize them.

A real inventory (packaged in ``synthesis_data/``) is the model of a file's message order and
identities. ``NoaaInventoryModel.messages(lead)`` relabels its forecast descriptions for any lead
with the dataset's accumulation window rule; ``synthesize_noaa_file`` writes that file (GRIB2 +
``.idx``) with smooth ``synthetic_field`` values for the messages a dataset reads and cheap
constant filler for the rest.

GRIB identities come from ``NOAA_PARAMETERS`` (the reader's table) plus ``EXTRA_PARAMETERS``
below, and from parsing wgrib2's level strings. Known limitations: message sets are modelled on
one lead per model (GFS f000/f007, HRRR f00/f08), so fields that NOAA adds or drops at long leads
are not modelled; codes of rarely used NCEP-local parameters in ``EXTRA_PARAMETERS`` are best
effort (they only ever carry filler).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from reformatters.core.sources.grib import NOAA_PARAMETERS
from reformatters.core.sources.inventory import InventoryEntry, parse_noaa_idx
from reformatters.core.sources.synthesis import (
    DATA_DIR,
    NO_CEILING_HGT,
    STEP_TYPE_OF_PROCESS,
    FixedSurface,
    GridTemplate,
    MessageSpec,
    StatisticalProcess,
    StepType,
    SyntheticIdentity,
    gfs_0p25_grid,
    hrrr_conus_grid,
    synthetic_field,
    write_grib_file,
)

__all__ = [
    "EXTRA_PARAMETERS",
    "GFS_0P25",
    "HRRR_SFC",
    "NoaaInventoryModel",
    "NoaaMessage",
    "WindowRule",
    "format_forecast",
    "gfs_window_start",
    "hrrr_window_start",
    "identity_for",
    "load_model_idx",
    "message_spec",
    "modelled_inventory",
    "parse_forecast",
    "synthesize_noaa_file",
]

type WindowKind = Literal["acc", "ave", "max", "min"]
type WindowRule = Callable[[int], int]
"""Maps a lead (hours) to the start (hours) of the statistical window ending at that lead."""

_KIND_TO_PROCESS: Mapping[str, StatisticalProcess] = {
    "acc": StatisticalProcess.ACCUMULATION,
    "ave": StatisticalProcess.AVERAGE,
    "max": StatisticalProcess.MAXIMUM,
    "min": StatisticalProcess.MINIMUM,
}

# Elements missing from the reader's NOAA_PARAMETERS, as GFS/HRRR encode them (NCEP tables).
EXTRA_PARAMETERS: Mapping[str, tuple[int, int, int]] = {
    "POT": (0, 0, 2),
    "APTMP": (0, 0, 21),
    "LHTFL": (0, 0, 10),
    "SHTFL": (0, 0, 11),
    "CLMR": (0, 1, 22),
    "ICMR": (0, 1, 23),
    "RWMR": (0, 1, 24),
    "SNMR": (0, 1, 25),
    "ASNOW": (0, 1, 29),
    "HAIL": (0, 1, 31),
    "GRLE": (0, 1, 32),
    "SNOWC": (0, 1, 42),
    "TCOLG": (0, 1, 74),
    "CPRAT": (0, 1, 196),
    "PEVPR": (0, 1, 200),
    "FRZR": (0, 1, 225),
    "FROZR": (0, 1, 227),
    "RHPW": (0, 1, 242),
    "WIND": (0, 2, 1),
    "VVEL": (0, 2, 8),
    "DZDT": (0, 2, 9),
    "ABSV": (0, 2, 10),
    "RELV": (0, 2, 12),
    "VUCSH": (0, 2, 15),
    "VVCSH": (0, 2, 16),
    "UFLX": (0, 2, 17),
    "VFLX": (0, 2, 18),
    "U-GWD": (0, 2, 27),
    "V-GWD": (0, 2, 28),
    "FRICV": (0, 2, 30),
    "VWSH": (0, 2, 192),
    "USTM": (0, 2, 194),
    "VSTM": (0, 2, 195),
    "MAXUVV": (0, 2, 220),
    "MAXDVV": (0, 2, 221),
    "MAXUW": (0, 2, 222),
    "MAXVW": (0, 2, 223),
    "VRATE": (0, 2, 224),
    "ICAHT": (0, 3, 3),
    "LAYTH": (0, 3, 12),
    "HPBL": (0, 3, 196),
    "PLPL": (0, 3, 200),
    "CFNSF": (0, 4, 199),
    "VBDSF": (0, 4, 200),
    "VDDSF": (0, 4, 201),
    "LCDC": (0, 6, 3),
    "MCDC": (0, 6, 4),
    "HCDC": (0, 6, 5),
    "CWAT": (0, 6, 6),
    "CWORK": (0, 6, 193),
    "TCOLW": (0, 6, 196),
    "TCOLI": (0, 6, 197),
    "SUNSD": (0, 6, 201),
    "LFTX": (0, 7, 192),
    "4LFTX": (0, 7, 193),
    "HLCY": (0, 7, 8),
    "MXUPHL": (0, 7, 199),
    "MNUPHL": (0, 7, 200),
    "LAI": (0, 7, 198),
    "EFHL": (0, 7, 206),
    "CANGLE": (0, 7, 207),
    "ESP": (0, 7, 208),
    "O3MR": (0, 14, 192),
    "TOZNE": (0, 14, 0),
    "VIL": (0, 15, 3),
    "REFD": (0, 16, 195),
    "RETOP": (0, 16, 197),
    "MAXREF": (0, 16, 198),
    "LTNGSD": (0, 17, 0),
    "LTNG": (0, 17, 192),
    "ALBDO": (0, 19, 1),
    "MASSDEN": (0, 20, 0),
    "COLMD": (0, 20, 1),
    "AOTK": (0, 20, 102),
    "BGRUN": (1, 0, 5),
    "SSRUN": (1, 0, 6),
    "LAND": (2, 0, 0),
    "SFCR": (2, 0, 1),
    "TSOIL": (2, 0, 2),
    "VEG": (2, 0, 4),
    "WATR": (2, 0, 5),
    "GFLUX": (2, 0, 10),
    "MSTAV": (2, 0, 194),
    "CNWAT": (2, 0, 196),
    "VGTYP": (2, 0, 198),
    "WILT": (2, 0, 201),
    "VEGMIN": (2, 0, 231),
    "VEGMAX": (2, 0, 232),
    "SOTYP": (2, 3, 0),
    "SOILL": (2, 3, 192),
    "FLDCP": (2, 3, 203),
    "HINDEX": (2, 4, 2),
    "SBT123": (3, 192, 0),
    "SBT124": (3, 192, 1),
    "SBT113": (3, 192, 4),
    "SBT114": (3, 192, 5),
    "ICEC": (10, 2, 0),
    "ICETK": (10, 2, 1),
    "ICEG": (10, 2, 6),
    "ICETMP": (10, 2, 8),
}

# wgrib2 level strings without a number -> code table 4.5 type (NCEP locals >= 200).
_NAMED_LEVELS: Mapping[str, int] = {
    "surface": 1,
    "cloud base": 2,
    "cloud top": 3,
    "0C isotherm": 4,
    "level of adiabatic condensation from sfc": 5,
    "max wind": 6,
    "tropopause": 7,
    "top of atmosphere": 8,
    "entire atmosphere": 10,
    "level of free convection": 14,
    "mean sea level": 101,
    "entire atmosphere (considered as a single layer)": 200,
    "highest tropospheric freezing level": 204,
    "boundary layer cloud layer": 211,
    "low cloud bottom level": 212,
    "low cloud top level": 213,
    "low cloud layer": 214,
    "cloud ceiling": 215,
    "planetary boundary layer": 220,
    "middle cloud bottom level": 222,
    "middle cloud top level": 223,
    "middle cloud layer": 224,
    "high cloud bottom level": 232,
    "high cloud top level": 233,
    "high cloud layer": 234,
    "convective cloud bottom level": 242,
    "convective cloud top level": 243,
    "convective cloud layer": 244,
    "equilibrium level": 247,
}
# "<value> <unit>" levels: unit -> (type, multiplier from the printed value to GRIB units).
_NUMBERED_LEVELS: Mapping[str, tuple[int, int]] = {
    "K level": (20, 1),
    "mb": (100, 100),
    "m above mean sea level": (102, 1),
    "m above ground": (103, 1),
    "sigma level": (104, 1),
    "sigma layer": (104, 1),
    "hybrid level": (105, 1),
    "m underground": (106, 1),
    "m below ground": (106, 1),
    "mb above ground": (108, 100),
}
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
    if level in _NAMED_LEVELS:
        return FixedSurface(_NAMED_LEVELS[level]), None
    if pv := _PV_LEVEL.fullmatch(level):
        return FixedSurface.of(109, pv.group(1)), None
    if isotherms := _ISOTHERM_LAYER.fullmatch(level):
        return FixedSurface.of(20, isotherms.group(1)), FixedSurface.of(20, isotherms.group(2))
    if (layer := _LAYER.fullmatch(level)) and layer.group(3) in _NUMBERED_LEVELS:
        surface_type, multiplier = _NUMBERED_LEVELS[layer.group(3)]
        return (
            _surface(surface_type, layer.group(1), multiplier),
            _surface(surface_type, layer.group(2), multiplier),
        )
    if (single := _SINGLE.fullmatch(level)) and single.group(2) in _NUMBERED_LEVELS:
        surface_type, multiplier = _NUMBERED_LEVELS[single.group(2)]
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


# --- forecast descriptions ----------------------------------------------------------------------

_INSTANT = re.compile(r"(\d+) hour fcst")
_WINDOW = re.compile(r"(\d+)-(\d+) (hour|day) (acc|ave|max|min) fcst")


def parse_forecast(forecast: str) -> tuple[int | None, int, WindowKind | None]:
    """(window start hours or None, end hours, window kind or None) of a wgrib2 description."""
    if forecast == "anl":
        return None, 0, None
    if instant := _INSTANT.fullmatch(forecast):
        return None, int(instant.group(1)), None
    if window := _WINDOW.fullmatch(forecast):
        unit = 24 if window.group(3) == "day" else 1
        kind: WindowKind = window.group(4)  # type: ignore[assignment]
        return int(window.group(1)) * unit, int(window.group(2)) * unit, kind
    raise ValueError(f"unsupported NOAA forecast description {forecast!r}")


def format_forecast(start: int | None, end: int, kind: WindowKind | None) -> str:
    """wgrib2's description: ``anl``, ``7 hour fcst``, ``6-7 hour acc fcst``, ``0-1 day acc fcst``.

    wgrib2 prints a window in days when both ends are whole days (``0-0 day acc fcst`` at f00).
    """
    if kind is None or start is None:
        return "anl" if end == 0 else f"{end} hour fcst"
    if start % 24 == 0 and end % 24 == 0:
        return f"{start // 24}-{end // 24} day {kind} fcst"
    return f"{start}-{end} hour {kind} fcst"


def gfs_window_start(lead: int) -> int:
    """GFS statistics reset every 6 hours: f007 -> 6, f012 -> 6, f123 -> 120, f126 -> 120."""
    return ((lead - 1) // 6) * 6


def hrrr_window_start(lead: int) -> int:
    """HRRR's periodic windows are the last hour: f08 -> 7."""
    return lead - 1


# --- inventory models ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoaaMessage:
    """One modelled message: its ``.idx`` strings and decoded window."""

    element: str
    level: str
    forecast: str
    start_hour: int | None
    end_hour: int
    kind: WindowKind | None

    @property
    def step_type(self) -> StepType:
        return "instant" if self.kind is None else STEP_TYPE_OF_PROCESS[_KIND_TO_PROCESS[self.kind]]


@cache
def load_model_idx(name: str) -> tuple[InventoryEntry, ...]:
    """A real NOAA ``.idx`` from ``synthesis_data/`` (``gfs.t00z.pgrb2.0p25.f007.idx``...)."""
    return tuple(parse_noaa_idx((DATA_DIR / name).read_text()))


@dataclass(frozen=True, slots=True)
class NoaaInventoryModel:
    """How a NOAA product's files look at every lead, modelled on real inventories.

    ``lead_zero_idx`` models lead 0; ``later_idx`` (a real file at ``later_lead``) models every
    other lead, its windows relabelled: a window starting at 0 that spans the whole model lead is
    a since-init total (``0-7`` -> ``0-13``), any other window is periodic and starts at
    ``window_start(lead)`` (``6-7`` -> ``12-13``).
    """

    name: str
    lead_zero_idx: str
    later_idx: str
    later_lead: int
    window_start: WindowRule
    grid: Callable[[], GridTemplate]
    # (element, level) -> the synthetic value the product writes as missing points instead
    # (complex packing's missing-value management), e.g. HRRR's "no cloud ceiling".
    missing_points: Mapping[tuple[str, str], float] = field(default_factory=dict)

    def as_issued(
        self, element: str, level: str, values: NDArray[np.float32]
    ) -> NDArray[np.float32]:
        """``values`` with the points this product writes as missing set to NaN."""
        marker = self.missing_points.get((element, level))
        return values if marker is None else np.where(values == marker, np.float32("nan"), values)

    def messages(self, lead: int) -> list[NoaaMessage]:
        if lead < 0:
            raise ValueError(f"lead must be >= 0 hours, got {lead}")
        model_lead = 0 if lead == 0 else self.later_lead
        entries = load_model_idx(self.lead_zero_idx if lead == 0 else self.later_idx)
        if model_lead != 0 and self.window_start(model_lead) == 0:
            raise ValueError(
                f"{self.name}: model lead {model_lead} cannot tell totals from periods"
            )
        result: list[NoaaMessage] = []
        for entry in entries:
            start, end, kind = parse_forecast(entry.forecast)
            if end != model_lead:
                raise ValueError(f"{self.name}: {entry.label} does not end at lead {model_lead}")
            if lead != model_lead:
                end = lead
                if kind is not None and start is not None:
                    start = 0 if start == 0 else self.window_start(lead)
            result.append(
                NoaaMessage(
                    entry.element,
                    entry.level,
                    format_forecast(start, end, kind),
                    start,
                    end,
                    kind,
                )
            )
        return result


GFS_0P25 = NoaaInventoryModel(
    name="gfs-pgrb2-0p25",
    lead_zero_idx="gfs.t00z.pgrb2.0p25.f000.idx",
    later_idx="gfs.t00z.pgrb2.0p25.f007.idx",
    later_lead=7,
    window_start=gfs_window_start,
    grid=gfs_0p25_grid,
)
HRRR_SFC = NoaaInventoryModel(
    name="hrrr-wrfsfc",
    lead_zero_idx="hrrr.t00z.wrfsfcf00.grib2.idx",
    later_idx="hrrr.t00z.wrfsfcf08.grib2.idx",
    later_lead=8,
    window_start=hrrr_window_start,
    grid=hrrr_conus_grid,
    # HRRR marks "no ceiling" as missing points, where GFS writes 20000 m.
    missing_points={("HGT", "cloud ceiling"): NO_CEILING_HGT},
)


def message_spec(
    message: NoaaMessage,
    init_time: np.datetime64 | datetime,
    grid: GridTemplate | None,
    *,
    fill: bool,
) -> MessageSpec:
    """The engine's MessageSpec for a modelled message (values from ``synthetic_field`` if fill)."""
    start = None if message.start_hour is None else timedelta(hours=message.start_hour)
    end = timedelta(hours=message.end_hour)
    values = None
    if fill:
        if grid is None:
            raise ValueError("a grid is needed to fill values")
        values = synthetic_field(
            message.element,
            message.level,
            init_time,
            start,
            end,
            message.step_type,
            grid.lats,
            grid.lons,
        )
    return MessageSpec(
        element=message.element,
        level=message.level,
        forecast=message.forecast,
        identity=identity_for(message.element, message.level),
        end_step=end,
        start_step=start,
        statistic=None if message.kind is None else _KIND_TO_PROCESS[message.kind],
        values=values,
    )


type FillSelection = Callable[[NoaaMessage], bool] | Collection[tuple[str, str]]


def _fill_predicate(fill: FillSelection) -> Callable[[NoaaMessage], bool]:
    if callable(fill):
        return fill
    wanted = frozenset(fill)
    return lambda message: (message.element, message.level) in wanted


def synthesize_noaa_file(
    path: Path,
    model: NoaaInventoryModel,
    init_time: np.datetime64 | datetime,
    lead: int,
    fill: FillSelection,
    *,
    grid: GridTemplate | None = None,
) -> list[InventoryEntry]:
    """Write the ``model`` file for ``init_time`` + ``lead`` hours to ``path`` (and ``path.idx``).

    ``fill`` selects the messages that get real ``synthetic_field`` values: a predicate on
    ``NoaaMessage`` or a collection of (element, level) pairs (every window of a pair is filled).
    All other messages are constant filler. ``grid`` defaults to the model's grid.
    """
    grid = grid if grid is not None else model.grid()
    wanted = _fill_predicate(fill)

    def as_issued(spec: MessageSpec) -> MessageSpec:
        if spec.values is None or (spec.element, spec.level) not in model.missing_points:
            return spec
        values = model.as_issued(spec.element, spec.level, spec.values.astype(np.float32))
        return replace(spec, values=values, missing_encoding="complex")

    specs = (
        as_issued(message_spec(message, init_time, grid, fill=wanted(message)))
        for message in model.messages(lead)
    )
    return write_grib_file(path, specs, init_time=init_time, grid=grid)


def modelled_inventory(model: NoaaInventoryModel, lead: int) -> Sequence[tuple[str, str, str]]:
    """(element, level, forecast) of every message of the modelled file, in file order."""
    return [(m.element, m.level, m.forecast) for m in model.messages(lead)]
