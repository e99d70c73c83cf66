"""GRIB inventories as an interface: whatever a provider's inventory format, its entries locate
messages by byte range and a dataset selects the ones it needs.

Each format (a wgrib2-style ``.idx`` in a provider package, core's JSON lines in
``json_lines_index``) parses into entries that satisfy ``ByteRange``: ``offset`` (inclusive),
``end`` (exclusive, or ``None`` for a last message that runs to the end of the file, resolved
with a HEAD request by the downloader) and a ``label`` for messages. A ``Selector`` says which
entry a variable needs; ``select_entries`` picks exactly one per selector or names every
selector that matched nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from reformatters.core.sources.errors import SourceError

__all__ = [
    "ByteRange",
    "InventoryParseError",
    "MissingMessagesError",
    "Selector",
    "message_ends",
    "select_entries",
]


class InventoryParseError(ValueError):
    """An inventory line could not be parsed."""


class MissingMessagesError(SourceError, LookupError):
    """Requested messages are absent from a source file's inventory."""

    def __init__(self, url: str, missing: Sequence[str], detail: str = "") -> None:
        self.missing = list(missing)
        listing = "; ".join(self.missing)
        super().__init__(
            url,
            f"{url}: inventory lacks {len(self.missing)} requested message(s): {listing}."
            f"{' ' + detail if detail else ''} Check the variable's source configuration "
            "against the provider's inventory, or whether the file is only partially published.",
        )


class ByteRange(Protocol):
    """Anything that locates one GRIB message in a file."""

    @property
    def offset(self) -> int: ...

    @property
    def end(self) -> int | None: ...

    @property
    def label(self) -> str: ...


class Selector[EntryT](Protocol):
    """Which inventory entry a variable needs."""

    def matches(self, entry: EntryT, /) -> bool: ...

    def describe(self) -> str: ...


def message_ends(
    messages: list[str], offsets: list[int], file_size: int | None
) -> list[int | None]:
    """Each message's exclusive end, for inventories that list offsets only: the next larger
    offset, or `file_size` (None if not given) for the last. ``messages`` name the messages in
    errors. Entries that share an offset (fields of one multi-field message) share its end."""
    ends: list[int | None] = []
    end = file_size
    group_offset: int | None = None
    # Walk backwards: sub-messages share an offset, so the end is the next *larger* offset.
    for message, offset in zip(reversed(messages), reversed(offsets), strict=True):
        if group_offset is not None and offset != group_offset:
            end = group_offset
        if end is not None and end <= offset:
            raise InventoryParseError(
                f"inventory offsets are not increasing at message {message}: offset "
                f"{offset} is not below the following offset (or file size) {end}"
            )
        group_offset = offset
        ends.append(end)
    ends.reverse()
    return ends


def select_entries[EntryT: ByteRange](
    entries: Sequence[EntryT], wanted: Sequence[Selector[EntryT]], *, url: str
) -> list[EntryT]:
    """Return one entry per selector, in selector order.

    Raises ``MissingMessagesError`` naming ``url`` and every selector that matched nothing, and
    ``LookupError`` when a selector is ambiguous (matches several messages).
    """
    selected: list[EntryT] = []
    missing: list[str] = []
    for selector in wanted:
        matches = [entry for entry in entries if selector.matches(entry)]
        if not matches:
            missing.append(selector.describe())
        elif len(matches) > 1:
            found = ", ".join(entry.label for entry in matches)
            raise LookupError(
                f"{url}: selector {selector.describe()} is ambiguous, it matches {found}; "
                "make it more specific."
            )
        else:
            selected.append(matches[0])
    if missing:
        raise MissingMessagesError(url, missing)
    return selected
