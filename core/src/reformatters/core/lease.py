"""One writer per store: a lease object in the primary store, held for the whole write.

``.reformatters/lease.json`` names its holder (run id, host, process, command, since when) and
when it expires. It is created with a conditional put (``mode="create"``: exactly one of two
writers starting together gets it), renewed by a background thread while the run lives, and
released at the end. A writer killed without releasing it (SIGKILL, a lost node) blocks the next
one only until it expires. The workers of one distributed backfill share their run's lease (the
same run id): they write disjoint regions, and the one that completes the run releases it.

On S3 every replacement of the lease is conditional on the ETag the writer last saw
(``If-Match``), so a lease taken over after expiry cannot be renewed by its old holder. A local
folder has no conditional replace (obstore's ``LocalStore`` implements only ``create``): there a
renewal rewrites the lease after checking it is still the writer's own, which leaves a window of
a few milliseconds; the holder checks its lease again before it publishes metadata.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

import obstore
from obstore.exceptions import AlreadyExistsError, NotFoundError, PreconditionError
from obstore.store import LocalStore, ObjectStore

from reformatters.core.errors import UserError
from reformatters.core.logging import get_logger
from reformatters.core.storage import StoreLocation

log = get_logger(__name__)

LEASE_KEY = ".reformatters/lease.json"
LEASE_TTL_ENV = "REFORMATTERS_LEASE_TTL_SECONDS"
DEFAULT_TTL = timedelta(minutes=10)
_ACQUIRE_ATTEMPTS = 8


class LeaseHeldError(UserError):
    """Another writer holds the store's lease."""


class LeaseLostError(UserError):
    """This writer's lease was taken over (it expired, or an operator broke it)."""


def lease_ttl() -> timedelta:
    configured = os.environ.get(LEASE_TTL_ENV)
    return timedelta(seconds=float(configured)) if configured else DEFAULT_TTL


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class LeaseHolder:
    run_id: str
    host: str
    pid: int
    command: str
    since: datetime
    expires: datetime

    def describe(self) -> str:
        return (
            f"run {self.run_id} ({self.command}) on {self.host}, pid {self.pid}, since "
            f"{self.since:%Y-%m-%dT%H:%M:%SZ}, lease expires {self.expires:%Y-%m-%dT%H:%M:%SZ}"
        )

    def to_json(self) -> bytes:
        fields = asdict(self)
        fields["since"] = self.since.isoformat()
        fields["expires"] = self.expires.isoformat()
        return json.dumps(fields, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> LeaseHolder:
        fields = json.loads(data)
        fields["since"] = datetime.fromisoformat(fields["since"])
        fields["expires"] = datetime.fromisoformat(fields["expires"])
        return cls(**fields)


def read_lease(location: StoreLocation) -> tuple[LeaseHolder, str | None] | None:
    """The lease of the store at ``location`` and its ETag, or None if nobody holds one."""
    try:
        result = obstore.get(location.object_store(), LEASE_KEY)
    except (FileNotFoundError, NotFoundError):
        return None
    return LeaseHolder.from_json(bytes(result.bytes())), result.meta["e_tag"]


def break_lease(location: StoreLocation) -> LeaseHolder | None:
    """Remove the lease whoever holds it (``--break-lease``); returns whom it belonged to."""
    current = read_lease(location)
    if current is not None:
        obstore.delete(location.object_store(), LEASE_KEY)
        log.warning("broke the store's lease", store=location.url, holder=current[0].describe())
    return None if current is None else current[0]


class StoreLease:
    """The lease of one store for one run (a context manager: acquire, renew, release).

    ``shared``: workers of one distributed run hold the lease together; a worker neither fails
    on finding its own run's lease nor releases it unless asked (``release(force=True)``)."""

    def __init__(
        self,
        location: StoreLocation,
        run_id: str,
        command: str,
        *,
        ttl: timedelta | None = None,
        shared: bool = False,
    ) -> None:
        self.location = location
        self.run_id = run_id
        self.command = command
        self.ttl = ttl or lease_ttl()
        self.shared = shared
        self._store: ObjectStore = location.object_store()
        self._etag: str | None = None
        self._since = _now()
        self._lost: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    # ---- holding -----------------------------------------------------------------------------

    def _holder(self, ttl: timedelta | None = None) -> LeaseHolder:
        now = _now()
        return LeaseHolder(
            run_id=self.run_id,
            host=socket.gethostname(),
            pid=os.getpid(),
            command=self.command,
            since=self._since,
            expires=now + (ttl or self.ttl),
        )

    def acquire(self, ttl: timedelta | None = None) -> Self:
        """Take the lease (or join the run's own, if shared); raise LeaseHeldError naming the
        holder if another run holds a lease that has not expired."""
        body = self._holder(ttl).to_json()
        for _ in range(_ACQUIRE_ATTEMPTS):
            try:
                self._take(body)
            except (AlreadyExistsError, PreconditionError):
                # Another writer (or a worker of this run) changed the lease between our read
                # and our conditional write: read it again and decide on what it is now.
                continue
            log.info("holding the store's lease", store=self.location.url, run_id=self.run_id)
            return self
        raise LeaseHeldError(
            f"{self.location.url}: the lease kept changing while this run tried to take it "
            f"({_ACQUIRE_ATTEMPTS} attempts); check for other writers, then run again."
        )

    def _take(self, body: bytes) -> None:
        current = read_lease(self.location)
        if current is None:
            self._etag = obstore.put(self._store, LEASE_KEY, body, mode="create")["e_tag"]
            return
        holder, etag = current
        mine = self.shared and holder.run_id == self.run_id
        if not mine and holder.expires > _now():
            raise LeaseHeldError(
                f"{self.location.url} is being written by another writer: {holder.describe()}. "
                "Wait for it to finish; if it is gone, wait for its lease to expire or run "
                "again with --break-lease."
            )
        if not mine:
            log.warning("taking over an expired lease", store=self.location.url, **asdict(holder))
        self._replace(body, etag, expected=holder)

    def _replace(self, body: bytes, etag: str | None, *, expected: LeaseHolder) -> None:
        """Replace the lease with ``body`` if it is still ``etag`` (the one ``expected`` read)."""
        if isinstance(self._store, LocalStore):
            current = read_lease(self.location)
            if current is None or current[0] != expected:
                raise PreconditionError("the lease changed")
            self._etag = obstore.put(self._store, LEASE_KEY, body)["e_tag"]
            return
        assert etag is not None, "object stores with conditional puts return ETags"
        self._etag = obstore.put(self._store, LEASE_KEY, body, mode={"e_tag": etag})["e_tag"]

    def renew(self) -> None:
        """Push the expiry forward; marks the lease lost if someone else holds it now."""
        current = read_lease(self.location)
        if current is None or (current[0].run_id != self.run_id):
            self._lost = "it is held by " + (current[0].describe() if current else "nobody")
            return
        try:
            self._replace(self._holder().to_json(), current[1], expected=current[0])
        except PreconditionError:
            if not self.shared:  # a worker of the same run may have renewed it just now
                self._lost = "it changed while renewing"

    def check(self) -> None:
        """Raise LeaseLostError if the lease is no longer this run's (call before publishing)."""
        if self._lost is None:
            current = read_lease(self.location)
            if current is None or current[0].run_id != self.run_id:
                self._lost = "it is held by " + (current[0].describe() if current else "nobody")
        if self._lost is not None:
            raise LeaseLostError(
                f"{self.location.url}: this run ({self.run_id}) lost its lease ({self._lost}); "
                "nothing more is published. Check for another writer, then run again."
            )

    def release(self, *, force: bool = False) -> None:
        """Delete the lease if it is still this run's (a shared lease only with ``force``)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        if self.shared and not force:
            return
        current = read_lease(self.location)
        if current is not None and current[0].run_id == self.run_id:
            obstore.delete(self._store, LEASE_KEY)
            log.info("released the store's lease", store=self.location.url, run_id=self.run_id)

    # ---- the renewal thread ------------------------------------------------------------------

    def _renew_until_stopped(self) -> None:
        interval = self.ttl.total_seconds() / 3
        while not self._stop.wait(interval):
            self.renew()
            if self._lost is not None:
                log.error("lost the store's lease", store=self.location.url, reason=self._lost)
                return

    def __enter__(self) -> Self:
        self.acquire()
        self._renewer = threading.Thread(
            target=self._renew_until_stopped, name="lease-renewal", daemon=True
        )
        self._renewer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
