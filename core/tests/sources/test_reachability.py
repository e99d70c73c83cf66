"""The first request to a source host decides whether it can be reached at all."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import pytest

from reformatters.core.sources.errors import SourceDownloadError, SourceFileMissingError
from reformatters.core.sources.reachability import (
    FORBIDDEN_LIMIT,
    SourceForbiddenError,
    SourceUnreachableError,
)
from reformatters.core.sources.server import FaultConfig, serve_mirror
from reformatters.core.sources.transport import RetryPolicy, download_file, source_host

FAST = RetryPolicy(max_retries=1, initial_backoff=timedelta(milliseconds=1))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for i in range(FORBIDDEN_LIMIT + 2):
        (tmp_path / f"file-{i}").write_bytes(b"x" * (i + 1))
    return tmp_path


def test_a_host_that_refuses_connections_is_unreachable_for_every_request() -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(SourceUnreachableError) as error:
        download_file(f"{base}/a", retry=FAST)
    assert str(error.value).startswith(f"source host {base} cannot be reached (")
    assert f"first request: {base}/a" in str(error.value)
    # The verdict stands for the process: no second round of retries for the next file.
    with pytest.raises(SourceUnreachableError, match=r"first request: .*/a\)"):
        download_file(f"{base}/b", retry=FAST)


def test_a_host_that_answered_fails_only_the_file(folder: Path) -> None:
    with serve_mirror(folder) as server:
        assert download_file(f"{server.url}/file-0", retry=FAST) == b"x"
        url = server.url
    # The server is gone now: later failures are the file's, after its retries.
    with pytest.raises(SourceDownloadError, match="download failed after retries"):
        download_file(f"{url}/file-1", retry=FAST)


def test_403_to_every_request_stops_after_the_limit(folder: Path) -> None:
    with serve_mirror(folder, faults=FaultConfig(status_for_all=403)) as server:
        for i in range(FORBIDDEN_LIMIT - 1):
            with pytest.raises(SourceFileMissingError):
                download_file(f"{server.url}/file-{i}", retry=FAST)
        with pytest.raises(SourceForbiddenError, match=f"to all {FORBIDDEN_LIMIT} requests"):
            download_file(f"{server.url}/file-{FORBIDDEN_LIMIT}", retry=FAST)


def test_403_after_a_success_is_a_missing_file(folder: Path) -> None:
    """A bucket whose policy hides objects that are not there (403, not 404) once it answered."""
    with serve_mirror(folder) as server:
        assert download_file(f"{server.url}/file-0", retry=FAST) == b"x"
        for i in range(FORBIDDEN_LIMIT + 1):
            with pytest.raises(SourceFileMissingError):
                download_file(f"{server.url}/not-there-{i}", retry=FAST)


def test_a_failing_first_get_is_retried(folder: Path) -> None:
    with serve_mirror(folder, faults=FaultConfig(fail_first_get=True)) as server:
        assert download_file(f"{server.url}/file-1", retry=FAST) == b"xx"
        assert server.stats.injected_errors == 1 and server.stats.methods["GET"] == 2


def test_source_host_names_what_requests_go_to(monkeypatch: pytest.MonkeyPatch) -> None:
    assert source_host("s3://bucket/key") == "s3://bucket"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    assert source_host("s3://bucket/key") == "s3://bucket at http://127.0.0.1:9"
    assert source_host("https://example.org/a/b") == "https://example.org"
    assert source_host("/tmp/file") is None
