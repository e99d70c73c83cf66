"""A write to a store, start to end: its lease held, its publications guarded.

Every writer (``backfill-local``, a worker of a distributed backfill, ``update``) runs inside
``writing``: it takes the store's lease (see ``lease``), reads the published extent once, and
publishes only through the ``PublishGuard`` it gets (see ``metadata``).
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from reformatters.core.errors import LocalStorageError
from reformatters.core.lease import StoreLease, break_lease
from reformatters.core.logging import get_logger
from reformatters.core.metadata import PublishGuard
from reformatters.core.published import PublishedExtent
from reformatters.core.sources.scratch import SCRATCH_ENV
from reformatters.core.storage import OutputStores

log = get_logger(__name__)


def new_run_id(command: str) -> str:
    return f"{command}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def shared_run_id(*parts: object) -> str:
    """The same id for every worker of one distributed run started without ``--run-id``."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]
    return f"workers-{digest}"


@contextmanager
def writing(
    outputs: OutputStores,
    append_dim: str,
    command: str,
    *,
    run_id: str | None = None,
    shared: bool = False,
    break_existing: bool = False,
) -> Iterator[PublishGuard]:
    """Hold the primary store's lease for the block; yields the guard to publish through.

    ``break_existing`` removes another writer's lease first (an operator's ``--break-lease``).
    """
    if break_existing:
        broken = break_lease(outputs.primary)
        log.warning(
            "broke the store's lease" if broken else "no lease to break",
            store=outputs.primary.url,
            holder=broken.describe() if broken else None,
        )
    lease = StoreLease(outputs.primary, run_id or new_run_id(command), command, shared=shared)
    with lease:
        try:
            yield PublishGuard.read(outputs, append_dim, lease)
        except OSError as error:
            if error.errno not in _LOCAL_STORAGE_ERRNOS:
                raise
            raise LocalStorageError(_local_storage_message(error, outputs)) from error


# Errors of a local folder this process writes to (source errors arrive as SourceError).
_LOCAL_STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}
)


def _local_storage_message(error: OSError, outputs: OutputStores) -> str:
    # A failed write() names no file: name the folders this process writes to.
    scratch = os.environ.get(SCRATCH_ENV) or tempfile.gettempdir()
    where = error.filename or f"the scratch folder {scratch} or the output {outputs.primary.url}"
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        what = (
            "free space there, or point REFORMATTERS_SCRATCH (temporary files) or --output-url "
            "(the store) at a folder with room"
        )
    else:
        what = "make it writable, or choose another folder (REFORMATTERS_SCRATCH, --output-url)"
    return f"{where}: {error.strerror}: {what}; the run stopped, nothing was published."


def published_extent(guard: PublishGuard) -> PublishedExtent | None:
    """The published part a run may rewrite, as read when the run started (None: a new store)."""
    if guard.published_length == 0:
        return None
    return PublishedExtent(guard.outputs.primary, guard.published_length)
