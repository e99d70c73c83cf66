"""Cron arithmetic: the scheduled time of an operational run, not the wall clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from cronsim import CronSim

from reformatters.core.config_models import datetime_utc_naive

SCHEDULE_ORIGIN = datetime(2000, 1, 1)


def most_recent_tick(schedule: str, now: datetime) -> datetime:
    """The latest time matching `schedule` at or before `now` (naive UTC, whole minutes).

    A pod that starts late computes the same tick as one that started on time.
    """
    now = datetime_utc_naive(now).replace(second=0, microsecond=0)
    # cronsim skips `dt` itself when reversing unless it has microseconds.
    return next(CronSim(schedule, now + timedelta(microseconds=1), reverse=True))


def append_dim_end_at(start: datetime, frequency: timedelta, time: datetime) -> datetime:
    """The exclusive append-dim end that includes every position at or before `time`."""
    if time < start:
        return start
    steps = (time - start) // frequency
    return start + (steps + 1) * frequency
