import pyproj  # noqa: F401  # isort: skip

from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pygrib
import pytest

from reformatters.core.sources.download import (
    coalesce_ranges,
    download_messages,
    local_message_offsets,
)
from reformatters.core.sources.errors import (
    CorruptMessageError,
    SourceDownloadError,
    SourceFileMissingError,
)
from reformatters.core.sources.grib_framing import scan_messages
from reformatters.core.sources.json_lines_index import (
    parse_json_lines_index,
    select_json_lines_entries,
)
from reformatters.core.sources.scratch import ScratchDir
from reformatters.core.sources.server import FaultConfig, serve_mirror
from reformatters.core.sources.transport import RetryPolicy, download_file

BUCKET = "bucket"
KEY = "model.20110110/12/file.f120.grib2"
FAST = RetryPolicy(
    max_retries=6,
    initial_backoff=timedelta(milliseconds=1),
    max_backoff=timedelta(milliseconds=20),
    request_timeout=timedelta(seconds=10),
)


@dataclass(frozen=True)
class Span:
    """A message located without any inventory format (from the file itself)."""

    offset: int
    end: int | None
    label: str


@dataclass(frozen=True)
class Mirror:
    folder: Path
    grib: Path
    data: bytes
    spans: list[Span]


@pytest.fixture(scope="module")
def mirror(real_fixtures_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Mirror:
    data = (real_fixtures_dir / "gfs" / "gfs.t12z.pgrbf120.2p5deg.grib2").read_bytes()
    folder = tmp_path_factory.mktemp("mirror")
    grib = folder / BUCKET / KEY
    grib.parent.mkdir(parents=True)
    grib.write_bytes(data)
    spans = [
        Span(offset, offset + length, f"message {number}")
        for number, (offset, length) in enumerate(scan_messages(data), start=1)
    ]
    return Mirror(folder, grib, data, spans)


def test_spans_via_loopback_mirror_fetch_only_their_bytes(
    mirror: Mirror, scratch: ScratchDir
) -> None:
    wanted = [mirror.spans[i] for i in (3, 40, 41, 200)]
    with serve_mirror(mirror.folder) as server:
        url = f"{server.url}/{BUCKET}/{KEY}"
        path = download_messages(url, wanted, scratch.file_for(url), retry=FAST, max_gap=0)
        needed = sum((s.end or 0) - s.offset for s in wanted)
        assert server.stats.bytes_by_path[f"/{BUCKET}/{KEY}"] == needed
        assert len([h for h in server.stats.range_headers if h is not None]) == 3  # 40-41 touch
    expected = b"".join(mirror.data[s.offset : s.end] for s in wanted)
    assert path.read_bytes() == expected
    assert not list(path.parent.glob("*.part"))
    offsets = local_message_offsets(path, wanted)
    assert [path.read_bytes()[o : o + 4] for o in offsets] == [b"GRIB"] * 4


def test_missing_file_is_reported(mirror: Mirror) -> None:
    with serve_mirror(mirror.folder) as server:
        url = f"{server.url}/{BUCKET}/model.20110110/12/not-there.grib2"
        with pytest.raises(SourceFileMissingError) as error:
            download_file(url, retry=FAST)
        assert url in str(error.value)
        # The host's probe (a HEAD) and the GET, not retried.
        assert server.stats.methods == {"HEAD": 1, "GET": 1}
    with pytest.raises(SourceFileMissingError):
        download_file(str(mirror.folder / "nope.grib2"))


def test_coalesce_ranges() -> None:
    assert coalesce_ranges([(0, 10), (10, 20), (25, 30), (100, 110)], max_gap=5) == [
        (0, 30),
        (100, 110),
    ]
    assert coalesce_ranges([(5, 10), (0, 3)], max_gap=0) == [(0, 3), (5, 10)]
    assert coalesce_ranges([(0, 10), (2, 5)], max_gap=0) == [(0, 10)]


def test_scratch_dir_lifecycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFORMATTERS_SCRATCH", str(tmp_path / "s"))
    with ScratchDir("model-analysis") as scratch:
        assert scratch.path.parent == tmp_path / "s"
        assert scratch.path.name.startswith("model-analysis-")
        target = scratch.file_for("s3://b/x/y.grib2")
        assert target.parent == scratch.path and target.name == "b__x__y.grib2"
    assert not scratch.path.exists()


def test_an_offset_off_a_message_start_names_the_bytes_found(
    mirror: Mirror, scratch: ScratchDir
) -> None:
    """An inventory that does not match its file: the error shows what the offset holds (the
    bytes, not a view of the fetched buffer) and nothing is written."""
    shifted = replace(mirror.spans[10], offset=mirror.spans[10].offset + 4)
    with serve_mirror(mirror.folder) as server:
        url = f"{server.url}/{BUCKET}/{KEY}"
        with pytest.raises(CorruptMessageError) as error:
            download_messages(url, [shifted], scratch.file_for(url), retry=FAST)
    found = mirror.data[shifted.offset : shifted.offset + 8]
    assert f"(got {found!r})" in str(error.value)
    assert not scratch.file_for(url).exists()


def test_last_message_end_resolved_by_head(mirror: Mirror, scratch: ScratchDir) -> None:
    last = replace(mirror.spans[-1], end=None)
    with serve_mirror(mirror.folder) as server:
        url = f"{server.url}/{BUCKET}/{KEY}"
        path = download_messages(url, [last], scratch.file_for(url), retry=FAST)
        assert server.stats.bytes_by_path[f"/{BUCKET}/{KEY}"] == len(mirror.data) - last.offset
        # The host's probe, the HEAD for the file's size, the ranged GET.
        assert server.stats.methods == {"HEAD": 2, "GET": 1}
        assert server.stats.range_headers[-1] == f"bytes={last.offset}-{len(mirror.data) - 1}"
    assert path.read_bytes() == mirror.data[last.offset :]


def test_json_lines_index_entries_download(real_fixtures_dir: Path, scratch: ScratchDir) -> None:
    blob = real_fixtures_dir / "ecmwf" / "s2s_control_2026-08-10T00Z.grib2"
    entries = parse_json_lines_index(Path(f"{blob}.index").read_text())
    wanted = select_json_lines_entries(
        entries, [{"variable": "temperature", "lead_hours": "24"}], url=str(blob)
    )
    with serve_mirror(blob.parent) as server:
        url = f"{server.url}/{blob.name}"
        path = download_messages(url, wanted, scratch.file_for(url), retry=FAST)
        assert server.stats.bytes_sent == wanted[0].length
    original = pygrib.fromstring(blob.read_bytes()[wanted[0].offset : wanted[0].end])
    decoded = pygrib.fromstring(path.read_bytes())
    np.testing.assert_array_equal(decoded.values, original.values)


def test_forbidden_is_missing_and_timeouts_fail_clearly(mirror: Mirror) -> None:
    url_path = f"{BUCKET}/{KEY}"
    with serve_mirror(
        mirror.folder, faults=FaultConfig(error_rate=1.0, error_status=403)
    ) as server:
        with pytest.raises(SourceFileMissingError, match="not published yet"):
            download_file(f"{server.url}/{url_path}", retry=FAST)
        assert server.stats.methods == {"HEAD": 1, "GET": 1}  # the probe; 4xx are not retried
    impatient = RetryPolicy(
        max_retries=1,
        initial_backoff=timedelta(milliseconds=1),
        request_timeout=timedelta(milliseconds=300),
    )
    with serve_mirror(mirror.folder, faults=FaultConfig(delay_seconds=1.0)) as server:
        url = f"{server.url}/{url_path}"
        with pytest.raises(SourceDownloadError, match=f"{url}: download failed after retries"):
            download_file(url, retry=impatient)
        assert server.stats.methods["GET"] == 2  # first try + one retry (after the probe)
