"""What ``reformat``'s commands share: parsing timestamps and worker environment, the options
that select region jobs and the store, and the consoles."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from reformatters.core.dynamical_dataset import JobFilters
from reformatters.core.errors import InvalidArgumentError

WORKER_INDEX_ENVS = ("JOB_COMPLETION_INDEX", "WORKER_INDEX")
WORKERS_TOTAL_ENV = "WORKERS_TOTAL"

stdout = Console()
stderr = Console(stderr=True)


def parse_timestamp(value: str, option: str) -> datetime:
    """ISO 8601 date or date-time, naive UTC (a trailing Z or +00:00 is accepted)."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidArgumentError(
            f"{option}: {value!r} is not an ISO 8601 date or time (e.g. 2024-01-01T06:00)"
        ) from None
    if parsed.tzinfo is not None:
        offset = parsed.utcoffset()
        assert offset is not None
        parsed = (parsed - offset).replace(tzinfo=None)
    if not 1900 <= parsed.year <= datetime.now(UTC).year + 1:
        raise InvalidArgumentError(f"{option}: {value!r} is out of range (years 1900 to next year)")
    return parsed


def now_or(value: str | None) -> datetime:
    """``--now`` if given, else the current time (naive UTC)."""
    if value is not None:
        return parse_timestamp(value, "--now")
    return datetime.now(UTC).replace(tzinfo=None)


def job_filters(
    filter_start: str | None,
    filter_end: str | None,
    names: list[str] | None,
    members: list[int] | None = None,
) -> JobFilters:
    return JobFilters(
        filter_start=parse_timestamp(filter_start, "--filter-start") if filter_start else None,
        filter_end=parse_timestamp(filter_end, "--filter-end") if filter_end else None,
        filter_variable_names=tuple(names or ()),
        filter_ensemble_members=tuple(members or ()),
    )


def worker_index_from_env() -> int:
    for name in WORKER_INDEX_ENVS:
        if (value := os.environ.get(name)) is not None:
            return _parse_int_env(name, value)
    raise InvalidArgumentError(
        f"set {' or '.join(WORKER_INDEX_ENVS)} to this worker's index (0-based)"
    )


def workers_total_from_env() -> int:
    value = os.environ.get(WORKERS_TOTAL_ENV)
    if value is None:
        raise InvalidArgumentError(f"set {WORKERS_TOTAL_ENV} to the number of workers")
    return _parse_int_env(WORKERS_TOTAL_ENV, value)


def _parse_int_env(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidArgumentError(f"{name}={value!r} is not an integer") from None


EndArg = Annotated[str, typer.Argument(help="End of the append dimension (exclusive), ISO 8601.")]
StartOpt = Annotated[
    str | None, typer.Option(help="Only regions that reach this time or later (ISO 8601).")
]
EndOpt = Annotated[
    str | None, typer.Option(help="Only regions that start before this time (ISO 8601).")
]
VarsOpt = Annotated[
    list[str] | None,
    typer.Option(help="Only these variables (repeat the option for several)."),
]
MembersOpt = Annotated[
    list[int] | None,
    typer.Option(help="Only these ensemble members (repeat the option for several)."),
]
OutputOpt = Annotated[
    str | None,
    typer.Option(
        help="Output base folder or s3://bucket/prefix (default $REFORMATTERS_OUTPUT_URL)."
    ),
]
BreakLeaseOpt = Annotated[
    bool,
    typer.Option(
        "--break-lease",
        help="Remove another writer's lease on the store first (only if that writer is gone).",
    ),
]
NowOpt = Annotated[
    str | None,
    typer.Option(help="Act as if it were this time (ISO 8601, UTC); for replays and tests."),
]
NamespaceOpt = Annotated[
    str | None, typer.Option(help="Kubernetes namespace (default $REFORMATTERS_NAMESPACE).")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Print the manifests as YAML; change nothing.")
]
