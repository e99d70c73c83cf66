"""Every installed dataset's checked-in template equals what its code renders."""

from pathlib import Path

import numpy as np
import pytest

from reformatters.core.plugins import get_registry
from reformatters.core.template_config import write_metadata

DATASET_IDS = sorted(get_registry().datasets)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_registry_has_no_failures() -> None:
    assert get_registry().failures == []
    assert "example-tiny" in DATASET_IDS


@pytest.mark.parametrize("dataset_id", DATASET_IDS)
def test_checked_in_template_matches_code(dataset_id: str, tmp_path: Path) -> None:
    config = get_registry().get(dataset_id).template_config
    rendered = tmp_path / "latest.zarr"
    write_metadata(config.render_template(), rendered)
    checked_in = _files(config.template_path())
    assert checked_in, f"no template checked in at {config.template_path()}"
    assert _files(rendered) == checked_in, (
        f"templates/latest.zarr of {dataset_id} is stale: "
        f"run `reformat {dataset_id} update-template`"
    )


@pytest.mark.parametrize("dataset_id", DATASET_IDS)
def test_template_expands_along_append_dim(dataset_id: str) -> None:
    config = get_registry().get(dataset_id).template_config
    end = config.append_dim_start + 5 * config.append_dim_frequency
    ds = config.get_template(end)
    assert ds.sizes[config.append_dim] == 5
    assert ds.attrs["dataset_id"] == dataset_id
    for var in config.data_vars:
        assert ds[var.name].encoding["shards"] == var.encoding.shards
        assert ds[var.name].attrs["units"] == var.attrs.units


@pytest.mark.parametrize("dataset_id", DATASET_IDS)
def test_metadata_is_what_xarray_writes_for_an_expanded_template(
    dataset_id: str, tmp_path: Path
) -> None:
    """write_metadata against xarray's own `to_zarr` of the same dataset with its (NaN) data
    in memory: every file, bytes included, for a template expanded along the append dim (the
    other dims cut to a few positions, so that the data fits in memory)."""
    config = get_registry().get(dataset_id).template_config
    ds = config.get_template(config.append_dim_start + 3 * config.append_dim_frequency)
    ds = ds.isel({d: slice(1, 4) for d in ds.dims if d != config.append_dim})
    ds.attrs["note"] = "a small cut"
    rendered, reference = tmp_path / "rendered.zarr", tmp_path / "reference.zarr"
    write_metadata(ds, rendered)
    ds.load().to_zarr(
        reference, mode="w", zarr_format=3, consolidated=True, write_empty_chunks=False
    )
    assert _files(rendered) == _files(reference)
    assert not any("/c/" in f for f in _files(rendered) if f.split("/")[0] in ds.data_vars)


@pytest.mark.parametrize("dataset_id", DATASET_IDS)
def test_template_data_is_lazy_fill_values(dataset_id: str) -> None:
    """A template spanning years holds no data: selections materialise only themselves."""
    config = get_registry().get(dataset_id).template_config
    ds = config.get_template(config.append_dim_start + 400 * config.append_dim_frequency)
    var = ds[config.data_vars[0].name]
    assert var.variable._in_memory is False
    first = {d: 0 for d in var.dims if d != config.append_dim}
    picked = var.isel(first).isel({config.append_dim: [0, 7, 399]})
    assert picked.shape == (3,)
    assert picked.dtype == np.float32
    assert np.isnan(picked.values).all()
    corner = var.isel({d: slice(2, 5) for d in var.dims})
    assert corner.shape == (3,) * var.ndim
    assert np.isnan(corner.values).all()
