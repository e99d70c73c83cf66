"""Errors raised while fetching and reading source files. All name the URL involved."""

from __future__ import annotations

__all__ = [
    "CorruptMessageError",
    "MessageAbsentError",
    "RangeNotHonouredError",
    "SourceDownloadError",
    "SourceError",
    "SourceFileMissingError",
    "SourceRunMismatchError",
]


class SourceError(Exception):
    """Base class: something is wrong with one source file; other files may still be fine."""

    def __init__(self, url: str, message: str) -> None:
        self.url = url
        super().__init__(message)


class SourceFileMissingError(SourceError):
    """The source file does not exist (404) or is not readable (403): usually not yet published."""

    def __init__(self, url: str, detail: str = "") -> None:
        super().__init__(
            url,
            f"{url} is missing (not found or access denied){': ' + detail if detail else ''}. "
            "It is probably not published yet; retry later or check the source mirror setting.",
        )


class SourceDownloadError(SourceError):
    """A download failed after all retries (timeouts, connection errors, 5xx)."""


class RangeNotHonouredError(SourceDownloadError):
    """The server ignored an HTTP Range request and answered with the whole file."""


class CorruptMessageError(SourceError):
    """Downloaded bytes are not the complete GRIB message the inventory promised."""


class MessageAbsentError(SourceError):
    """The file is there, but its inventory lacks one variable's message (the provider dropped or
    renamed the line): only that variable is missing from the file."""

    def __init__(self, url: str, expected: str) -> None:
        self.expected = expected
        super().__init__(url, f"{url}: its inventory has no line {expected!r}")


class SourceRunMismatchError(SourceError):
    """The file holds another run than the one it is filed under (a stale or misfiled object)."""
