"""Every installed dataset's checked-in template equals what its code renders."""

from pathlib import Path

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
