"""GRIB inventories: NOAA wgrib2-style ``.idx`` files and ECMWF JSON-lines ``.index`` files.

Every entry knows the byte range of its GRIB message: ``offset`` (inclusive) and ``end``
(exclusive). In a NOAA ``.idx`` the end is the next message's offset; the last message runs to
the end of the file, so its ``end`` is ``None`` unless ``file_size`` is passed to the parser
(the downloader resolves it with a HEAD request).

wgrib2 writes sub-messages of a multi-field GRIB message as ``1.1:``, ``1.2:`` sharing one
offset; each sub-message entry spans the whole enclosing message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from reformatters.core.sources.errors import SourceError

__all__ = [
    "ByteRange",
    "EcmwfIndexEntry",
    "InventoryEntry",
    "InventoryParseError",
    "MessageSelector",
    "MissingMessagesError",
    "format_noaa_idx",
    "parse_ecmwf_index",
    "parse_noaa_idx",
    "select_ecmwf_entries",
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


@dataclass(frozen=True, slots=True)
class InventoryEntry:
    """One line of a NOAA wgrib2-style ``.idx`` inventory.

    ``message`` is the message number as written (``"7"`` or ``"1.2"`` for a sub-message);
    ``extra`` holds the fields after the forecast description verbatim (``("",)`` for the
    usual trailing colon, ``("ens mean",)``, ``("prob >0.254", "prob fcst 1/21")``...).
    """

    message: str
    offset: int
    reference_time: str
    element: str
    level: str
    forecast: str
    extra: tuple[str, ...] = ("",)
    end: int | None = None

    @property
    def message_number(self) -> int:
        return int(self.message.split(".", 1)[0])

    @property
    def extra_text(self) -> str:
        """The extra fields joined with ``:`` and without a trailing colon, e.g. ``ens mean``."""
        return ":".join(self.extra).rstrip(":")

    @property
    def reference_datetime(self) -> datetime:
        """The ``d=`` reference (initialisation) time as a naive UTC datetime."""
        text = self.reference_time
        return datetime.strptime(text, "%Y%m%d%H%M" if len(text) == 12 else "%Y%m%d%H")

    @property
    def length(self) -> int | None:
        return None if self.end is None else self.end - self.offset

    @property
    def label(self) -> str:
        extra = f":{self.extra_text}" if self.extra_text else ""
        return f"message {self.message} ({self.element}:{self.level}:{self.forecast}{extra})"


@dataclass(frozen=True, slots=True)
class EcmwfIndexEntry:
    """One line of an ECMWF open-data ``.index`` (JSON lines with ``_offset``/``_length``)."""

    offset: int
    length: int
    keys: Mapping[str, str] = field(default_factory=dict)

    @property
    def end(self) -> int:
        return self.offset + self.length

    @property
    def param(self) -> str | None:
        return self.keys.get("param")

    @property
    def levtype(self) -> str | None:
        return self.keys.get("levtype")

    @property
    def levelist(self) -> str | None:
        return self.keys.get("levelist")

    @property
    def step(self) -> str | None:
        return self.keys.get("step")

    @property
    def label(self) -> str:
        shown = ",".join(f"{k}={v}" for k, v in self.keys.items())
        return f"message at byte {self.offset} ({shown})"


def parse_noaa_idx(
    text: str,
    *,
    file_size: int | None = None,
    fields: Container[tuple[str, str]] | None = None,
) -> list[InventoryEntry]:
    """Parse a wgrib2-style inventory, computing every message's exclusive end byte.

    With `fields`, only the entries whose (element, level) is in it are returned (every line is
    still checked): a GFS inventory has 743 lines, a job wants a few of them from each file.
    """
    lines: list[list[str]] = []
    offsets: list[int] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(":")
        if len(parts) < 6:
            raise InventoryParseError(
                f"idx line {line_number} has {len(parts)} colon-separated fields, expected at "
                f"least 6 (msg:offset:d=date:element:level:forecast): {line!r}"
            )
        if not parts[1].isdigit() or not parts[0].replace(".", "").isdigit():
            raise InventoryParseError(
                f"idx line {line_number} has a non-numeric message number or offset: {line!r}"
            )
        lines.append(parts)
        offsets.append(int(parts[1]))
    ends = _message_ends([parts[0] for parts in lines], offsets, file_size)
    return [
        InventoryEntry(
            message=message,
            offset=offset,
            reference_time=date_text.removeprefix("d="),
            element=element,
            level=level,
            forecast=forecast,
            extra=tuple(extra),
            end=end,
        )
        for (message, _, date_text, element, level, forecast, *extra), offset, end in zip(
            lines, offsets, ends, strict=True
        )
        if fields is None or (element, level) in fields
    ]


def _message_ends(
    messages: list[str], offsets: list[int], file_size: int | None
) -> list[int | None]:
    """Each message's exclusive end: the next larger offset, or `file_size`."""
    ends: list[int | None] = []
    end = file_size
    group_offset: int | None = None
    # Walk backwards: sub-messages share an offset, so the end is the next *larger* offset.
    for message, offset in zip(reversed(messages), reversed(offsets), strict=True):
        if group_offset is not None and offset != group_offset:
            end = group_offset
        if end is not None and end <= offset:
            raise InventoryParseError(
                f"idx offsets are not increasing at message {message}: offset "
                f"{offset} is not below the following offset (or file size) {end}"
            )
        group_offset = offset
        ends.append(end)
    ends.reverse()
    return ends


def format_noaa_idx(entries: Iterable[InventoryEntry]) -> str:
    """Write entries as a wgrib2-style inventory (one line each, newline-terminated)."""
    lines = [
        ":".join(
            (
                entry.message,
                str(entry.offset),
                f"d={entry.reference_time}",
                entry.element,
                entry.level,
                entry.forecast,
                *entry.extra,
            )
        )
        for entry in entries
    ]
    return "".join(f"{line}\n" for line in lines)


def parse_ecmwf_index(text: str) -> list[EcmwfIndexEntry]:
    """Parse ECMWF JSON-lines inventories (``_offset``/``_length``; ``offset``/``length`` too)."""
    entries: list[EcmwfIndexEntry] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        if not isinstance(record, dict):
            raise InventoryParseError(f"index line {line_number} is not a JSON object: {line!r}")
        offset = record.pop("_offset", record.pop("offset", None))
        length = record.pop("_length", record.pop("length", None))
        if not isinstance(offset, int) or not isinstance(length, int):
            raise InventoryParseError(
                f"index line {line_number} lacks integer _offset/_length: {line!r}"
            )
        entries.append(
            EcmwfIndexEntry(
                offset=offset, length=length, keys={k: str(v) for k, v in record.items()}
            )
        )
    return entries


type ForecastMatcher = str | Callable[[str], bool] | None


@dataclass(frozen=True, slots=True)
class MessageSelector:
    """Which ``.idx`` message a variable needs.

    ``forecast`` is an exact description (``"6-7 hour acc fcst"``), a predicate on it, or
    ``None`` for "exactly one message with this element and level". ``extra`` likewise matches
    ``InventoryEntry.extra_text`` (e.g. ``"ens mean"``); ``None`` accepts any.
    """

    element: str
    level: str
    forecast: ForecastMatcher = None
    extra: str | None = None

    def matches(self, entry: InventoryEntry) -> bool:
        if entry.element != self.element or entry.level != self.level:
            return False
        if self.extra is not None and entry.extra_text != self.extra:
            return False
        if self.forecast is None:
            return True
        if isinstance(self.forecast, str):
            return entry.forecast == self.forecast
        return self.forecast(entry.forecast)

    def describe(self) -> str:
        match self.forecast:
            case None:
                forecast = "*"
            case str():
                forecast = self.forecast
            case _:
                forecast = getattr(self.forecast, "__name__", "<predicate>")
        extra = f":{self.extra}" if self.extra is not None else ""
        return f"{self.element}:{self.level}:{forecast}{extra}"


def select_entries(
    entries: Sequence[InventoryEntry], wanted: Sequence[MessageSelector], *, url: str
) -> list[InventoryEntry]:
    """Return one entry per selector, in selector order.

    Raises ``MissingMessagesError`` naming ``url`` and every selector that matched nothing, and
    ``LookupError`` when a selector is ambiguous (matches several messages).
    """
    selected: list[InventoryEntry] = []
    missing: list[str] = []
    for selector in wanted:
        matches = [entry for entry in entries if selector.matches(entry)]
        if not matches:
            missing.append(selector.describe())
        elif len(matches) > 1:
            found = ", ".join(entry.label for entry in matches)
            raise LookupError(
                f"{url}: selector {selector.describe()} is ambiguous, it matches {found}; "
                "give the forecast description (or extra field) explicitly."
            )
        else:
            selected.append(matches[0])
    if missing:
        raise MissingMessagesError(url, missing)
    return selected


def select_ecmwf_entries(
    entries: Sequence[EcmwfIndexEntry], wanted: Sequence[Mapping[str, str]], *, url: str
) -> list[EcmwfIndexEntry]:
    """Return one entry per wanted key mapping (e.g. ``{"param": "2t", "step": "6"}``)."""
    selected: list[EcmwfIndexEntry] = []
    missing: list[str] = []
    for keys in wanted:
        matches = [e for e in entries if all(e.keys.get(k) == v for k, v in keys.items())]
        shown = ",".join(f"{k}={v}" for k, v in keys.items())
        if not matches:
            missing.append(shown)
        elif len(matches) > 1:
            raise LookupError(
                f"{url}: keys {shown} match {len(matches)} messages; add keys to disambiguate."
            )
        else:
            selected.append(matches[0])
    if missing:
        raise MissingMessagesError(url, missing)
    return selected
