"""Source mirrors: redirect provider URLs to another place that holds the same layout.

Dataset configurations name their sources as ``s3://<bucket>/<key>`` (the providers' public
buckets, e.g. ``s3://bucket/model.20240101/00/file.f000``).
Setting ``REFORMATTERS_SOURCE_MIRROR=<base>`` rewrites each such URL to ``<base>/<bucket>/<key>``,
where ``<base>`` is an ``http(s)://`` URL, an ``s3://`` URL (an S3-compatible endpoint is chosen
with the standard ``AWS_ENDPOINT_URL``) or a local folder path. Without a mirror, ``s3://``
URLs stay as they are and are read anonymously. URLs that are not ``s3://`` (already HTTP or
local) are never rewritten.
"""

from __future__ import annotations

import os
from pathlib import Path

from reformatters.core.errors import InvalidArgumentError

__all__ = ["SOURCE_MIRROR_ENV", "check_source_mirror", "resolve_source_url"]

SOURCE_MIRROR_ENV = "REFORMATTERS_SOURCE_MIRROR"


def resolve_source_url(url: str, *, mirror: str | None = None) -> str:
    """Return where to read ``url`` from, given ``mirror`` or ``$REFORMATTERS_SOURCE_MIRROR``."""
    base = mirror if mirror is not None else os.environ.get(SOURCE_MIRROR_ENV, "")
    base = base.strip()
    if not base or not url.startswith("s3://"):
        return url
    bucket_and_key = url.removeprefix("s3://").lstrip("/")
    if "://" in base:
        return f"{base.rstrip('/')}/{bucket_and_key}"
    return str(Path(base).expanduser().resolve() / bucket_and_key)


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
