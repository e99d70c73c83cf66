"""Fail fast on a source that cannot be reached at all.

Per-file retries are right once a source has answered: a 5xx or a dropped connection then costs
that file. Before any request to a host has succeeded, the same retries would spend minutes per
file against a host that is not there (a firewall, a proxy, a typo in ``AWS_ENDPOINT_URL``) and
end, an hour later, with every file failed. So the first request to each host is a probe: a HEAD
with short timeouts and a few retries, one at a time per host. If it cannot connect (refused,
DNS, TLS, timeout), the run stops with one line naming the host. 403 answers to the first
``FORBIDDEN_LIMIT`` requests with nothing else answered mean credentials or bucket policy: the
run stops too. Once a host answered (2xx, or 404 for a file that is not there), its failures stay
per-file outcomes.

State is per process: every worker process probes its hosts once.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from obstore.exceptions import BaseError, NotFoundError, PermissionDeniedError

from reformatters.core.errors import UserError

FORBIDDEN_LIMIT = 3
CHECK = "check the network and proxy, REFORMATTERS_SOURCE_MIRROR and the AWS_* variables"

# object_store's HttpErrorKind of a request that never got an answer.
_NO_ANSWER_KINDS = frozenset({"Connect", "Timeout", "Request", "Interrupted"})
_KIND = re.compile(r"kind: (\w+)")


class SourceUnreachableError(UserError):
    """No request to a source host got an answer."""


class SourceForbiddenError(UserError):
    """A source host answered 403 to every request so far."""


@dataclass
class _Host:
    reachable: bool | None = None  # None until its probe got an answer or none
    succeeded: bool = False  # a request got 2xx, or 404 for a file that is not there
    forbidden: int = 0
    error: str = ""
    probe: threading.Lock = field(default_factory=threading.Lock)


def no_answer(error: BaseException) -> bool:
    """Whether an obstore error means the request got no HTTP answer at all."""
    if not isinstance(error, BaseError) or isinstance(error, NotFoundError | PermissionDeniedError):
        return False
    kinds = set(_KIND.findall(str(error)))
    return bool(kinds & _NO_ANSWER_KINDS) and "status:" not in str(error)


def first_line(error: BaseException) -> str:
    text = str(error)
    line = text.splitlines()[0] if text else type(error).__name__
    return line.split(" - ", 1)[-1].strip() if " - " in line else line


class HostHealth:
    """What the requests of this process learned about each source host."""

    def __init__(self) -> None:
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def _host(self, host: str) -> _Host:
        with self._lock:
            return self._hosts.setdefault(host, _Host())

    def probe(self, host: str, url: str, request: Callable[[], object]) -> None:
        """Run ``request`` (a HEAD of ``url`` with short timeouts) unless the host was probed:
        once per host, the others waiting for its verdict. Any HTTP answer means reachable."""
        entry = self._host(host)
        if entry.reachable:
            return
        with entry.probe:
            if entry.reachable is None:
                try:
                    request()
                # obstore raises FileNotFoundError for some stores' 404s: an answer too.
                except (BaseError, OSError) as error:
                    if no_answer(error):
                        entry.reachable = False
                        entry.error = (
                            f"source host {host} cannot be reached ({first_line(error)}; "
                            f"first request: {url}): {CHECK}"
                        )
                    else:
                        entry.reachable = True
                else:
                    entry.reachable = True
        if not entry.reachable:
            raise SourceUnreachableError(entry.error)

    def record_success(self, host: str) -> None:
        self._host(host).succeeded = True

    def record_forbidden(self, host: str, url: str) -> None:
        """A 403: after ``FORBIDDEN_LIMIT`` of them and nothing else, stop the run."""
        entry = self._host(host)
        with self._lock:
            entry.forbidden += 1
            forbidden = entry.forbidden
        if not entry.succeeded and forbidden >= FORBIDDEN_LIMIT:
            raise SourceForbiddenError(
                f"source host {host} answered 403 Forbidden to all {forbidden} requests so far "
                f"(e.g. {url}): check the credentials (AWS_* variables) and the bucket policy "
                "(without AWS_ACCESS_KEY_ID a public bucket is read unsigned)"
            )

    def reset(self) -> None:
        with self._lock:
            self._hosts.clear()


HEALTH = HostHealth()
