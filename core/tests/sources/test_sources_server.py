import urllib.error
import urllib.request
from pathlib import Path

import pytest

from reformatters.core.sources.server import FaultConfig, serve_mirror

CONTENT = bytes(range(256)) * 40


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "bucket" / "dir").mkdir(parents=True)
    (tmp_path / "bucket" / "dir" / "file.bin").write_bytes(CONTENT)
    (tmp_path / "secret.txt").write_text("outside")
    return tmp_path / "bucket"


def _get(url: str, headers: dict[str, str] | None = None, method: str = "GET"):
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    return urllib.request.urlopen(request, timeout=10)


def test_single_multi_range_head_and_404(folder: Path) -> None:
    with serve_mirror(folder) as server:
        assert server.url.startswith("http://127.0.0.1:")
        url = f"{server.url}/dir/file.bin"
        with _get(url, {"Range": "bytes=10-19"}) as response:
            assert response.status == 206
            assert response.headers["Content-Range"] == f"bytes 10-19/{len(CONTENT)}"
            assert response.read() == CONTENT[10:20]
        with _get(url, {"Range": "bytes=0-3,100-103"}) as response:
            assert response.status == 206
            assert response.headers["Content-Type"].startswith("multipart/byteranges")
            body = response.read()
            assert CONTENT[0:4] in body and CONTENT[100:104] in body
        with _get(url, method="HEAD") as response:
            assert int(response.headers["Content-Length"]) == len(CONTENT)
            assert response.read() == b""
        with pytest.raises(urllib.error.HTTPError) as missing:
            _get(f"{server.url}/dir/nope.bin")
        assert missing.value.code == 404
        with pytest.raises(urllib.error.HTTPError):
            _get(f"{server.url}/../secret.txt")
        assert server.stats.requests == 5
        assert server.stats.statuses[206] == 2
        assert server.stats.bytes_by_path["/dir/file.bin"] == 10 + len(body)
        server.stats.reset()
        assert server.stats.requests == 0


def test_fault_injection(folder: Path) -> None:
    faults = FaultConfig(error_rate=0.5, seed=1, ignore_range=True, delay_seconds=0.01)
    with serve_mirror(folder, faults=faults) as server:
        codes = []
        for _ in range(20):
            try:
                with _get(f"{server.url}/dir/file.bin", {"Range": "bytes=0-9"}) as response:
                    codes.append(response.status)
                    assert response.read() == CONTENT  # Range ignored: whole file, 200
            except urllib.error.HTTPError as error:
                codes.append(error.code)
        assert set(codes) == {200, 503}
        assert server.stats.injected_errors == codes.count(503)
    # The same seed injects the same faults.
    with serve_mirror(folder, faults=faults) as again:
        repeat = []
        for _ in range(20):
            try:
                with _get(f"{again.url}/dir/file.bin") as response:
                    repeat.append(response.status)
            except urllib.error.HTTPError as error:
                repeat.append(error.code)
    assert repeat == codes
