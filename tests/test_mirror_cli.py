"""`reformat mirror synthesize` and `reformat mirror serve` as users run them."""

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np

from reformatters.tools.testing import reformat_command, run_reformat


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_synthesize_then_serve_with_ranges(tmp_path: Path) -> None:
    folder = tmp_path / "mirror"
    result = run_reformat(
        "mirror", "synthesize", "example-tiny", "2000-01-01T00", "2000-01-01T03", str(folder)
    )
    assert "wrote 3 files" in result.stderr
    files = sorted((folder / "example-tiny-source").rglob("*.npz"))
    assert [f.name for f in files] == ["00.npz", "01.npz", "02.npz"]

    port = _free_port()
    server = subprocess.Popen(
        reformat_command("mirror", "serve", str(folder), "--port", str(port)),
        env={**os.environ, "REFORMATTERS_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/example-tiny-source/2000/01/01/01.npz"
        deadline = time.monotonic() + 120
        while True:
            try:
                request = urllib.request.Request(url, headers={"Range": "bytes=0-9"})
                with urllib.request.urlopen(request, timeout=2) as response:
                    assert response.status == 206
                    assert response.read() == files[1].read_bytes()[:10]
                break
            except OSError:
                assert server.poll() is None, "mirror server exited"
                assert time.monotonic() < deadline, "mirror server did not start"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    with np.load(files[1]) as npz:
        assert set(npz.files) == {"t2m", "ws10", "crain"}


def test_synthesize_rejects_reversed_range(tmp_path: Path) -> None:
    result = run_reformat(
        "mirror",
        "synthesize",
        "example-tiny",
        "2000-01-02",
        "2000-01-01",
        str(tmp_path),
        check=False,
    )
    assert result.returncode != 0
    assert "END must be after START" in result.stderr
