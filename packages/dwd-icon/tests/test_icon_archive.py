"""The source archiver on a synthesized ICON-EU run: every file the run needs is copied, as
published, to a moto S3 bucket laid out as a source mirror, with a manifest (missing files
listed); a backfill reading the archive through REFORMATTERS_SOURCE_MIRROR writes the same
chunk objects, byte for byte, as one reading the original mirror."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import obstore
import pytest
from test_icon_end_to_end import backfill

from conftest import INIT
from reformatters.core.operations.archive import archive_run_sources, run_source_urls
from reformatters.core.sources.mirror import SOURCE_MIRROR_ENV
from reformatters.core.sources.server import serve_mirror
from reformatters.core.sources.transport import store_for_url
from reformatters.core.testing.fixtures import MotoS3Server
from reformatters.dwd.icon.eu_forecast.dynamical_dataset import make_eu_forecast_dataset
from reformatters.dwd.icon.synthesis import DEFAULT_SYNTHESIS_STEPS, mirror_path


def _chunks(store: Path) -> dict[str, bytes]:
    """Every chunk object of the store's data variables (the shards under ``<var>/c/``)."""
    return {
        str(path.relative_to(store)): path.read_bytes()
        for path in sorted(store.glob("*/c/**/*"))
        if path.is_file()
    }


def test_run_source_urls_lists_every_file_of_the_run() -> None:
    dataset = make_eu_forecast_dataset()
    urls = run_source_urls(dataset, INIT.to_pydatetime())
    assert len(urls) == 93 * len(dataset.template_config.data_vars)
    assert urls[0] == (
        "https://opendata.dwd.de/weather/nwp/icon-eu/grib/06/t_2m/"
        "icon-eu_europe_regular-lat-lon_single-level_2025080106_000_T_2M.grib2.bz2"
    )


@pytest.mark.slow
def test_backfill_from_archive_equals_backfill_from_mirror(
    icon_mirror: Path, moto_s3_env: MotoS3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = f"s3://{moto_s3_env.bucket}/dwd-archive"
    dataset = make_eu_forecast_dataset()
    with serve_mirror(icon_mirror) as server:
        monkeypatch.setenv(SOURCE_MIRROR_ENV, server.url)
        manifest = archive_run_sources(dataset, INIT.to_pydatetime(), archive)
        from_mirror = backfill(server.url, tmp_path / "mirror", monkeypatch)
    n_vars = len(dataset.template_config.data_vars)
    assert len(manifest.files) == len(DEFAULT_SYNTHESIS_STEPS) * n_vars
    assert len(manifest.missing) == (93 - len(DEFAULT_SYNTHESIS_STEPS)) * n_vars
    for archived in manifest.files:
        original = mirror_path(icon_mirror, archived.url).read_bytes()
        assert archived.size == len(original)
        assert archived.sha256 == hashlib.sha256(original).hexdigest()
        store, path = store_for_url(f"{archive}/{archived.key}")
        assert bytes(obstore.get(store, path).bytes()) == original
    store, path = store_for_url(f"{archive}/manifests/{dataset.dataset_id}/2025-08-01T0600.json")
    written = json.loads(bytes(obstore.get(store, path).bytes()))
    assert len(written["files"]) == len(manifest.files)
    assert {m["url"] for m in written["missing"]} == {m.url for m in manifest.missing}

    from_archive = backfill(archive, tmp_path / "archive", monkeypatch)
    assert from_archive.identical(from_mirror)
    stores = [
        tmp_path / name / dataset.dataset_id / f"v{dataset.template_config.version}.zarr"
        for name in ("mirror", "archive")
    ]
    mirror_chunks, archive_chunks = (_chunks(store) for store in stores)
    assert len(mirror_chunks) >= n_vars
    assert mirror_chunks == archive_chunks
