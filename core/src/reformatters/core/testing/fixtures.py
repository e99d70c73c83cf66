"""Pytest plugin with fixtures shared by every package's tests.

Enable it with ``pytest_plugins = ["reformatters.core.testing.fixtures"]`` in the repository's
root ``conftest.py``.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Concatenate

import pytest

from reformatters.core.sources.scratch import ScratchDir

__all__ = [
    "MotoS3Server",
    "moto_s3_env",
    "moto_s3_server",
    "real_fixtures_dir",
    "scratch",
    "session_folder",
    "session_mirror",
]

REAL_FIXTURES_ENV = "REFORMATTERS_REAL_FIXTURES"


def _repo_root() -> Path:
    for parent in Path(__file__).resolve().parents:
        if (parent / "uv.lock").is_file():
            return parent
    return Path.cwd()


@pytest.fixture(scope="session")
def real_fixtures_dir() -> Path:
    """Real provider GRIB/inventory files (``$REFORMATTERS_REAL_FIXTURES`` or ../shared/...)."""
    configured = os.environ.get(REAL_FIXTURES_ENV)
    path = Path(configured) if configured else _repo_root().parent / "shared" / "fixtures" / "real"
    if not path.is_dir():
        message = f"real fixtures not found at {path}; set {REAL_FIXTURES_ENV}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def session_folder(
    tmp_path_factory: pytest.TempPathFactory, name: str, write: Callable[[Path], object]
) -> Path:
    """A folder `write` fills once per test session (e.g. a synthesized source mirror), shared
    by the session's xdist workers: they take turns through a file lock, the first writes."""
    session = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        session = session.parent  # a worker's base is a folder inside the session's
    root = session / name
    root.mkdir(parents=True, exist_ok=True)
    done = root / ".complete"
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            write(root)
            done.write_text("ok")
    return root


def session_mirror[**P](
    folder: str, write: Callable[Concatenate[Path, P], object], *args: P.args, **kwargs: P.kwargs
) -> Callable[[pytest.TempPathFactory], Path]:
    """A session fixture: the folder ``folder`` that ``write(folder, *args, **kwargs)`` fills once
    per test session (see ``session_folder``), e.g. a synthesized source mirror. A ``conftest.py``
    or test module names the fixture by the name it binds it to:
    ``model_mirror = session_mirror("model-mirror", synthesize_model_mirror, [init], steps)``."""

    def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
        return session_folder(tmp_path_factory, folder, lambda root: write(root, *args, **kwargs))

    fixture: Callable[[pytest.TempPathFactory], Path] = pytest.fixture(scope="session")(mirror)
    return fixture


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[ScratchDir]:
    """A scratch folder for one test's downloads, inside its ``tmp_path``, removed after it."""
    with ScratchDir("test-dataset", root=tmp_path / "scratch") as directory:
        yield directory


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class MotoS3Server:
    """A local S3-compatible server (moto) with one bucket."""

    endpoint: str
    bucket: str
    log_path: Path

    def request_log(self) -> list[str]:
        """moto's access-log lines so far (e.g. ``"GET /bucket/key HTTP/1.1" 206 -``)."""
        return self.log_path.read_text(errors="replace").splitlines()

    def put(self, key: str, data: bytes) -> None:
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def env(self) -> dict[str, str]:
        """The AWS_* variables that point obstore at this server (set them with monkeypatch)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }


@pytest.fixture(scope="session")
def moto_s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoS3Server]:
    """Start ``moto_server`` on a free loopback port with bucket ``test-bucket``; no global env."""
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("moto") / "access.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/", timeout=1) as response:
                    response.read()
                break
            except OSError:  # URLError, refused connections and timeouts while it starts
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start on {endpoint}")
                time.sleep(0.1)
        server = MotoS3Server(endpoint=endpoint, bucket="test-bucket", log_path=log_path)
        request = urllib.request.Request(f"{endpoint}/{server.bucket}", method="PUT")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def moto_s3_env(moto_s3_server: MotoS3Server, monkeypatch: pytest.MonkeyPatch) -> MotoS3Server:
    """The moto S3 server, with this test's environment pointing object stores at it
    (``MotoS3Server.env``; undone after the test)."""
    for name, value in moto_s3_server.env().items():
        monkeypatch.setenv(name, value)
    return moto_s3_server
