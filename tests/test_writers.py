"""Writers never lose published data (the example dataset, through `reformat` as operators run
it, to local folders and S3): a backfill over a published store keeps what it cannot replace and
exits 1; two writers never interleave; a killed writer's lease expires; local problems (a missing
mirror folder, a read-only output, a full scratch disk) end with one line.

A reader polls the store during the writes: the published extent never shrinks and no published
value turns NaN.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from reformatters.core.lease import LEASE_KEY
from reformatters.core.rounding import round_float32_mantissa
from reformatters.core.sources.server import FaultConfig, serve_mirror
from reformatters.core.storage import StoreLocation
from reformatters.core.testing.fixtures import MotoS3Server
from reformatters.example_plugin.dataset import DATA_VARS, write_example_source
from reformatters.tools.testing import reformat_command, run_reformat

pytestmark = pytest.mark.slow

DATASET = "example-tiny"
TIMES = pd.date_range("2000-01-01", "2000-01-03", freq="h", inclusive="left")
REMOVED = pd.Timestamp("2000-01-01T05")


def _source(mirror: Path, time: pd.Timestamp) -> Path:
    return mirror / "example-tiny-source" / f"{time:%Y/%m/%d/%H}.npz"


@pytest.fixture(params=["local", "s3"])
def output(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.setenv("REFORMATTERS_SCRATCH", str(tmp_path / "scratch"))
    if request.param == "local":
        yield str(tmp_path / "output")
        return
    server: MotoS3Server = request.getfixturevalue("moto_s3_server")
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    yield f"s3://{server.bucket}/{uuid.uuid4().hex}"


def _store(output: str) -> StoreLocation:
    return StoreLocation(f"{output}/{DATASET}/v0.1.0.zarr")


def _load(output: str) -> xr.Dataset:
    store = _store(output).zarr_store(read_only=True)
    return xr.open_zarr(store, decode_timedelta=True, chunks=None).load()


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_reformat(DATASET, *args, env=env, check=False, timeout=600)


class Reader:
    """Polls the store from another thread; records a shrinking extent or a published value
    that turned NaN."""

    def __init__(self, output: str, published: xr.Dataset) -> None:
        self.output, self.published = output, published
        self.problems: list[str] = []
        self.reads = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll)

    def _poll(self) -> None:
        while not self._stop.is_set():
            ds = _load(self.output)
            self.reads += 1
            n = self.published.sizes["time"]
            if ds.sizes["time"] < n:
                self.problems.append(f"extent {ds.sizes['time']} < {n}")
            for var in DATA_VARS:
                before = self.published[var.name].values
                now = ds[var.name].values[:n]
                if np.any(np.isnan(now) & ~np.isnan(before)):
                    self.problems.append(f"{var.name}: a published value turned NaN")

    def __enter__(self) -> Reader:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def test_a_backfill_over_a_published_store_keeps_what_it_cannot_replace(
    output: str, tmp_path: Path
) -> None:
    mirror = tmp_path / "mirror"
    write_example_source(mirror, list(TIMES))
    first = _cli(
        "backfill-local",
        "2000-01-03",
        "--output-url",
        output,
        REFORMATTERS_SOURCE_MIRROR=str(mirror),
    )
    assert first.returncode == 0, first.stderr
    published = _load(output)
    # The provider purges one file; another hour now has better data (all zeros).
    _source(mirror, REMOVED).unlink()
    better = pd.Timestamp("2000-01-02T07")
    np.savez(
        _source(mirror, better),
        **{v.internal_attrs.source_key: np.zeros((8, 12), np.float32) for v in DATA_VARS},
    )
    with Reader(output, published) as reader:
        again = _cli(
            "backfill-local",
            "2000-01-03",
            "--output-url",
            output,
            REFORMATTERS_SOURCE_MIRROR=str(mirror),
        )
    assert again.returncode == 1
    last = again.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 1 source file(s) missing; published values were kept")
    listing = Path(last.rsplit("the list: ", 1)[1])
    assert listing.read_text() == "missing\ts3://example-tiny-source/2000/01/01/05.npz\t\n"
    assert reader.problems == [] and reader.reads > 0
    after = _load(output)
    for var in DATA_VARS:
        expected = published[var.name].values.copy()
        improved = np.full((8, 12), var.internal_attrs.offset, dtype=np.float32)
        if var.internal_attrs.keep_mantissa_bits != "no-rounding":
            round_float32_mantissa(improved, var.internal_attrs.keep_mantissa_bits)
        expected[TIMES.get_loc(better)] = improved  # the new data replaced the old
        np.testing.assert_array_equal(after[var.name].values, expected)


def test_an_update_keeps_a_rate_whose_previous_lead_is_gone(
    gfs_mirror: Path, tmp_path: Path
) -> None:
    """GFS precipitation at lead 2 is the 0-2 h accumulation minus the 0-1 h one: once lead 1's
    file is gone, lead 2 has no rate this run, although its own file is there. `update`
    re-processes the newest published run and keeps the published rates of both leads."""
    from reformatters.noaa.common.testing import copy_source_file
    from reformatters.noaa.gfs.synthesis import mirror_path
    from reformatters.noaa.gfs.testing import INIT_00

    mirror = tmp_path / "mirror"
    for lead in (0, 1, 2, 3):
        copy_source_file(gfs_mirror, mirror, mirror_path(gfs_mirror, INIT_00, lead))
    output = str(tmp_path / "output")
    env = {
        "REFORMATTERS_SOURCE_MIRROR": str(mirror),
        "REFORMATTERS_DECODE_PROCESSES": "0",
        "REFORMATTERS_SCRATCH": str(tmp_path / "scratch"),
    }
    args = ("--filter-variable-names", "precipitation_surface", "--output-url", output)
    backfill = run_reformat(
        "noaa-gfs-forecast", "backfill-local", "2021-05-01T06", *args, env=env, check=False
    )
    assert backfill.returncode == 1 and "missing" in backfill.stderr  # leads 4-384 are not here
    store = StoreLocation(f"{output}/noaa-gfs-forecast/v0.1.0.zarr")

    def first_leads() -> xr.DataArray:
        ds = xr.open_zarr(store.zarr_store(read_only=True), decode_timedelta=True)
        return ds["precipitation_surface"].sel(init_time=INIT_00).isel(lead_time=slice(0, 6))

    published = first_leads().load()
    assert np.isfinite(published.values[1:4]).all() and np.isnan(published.values[0]).all()
    for suffix in ("", ".idx"):
        Path(f"{mirror_path(mirror, INIT_00, 1)}{suffix}").unlink()
    update = run_reformat(
        "noaa-gfs-forecast", "update", "--now", "2021-05-01T11:10", "--output-url", output,
        env=env, check=False, timeout=600,
    )  # fmt: skip
    assert update.returncode == 0, update.stderr  # missing files are expected in an update
    assert "kept" in update.stdout
    xr.testing.assert_equal(first_leads().load(), published)


# ---- one writer at a time ---------------------------------------------------------------------

UPDATE = ("update", "--now", "2000-01-02T12:10")  # extends the store to 2000-01-02T11


def _published_until_the_first_day(output: str, mirror: Path) -> None:
    result = _cli(
        "backfill-local",
        "2000-01-02",
        "--output-url",
        output,
        REFORMATTERS_SOURCE_MIRROR=str(mirror),
    )
    assert result.returncode == 0, result.stderr


def _start(output: str, mirror_url: str, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        reformat_command(DATASET, *args, "--output-url", output),
        env={
            **os.environ,
            "REFORMATTERS_LOG_LEVEL": "WARNING",
            "REFORMATTERS_SOURCE_MIRROR": mirror_url,
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    "second", [UPDATE, ("backfill-local", "2000-01-02T12")], ids=["update", "backfill-local"]
)
def test_two_writers_at_once_one_writes_the_other_names_it(
    output: str, tmp_path: Path, second: tuple[str, ...]
) -> None:
    mirror = tmp_path / "mirror"
    write_example_source(mirror, list(TIMES))
    commands = (UPDATE, second)
    # What each writer makes of the store alone: the store afterwards is the winner's.
    references = [f"{output}-reference-{i}" for i in range(len(commands))]
    for store in (output, *references):
        _published_until_the_first_day(store, mirror)
    for command, reference in zip(commands, references, strict=True):
        alone = _cli(*command, "--output-url", reference, REFORMATTERS_SOURCE_MIRROR=str(mirror))
        assert alone.returncode == 0, alone.stderr
    published = _load(output)
    # A slow source keeps the first writer busy for seconds while the second starts.
    with (
        serve_mirror(mirror, faults=FaultConfig(delay_seconds=0.2)) as server,
        Reader(output, published) as reader,
    ):
        writers = [_start(output, server.url, *command) for command in commands]
        outcomes = [(w.wait(timeout=600), w.communicate()[1]) for w in writers]
    codes = [code for code, _ in outcomes]
    assert sorted(codes) == [0, 1], outcomes
    refused = next(stderr for code, stderr in outcomes if code == 1)
    (line,) = refused.strip().splitlines()
    assert line.startswith(f"error: {_store(output).url} is being written by another writer: run ")
    assert "since" in line and "--break-lease" in line
    assert reader.problems == [] and reader.reads > 0
    xr.testing.assert_identical(_load(output), _load(references[codes.index(0)]))


def _lease_exists(output: str) -> bool:
    import obstore

    try:
        obstore.head(_store(output).object_store(), LEASE_KEY)
    except FileNotFoundError:
        return False
    return True


def test_a_killed_writers_lease_blocks_until_it_expires(output: str, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    write_example_source(mirror, list(TIMES))
    reference = f"{output}-reference"
    for store in (output, reference):
        _published_until_the_first_day(store, mirror)
    assert (
        _cli(*UPDATE, "--output-url", reference, REFORMATTERS_SOURCE_MIRROR=str(mirror)).returncode
        == 0
    )
    ttl = {"REFORMATTERS_LEASE_TTL_SECONDS": "15"}
    with serve_mirror(mirror, faults=FaultConfig(delay_seconds=0.5)) as server:
        killed = _start(output, server.url, *UPDATE, **ttl)
        deadline = time.monotonic() + 120
        while not _lease_exists(output):
            assert time.monotonic() < deadline and killed.poll() is None
            time.sleep(0.05)
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        killed_at = time.monotonic()
        blocked = _start(output, server.url, *UPDATE, **ttl)
        assert blocked.wait(timeout=300) == 1
        assert "is being written by another writer" in blocked.communicate()[1]
        assert _lease_exists(output)  # nobody released it
        time.sleep(max(0.0, killed_at + 15.5 - time.monotonic()))
        after = _start(output, server.url, *UPDATE, **ttl)
        assert after.wait(timeout=600) == 0, after.communicate()[1]
    assert not _lease_exists(output)
    xr.testing.assert_identical(_load(output), _load(reference))


# ---- local problems end with one line ---------------------------------------------------------


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_missing_mirror_folder_is_one_line(tmp_path: Path) -> None:
    result = _cli(
        "backfill-local", "2000-01-02", "--output-url", str(tmp_path / "out"),
        REFORMATTERS_SOURCE_MIRROR=str(tmp_path / "no-such-mirror"),
    )  # fmt: skip
    line = _one_line_error(result)
    assert f"REFORMATTERS_SOURCE_MIRROR={tmp_path / 'no-such-mirror'}: no such folder" in line


def test_a_run_the_local_mirror_lacks_is_missing_and_the_run_goes_on(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    write_example_source(mirror, list(TIMES))
    shutil.rmtree(mirror / "example-tiny-source" / "2000" / "01" / "02")
    output = str(tmp_path / "out")
    result = _cli(
        "backfill-local",
        "2000-01-03",
        "--output-url",
        output,
        REFORMATTERS_SOURCE_MIRROR=str(mirror),
    )
    assert "error: 24 source file(s) missing" in _one_line_error(result)
    ds = _load(output)
    assert ds.sizes["time"] == 48
    assert np.isfinite(ds["temperature_2m"].values[:24]).all()
    assert np.isnan(ds["temperature_2m"].values[24:]).all()


def _in_a_tmpfs(
    tmp_path: Path, options: str, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """`reformat example-tiny ARGS` in a private mount namespace where ``tmp_path/fs`` is a
    tmpfs mounted with ``options`` (a tiny one fills up; a read-only one refuses writes)."""
    if (
        shutil.which("unshare") is None
        or subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False).returncode
    ):
        pytest.skip("needs `unshare -m` (a private mount namespace) to mount a tmpfs")
    folder = tmp_path / "fs"
    folder.mkdir()
    command = " ".join(f"'{a}'" for a in reformat_command(DATASET, *args))
    script = f"mount -t tmpfs -o {options} tmpfs '{folder}' && mkdir -p '{folder}/x' "
    if "ro" in options.split(","):  # a folder in it first, then read-only
        script = (
            f"mount -t tmpfs tmpfs '{folder}' && mkdir '{folder}/x' "
            f"&& mount -o remount,{options} '{folder}' "
        )
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", f"{script}&& exec {command}"],
        env={**os.environ, "REFORMATTERS_LOG_LEVEL": "WARNING", **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_a_read_only_output_folder_is_one_line(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    write_example_source(mirror, list(TIMES))
    out = tmp_path / "fs" / "x"
    result = _in_a_tmpfs(
        tmp_path, "ro", "backfill-local", "2000-01-02", "--output-url", str(out),
        REFORMATTERS_SOURCE_MIRROR=str(mirror),
    )  # fmt: skip
    line = _one_line_error(result)
    assert str(out) in line and "Read-only file system" in line


def test_a_full_scratch_folder_is_one_line(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    write_example_source(mirror, list(TIMES))
    scratch = tmp_path / "fs" / "x"
    result = _in_a_tmpfs(
        tmp_path, "size=24k", "backfill-local", "2000-01-03", "--output-url",
        str(tmp_path / "out"),
        REFORMATTERS_SOURCE_MIRROR=str(mirror), REFORMATTERS_SCRATCH=str(scratch),
    )  # fmt: skip
    line = _one_line_error(result)
    assert "No space left on device" in line and "REFORMATTERS_SCRATCH" in line
    assert str(scratch) in line
