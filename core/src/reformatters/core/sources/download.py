"""Download source files and byte ranges of GRIB messages with obstore.

URLs are ``s3://bucket/key`` (public buckets are read unsigned unless AWS credentials are set
in the standard ``AWS_*`` variables; ``AWS_ENDPOINT_URL`` selects an S3-compatible endpoint with
path-style requests), ``http(s)://...`` or local paths / ``file://`` URLs. Apply
``resolve_source_url`` first if a source mirror may be configured.

Retries (timeouts, connection errors, 5xx) are obstore's exponential backoff with jitter,
configured by ``RetryPolicy``. A 404/403 raises ``SourceFileMissingError``. A server that ignores
``Range`` is detected by obstore (no ``Content-Range``/206) and raises ``RangeNotHonouredError``
unless ``full_file_fallback=True``, in which case the whole file is fetched and cut. Every
message is checked to start with ``GRIB``, have the length its section 0 declares and end in
``7777``, so a short read or a wrong offset can never pass as data. A range longer than the
message it starts with (the inventory lacks the lines of the messages after it) yields that
message.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self
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
    SourceError,
    SourceFileMissingError,
)
from reformatters.core.sources.inventory import (
    ByteRange,
    InventoryEntry,
    MessageSelector,
    parse_noaa_idx,
    select_entries,
)
from reformatters.core.sources.reachability import HEALTH

if TYPE_CHECKING:
    from obstore.store import ClientConfig, ObjectStore, RetryConfig, S3Config

__all__ = [
    "DEFAULT_COALESCE_GAP",
    "FetchedMessages",
    "FileOutcome",
    "RetryPolicy",
    "ScratchDir",
    "coalesce_ranges",
    "collect_outcomes",
    "download_file",
    "download_message_bytes",
    "download_messages",
    "fetch_noaa_messages",
    "file_size",
    "local_message_offsets",
    "store_for_url",
]

# Two ranges closer than this are fetched in one request. One extra request costs a round trip
# (~20-100 ms to S3 from outside the region, tens of ms inside); 1 MiB of unwanted bytes costs
# about the same at ~100 Mbit/s, and GFS/HRRR messages are 0.1-1 MB, so small gaps (a skipped
# message or two) are cheaper to read through than to split. Same default as obstore's.
DEFAULT_COALESCE_GAP = 1024 * 1024
SCRATCH_ENV = "REFORMATTERS_SCRATCH"


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


def _call[T](url: str, operation: Callable[[], T]) -> T:
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
    return _call(url, lambda: bytes(obstore.get(store, path).bytes()))


def file_size(url: str, *, retry: RetryPolicy | None = None) -> int:
    """The file's size in bytes (a HEAD request)."""
    store, path = store_for_url(url, retry=retry)
    return _call(url, lambda: int(obstore.head(store, path)["size"]))


def coalesce_ranges(
    ranges: Sequence[tuple[int, int]], max_gap: int = DEFAULT_COALESCE_GAP
) -> list[tuple[int, int]]:
    """Merge ``[start, end)`` ranges that overlap or are at most ``max_gap`` bytes apart."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(set(ranges)):
        if merged and start - merged[-1][1] <= max_gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _grib_declared_length(data: bytes | memoryview) -> int | None:
    if len(data) < 16 or data[:4] != b"GRIB":
        return None
    if data[7] == 2:
        return int.from_bytes(data[8:16], "big")
    if data[7] == 1:
        return int.from_bytes(data[4:7], "big")
    return None


def check_grib_message(url: str, label: str, data: bytes | memoryview) -> None:
    """Raise ``CorruptMessageError`` unless ``data`` is exactly one complete GRIB message."""
    declared = _grib_declared_length(data)
    if declared is None:
        raise CorruptMessageError(
            url,
            f"{url}: {label}: the bytes at this offset do not start a GRIB message "
            f"(got {bytes(data[:8])!r}); the inventory does not match the file, re-fetch both.",
        )
    if declared != len(data) or data[-4:] != b"7777":
        raise CorruptMessageError(
            url,
            f"{url}: {label}: truncated or corrupt GRIB message (declares {declared} bytes, "
            f"received {len(data)}, ends with {bytes(data[-4:])!r}); the file may be partially "
            "uploaded, retry later.",
        )


def download_message_bytes(
    url: str,
    entries: Sequence[ByteRange],
    *,
    max_gap: int = DEFAULT_COALESCE_GAP,
    retry: RetryPolicy | None = None,
    full_file_fallback: bool = False,
    size: int | None = None,
) -> list[bytes]:
    """Fetch exactly the bytes of each entry's message (coalesced, parallel range requests)."""
    views = _message_views(
        url,
        entries,
        max_gap=max_gap,
        retry=retry,
        full_file_fallback=full_file_fallback,
        size=size,
    )
    return [view.tobytes() for view in views]


def _message_views(
    url: str,
    entries: Sequence[ByteRange],
    *,
    max_gap: int,
    retry: RetryPolicy | None,
    full_file_fallback: bool,
    size: int | None = None,
) -> list[memoryview]:
    """`download_message_bytes` as views into the fetched blocks (obstore's buffers), each
    message checked: no copy of the data on its way to a file."""
    if not entries:
        return []
    store, path = store_for_url(url, retry=retry)
    if size is None and any(entry.end is None for entry in entries):
        size = _call(url, lambda: int(obstore.head(store, path)["size"]))
    spans = [(entry.offset, entry.end if entry.end is not None else size) for entry in entries]
    wanted: list[tuple[int, int]] = []
    for entry, (start, end) in zip(entries, spans, strict=True):
        assert end is not None
        if end <= start:
            raise CorruptMessageError(url, f"{url}: {entry.label} has an empty byte range")
        wanted.append((start, end))
    blocks = coalesce_ranges(wanted, max_gap)
    try:
        fetched = _call(
            url,
            lambda: obstore.get_ranges(
                store,
                path,
                starts=[start for start, _ in blocks],
                ends=[end for _, end in blocks],
                coalesce=0,
            ),
        )
        block_data = [memoryview(data) for data in fetched]
    except CorruptMessageError as error:
        labels = "; ".join(entry.label for entry in entries)
        raise CorruptMessageError(url, f"{error} Requested: {labels}") from error
    except RangeNotHonouredError:
        if not full_file_fallback:
            raise
        whole = memoryview(_call(url, lambda: obstore.get(store, path).bytes()))
        block_data = [whole[start:end] for start, end in blocks]
    messages: list[memoryview] = []
    for entry, (start, end) in zip(entries, wanted, strict=True):
        block_index = next(i for i, (b0, b1) in enumerate(blocks) if b0 <= start and end <= b1)
        block_start = blocks[block_index][0]
        data = _first_message(block_data[block_index][start - block_start : end - block_start])
        check_grib_message(url, entry.label, data)
        messages.append(data)
    return messages


def _first_message(data: memoryview) -> memoryview:
    """The complete message ``data`` starts with, if it holds more (e.g. the range of an
    inventory line whose following lines are absent); else ``data`` as it is, to be checked."""
    declared = _grib_declared_length(data)
    if (
        declared is not None
        and 16 < declared < len(data)
        and bytes(data[declared - 4 : declared]) == b"7777"
    ):
        return data[:declared]
    return data


def download_messages(
    url: str,
    entries: Sequence[ByteRange],
    dest_path: Path,
    *,
    max_gap: int = DEFAULT_COALESCE_GAP,
    retry: RetryPolicy | None = None,
    full_file_fallback: bool = False,
) -> Path:
    """Fetch the entries' messages and write them, concatenated in entry order, to ``dest_path``.

    Entries sharing a byte range (wgrib2 sub-messages) are written once. The file appears
    atomically (temporary file, then ``os.replace``).
    """
    unique: list[ByteRange] = []
    seen: set[int] = set()
    for entry in entries:
        if entry.offset not in seen:
            seen.add(entry.offset)
            unique.append(entry)
    messages = _message_views(
        url, unique, max_gap=max_gap, retry=retry, full_file_fallback=full_file_fallback
    )
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = dest_path.with_name(f".{dest_path.name}.{uuid.uuid4().hex}.part")
    with temporary.open("wb") as out:
        for data in messages:
            out.write(data)
    temporary.replace(dest_path)
    return dest_path


def local_message_offsets(path: Path, entries: Sequence[ByteRange]) -> list[int]:
    """For each entry, the offset of its message in a file written by ``download_messages``."""
    offsets: list[int] = []
    local: dict[int, int] = {}
    position = 0
    with path.open("rb") as handle:
        for entry in entries:
            if entry.offset not in local:
                handle.seek(position)
                header = handle.read(16)
                declared = _grib_declared_length(header)
                if declared is None:
                    raise CorruptMessageError(
                        str(path), f"{path}: no GRIB message at byte {position} for {entry.label}"
                    )
                local[entry.offset] = position
                position += declared
            offsets.append(local[entry.offset])
    return offsets


@dataclass(frozen=True, slots=True)
class FetchedMessages:
    """Messages fetched from one source file: ``offsets[i]`` locates ``entries[i]`` in ``path``."""

    url: str
    path: Path
    entries: list[InventoryEntry]
    offsets: list[int]


def fetch_noaa_messages(
    url: str,
    selectors: Sequence[MessageSelector],
    dest_path: Path,
    *,
    idx_url: str | None = None,
    max_gap: int = DEFAULT_COALESCE_GAP,
    retry: RetryPolicy | None = None,
    full_file_fallback: bool = False,
) -> FetchedMessages:
    """Read ``<url>.idx``, select the messages and download only their bytes to ``dest_path``.

    Read each message with ``grib.read_message(result.path, result.offsets[i], expected=...)``.
    """
    inventory = download_file(idx_url or f"{url}.idx", retry=retry).decode()
    entries = select_entries(parse_noaa_idx(inventory), selectors, url=url)
    path = download_messages(
        url,
        entries,
        dest_path,
        max_gap=max_gap,
        retry=retry,
        full_file_fallback=full_file_fallback,
    )
    return FetchedMessages(url, path, entries, local_message_offsets(path, entries))


class ScratchDir:
    """A per-dataset scratch folder under ``$REFORMATTERS_SCRATCH`` (or the system temp dir).

    Use as a context manager; the folder and everything in it are removed on exit.
    """

    def __init__(self, dataset_id: str, root: Path | None = None) -> None:
        base = root or (Path(os.environ[SCRATCH_ENV]) if os.environ.get(SCRATCH_ENV) else None)
        if base is not None:
            base.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f"{dataset_id}-", dir=base))

    def file_for(self, url: str, suffix: str = "") -> Path:
        """A scratch path for data from ``url`` (unique per URL and suffix)."""
        parts = urlsplit(url)
        name = f"{parts.netloc}/{parts.path.lstrip('/')}".strip("/").replace("/", "__")
        return self.path / f"{name}{suffix}"

    def cleanup(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()


@dataclass(frozen=True, slots=True)
class FileOutcome[T]:
    """The result of processing one source file: a value, or the source error that stopped it."""

    url: str
    value: T | None = None
    error: SourceError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def collect_outcomes[T](
    urls: Sequence[str], process: Callable[[str], T], *, max_workers: int = 4
) -> list[FileOutcome[T]]:
    """Run ``process`` on every URL in a thread pool; a ``SourceError`` fails only its own file.

    Other exceptions are bugs and propagate.
    """

    def run(url: str) -> FileOutcome[T]:
        try:
            return FileOutcome(url, value=process(url))
        except SourceError as error:
            return FileOutcome(url, error=error)

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(run, urls))


def iter_ok[T](outcomes: Sequence[FileOutcome[T]]) -> Iterator[tuple[str, T]]:
    """The successful outcomes' (url, value) pairs."""
    for outcome in outcomes:
        if outcome.error is None:
            assert outcome.value is not None
            yield outcome.url, outcome.value
