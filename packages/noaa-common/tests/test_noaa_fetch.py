import pyproj  # noqa: F401  # isort: skip

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pygrib
import pytest

from reformatters.core.sources.download import (
    DEFAULT_COALESCE_GAP,
    download_messages,
    local_message_offsets,
)
from reformatters.core.sources.errors import (
    CorruptMessageError,
    RangeNotHonouredError,
    SourceFileMissingError,
)
from reformatters.core.sources.file_outcomes import collect_outcomes
from reformatters.core.sources.grib import GribDecodeError, read_message
from reformatters.core.sources.grib_identity import GridSpec
from reformatters.core.sources.inventory import select_entries
from reformatters.core.sources.mirror import resolve_source_url
from reformatters.core.sources.scratch import ScratchDir
from reformatters.core.sources.server import FaultConfig, serve_mirror
from reformatters.core.sources.transport import RetryPolicy, download_file, file_size
from reformatters.core.testing.fixtures import MotoS3Server
from reformatters.noaa.common.fetch import fetch_noaa_messages
from reformatters.noaa.common.identity import build_noaa_inventory, noaa_identity
from reformatters.noaa.common.idx import IdxEntry, MessageSelector, format_noaa_idx, parse_noaa_idx

BUCKET = "noaa-gfs-bdp-pds"
KEY = "gfs.20110110/12/atmos/gfs.t12z.pgrbf120.2p5deg.grib2"
SOURCE_URL = f"s3://{BUCKET}/{KEY}"
GRID = GridSpec("regular_ll", 144, 73, 90.0, 0.0, -90.0, 357.5)
FAST = RetryPolicy(
    max_retries=6, initial_backoff=timedelta(milliseconds=1), max_backoff=timedelta(milliseconds=20)
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


def _fetch_group(
    url: str, scratch: ScratchDir, max_gap: int = DEFAULT_COALESCE_GAP
) -> tuple[list[IdxEntry], Path]:
    fetched = fetch_noaa_messages(url, GROUP, scratch.file_for(url), retry=FAST, max_gap=max_gap)
    assert fetched.offsets == local_message_offsets(fetched.path, fetched.entries)
    return fetched.entries, fetched.path


def _assert_values_match(mirror: Mirror, selected: list[IdxEntry], path: Path) -> None:
    for entry, offset in zip(selected, local_message_offsets(path, selected), strict=True):
        expected = noaa_identity(entry.element, entry.level, entry.forecast)
        values = read_message(path, offset, expected=expected, grid=GRID)
        np.testing.assert_array_equal(values, mirror.reference[f"{entry.element}:{entry.level}"])


def _unique_bytes(selected: list[IdxEntry]) -> int:
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
    mirror: Mirror, scratch: ScratchDir, moto_s3_env: MotoS3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REFORMATTERS_SOURCE_MIRROR", raising=False)
    moto_s3_env.put(KEY, mirror.data)
    moto_s3_env.put(f"{KEY}.idx", Path(f"{mirror.grib}.idx").read_bytes())
    url = resolve_source_url(f"s3://{moto_s3_env.bucket}/{KEY}")
    selected, path = _fetch_group(url, scratch, max_gap=0)
    assert path.stat().st_size == _unique_bytes(selected)
    _assert_values_match(mirror, selected, path)
    # moto logs every request; the GRIB file was only ever read with partial (206) responses.
    gets = [line for line in moto_s3_env.request_log() if f"GET /test-bucket/{KEY} " in line]
    assert len(gets) == len({e.offset for e in selected})
    assert all('" 206 ' in line for line in gets), gets
    assert file_size(url, retry=FAST) == len(mirror.data)
    with pytest.raises(SourceFileMissingError, match="not published yet"):
        download_file(f"s3://{moto_s3_env.bucket}/missing.grib2", retry=FAST)


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
