"""How a NOAA variable is addressed in a ``.idx`` inventory and transformed on the way in."""

from __future__ import annotations

from typing import Literal

from reformatters.core.config_models import BaseInternalAttrs, DataVar
from reformatters.noaa.common.idx import format_forecast

type SourceStepType = Literal["instant", "accum", "avg", "max", "min"]
type UnitConversion = Literal["kelvin_to_celsius"]

_KIND: dict[str, Literal["acc", "ave", "max", "min"]] = {
    "accum": "acc",
    "avg": "ave",
    "max": "max",
    "min": "min",
}


MANTISSA_BITS_DEFAULT = 7


class NoaaInternalAttrs(BaseInternalAttrs):
    """Private attributes of a NOAA variable (never written to the store).

    ``grib_element`` and ``grib_level`` are exactly as in the provider's ``.idx``
    (``TMP`` / ``2 m above ground``). ``source_step_type`` says how the provider issues the field:
    ``instant`` or a statistic over a window that resets every ``window_reset_hours`` hours and
    ends at the step's lead (GFS: 6, so lead 8 holds the 6-8 hour window; HRRR: 1).
    ``real_at_lead_0`` is False where the provider writes only a constant placeholder at lead 0
    (HRRR's categorical precipitation types): nothing is read there, the value is NaN.
    """

    keep_mantissa_bits: int | Literal["no-rounding"] = MANTISSA_BITS_DEFAULT
    grib_element: str
    grib_level: str
    source_step_type: SourceStepType = "instant"
    window_reset_hours: int | None = None
    unit_conversion: UnitConversion | None = None
    deaccumulate_to_rate: bool = False
    # Increments of an accumulation within [-tolerance, 0) are packing noise and become 0;
    # more negative ones are NaN.
    deaccumulation_negative_tolerance: float = 0.0
    real_at_lead_0: bool = True

    @property
    def is_window(self) -> bool:
        return self.source_step_type != "instant"

    @property
    def has_lead_0_value(self) -> bool:
        """Whether a run's lead 0 holds a real value (not a window statistic, no placeholder)."""
        return not self.is_window and self.real_at_lead_0

    def window_start_hour(self, lead_hours: int) -> int:
        """Start (hours since init) of the window that ends at ``lead_hours``."""
        assert self.window_reset_hours is not None, f"{self.grib_element}: no window reset rule"
        assert lead_hours > 0, "windows end after lead 0"
        return ((lead_hours - 1) // self.window_reset_hours) * self.window_reset_hours

    def forecast_description(self, lead_hours: int) -> str | None:
        """The ``.idx`` forecast field of this variable's message at a lead, or None if absent.

        Window statistics have no message at lead 0 (the window would be empty), nor do
        variables whose lead 0 is a placeholder.
        """
        if lead_hours == 0 and not self.has_lead_0_value:
            return None
        if not self.is_window:
            return format_forecast(None, lead_hours, None)
        kind = _KIND[self.source_step_type]
        return format_forecast(self.window_start_hour(lead_hours), lead_hours, kind)


type NoaaDataVar = DataVar[NoaaInternalAttrs]
