"""NOAA wgrib2-style ``.idx`` inventories: parsing, writing, selecting and forecast descriptions.

Every entry knows the byte range of its GRIB message: ``offset`` (inclusive) and ``end``
(exclusive). The end is the next message's offset; the last message runs to the end of the file,
so its ``end`` is ``None`` unless ``file_size`` is passed to the parser (the downloader resolves
it with a HEAD request).

wgrib2 writes sub-messages of a multi-field GRIB message as ``1.1:``, ``1.2:`` sharing one
offset; each sub-message entry spans the whole enclosing message.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from reformatters.core.sources.errors import SourceRunMismatchError
from reformatters.core.sources.inventory import InventoryParseError, message_ends

__all__ = [
    "IdxEntry",
    "MessageSelector",
    "WindowKind",
    "check_run",
    "format_forecast",
    "format_noaa_idx",
    "parse_forecast",
    "parse_noaa_idx",
    "select_messages",
]

type WindowKind = Literal["acc", "ave", "max", "min"]


@dataclass(frozen=True, slots=True)
class IdxEntry:
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


def parse_noaa_idx(
    text: str,
    *,
    file_size: int | None = None,
    fields: Container[tuple[str, str]] | None = None,
) -> list[IdxEntry]:
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
    ends = message_ends([parts[0] for parts in lines], offsets, file_size)
    return [
        IdxEntry(
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


def format_noaa_idx(entries: Iterable[IdxEntry]) -> str:
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


type ForecastMatcher = str | Callable[[str], bool] | None


@dataclass(frozen=True, slots=True)
class MessageSelector:
    """Which ``.idx`` message a variable needs.

    ``forecast`` is an exact description (``"6-7 hour acc fcst"``), a predicate on it, or
    ``None`` for "exactly one message with this element and level". ``extra`` likewise matches
    ``IdxEntry.extra_text`` (e.g. ``"ens mean"``); ``None`` accepts any.
    """

    element: str
    level: str
    forecast: ForecastMatcher = None
    extra: str | None = None

    def matches(self, entry: IdxEntry) -> bool:
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


def select_messages(
    entries: Sequence[IdxEntry], wanted: Sequence[MessageSelector]
) -> list[IdxEntry | None]:
    """One entry per selector (the first if NOAA lists a message twice, as GFS does for the
    ``0-6 hour acc`` APCP at f006), None where the inventory has no such line."""
    by_field: dict[tuple[str, str], list[IdxEntry]] = defaultdict(list)
    for entry in entries:
        by_field[entry.element, entry.level].append(entry)
    return [
        next((e for e in by_field[selector.element, selector.level] if selector.matches(e)), None)
        for selector in wanted
    ]


def check_run(entries: Iterable[IdxEntry], init_time: datetime, url: str) -> None:
    """Raise SourceRunMismatchError unless every entry's ``d=`` is ``init_time``'s run."""
    expected = f"{init_time:%Y%m%d%H}"
    for entry in entries:
        if entry.reference_time[:10] != expected:
            raise SourceRunMismatchError(
                url,
                f"{url} is filed under the run of {init_time:%Y-%m-%dT%H} but its inventory "
                f"says d={entry.reference_time}: a stale or misfiled object, not stored",
            )


_INSTANT = re.compile(r"(\d+) hour fcst")
_WINDOW = re.compile(r"(\d+)-(\d+) (hour|day) (acc|ave|max|min) fcst")


def parse_forecast(forecast: str) -> tuple[int | None, int, WindowKind | None]:
    """(window start hours or None, end hours, window kind or None) of a wgrib2 description."""
    if forecast == "anl":
        return None, 0, None
    if instant := _INSTANT.fullmatch(forecast):
        return None, int(instant.group(1)), None
    if window := _WINDOW.fullmatch(forecast):
        unit = 24 if window.group(3) == "day" else 1
        kind: WindowKind = window.group(4)  # type: ignore[assignment]
        return int(window.group(1)) * unit, int(window.group(2)) * unit, kind
    raise ValueError(f"unsupported NOAA forecast description {forecast!r}")


def format_forecast(start: int | None, end: int, kind: WindowKind | None) -> str:
    """wgrib2's description: ``anl``, ``7 hour fcst``, ``6-7 hour acc fcst``, ``0-1 day acc fcst``.

    wgrib2 prints a window in days when both ends are whole days (``0-0 day acc fcst`` at f00).
    """
    if kind is None or start is None:
        return "anl" if end == 0 else f"{end} hour fcst"
    if start % 24 == 0 and end % 24 == 0:
        return f"{start // 24}-{end // 24} day {kind} fcst"
    return f"{start}-{end} hour {kind} fcst"
