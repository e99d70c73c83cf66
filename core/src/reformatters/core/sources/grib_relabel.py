"""Relabel encoded GRIB2 messages with another run and forecast time, in their bytes.

Synthesized mirrors of many runs and leads can reuse a small pool of encoded messages: a copy
of a pooled message gets the reference (init) time of its new run in section 1 and the steps of
its new lead in section 4, and keeps every other octet, so it decodes to exactly the pooled
values with the new identity. Nothing is re-encoded and a message keeps its length, so copying a
pooled file and relabelling its messages keeps every byte offset of its inventory.

Product definition templates (code table 4.0) handled: 4.0, 4.1, 4.2 (a field at one step) and
4.8, 4.11, 4.12 (a statistic over one time range, with the end of the overall interval).
"""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["relabel_in_place", "relabelled"]

# Octets are numbered from 1 within their section, as in the WMO manual.
_REFERENCE_TIME_OCTET = 13  # section 1: year (2 octets), month, day, hour, minute, second
_UNIT_OCTET = 18  # section 4: indicator of unit of time range (code table 4.4)
_FORECAST_TIME_OCTET = 19  # section 4: forecast time in units (4 octets)
_INSTANT_TEMPLATES = frozenset({0, 1, 2})
# Statistical templates: the octet where the end of the overall time interval starts.
_END_OF_INTERVAL_OCTET = {8: 35, 11: 38, 12: 37}
# Code table 4.4: unit -> length.
_UNITS = {
    0: timedelta(minutes=1),
    1: timedelta(hours=1),
    2: timedelta(days=1),
    10: timedelta(hours=3),
    11: timedelta(hours=6),
    12: timedelta(hours=12),
    13: timedelta(seconds=1),
}


def relabelled(
    message: bytes,
    reference_time: datetime,
    end_step: timedelta,
    start_step: timedelta | None = None,
) -> bytes:
    """A copy of ``message`` relabelled (see ``relabel_in_place``)."""
    copy = bytearray(message)
    relabel_in_place(copy, 0, reference_time, end_step, start_step)
    return bytes(copy)


def relabel_in_place(
    buffer: bytearray,
    offset: int,
    reference_time: datetime,
    end_step: timedelta,
    start_step: timedelta | None = None,
) -> None:
    """Relabel the GRIB2 message at ``offset`` of ``buffer``: its run starts at
    ``reference_time``; a field at one step is at ``end_step`` (``start_step`` None or equal),
    a statistic covers ``start_step`` to ``end_step``. Every field of the message is
    relabelled; times keep the message's units."""
    if buffer[offset : offset + 4] != b"GRIB" or buffer[offset + 7] != 2:
        raise ValueError(f"no GRIB2 message at byte {offset}")
    end = offset + int.from_bytes(buffer[offset + 8 : offset + 16], "big")
    position = offset + 16
    while position < end and buffer[position : position + 4] != b"7777":
        length = int.from_bytes(buffer[position : position + 4], "big")
        if length < 5 or position + length > end:
            raise ValueError(f"corrupt GRIB2 section at byte {position}")
        section = buffer[position + 4]
        if section == 1:
            _put_time(buffer, position + _REFERENCE_TIME_OCTET - 1, reference_time)
        elif section == 4:
            _relabel_product(buffer, position, reference_time, end_step, start_step)
        position += length


def _relabel_product(
    buffer: bytearray,
    section: int,
    reference_time: datetime,
    end_step: timedelta,
    start_step: timedelta | None,
) -> None:
    def octet(number: int) -> int:
        return section + number - 1

    template = int.from_bytes(buffer[octet(8) : octet(10)], "big")
    unit = buffer[octet(_UNIT_OCTET)]
    if template in _INSTANT_TEMPLATES:
        if start_step is not None and start_step != end_step:
            raise ValueError(f"template 4.{template} is at one step, got {start_step}-{end_step}")
        _put_count(buffer, octet(_FORECAST_TIME_OCTET), end_step, unit)
        return
    year = _END_OF_INTERVAL_OCTET.get(template)
    if year is None:
        raise ValueError(f"product definition template 4.{template} is not handled")
    if start_step is None:
        raise ValueError(f"template 4.{template} is a statistic: it needs a start step")
    ranges = buffer[octet(year + 7)]
    if ranges != 1:
        raise ValueError(f"template 4.{template} with {ranges} time ranges is not handled")
    _put_count(buffer, octet(_FORECAST_TIME_OCTET), start_step, unit)
    _put_time(buffer, octet(year), reference_time + end_step)
    range_unit = buffer[octet(year + 14)]
    _put_count(buffer, octet(year + 15), end_step - start_step, range_unit)


def _put_time(buffer: bytearray, index: int, time: datetime) -> None:
    buffer[index : index + 2] = time.year.to_bytes(2, "big")
    buffer[index + 2 : index + 7] = bytes(
        [time.month, time.day, time.hour, time.minute, time.second]
    )


def _put_count(buffer: bytearray, index: int, step: timedelta, unit: int) -> None:
    length = _UNITS.get(unit)
    if length is None:
        raise ValueError(f"time unit {unit} (code table 4.4) is not handled")
    count, remainder = divmod(step, length)
    if remainder or count < 0:
        raise ValueError(f"{step} is not a whole, non-negative number of unit {unit}")
    buffer[index : index + 4] = int(count).to_bytes(4, "big")
