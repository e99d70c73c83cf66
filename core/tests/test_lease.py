"""One writer per store: the lease on a local folder and on S3 (moto_server)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from reformatters.core import lease as lease_module
from reformatters.core.lease import (
    LeaseHeldError,
    LeaseHolder,
    LeaseLostError,
    StoreLease,
    break_lease,
    read_lease,
)
from reformatters.core.storage import StoreLocation
from reformatters.core.testing.fixtures import MotoS3Server


@pytest.fixture(params=["local", "s3"])
def location(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[StoreLocation]:
    if request.param == "local":
        yield StoreLocation(str(tmp_path / "store.zarr"))
        return
    server: MotoS3Server = request.getfixturevalue("moto_s3_server")
    for key, value in server.env().items():
        monkeypatch.setenv(key, value)
    yield StoreLocation(f"s3://{server.bucket}/{uuid.uuid4().hex}/store.zarr")


def test_a_second_writer_is_refused_with_the_holders_name(location: StoreLocation) -> None:
    first = StoreLease(location, "backfill-1", "backfill-local").acquire()
    with pytest.raises(LeaseHeldError) as error:
        StoreLease(location, "update-2", "update").acquire()
    message = str(error.value)
    assert "run backfill-1 (backfill-local)" in message and "since" in message
    assert "--break-lease" in message and "\n" not in message
    first.release()
    assert read_lease(location) is None
    StoreLease(location, "update-2", "update").acquire().release()


def test_an_expired_lease_is_taken_over_and_its_holder_notices(location: StoreLocation) -> None:
    killed = StoreLease(location, "killed", "update", ttl=timedelta(seconds=1)).acquire()
    time.sleep(1.5)
    successor = StoreLease(location, "next", "update").acquire()
    holder = read_lease(location)
    assert holder is not None and holder[0].run_id == "next"
    with pytest.raises(LeaseLostError, match="held by run next"):
        killed.check()
    killed.release()  # not its lease any more: leaves it alone
    assert read_lease(location) is not None
    successor.check()
    successor.release()


def test_renewal_pushes_the_expiry_and_detects_a_broken_lease(location: StoreLocation) -> None:
    lease = StoreLease(location, "run", "update", ttl=timedelta(seconds=30)).acquire()
    first = read_lease(location)
    assert first is not None
    time.sleep(1.1)
    lease.renew()
    renewed = read_lease(location)
    assert renewed is not None and renewed[0].expires > first[0].expires
    broken = break_lease(location)
    assert broken is not None and broken.run_id == "run"
    lease.renew()
    with pytest.raises(LeaseLostError, match="held by nobody"):
        lease.check()


def test_workers_of_one_run_share_its_lease(location: StoreLocation) -> None:
    driver = StoreLease(location, "job-1", "backfill-kubernetes", shared=True)
    driver.acquire(ttl=timedelta(hours=1))
    worker_0 = StoreLease(location, "job-1", "process-backfill-region-jobs", shared=True).acquire()
    worker_1 = StoreLease(location, "job-1", "process-backfill-region-jobs", shared=True).acquire()
    with pytest.raises(LeaseHeldError, match="run job-1"):
        StoreLease(location, "update-9", "update").acquire()
    worker_0.release()  # a shared lease stays for the others
    assert read_lease(location) is not None
    worker_1.release(force=True)  # the worker that completes the run
    assert read_lease(location) is None


def test_workers_joining_together_retry_when_the_lease_changes_under_them(
    location: StoreLocation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers start together: one creates the lease, another replaces it between a third's read
    and its conditional write. The third reads again and joins; it never fails the run."""
    StoreLease(location, "job-1", "backfill-kubernetes", shared=True).acquire()
    stale = read_lease(location)
    assert stale is not None
    StoreLease(location, "job-1", "process-backfill-region-jobs", shared=True).acquire()
    reads: list[str | None] = []

    def first_read_stale(where: StoreLocation) -> tuple[LeaseHolder, str | None] | None:
        current = stale if not reads else read_lease(where)
        reads.append(None if current is None else current[1])
        return current

    with monkeypatch.context() as patch:
        patch.setattr(lease_module, "read_lease", first_read_stale)
        StoreLease(location, "job-1", "process-backfill-region-jobs", shared=True).acquire()
    assert reads[0] == stale[1] != reads[-1]  # read stale, conflicted, read again, joined
    holder = read_lease(location)
    assert holder is not None and holder[0].run_id == "job-1"
    with pytest.raises(LeaseHeldError, match="run job-1"):
        StoreLease(location, "update-9", "update").acquire()


def test_the_context_manager_renews_while_the_run_lives(location: StoreLocation) -> None:
    with StoreLease(location, "long", "backfill-local", ttl=timedelta(seconds=1.5)) as lease:
        time.sleep(2.5)  # longer than the lease: kept alive by its renewal thread
        lease.check()
        with pytest.raises(LeaseHeldError):
            StoreLease(location, "other", "update").acquire()
    assert read_lease(location) is None
