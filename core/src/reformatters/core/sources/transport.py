"""Requests to source files with obstore: stores per URL, retries, and errors that name the URL.

URLs are ``s3://bucket/key`` (public buckets are read unsigned unless AWS credentials are set
in the standard ``AWS_*`` variables; ``AWS_ENDPOINT_URL`` selects an S3-compatible endpoint with
path-style requests), ``http(s)://...`` or local paths / ``file://`` URLs. Apply
``resolve_source_url`` first if a source mirror may be configured.

Retries (timeouts, connection errors, 5xx) are obstore's exponential backoff with jitter,
configured by ``RetryPolicy``. A 404/403 raises ``SourceFileMissingError``; a server that ignores
``Range`` (no ``Content-Range``/206, detected by obstore) raises ``RangeNotHonouredError``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import obstore
from obstore.exceptions import (
    BaseError,
    NotFoundError,
    NotSupportedError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from obstore.store import HTTPStore, LocalStore, S3Store

from reformatters.core.sources.errors import (
    CorruptMessageError,
    RangeNotHonouredError,
    SourceDownloadError,
    SourceFileMissingError,
)
from reformatters.core.sources.reachability import HEALTH

if TYPE_CHECKING:
    from obstore.store import ClientConfig, ObjectStore, RetryConfig, S3Config

__all__ = [
    "PROBE_POLICY",
    "RetryPolicy",
    "call_source",
    "download_file",
    "file_size",
    "source_host",
    "store_for_url",
]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries with exponential backoff and jitter, applied by obstore to every request."""

    max_retries: int = 8
    initial_backoff: timedelta = timedelta(milliseconds=200)
    max_backoff: timedelta = timedelta(seconds=15)
    base: float = 2.0
    retry_timeout: timedelta = timedelta(minutes=3)
    request_timeout: timedelta = timedelta(seconds=120)
    connect_timeout: timedelta = timedelta(seconds=10)

    def retry_config(self) -> RetryConfig:
        return {
            "max_retries": self.max_retries,
            "retry_timeout": self.retry_timeout,
            "backoff": {
                "init_backoff": self.initial_backoff,
                "max_backoff": self.max_backoff,
                "base": self.base,
            },
        }


# The first request to a host (see reachability): an answer or a verdict within about 30 s.
PROBE_POLICY = RetryPolicy(
    max_retries=3,
    retry_timeout=timedelta(seconds=30),
    request_timeout=timedelta(seconds=15),
    connect_timeout=timedelta(seconds=5),
)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


def store_for_url(url: str, *, retry: RetryPolicy | None = None) -> tuple[ObjectStore, str]:
    """Return an obstore store and the object path within it for ``url``.

    Stores are cached per bucket or host (and settings): each one owns a connection pool, so
    building one per request costs CPU and new connections (hundreds of requests per region job).
    """
    policy = retry or RetryPolicy()
    parts = urlsplit(url)
    match parts.scheme:
        case "s3":
            key = unquote(parts.path.lstrip("/"))
            if not parts.netloc or not key:
                raise ValueError(f"{url}: expected s3://<bucket>/<key>")
            endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
            allow_http = (endpoint or "").startswith("http://") or _env_flag("AWS_ALLOW_HTTP")
            # Part of the cache key: other credentials in the environment mean another store.
            access_key_id = os.environ.get("AWS_ACCESS_KEY_ID")
            region = (
                os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
            )
            store = _s3_store(parts.netloc, endpoint, allow_http, access_key_id, region, policy)
            return store, key
        case "http" | "https":
            base = f"{parts.scheme}://{parts.netloc}"
            return _http_store(base, policy), unquote(parts.path.lstrip("/"))
        case "file" | "":
            # Rooted at "/": a store rooted at the file's folder fails to open when that folder
            # does not exist (a run a mirror does not have), where the file should be missing.
            path = Path(unquote(parts.path) if parts.scheme == "file" else url).resolve()
            return _filesystem_store(), str(path).lstrip("/")
        case _:
            raise ValueError(
                f"{url}: unsupported URL scheme {parts.scheme!r} (use s3, http(s), file)"
            )


def _client_options(policy: RetryPolicy) -> ClientConfig:
    return {"timeout": policy.request_timeout, "connect_timeout": policy.connect_timeout}


@functools.lru_cache(maxsize=64)
def _s3_store(
    bucket: str,
    endpoint: str | None,
    allow_http: bool,
    access_key_id: str | None,
    region: str,
    policy: RetryPolicy,
) -> S3Store:
    client = _client_options(policy)
    if allow_http:
        client["allow_http"] = True
    # Credentials (when signed) come from the AWS_* environment variables.
    config: S3Config = {"skip_signature": not access_key_id, "region": region}
    if endpoint:
        config["endpoint"] = endpoint
        config["virtual_hosted_style_request"] = False
    return S3Store(bucket, config=config, client_options=client, retry_config=policy.retry_config())


@functools.cache
def _filesystem_store() -> LocalStore:
    return LocalStore("/")


@functools.lru_cache(maxsize=64)
def _http_store(base: str, policy: RetryPolicy) -> HTTPStore:
    client = _client_options(policy)
    if base.startswith("http://"):
        client["allow_http"] = True
    return HTTPStore.from_url(base, client_options=client, retry_config=policy.retry_config())


def source_host(url: str) -> str | None:
    """What a source URL's requests go to, as a person names it; None for local files."""
    parts = urlsplit(url)
    match parts.scheme:
        case "s3":
            endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
            return f"s3://{parts.netloc}" + (f" at {endpoint}" if endpoint else "")
        case "http" | "https":
            return f"{parts.scheme}://{parts.netloc}"
        case _:
            return None


def call_source[T](url: str, operation: Callable[[], T]) -> T:
    """Run one obstore operation, translating its errors into source errors naming ``url``.

    The first request to a host is preceded by its probe (see reachability): a source that
    cannot be reached at all, or answers 403 to everything, stops the run instead of failing
    every file after minutes of retries."""
    host = source_host(url)
    if host is not None:
        HEALTH.probe(host, url, lambda: obstore.head(*store_for_url(url, retry=PROBE_POLICY)))
    try:
        result = operation()
    except (NotFoundError, FileNotFoundError) as error:
        if host is not None:
            HEALTH.record_success(host)
        raise SourceFileMissingError(url, type(error).__name__) from error
    except (PermissionDeniedError, UnauthenticatedError) as error:
        if host is not None:
            HEALTH.record_forbidden(host, url)
        raise SourceFileMissingError(url, type(error).__name__) from error
    except NotSupportedError as error:
        raise RangeNotHonouredError(
            url,
            f"{url}: the server ignored the HTTP Range request (answered without a partial "
            "response); use a mirror that supports Range or pass full_file_fallback=True.",
        ) from error
    except BaseError as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        if "403 Forbidden" in first_line:
            if host is not None:
                HEALTH.record_forbidden(host, url)
            raise SourceFileMissingError(url, first_line) from error
        if "416 Range Not Satisfiable" in first_line:
            raise CorruptMessageError(
                url,
                f"{url}: a requested byte range starts beyond the end of the file (HTTP 416): "
                "the file is shorter than its inventory says (still uploading?); retry later.",
            ) from error
        raise SourceDownloadError(
            url, f"{url}: download failed after retries: {first_line}"
        ) from error
    if host is not None:
        HEALTH.record_success(host)
    return result


def download_file(url: str, *, retry: RetryPolicy | None = None) -> bytes:
    """Fetch a whole (small) file such as an inventory."""
    store, path = store_for_url(url, retry=retry)
    return call_source(url, lambda: bytes(obstore.get(store, path).bytes()))


def file_size(url: str, *, retry: RetryPolicy | None = None) -> int:
    """The file's size in bytes (a HEAD request)."""
    store, path = store_for_url(url, retry=retry)
    return call_source(url, lambda: int(obstore.head(store, path)["size"]))
