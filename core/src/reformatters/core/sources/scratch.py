"""Per-dataset scratch folders for downloaded source data."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

__all__ = ["SCRATCH_ENV", "ScratchDir"]

SCRATCH_ENV = "REFORMATTERS_SCRATCH"


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
