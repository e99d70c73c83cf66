"""The variable schema of the NOAA family: a catalog entry and the DataVar a dataset makes of it.

Window semantics are model-specific, so a dataset passes the sentence that says what interval a
window statistic covers; it is appended to the variable's ``comment``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import model_validator

from reformatters.core.config_models import DataVar, DataVarAttrs, Encoding, FrozenModel
from reformatters.noaa.common.internal_attrs import NoaaDataVar, NoaaInternalAttrs


class CatalogEntry(FrozenModel):
    """One variable as the catalog declares it, before a dataset gives it an encoding."""

    attrs: DataVarAttrs
    internal_attrs: NoaaInternalAttrs

    @model_validator(mode="after")
    def _step_types_agree(self) -> CatalogEntry:
        # A deaccumulated accumulation is a mean rate over the interval since the previous step.
        source = self.internal_attrs.source_step_type
        expected = "avg" if source == "accum" else source
        assert self.attrs.step_type == expected, (
            f"{self.attrs.short_name}: step_type {self.attrs.step_type!r} for a source "
            f"{source!r} field (expected {expected!r})"
        )
        return self

    def replace(
        self, *, attrs: dict[str, Any] | None = None, internal_attrs: dict[str, Any] | None = None
    ) -> CatalogEntry:
        """This entry with some public and internal attributes changed (validated again)."""
        return CatalogEntry(
            attrs=self.attrs.model_copy(update=attrs or {}),
            internal_attrs=self.internal_attrs.model_copy(update=internal_attrs or {}),
        )


@dataclass(frozen=True)
class ModelVariables:
    """The catalog entries a model publishes, by name, and its window rule: statistics reset
    every ``window_reset_hours`` hours."""

    entries: Mapping[str, CatalogEntry]
    window_reset_hours: int

    def data_vars(
        self,
        chunks: tuple[int, ...],
        shards: tuple[int, ...],
        *,
        rate_comment: str,
        window_comment: str = "",
        lead_0_comment: str = "",
    ) -> tuple[NoaaDataVar, ...]:
        """The DataVars of a dataset (float32, chunked and sharded as given) on a grid
        described by the CF variable ``spatial_ref``.

        ``window_comment`` (what interval a window statistic covers in this dataset) is appended
        to the comment of window statistics kept as issued, ``rate_comment`` (what interval a
        deaccumulated mean rate covers) to that of deaccumulated variables, ``lead_0_comment``
        (what the dataset holds where the source's lead 0 is only a placeholder) to those
        variables'. A model that issues a variable differently declares a
        ``CatalogEntry.replace`` of the catalog's entry (another element or step type).
        """
        encoding = Encoding(dtype="float32", fill_value=float("nan"), chunks=chunks, shards=shards)
        comments = (window_comment, rate_comment, lead_0_comment)
        return tuple(
            _data_var(name, entry, encoding, self.window_reset_hours, *comments)
            for name, entry in self.entries.items()
        )


def _data_var(
    name: str,
    entry: CatalogEntry,
    encoding: Encoding,
    window_reset_hours: int,
    window_comment: str,
    rate_comment: str,
    lead_0_comment: str,
) -> NoaaDataVar:
    internal = entry.internal_attrs
    extra = None
    if internal.deaccumulate_to_rate:
        extra = rate_comment
    elif internal.is_window:
        extra = window_comment
    lead_0 = lead_0_comment if not internal.real_at_lead_0 else None
    comment = " ".join(c for c in (entry.attrs.comment, extra, lead_0) if c)
    return DataVar(
        name=name,
        encoding=encoding,
        attrs=entry.attrs.model_copy(
            update={"comment": comment or None, "grid_mapping": "spatial_ref"}
        ),
        internal_attrs=internal.model_copy(
            update={"window_reset_hours": window_reset_hours if internal.is_window else None}
        ),
    )
