"""Source mirrors: redirect provider URLs to another place that holds the same layout.

Dataset configurations name their sources as ``s3://<bucket>/<key>`` (the providers' public
buckets, e.g. ``s3://bucket/model.20240101/00/file.f000``) or, for providers that publish over
HTTP only, ``https://<host>/<path>``.
Setting ``REFORMATTERS_SOURCE_MIRROR=<base>`` rewrites each such URL to ``<base>/<bucket>/<key>``
(``<base>/<host>/<path>`` for an HTTP source: the host plays the bucket's part), where ``<base>``
is an ``http(s)://`` URL, an ``s3://`` URL (an S3-compatible endpoint is chosen with the
standard ``AWS_ENDPOINT_URL``) or a local folder path. Without a mirror, URLs stay as they are
(``s3://`` ones are read anonymously). Local paths and ``file://`` URLs are never rewritten.
"""

from __future__ import annotations

import os
from pathlib import Path

from reformatters.core.errors import InvalidArgumentError

__all__ = ["SOURCE_MIRROR_ENV", "check_source_mirror", "mirror_key", "resolve_source_url"]

SOURCE_MIRROR_ENV = "REFORMATTERS_SOURCE_MIRROR"


def resolve_source_url(url: str, *, mirror: str | None = None) -> str:
    """Return where to read ``url`` from, given ``mirror`` or ``$REFORMATTERS_SOURCE_MIRROR``."""
    base = mirror if mirror is not None else os.environ.get(SOURCE_MIRROR_ENV, "")
    base = base.strip()
    bucket_and_key = mirror_key(url)
    if not base or bucket_and_key is None:
        return url
    if "://" in base:
        return f"{base.rstrip('/')}/{bucket_and_key}"
    return str(Path(base).expanduser().resolve() / bucket_and_key)


def mirror_key(url: str) -> str | None:
    """Where ``url`` sits in a mirror: ``<bucket>/<key>`` for ``s3://``, ``<host>/<path>`` for
    ``http(s)://``; None for local files (never mirrored)."""
    for scheme in ("s3://", "https://", "http://"):
        if url.startswith(scheme):
            return url.removeprefix(scheme).lstrip("/")
    return None


def check_source_mirror(*, mirror: str | None = None) -> None:
    """Raise InvalidArgumentError if the configured mirror is a local folder that does not exist
    (a typo, an unmounted disk): every file would otherwise look missing from the provider."""
    base = (mirror if mirror is not None else os.environ.get(SOURCE_MIRROR_ENV, "")).strip()
    if not base or "://" in base:
        return
    folder = Path(base).expanduser()
    if not folder.is_dir():
        raise InvalidArgumentError(
            f"{SOURCE_MIRROR_ENV}={base}: no such folder; create the mirror there (e.g. "
            "`reformat mirror synthesize <dataset-id> START END FOLDER`) or unset it to read the "
            "provider's bucket"
        )
