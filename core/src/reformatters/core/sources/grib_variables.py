"""Variables read from one GRIB2 message each, declared by the message's numeric codes.

A provider's internal attributes extend ``GribCodedAttrs`` with how its files or inventories
address a message and how its values are transformed; ``VariableDeclaration`` pairs them with
the attributes the store publishes, and ``declared_data_vars`` turns a table of declarations
into a template's data variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Literal

from reformatters.core.config_models import (
    BaseInternalAttrs,
    DataVar,
    DataVarAttrs,
    Encoding,
    FrozenModel,
)
from reformatters.core.sources.grib_identity import EnsembleRole, GribIdentity, StepType
from reformatters.core.sources.synthesis import FixedSurface, SyntheticIdentity

__all__ = [
    "CELSIUS_COMMENT",
    "INSTANT_COMMENT",
    "GribCodedAttrs",
    "VariableDeclaration",
    "declared_data_vars",
]

INSTANT_COMMENT = "Instantaneous value at the valid time."
CELSIUS_COMMENT = "Converted from kelvin (minus 273.15)."


class GribCodedAttrs(BaseInternalAttrs):
    """Private attributes of a variable whose message is identified by its GRIB2 codes:
    discipline, parameter category and number, and one fixed surface (code table 4.5) with
    its level."""

    discipline: int = 0
    parameter_category: int
    parameter_number: int
    surface_type: int
    level: float = 0.0
    # Local parameters (numbers 192-254) are encoded with a local tables version.
    local_tables_version: int | None = None
    unit_conversion: Literal["kelvin_to_celsius"] | None = None
    # Increments of an accumulation within [-tolerance, 0) are packing noise and become 0
    # (in the units the increments are taken in).
    deaccumulation_negative_tolerance: float = 0.0

    def message_identity(
        self,
        step_type: StepType,
        start_step: timedelta,
        end_step: timedelta,
        reference_time: datetime,
        ensemble: EnsembleRole | None = None,
    ) -> GribIdentity:
        """The identity a message of this variable must have: its codes, and the given
        statistic, window, run and ensemble member."""
        codes = (self.discipline, self.parameter_category, self.parameter_number)
        surface = (self.surface_type, self.level)
        # GribIdentity's fields in order: codes, surface, statistic and window, run, member.
        return GribIdentity(
            *codes, *surface, step_type, start_step, end_step, reference_time, ensemble
        )

    def synthetic_identity(self) -> SyntheticIdentity:
        """The codes a synthesized message of this variable carries."""
        surface = FixedSurface.of(self.surface_type, self.level)
        codes = (self.discipline, self.parameter_category, self.parameter_number)
        return SyntheticIdentity(*codes, surface, local_tables_version=self.local_tables_version)


class VariableDeclaration[InternalAttrsT: BaseInternalAttrs](FrozenModel):
    """One variable of a dataset as its package declares it (the encoding is the template's)."""

    attrs: DataVarAttrs
    internal_attrs: InternalAttrsT


def declared_data_vars[InternalAttrsT: BaseInternalAttrs](
    declarations: Mapping[str, VariableDeclaration[InternalAttrsT]],
    chunks: tuple[int, ...],
    shards: tuple[int, ...],
) -> tuple[DataVar[InternalAttrsT], ...]:
    """The data variables of ``declarations`` (by name), float32 with NaN fill, chunked and
    sharded as given."""
    encoding = Encoding(dtype="float32", fill_value=float("nan"), chunks=chunks, shards=shards)
    return tuple(
        DataVar(name=name, encoding=encoding, attrs=v.attrs, internal_attrs=v.internal_attrs)
        for name, v in declarations.items()
    )
