"""Worker processes: their zarr pipeline writes the same bytes, the worker server starts early,
and importing the light modules of reformatters.core stays light."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

import reformatters.core
from reformatters.core.config_models import BloscCompression
from reformatters.core.errors import InsufficientMemoryError, UserError
from reformatters.core.parallel import (
    _WORKER_ZARR_CONFIG,
    DECODE_PROCESSES_ENV,
    cgroup_cpu_quota,
    cgroup_memory_limit,
    check_worker_memory,
    decode_pool,
    decode_processes,
    reusable_float32_array,
    usable_cpus,
)


def _write_sharded(path: Path, data: np.ndarray, stop: int) -> dict[str, bytes]:
    """Write data[:, :stop] into a new GFS-like sharded array; returns its stored files."""
    array = zarr.create_array(
        zarr.storage.LocalStore(path),
        shape=(2, 10, 30, 40),
        chunks=(1, 4, 8, 16),
        shards=(1, 12, 32, 48),
        dtype="float32",
        fill_value=np.nan,
        compressors=[BloscCompression().codec(typesize=4)],
    )
    array[:, :stop] = data[:, :stop]
    return {
        str(p.relative_to(path)): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and p.name != "zarr.json"
    }


def test_worker_zarr_pipeline_writes_the_same_shards_as_the_default(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((2, 10, 30, 40)) * 10).astype(np.float32)
    data[1] = np.nan  # a shard without data: not stored
    data[0, :, :8, :16] = np.nan  # a chunk without data inside a stored shard
    # 7 of 10 leads: the last lead chunk is partly filled, partly fill value.
    default = _write_sharded(tmp_path / "default.zarr", data, stop=7)
    with zarr.config.set(_WORKER_ZARR_CONFIG):
        fused = _write_sharded(tmp_path / "fused.zarr", data, stop=7)
    assert list(default) == ["c/0/0/0/0"]
    assert fused == default
    stored = zarr.open_array(zarr.storage.LocalStore(tmp_path / "fused.zarr"), mode="r")[:]
    np.testing.assert_array_equal(stored[:, :7], data[:, :7])
    assert np.isnan(stored[:, 7:]).all()


def _codec_pipeline_path() -> str:
    return str(zarr.config.get("codec_pipeline.path"))


def test_worker_processes_use_the_worker_zarr_config() -> None:
    path = decode_pool(1).submit(_codec_pipeline_path).result()
    assert path == _WORKER_ZARR_CONFIG["codec_pipeline.path"]
    assert zarr.config.get("codec_pipeline.path") != path  # this process keeps the default


def test_worker_processes_exempt_their_imports_from_collection() -> None:
    assert decode_pool(1).submit(gc.get_freeze_count).result() > 10_000


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


_OWNER = (
    "import multiprocessing.forkserver, os, sys, threading\n"
    "if sys.argv[1] == 'threaded':\n"
    "    threading.Thread(target=sys.stdin.readline, daemon=True).start()\n"
    "from reformatters.core.parallel import decode_pool\n"
    "pool = decode_pool(1)\n"
    "worker, parent = pool.submit(os.getpid).result(), pool.submit(os.getppid).result()\n"
    "server = multiprocessing.forkserver._forkserver._forkserver_pid\n"
    "print(worker, parent, server or 0, flush=True)\n"
    "sys.stdin.read()\n"
)


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="Linux pidfd")
@pytest.mark.parametrize("owner_kind", ["single-threaded", "threaded"])
def test_workers_come_from_the_owner_or_a_fork_server_and_end_with_it(owner_kind: str) -> None:
    """A single-threaded owner forks its workers; an owner running other threads has them
    forked by a fork server. Killed with SIGKILL (no atexit, no pool shutdown), it leaves no
    worker or fork server behind."""
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER, owner_kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        # As `reformat` sets it: OpenBLAS's own threads would make any owner multi-threaded.
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert owner.stdout is not None
    worker, parent, server = (int(pid) for pid in owner.stdout.readline().split())
    if owner_kind == "single-threaded":
        assert parent == owner.pid and server == 0
        pids = [worker]
    else:
        assert parent == server != 0
        pids = [worker, server]
    assert all(_running(pid) for pid in pids)
    owner.kill()
    owner.wait()
    deadline = time.monotonic() + 30
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(pid) for pid in pids)


def test_reusable_array_is_shared_and_grows() -> None:
    small = reusable_float32_array((2, 3))
    larger = reusable_float32_array((4, 5))
    again = reusable_float32_array((2, 3))
    assert larger.shape == (4, 5) and again.shape == (2, 3)
    assert np.shares_memory(larger, again)
    del small


def test_light_modules_do_not_import_the_heavy_libraries() -> None:
    """reformatters.core's public names load lazily; its parallel and errors modules are light."""
    code = (
        "import sys, reformatters.core.parallel, reformatters.core.errors; "
        "heavy = ('xarray', 'zarr', 'pandas', 'dask'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("name", reformatters.core.__all__)
def test_public_names_resolve(name: str) -> None:
    assert getattr(reformatters.core, name) is not None
    assert name in dir(reformatters.core)


def test_unknown_public_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = reformatters.core.Nope  # type: ignore[attr-defined]


AFFINITY = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
GIB = 1 << 30


def _cgroup(root: Path, files: dict[str, str]) -> Path:
    """A cgroup folder under `root` holding `files` (path relative to the cgroup root: text)."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "quota"),
    [
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu.max": "200000 100000\n"}, 2),
        ({"cpu.max": "150000 100000\n"}, 2),  # 1.5 CPUs: rounded up
        ({"cpu.max": "1000 100000\n"}, 1),  # 0.01 CPU: at least one
        ({"cpu.max": "max\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "400000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 4),
        ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),
        ({"cpu/cpu.cfs_quota_us": "250000\n"}, None),  # no period: unreadable, no limit
        ({}, None),  # no cgroup files (not Linux, or no CPU controller)
    ],
)
def test_cgroup_cpu_quota(tmp_path: Path, files: dict[str, str], quota: int | None) -> None:
    root = _cgroup(tmp_path, files)
    assert cgroup_cpu_quota(root) == quota
    assert usable_cpus(root) == (AFFINITY if quota is None else min(AFFINITY, quota))


def test_cgroup_v2_takes_precedence_over_v1(tmp_path: Path) -> None:
    root = _cgroup(
        tmp_path,
        {
            "cpu.max": "300000 100000",
            "cpu/cpu.cfs_quota_us": "100000",
            "cpu/cpu.cfs_period_us": "100000",
        },
    )
    assert cgroup_cpu_quota(root) == 3


def test_usable_cpus_is_at_most_the_affinity(tmp_path: Path) -> None:
    root = _cgroup(tmp_path, {"cpu.max": f"{(AFFINITY + 8) * 100000} 100000"})
    assert cgroup_cpu_quota(root) == AFFINITY + 8
    assert usable_cpus(root) == AFFINITY
    assert usable_cpus(_cgroup(tmp_path / "one", {"cpu.max": "100000 100000"})) == 1


def test_decode_processes_reads_the_environment_on_every_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(DECODE_PROCESSES_ENV, raising=False)
    default = decode_processes()
    assert 1 <= default <= AFFINITY
    assert default == usable_cpus()
    monkeypatch.setenv(DECODE_PROCESSES_ENV, "3")
    assert decode_processes() == 3
    monkeypatch.setenv(DECODE_PROCESSES_ENV, "0")
    assert decode_processes() == 0
    monkeypatch.setenv(DECODE_PROCESSES_ENV, "-2")
    assert decode_processes() == 0
    monkeypatch.setenv(DECODE_PROCESSES_ENV, "")
    assert decode_processes() == default


@pytest.mark.parametrize(
    ("files", "limit"),
    [
        ({"memory.max": "8589934592\n"}, 8 * GIB),
        ({"memory.max": "max\n"}, None),
        ({"memory/memory.limit_in_bytes": "2147483648\n"}, 2 * GIB),
        ({"memory/memory.limit_in_bytes": "9223372036854771712\n"}, None),  # v1: unlimited
        ({}, None),
    ],
)
def test_cgroup_memory_limit(tmp_path: Path, files: dict[str, str], limit: int | None) -> None:
    assert cgroup_memory_limit(_cgroup(tmp_path, files)) == limit


def test_worker_memory_check_names_the_limit_workers_need_and_remedy(tmp_path: Path) -> None:
    root = _cgroup(tmp_path, {"memory.max": f"{8 * GIB}\n"})
    check_worker_memory(2, 4 * GIB, cgroup_root=root)  # exactly fits
    check_worker_memory(0, 64 * GIB, cgroup_root=root)  # no workers
    with pytest.raises(InsufficientMemoryError) as raised:
        check_worker_memory(4, 3 * GIB, cgroup_root=root)
    assert isinstance(raised.value, UserError)
    assert str(raised.value) == (
        "4 decode workers at 3.0 GiB each need 12.0 GiB, more than the container's memory "
        "limit of 8.0 GiB: set REFORMATTERS_DECODE_PROCESSES=2 or lower, or raise the memory "
        "limit to at least 12.0 GiB"
    )
    assert "\n" not in str(raised.value)
    with pytest.raises(InsufficientMemoryError) as raised:
        check_worker_memory(2, 9 * GIB, cgroup_root=root)
    assert str(raised.value) == (
        "2 decode workers at 9.0 GiB each need 18.0 GiB, more than the container's memory "
        "limit of 8.0 GiB: not even one worker fits: raise the memory limit to at least 18.0 GiB, "
        "or to 9.0 GiB with REFORMATTERS_DECODE_PROCESSES=1"
    )
    small = _cgroup(tmp_path / "v1", {"memory/memory.limit_in_bytes": str(512 << 20)})
    with pytest.raises(InsufficientMemoryError, match=r"3 decode workers at 200\.0 MiB each"):
        check_worker_memory(3, 200 << 20, cgroup_root=small)


def test_worker_memory_check_without_a_limit_passes(tmp_path: Path) -> None:
    check_worker_memory(64, 1 << 40, cgroup_root=_cgroup(tmp_path, {"memory.max": "max"}))
    check_worker_memory(64, 1 << 40, cgroup_root=tmp_path / "absent")
