"""A source that cannot be reached stops a backfill at once with one line; a source that answers
keeps its per-file retries; log lines for people on a terminal, JSON for machines."""

from __future__ import annotations

import json
import os
import pty
import re
import socket
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

from reformatters.core.sources.server import FaultConfig, serve_mirror
from reformatters.example_plugin.dataset import write_example_source
from reformatters.tools.testing import reformat_command, run_reformat

TIMES = pd.date_range("2000-01-01T00", "2000-01-01T06", freq="h", inclusive="left")
BACKFILL = ("example-tiny", "backfill-local", "2000-01-01T06")
# A deadline, not a benchmark: the promise is "within a minute", retries included.
DEADLINE_SECONDS = 60


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _backfill(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_reformat(
        *args,
        "--output-url",
        str(tmp_path / "output"),
        env={"REFORMATTERS_SCRATCH": str(tmp_path / "scratch"), **env},
        check=False,
        timeout=DEADLINE_SECONDS,
    )


def _error_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_a_closed_port_stops_the_backfill_with_one_line(tmp_path: Path) -> None:
    port = _closed_port()
    result = _backfill(tmp_path, *BACKFILL, REFORMATTERS_SOURCE_MIRROR=f"http://127.0.0.1:{port}")
    assert result.returncode == 1
    [line] = _error_lines(result.stderr)
    assert f"source host http://127.0.0.1:{port} cannot be reached" in line
    assert "REFORMATTERS_SOURCE_MIRROR" in line and "AWS_*" in line
    store = tmp_path / "output" / "example-tiny" / "v0.1.0.zarr"
    assert not (store / ".reformatters" / "lease.json").exists()  # released for the next run


@pytest.mark.slow
def test_a_wrong_s3_endpoint_stops_a_gfs_backfill_with_one_line(tmp_path: Path) -> None:
    """The issue's case: `AWS_ENDPOINT_URL` with a typo, NOAA's bucket read through it."""
    port = _closed_port()
    result = _backfill(
        tmp_path,
        "noaa-gfs-forecast",
        "backfill-local",
        "2024-01-01T06",
        "--filter-start",
        "2024-01-01T00",
        "--filter-variable-names",
        "temperature_2m",
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
    )
    assert result.returncode == 1
    [line] = _error_lines(result.stderr)
    assert f"source host s3://noaa-gfs-bdp-pds at http://127.0.0.1:{port} cannot be" in line
    assert "error sending request" in line


def test_403_to_everything_says_credentials(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    write_example_source(mirror, TIMES)
    with serve_mirror(mirror, faults=FaultConfig(status_for_all=403)) as server:
        result = _backfill(tmp_path, *BACKFILL, REFORMATTERS_SOURCE_MIRROR=server.url)
        requests = server.stats.methods["GET"]
    assert result.returncode == 1
    [line] = _error_lines(result.stderr)
    # At least the limit (3): the download threads' requests in flight answer 403 too.
    match = re.search(
        rf"source host {server.url} answered 403 Forbidden to all (\d+) requests", line
    )
    assert match is not None and 3 <= int(match.group(1)) <= requests <= len(TIMES), line
    assert "credentials" in line and "bucket policy" in line


def test_a_source_that_fails_each_file_once_is_retried(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    write_example_source(mirror, TIMES)
    with serve_mirror(mirror, faults=FaultConfig(fail_first_get=True)) as server:
        result = _backfill(tmp_path, *BACKFILL, REFORMATTERS_SOURCE_MIRROR=server.url)
        injected = server.stats.injected_errors
    assert result.returncode == 0, result.stderr
    assert injected == len(TIMES)
    assert "source files: 6 read, 0 missing, 0 failed" in result.stderr
    store = tmp_path / "output" / "example-tiny" / "v0.1.0.zarr"
    ds = xr.open_zarr(store, chunks=None)
    assert all(bool(ds[name].notnull().all()) for name in ds.data_vars)


def _run_in_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run with stdin, stdout and stderr on a pseudo-terminal; what it printed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(args, stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=DEADLINE_SECONDS) == 0
    return b"".join(chunks).decode(errors="replace")


def _log_env(tmp_path: Path) -> dict[str, str]:
    mirror = tmp_path / "mirror"
    write_example_source(mirror, TIMES)
    return {
        **os.environ,
        "REFORMATTERS_SOURCE_MIRROR": str(mirror),
        "REFORMATTERS_OUTPUT_URL": str(tmp_path / "output"),
        "REFORMATTERS_LOG_LEVEL": "INFO",
        "COLUMNS": "120",
    }


def test_a_terminal_gets_console_lines(tmp_path: Path) -> None:
    raw = _run_in_terminal(reformat_command(*BACKFILL), _log_env(tmp_path))
    output = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw)  # colours and cursor moves
    assert "\x1b[" in raw  # a terminal gets colours
    assert not any(line.lstrip().startswith("{") for line in output.splitlines()), output
    # Rich wraps the line at the terminal's width: level, time, message, then the fields.
    assert re.search(r"\d\d:\d\d:\d\d \[info +\] downloaded +job=", output), output
    assert "files=6" in output and "source files: 6 read, 0 missing, 0 failed" in output


def test_a_pipe_gets_json_lines_and_the_format_can_be_chosen(tmp_path: Path) -> None:
    env = _log_env(tmp_path)
    piped = subprocess.run(
        reformat_command(*BACKFILL), env=env, capture_output=True, text=True, check=True
    )
    records = [json.loads(line) for line in piped.stderr.splitlines() if line.startswith("{")]
    assert any(r["event"] == "downloaded" and r["level"] == "info" for r in records)
    chosen = subprocess.run(
        reformat_command(*BACKFILL),
        env={**env, "REFORMATTERS_LOG_FORMAT": "console"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "downloaded" in chosen.stderr and not chosen.stderr.lstrip().startswith("{")
    wrong = subprocess.run(
        reformat_command("list"),
        env={**env, "REFORMATTERS_LOG_FORMAT": "yaml"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == (
        "error: REFORMATTERS_LOG_FORMAT='yaml' is not a log format: use console or json"
    )
