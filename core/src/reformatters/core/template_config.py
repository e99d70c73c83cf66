"""TemplateConfig: the declared structure of one dataset, rendered to templates/latest.zarr."""

from __future__ import annotations

import inspect
import shutil
import warnings
from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import DTypeLike, NDArray
from pydantic import model_validator
from xarray.backends import BackendArray
from xarray.backends.common import ArrayWriter
from xarray.backends.writers import dump_to_store, get_writable_zarr_store
from xarray.core import indexing

from reformatters.core.config_models import (
    Coordinate,
    DatasetAttributes,
    DataVar,
    FrozenModel,
)
from reformatters.core.dataset_card import card_table

TEMPLATE_APPEND_DIM_LENGTH = 1


def _silence_consolidated_warning() -> None:
    warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)


class TemplateConfig[DataVarT: DataVar[Any]](FrozenModel, ABC):
    """Dims, coordinates, data variables and attributes of one dataset.

    Subclasses declare `data_vars` and implement `dims`, `coords`, `dimension_coordinates` and (if
    the dataset has non-dimension coordinates) `derive_coordinates`. The plain data (append dim
    start and frequency, coordinate chunk, `dataset_attributes`) may be given in code or come from
    the `[template]` and `[attributes]` tables of the dataset's card (see `dataset_card`).
    """

    append_dim: str
    append_dim_start: datetime
    append_dim_frequency: timedelta
    dataset_attributes: DatasetAttributes
    data_vars: tuple[DataVarT, ...]

    @model_validator(mode="before")
    @classmethod
    def _card_defaults(cls, data: Any) -> Any:
        """Fields not given in code come from the card; then the attributes that follow from
        the structure (e.g. the time domain) unless the card words them itself."""
        if not isinstance(data, dict):
            return data
        data = {**card_table(cls, "template"), **data}
        if "dataset_attributes" not in data and (attributes := card_table(cls, "attributes")):
            derived = cls.derived_attributes(data["append_dim_start"])
            data["dataset_attributes"] = {**derived, **attributes}
        return data

    @classmethod
    def declared(cls) -> Self:
        """The config as its dataset declares it, in code and card (``cls()``, typed for a
        config whose fields come from its card)."""
        return cls.model_validate({})

    @classmethod
    def derived_attributes(cls, append_dim_start: datetime) -> dict[str, str]:
        """Dataset attributes that follow from the declared structure."""
        return {}

    @property
    @abstractmethod
    def dims(self) -> tuple[str, ...]: ...

    @property
    @abstractmethod
    def coords(self) -> Sequence[Coordinate]: ...

    @abstractmethod
    def dimension_coordinates(self) -> dict[str, Any]:
        """Values of every dimension coordinate; the append dim covers only its first step."""

    def derive_coordinates(self, ds: xr.Dataset) -> dict[str, tuple[tuple[str, ...], Any]]:
        """Non-dimension coordinates computed from the dimension coordinates."""
        return {}

    @property
    def dataset_id(self) -> str:
        return self.dataset_attributes.dataset_id

    @property
    def version(self) -> str:
        return self.dataset_attributes.dataset_version

    def template_path(self) -> Path:
        return Path(inspect.getfile(type(self))).parent / "templates" / "latest.zarr"

    def append_dim_coordinates(self, end: datetime) -> pd.DatetimeIndex:
        """Append-dim values from the start up to, excluding, `end`."""
        return pd.date_range(
            self.append_dim_start, end, freq=self.append_dim_frequency, inclusive="left"
        )

    def data_var(self, name: str) -> DataVarT:
        for var in self.data_vars:
            if var.name == name:
                return var
        raise KeyError(name)

    def _dim_sizes(self, append_dim_size: int) -> dict[str, int]:
        dim_coords = self.dimension_coordinates()
        sizes = {dim: len(dim_coords[dim]) for dim in self.dims}
        sizes[self.append_dim] = append_dim_size
        return sizes

    def _build(self, append_dim_values: pd.DatetimeIndex, base: xr.Dataset | None) -> xr.Dataset:
        dim_coords: dict[str, Any] = dict(self.dimension_coordinates())
        if base is not None:
            # Run time: the non-append dimension coordinates come from the checked-in template.
            for dim in self.dims:
                if dim != self.append_dim:
                    dim_coords[dim] = base[dim].values
        dim_coords[self.append_dim] = append_dim_values.values
        sizes = {dim: len(dim_coords[dim]) for dim in self.dims}
        data_vars = {}
        for var in self.data_vars:
            shape = tuple(sizes[d] for d in self.dims)
            data = indexing.LazilyIndexedArray(FillValueArray(shape, np.float32, np.nan))
            data_vars[var.name] = xr.Variable(self.dims, data, attrs=var.attrs.to_dict())
        ds = xr.Dataset(data_vars, coords={d: dim_coords[d] for d in self.dims})
        ds = ds.assign_coords(self.derive_coordinates(ds))
        declared = {c.name for c in self.coords}
        present = {str(name) for name in ds.coords}
        assert present == declared, (
            f"{self.dataset_id}: coordinates {sorted(present)} != declared {sorted(declared)}"
        )
        for coord in self.coords:
            ds[coord.name].attrs = coord.attrs.to_dict()
            ds[coord.name].encoding = coord.encoding.to_xarray()
        for var in self.data_vars:
            ds[var.name].encoding = var.encoding.to_xarray()
            ds[var.name].attrs = var.attrs.to_dict()
        ds.attrs = self.dataset_attributes.model_dump(exclude_none=True)
        if base is not None:
            ds.attrs = dict(base.attrs)
            for name in (*ds.coords, *ds.data_vars):
                ds[name].attrs = dict(base[name].attrs)
        return ds

    def render_template(self) -> xr.Dataset:
        """The template as the code declares it (append dim of length 1)."""
        return self._build(self.append_dim_coordinates(self._template_end()), base=None)

    def _template_end(self) -> datetime:
        return self.append_dim_start + self.append_dim_frequency * TEMPLATE_APPEND_DIM_LENGTH

    def update_template(self) -> Path:
        """Render the template into templates/latest.zarr (deterministic bytes)."""
        path = self.template_path()
        if path.exists():
            shutil.rmtree(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_metadata(self.render_template(), path)
        return path

    def load_template(self) -> xr.Dataset:
        path = self.template_path()
        if not (path / "zarr.json").exists():
            raise FileNotFoundError(
                f"template for {self.dataset_id} is missing at {path}; "
                f"run `reformat {self.dataset_id} update-template`"
            )
        _silence_consolidated_warning()
        ds: xr.Dataset = xr.open_zarr(path, decode_timedelta=True, chunks=None)
        return ds

    def get_template(self, append_dim_end: datetime) -> xr.Dataset:
        """The checked-in template expanded along the append dim up to (excluding) the end."""
        values = self.append_dim_coordinates(append_dim_end)
        if len(values) == 0:
            raise ValueError(
                f"{self.dataset_id}: end {append_dim_end} is not after the dataset start "
                f"{self.append_dim_start}"
            )
        return self._build(values, base=self.load_template())


class FillValueArray(BackendArray):
    """The values of a template's data variable: its fill value everywhere, held lazily (a
    selection materialises only itself), so a template of any extent costs no memory."""

    def __init__(self, shape: tuple[int, ...], dtype: DTypeLike, value: Any) -> None:
        self.shape = shape
        self.dtype = np.dtype(dtype)
        self.value = value

    def __getitem__(self, key: indexing.ExplicitIndexer) -> NDArray[Any]:
        return indexing.explicit_indexing_adapter(  # type: ignore[no-any-return]
            key, self.shape, indexing.IndexingSupport.OUTER, self._outer_indexed
        )

    def _outer_indexed(self, key: tuple[Any, ...]) -> NDArray[Any]:
        shape = tuple(
            len(range(*k.indices(n))) if isinstance(k, slice) else len(k)
            for k, n in zip(key, self.shape, strict=True)
            if not isinstance(k, (int, np.integer))
        )
        return np.full(shape, self.value, dtype=self.dtype)


class _CoordinatesOnlyWriter(ArrayWriter):
    """xarray's array writer, skipping the given (data) variables' values."""

    def __init__(self, skipped: set[str]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.skipped = skipped

    def add(self, source: Any, target: Any, region: Any = None) -> None:
        if target.basename not in self.skipped:
            super().add(source, target, region)  # type: ignore[no-untyped-call]


def write_metadata(ds: xr.Dataset, store: Any) -> None:
    """Write array and group metadata and all coordinate values; data variables stay empty.

    xarray's writer encodes every variable and creates every array, exactly as `to_zarr` does;
    the data variables' values are zero-stride views that the writer skips. (`to_zarr` with
    `compute=False` did the same with dask arrays: importing dask cost 0.16-0.19 s of every
    `reformat` process, building the write graph 0.1 s of every render.)
    """
    _silence_consolidated_warning()
    placeholder: dict[Hashable, Any] = {}
    for name, var in ds.data_vars.items():
        # float32 with a NaN fill (DataVar's invariant): CF encoding leaves the values alone.
        assert var.dtype.kind == "f", f"{name}: {var.dtype}"
        placeholder[name] = np.broadcast_to(np.array(np.nan, dtype=var.dtype), var.shape)
    placeholders = ds.copy(data=placeholder)  # one copy: assigning each would merge each
    zstore = get_writable_zarr_store(
        store,
        mode="w",
        consolidated=True,
        zarr_format=3,
        safe_chunks=False,
        write_empty_chunks=False,
    )
    writer = _CoordinatesOnlyWriter({str(n) for n in ds.data_vars})
    dump_to_store(placeholders, zstore, writer)  # type: ignore[no-untyped-call]
    zstore.close()
