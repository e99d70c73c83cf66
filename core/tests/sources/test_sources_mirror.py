from pathlib import Path

import pytest

from reformatters.core.sources.mirror import SOURCE_MIRROR_ENV, resolve_source_url

URL = "s3://noaa-gfs-bdp-pds/gfs.20240101/00/atmos/gfs.t00z.pgrb2.0p25.f000"


def test_no_mirror_keeps_s3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SOURCE_MIRROR_ENV, raising=False)
    assert resolve_source_url(URL) == URL


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/noaa-gfs-bdp-pds/gfs.20240101/00/atmos/"),
        (
            "https://mirror.example/data/",
            "https://mirror.example/data/noaa-gfs-bdp-pds/gfs.20240101/",
        ),
        ("s3://my-mirror/prefix", "s3://my-mirror/prefix/noaa-gfs-bdp-pds/gfs.20240101/"),
    ],
)
def test_url_mirrors(monkeypatch: pytest.MonkeyPatch, base: str, expected: str) -> None:
    monkeypatch.setenv(SOURCE_MIRROR_ENV, base)
    resolved = resolve_source_url(URL)
    assert resolved.startswith(expected)
    assert resolved.endswith("/gfs.t00z.pgrb2.0p25.f000")


def test_local_folder_mirror(tmp_path: Path) -> None:
    resolved = resolve_source_url(URL, mirror=str(tmp_path))
    assert resolved == str(
        tmp_path / "noaa-gfs-bdp-pds/gfs.20240101/00/atmos/gfs.t00z.pgrb2.0p25.f000"
    )


def test_http_urls_are_rewritten_with_their_host_as_bucket() -> None:
    assert (
        resolve_source_url("https://nomads/x/y.grib2", mirror="http://m")
        == "http://m/nomads/x/y.grib2"
    )
    assert resolve_source_url("https://nomads/x.grib2", mirror="") == "https://nomads/x.grib2"


def test_local_paths_are_not_rewritten(tmp_path: Path) -> None:
    assert resolve_source_url("/data/x.grib2", mirror=str(tmp_path)) == "/data/x.grib2"
