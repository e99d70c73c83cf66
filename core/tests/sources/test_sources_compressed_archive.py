"""Whole compressed downloads (bz2, streamed) and the source archiver (copies laid out as a
mirror, a manifest with missing files), against a loopback mirror; minute steps and grids that
cross Greenwich in synthesized messages."""

from __future__ import annotations

import bz2
import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pygrib
import pytest

from reformatters.core.deaccumulation import deaccumulate_to_rates
from reformatters.core.sources.archive import archive_files, read_manifest
from reformatters.core.sources.compressed import download_bz2_decompressed
from reformatters.core.sources.errors import CorruptMessageError, SourceFileMissingError
from reformatters.core.sources.grib_identity import identity_of
from reformatters.core.sources.grid_templates import regular_latlon_template
from reformatters.core.sources.server import serve_mirror
from reformatters.core.sources.synthesis import (
    FixedSurface,
    MessageSpec,
    StatisticalProcess,
    SyntheticIdentity,
    encode_message,
)

PAYLOAD = bytes(range(256)) * 40_000  # 10 MB: many network chunks


def _mirror(tmp_path: Path) -> Path:
    folder = tmp_path / "mirror"
    (folder / "example.org" / "data").mkdir(parents=True)
    (folder / "example.org" / "data" / "a.bin.bz2").write_bytes(bz2.compress(PAYLOAD))
    (folder / "example.org" / "data" / "cut.bin.bz2").write_bytes(bz2.compress(PAYLOAD)[:5000])
    return folder


def test_bz2_download_streams_and_detects_truncation(tmp_path: Path) -> None:
    with serve_mirror(_mirror(tmp_path)) as server:
        target = tmp_path / "a.bin"
        size = download_bz2_decompressed(f"{server.url}/example.org/data/a.bin.bz2", target)
        assert size == len(PAYLOAD) and target.read_bytes() == PAYLOAD
        with pytest.raises(CorruptMessageError, match="ends early"):
            download_bz2_decompressed(f"{server.url}/example.org/data/cut.bin.bz2", target)
        with pytest.raises(SourceFileMissingError):
            download_bz2_decompressed(f"{server.url}/example.org/data/none.bz2", target)
    assert target.read_bytes() == PAYLOAD  # a failed download leaves nothing behind
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_archive_copies_as_published_and_lists_missing_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = _mirror(tmp_path)
    archive = tmp_path / "archive"
    urls = ["https://example.org/data/a.bin.bz2", "https://example.org/data/gone.bin.bz2"]
    with serve_mirror(mirror) as server:
        monkeypatch.setenv("REFORMATTERS_SOURCE_MIRROR", server.url)
        manifest = archive_files(urls, str(archive), "run-1")
    (copied,) = manifest.files
    original = (mirror / "example.org/data/a.bin.bz2").read_bytes()
    assert (archive / "example.org/data/a.bin.bz2").read_bytes() == original
    assert copied.key == "example.org/data/a.bin.bz2" and copied.size == len(original)
    assert copied.sha256 == hashlib.sha256(original).hexdigest()
    assert [m.url for m in manifest.missing] == [urls[1]]
    written = json.loads((archive / "manifests" / "run-1.json").read_text())
    assert written["files"][0]["sha256"] == copied.sha256
    assert written["missing"][0]["key"] == "example.org/data/gone.bin.bz2"


def test_archiving_again_fetches_only_what_the_manifest_lacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror = _mirror(tmp_path)
    archive = tmp_path / "archive"
    first, late = "https://example.org/data/a.bin.bz2", "https://example.org/data/late.bin.bz2"
    with serve_mirror(mirror) as server:
        monkeypatch.setenv("REFORMATTERS_SOURCE_MIRROR", server.url)
        assert [m.url for m in archive_files([first, late], str(archive), "run").missing] == [late]
        (mirror / "example.org/data/late.bin.bz2").write_bytes(b"published later")
        # Changed at the source after it was archived: the archive keeps what was published.
        (mirror / "example.org/data/a.bin.bz2").write_bytes(b"changed")
        manifest = archive_files([first, late], str(archive), "run")
    assert manifest.missing == ()
    assert [f.url for f in manifest.files] == [first, late]
    assert (archive / "example.org/data/a.bin.bz2").read_bytes() == bz2.compress(PAYLOAD)
    assert (archive / "example.org/data/late.bin.bz2").read_bytes() == b"published later"
    assert read_manifest(str(archive), "run") == manifest
    assert read_manifest(str(archive), "other-run") is None


def test_minute_steps_and_a_grid_across_greenwich() -> None:
    grid = regular_latlon_template("g", 9, 5, 30.0, 350.0, 34.0, 6.0)
    message = pygrib.fromstring(grid.template)
    assert message["iDirectionIncrementInDegrees"] == pytest.approx(2.0)
    assert message["jScansPositively"] == 1
    spec = MessageSpec(
        element="x",
        level="",
        forecast="",
        identity=SyntheticIdentity(0, 1, 52, FixedSurface.of(1)),
        start_step=timedelta(0),
        end_step=timedelta(hours=77),
        statistic=StatisticalProcess.ACCUMULATION,
        values=np.ones((5, 9)),
        step_unit="minute",
    )
    encoded = pygrib.fromstring(encode_message(spec, grid, datetime(2025, 1, 1)))
    assert encoded["indicatorOfUnitForForecastTime"] == 0
    assert encoded["lengthOfTimeRange"] == 77 * 60
    identity = identity_of(encoded, None)
    assert (identity.start_step, identity.end_step) == (timedelta(0), timedelta(hours=77))
    assert identity.step_type == "accum"


def test_signed_deaccumulation_keeps_decreases() -> None:
    totals = np.array([[0.0], [-3600.0], [-3600.0 * 3]], dtype=np.float32)
    ends = np.array([0, 3600, 7200])
    rates, invalid = deaccumulate_to_rates(totals, ends, np.zeros(3), signed=True)
    assert invalid == 0
    np.testing.assert_array_equal(rates[1:, 0], [-1.0, -2.0])
    _, invalid = deaccumulate_to_rates(totals, ends, np.zeros(3))
    assert invalid == 2
