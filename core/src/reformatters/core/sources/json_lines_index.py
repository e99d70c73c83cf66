"""JSON-lines inventories: one JSON object per GRIB message, with its byte range in ``_offset``
and ``_length`` (``offset``/``length`` are accepted too) and any other keys describing it
(``{"param": "2t", "levtype": "sfc", "step": "6", "_offset": 0, "_length": 712117}``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reformatters.core.sources.inventory import InventoryParseError, select_entries

__all__ = [
    "JsonLinesIndexEntry",
    "KeySelector",
    "parse_json_lines_index",
    "select_json_lines_entries",
]


@dataclass(frozen=True, slots=True)
class JsonLinesIndexEntry:
    """One line of a JSON-lines inventory: the message's byte range and its describing keys."""

    offset: int
    length: int
    keys: Mapping[str, str] = field(default_factory=dict)

    @property
    def end(self) -> int:
        return self.offset + self.length

    @property
    def label(self) -> str:
        shown = ",".join(f"{k}={v}" for k, v in self.keys.items())
        return f"message at byte {self.offset} ({shown})"


def parse_json_lines_index(text: str) -> list[JsonLinesIndexEntry]:
    """Parse a JSON-lines inventory (``_offset``/``_length``; ``offset``/``length`` too)."""
    entries: list[JsonLinesIndexEntry] = []
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
            JsonLinesIndexEntry(
                offset=offset, length=length, keys={k: str(v) for k, v in record.items()}
            )
        )
    return entries


@dataclass(frozen=True, slots=True)
class KeySelector:
    """The entry whose keys include all of ``keys`` (e.g. ``{"param": "2t", "step": "6"}``)."""

    keys: Mapping[str, str]

    def matches(self, entry: JsonLinesIndexEntry) -> bool:
        return all(entry.keys.get(k) == v for k, v in self.keys.items())

    def describe(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.keys.items())


def select_json_lines_entries(
    entries: Sequence[JsonLinesIndexEntry], wanted: Sequence[Mapping[str, str]], *, url: str
) -> list[JsonLinesIndexEntry]:
    """Return one entry per wanted key mapping (e.g. ``{"param": "2t", "step": "6"}``)."""
    return select_entries(entries, [KeySelector(keys) for keys in wanted], url=url)
