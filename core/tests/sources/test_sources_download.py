import pyproj  # noqa: F401  # isort: skip

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pygrib
import pytest

from reformatters.core.sources.download import (
    DEFAULT_COALESCE_GAP,
    RetryPolicy,
    ScratchDir,
    coalesce_ranges,
    collect_outcomes,
    download_file,
    download_messages,
    fetch_noaa_messages,
    file_size,
    local_message_offsets,
)
from reformatters.core.sources.errors import (
    CorruptMessageError,
    RangeNotHonouredError,
    SourceDownloadError,
    SourceFileMissingError,
)
from reformatters.core.sources.grib import (
    GribDecodeError,
    GridSpec,
    build_noaa_inventory,
    noaa_identity,
    read_message,
)
from reformatters.core.sources.inventory import (
    InventoryEntry,
    MessageSelector,
    format_noaa_idx,
    parse_ecmwf_index,
    parse_noaa_idx,
    select_ecmwf_entries,
    select_entries,
)
from reformatters.core.sources.mirror import resolve_source_url
from reformatters.core.sources.server import FaultConfig, serve_mirror
from reformatters.core.testing.fixtures import MotoS3Server

BUCKET = "noaa-gfs-bdp-pds"
KEY = "gfs.20110110/12/atmos/gfs.t12z.pgrbf120.2p5deg.grib2"
SOURCE_URL = f"s3://{BUCKET}/{KEY}"
GRID = GridSpec("regular_ll", 144, 73, 90.0, 0.0, -90.0, 357.5)
FAST = RetryPolicy(
    max_retries=6,
    initial_backoff=timedelta(milliseconds=1),
    max_backoff=timedelta(milliseconds=20),
    request_timeout=timedelta(seconds=10),
)
# A variable group as a dataset would request it (U/V 10 m are sub-messages of one message).
GROUP = [
    MessageSelector("TMP", "2 m above ground", "120 hour fcst"),
    MessageSelector("UGRD", "10 m above ground", "120 hour fcst"),
    MessageSelector("VGRD", "10 m above ground", "120 hour fcst"),
    MessageSelector("APCP", "surface", "114-120 hour acc fcst"),
    MessageSelector("PRMSL", "mean sea level", "120 hour fcst"),
    MessageSelector("PWAT", "entire atmosphere (considered as a single layer)"),
    MessageSelector("TMP", "500 mb"),
]
PYGRIB_KEYS = {
    "TMP:2 m above ground": ("2t", "heightAboveGround", 2),
    "UGRD:10 m above ground": ("10u", "heightAboveGround", 10),
    "VGRD:10 m above ground": ("10v", "heightAboveGround", 10),
    "APCP:surface": ("tp", "surface", 0),
    "PRMSL:mean sea level": ("prmsl", "meanSea", 0),
    "PWAT:entire atmosphere (considered as a single layer)": ("pwat", "atmosphereSingleLayer", 0),
    "TMP:500 mb": ("t", "isobaricInhPa", 500),
}


@dataclass(frozen=True)
class Mirror:
    folder: Path
    grib: Path
    data: bytes
    reference: dict[str, np.ndarray]


@pytest.fixture(scope="module")
def mirror(real_fixtures_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Mirror:
    source = real_fixtures_dir / "gfs" / "gfs.t12z.pgrbf120.2p5deg.grib2"
    data = source.read_bytes()
    folder = tmp_path_factory.mktemp("mirror")
    grib = folder / BUCKET / KEY
    grib.parent.mkdir(parents=True)
    grib.write_bytes(data)
    Path(f"{grib}.idx").write_text(format_noaa_idx(build_noaa_inventory(data)))
    by_key = {(m.shortName, m.typeOfLevel, m.level): m.values for m in pygrib.open(str(source))}
    reference = {name: by_key[key].astype(np.float32) for name, key in PYGRIB_KEYS.items()}
    return Mirror(folder, grib, data, reference)


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[ScratchDir]:
    with ScratchDir("noaa-gfs-forecast", root=tmp_path / "scratch") as directory:
        yield directory


def _fetch_group(
    url: str, scratch: ScratchDir, max_gap: int = DEFAULT_COALESCE_GAP
) -> tuple[list[InventoryEntry], Path]:
    fetched = fetch_noaa_messages(url, GROUP, scratch.file_for(url), retry=FAST, max_gap=max_gap)
    assert fetched.offsets == local_message_offsets(fetched.path, fetched.entries)
    return fetched.entries, fetched.path


def _assert_values_match(mirror: Mirror, selected: list[InventoryEntry], path: Path) -> None:
    for entry, offset in zip(selected, local_message_offsets(path, selected), strict=True):
        expected = noaa_identity(entry.element, entry.level, entry.forecast)
        values = read_message(path, offset, expected=expected, grid=GRID)
        np.testing.assert_array_equal(values, mirror.reference[f"{entry.element}:{entry.level}"])


def _unique_bytes(selected: list[InventoryEntry]) -> int:
    return sum((e.end or 0) - e.offset for e in {e.offset: e for e in selected}.values())


def test_group_via_loopback_mirror_fetches_only_needed_bytes(
    mirror: Mirror, scratch: ScratchDir
) -> None:
    with serve_mirror(mirror.folder) as server:
        url = resolve_source_url(SOURCE_URL, mirror=server.url)
        assert url == f"{server.url}/{BUCKET}/{KEY}"
        selected, path = _fetch_group(url, scratch, max_gap=0)
        grib_path = f"/{BUCKET}/{KEY}"
        needed = _unique_bytes(selected)
        assert server.stats.bytes_by_path[grib_path] == needed
        assert needed < len(mirror.data) / 20
        grib_requests = [h for h in server.stats.range_headers if h is not None]
        assert len(grib_requests) == len({e.offset for e in selected})  # one range per message
    assert path.stat().st_size == needed
    assert not list(path.parent.glob("*.part"))
    _assert_values_match(mirror, selected, path)


def test_coalescing_merges_close_ranges(mirror: Mirror, scratch: ScratchDir) -> None:
    with serve_mirror(mirror.folder) as server:
        url = f"{server.url}/{BUCKET}/{KEY}"
        selected, path = _fetch_group(url, scratch, max_gap=64 * 1024)
        headers = [h for h in server.stats.range_headers if h is not None]
        assert len(headers) < len({e.offset for e in selected})
        sent = server.stats.bytes_by_path[f"/{BUCKET}/{KEY}"]
        assert _unique_bytes(selected) < sent < len(mirror.data) / 4
    _assert_values_match(mirror, selected, path)


def test_group_via_moto_s3(
    mirror: Mirror,
    scratch: ScratchDir,
    moto_s3_server: MotoS3Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in moto_s3_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REFORMATTERS_SOURCE_MIRROR", raising=False)
    moto_s3_server.put(KEY, mirror.data)
    moto_s3_server.put(f"{KEY}.idx", Path(f"{mirror.grib}.idx").read_bytes())
    url = resolve_source_url(f"s3://{moto_s3_server.bucket}/{KEY}")
    selected, path = _fetch_group(url, scratch, max_gap=0)
    assert path.stat().st_size == _unique_bytes(selected)
    _assert_values_match(mirror, selected, path)
    # moto logs every request; the GRIB file was only ever read with partial (206) responses.
    gets = [line for line in moto_s3_server.request_log() if f"GET /test-bucket/{KEY} " in line]
    assert len(gets) == len({e.offset for e in selected})
    assert all('" 206 ' in line for line in gets), gets
    assert file_size(url, retry=FAST) == len(mirror.data)
    with pytest.raises(SourceFileMissingError, match="not published yet"):
        download_file(f"s3://{moto_s3_server.bucket}/missing.grib2", retry=FAST)


def test_mirror_via_local_folder(mirror: Mirror, scratch: ScratchDir) -> None:
    url = resolve_source_url(SOURCE_URL, mirror=str(mirror.folder))
    assert url == str(mirror.grib)
    selected, path = _fetch_group(url, scratch)
    _assert_values_match(mirror, selected, path)


def test_injected_5xx_are_retried(mirror: Mirror, scratch: ScratchDir) -> None:
    with serve_mirror(mirror.folder, faults=FaultConfig(error_rate=0.1, seed=7)) as server:
        url = f"{server.url}/{BUCKET}/{KEY}"
        selected, path = _fetch_group(url, scratch, max_gap=0)
        assert server.stats.injected_errors > 0
    _assert_values_match(mirror, selected, path)


def test_server_ignoring_range_never_yields_wrong_bytes(
    mirror: Mirror, scratch: ScratchDir
) -> None:
    entries = parse_noaa_idx(Path(f"{mirror.grib}.idx").read_text())
    selected = select_entries(entries, GROUP, url=SOURCE_URL)
    with serve_mirror(mirror.folder, faults=FaultConfig(ignore_range=True)) as server:
        url = f"{server.url}/{BUCKET}/{KEY}"
        with pytest.raises(RangeNotHonouredError, match=url):
            download_messages(url, selected, scratch.file_for(url), retry=FAST)
        assert not scratch.file_for(url).exists()
        path = download_messages(
            url, selected, scratch.file_for(url), retry=FAST, full_file_fallback=True
        )
    _assert_values_match(mirror, selected, path)


def test_missing_file_is_reported(mirror: Mirror, scratch: ScratchDir) -> None:
    with serve_mirror(mirror.folder) as server:
        url = f"{server.url}/{BUCKET}/gfs.20110110/12/atmos/not-there.grib2"
        with pytest.raises(SourceFileMissingError) as error:
            download_file(f"{url}.idx", retry=FAST)
        assert url in str(error.value)
        # The host's probe (a HEAD) and the GET, not retried.
        assert server.stats.methods == {"HEAD": 1, "GET": 1}
    with pytest.raises(SourceFileMissingError):
        download_file(str(mirror.folder / "nope.idx"))


def _broken_mirror(mirror: Mirror, folder: Path) -> dict[str, str]:
    """Three files: intact, truncated (upload cut short) and corrupt (garbled data section)."""
    idx = Path(f"{mirror.grib}.idx").read_text()
    entries = parse_noaa_idx(idx, file_size=len(mirror.data))
    apcp = next(e for e in entries if e.element == "APCP")
    names = {"good": mirror.data, "truncated": mirror.data[: apcp.offset + 100]}
    corrupt = bytearray(mirror.data)
    assert apcp.end is not None
    corrupt[apcp.offset + 200 : apcp.end - 4] = b"\x00" * (apcp.end - 4 - apcp.offset - 200)
    names["corrupt"] = bytes(corrupt)
    for name, data in names.items():
        path = folder / BUCKET / f"{name}.grib2"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        Path(f"{path}.idx").write_text(idx)
    return {name: f"{BUCKET}/{name}.grib2" for name in [*names, "missing"]}


def test_bad_files_fail_alone(mirror: Mirror, scratch: ScratchDir, tmp_path: Path) -> None:
    keys = _broken_mirror(mirror, tmp_path / "broken")
    with serve_mirror(tmp_path / "broken") as server:
        urls = [f"{server.url}/{key}" for key in keys.values()]

        def process(url: str) -> dict[str, np.ndarray]:
            selected, path = _fetch_group(url, scratch, max_gap=0)
            offsets = local_message_offsets(path, selected)
            return {
                f"{e.element}:{e.level}": read_message(
                    path, offset, expected=noaa_identity(e.element, e.level, e.forecast), url=url
                )
                for e, offset in zip(selected, offsets, strict=True)
            }

        outcomes = collect_outcomes(urls, process)
    good, truncated, corrupt, missing = outcomes
    assert good.ok and good.value is not None
    np.testing.assert_array_equal(good.value["APCP:surface"], mirror.reference["APCP:surface"])
    assert isinstance(truncated.error, CorruptMessageError), truncated
    assert truncated.url in str(truncated.error) and "APCP" in str(truncated.error)
    assert isinstance(corrupt.error, GribDecodeError | CorruptMessageError)
    assert corrupt.url in str(corrupt.error) and "message at byte" in str(corrupt.error)
    assert isinstance(missing.error, SourceFileMissingError)
    assert f"{missing.url}.idx" in str(missing.error)


def test_coalesce_ranges() -> None:
    assert coalesce_ranges([(0, 10), (10, 20), (25, 30), (100, 110)], max_gap=5) == [
        (0, 30),
        (100, 110),
    ]
    assert coalesce_ranges([(5, 10), (0, 3)], max_gap=0) == [(0, 3), (5, 10)]
    assert coalesce_ranges([(0, 10), (2, 5)], max_gap=0) == [(0, 10)]


def test_scratch_dir_lifecycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFORMATTERS_SCRATCH", str(tmp_path / "s"))
    with ScratchDir("noaa-hrrr-analysis") as scratch:
        assert scratch.path.parent == tmp_path / "s"
        assert scratch.path.name.startswith("noaa-hrrr-analysis-")
        target = scratch.file_for("s3://b/x/y.grib2")
        assert target.parent == scratch.path and target.name == "b__x__y.grib2"
    assert not scratch.path.exists()


def test_an_offset_off_a_message_start_names_the_bytes_found(
    mirror: Mirror, scratch: ScratchDir
) -> None:
    """An inventory that does not match its file: the error shows what the offset holds (the
    bytes, not a view of the fetched buffer) and nothing is written."""
    with serve_mirror(mirror.folder) as server:
        url = f"{server.url}/{BUCKET}/{KEY}"
        entries = parse_noaa_idx(download_file(f"{url}.idx").decode())
        [tmp] = select_entries(entries, [MessageSelector("TMP", "500 mb")], url=url)
        assert tmp.end is not None
        shifted = replace(tmp, offset=tmp.offset + 4)
        with pytest.raises(CorruptMessageError) as error:
            download_messages(url, [shifted], scratch.file_for(url), retry=FAST)
    found = mirror.data[shifted.offset : shifted.offset + 8]
    assert f"(got {found!r})" in str(error.value)
    assert not scratch.file_for(url).exists()


def test_truncated_last_message_names_it(
    mirror: Mirror, scratch: ScratchDir, tmp_path: Path
) -> None:
    keys = _broken_mirror(mirror, tmp_path / "broken")
    with serve_mirror(tmp_path / "broken") as server:
        url = f"{server.url}/{keys['truncated']}"
        entries = parse_noaa_idx(download_file(f"{url}.idx").decode())
        [apcp] = select_entries(entries, [MessageSelector("APCP", "surface")], url=url)
        with pytest.raises(CorruptMessageError) as error:
            download_messages(url, [apcp], scratch.file_for(url), retry=FAST)
    text = str(error.value)
    assert url in text and apcp.label in text and "truncated or corrupt GRIB message" in text


def test_last_message_end_resolved_by_head(mirror: Mirror, scratch: ScratchDir) -> None:
    entries = parse_noaa_idx(Path(f"{mirror.grib}.idx").read_text())
    last = entries[-1]
    assert last.end is None
    with serve_mirror(mirror.folder) as server:
        url = f"{server.url}/{BUCKET}/{KEY}"
        path = download_messages(url, [last], scratch.file_for(url), retry=FAST)
        assert server.stats.bytes_by_path[f"/{BUCKET}/{KEY}"] == len(mirror.data) - last.offset
        # The host's probe, the HEAD for the file's size, the ranged GET.
        assert server.stats.methods == {"HEAD": 2, "GET": 1}
        assert server.stats.range_headers[-1] == f"bytes={last.offset}-{len(mirror.data) - 1}"
    assert path.read_bytes() == mirror.data[last.offset :]


def test_ecmwf_index_entries_download(real_fixtures_dir: Path, scratch: ScratchDir) -> None:
    blob = real_fixtures_dir / "ecmwf" / "s2s_control_2026-08-10T00Z.grib2"
    entries = parse_ecmwf_index(Path(f"{blob}.index").read_text())
    wanted = select_ecmwf_entries(
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
    url_path = f"{BUCKET}/{KEY}.idx"
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


def test_an_inventory_lacking_lines_still_yields_each_message(
    real_fixtures_dir: Path, scratch: ScratchDir
) -> None:
    """The real GDAS-wave inventory with lines 3-5 and the last ten dropped: the ranges of lines
    2 and 9 then run over messages the inventory no longer lists; each yields its own message."""
    path = real_fixtures_dir / "misc" / "gdaswave.t00z.wcoast.0p16.f000.grib2"
    data = path.read_bytes()
    full = parse_noaa_idx(Path(f"{path}.idx").read_text(), file_size=len(data))
    partial = parse_noaa_idx(format_noaa_idx([*full[:2], *full[5:9]]))
    assert partial[-1].end is None and partial[1].end == full[5].offset
    fetched = download_messages(f"file://{path}", partial, scratch.file_for("partial"))
    expected = b"".join(data[e.offset : e.end] for e in [*full[:2], *full[5:9]])
    assert fetched.read_bytes() == expected
