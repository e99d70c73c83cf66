"""The per-dataset command line (mounted by ``reformat`` as ``reformat <dataset-id> ...``)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reformatters.core.errors import InvalidArgumentError

if TYPE_CHECKING:
    from reformatters.core.dynamical_dataset import BackfillReport, DynamicalDataset, JobFilters

WORKER_INDEX_ENVS = ("JOB_COMPLETION_INDEX", "WORKER_INDEX")
WORKERS_TOTAL_ENV = "WORKERS_TOTAL"

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


def _worker_index_from_env() -> int:
    for name in WORKER_INDEX_ENVS:
        if (value := os.environ.get(name)) is not None:
            return _parse_int_env(name, value)
    raise InvalidArgumentError(
        f"set {' or '.join(WORKER_INDEX_ENVS)} to this worker's index (0-based)"
    )


def _workers_total_from_env() -> int:
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


def _filters(
    filter_start: str | None, filter_end: str | None, names: list[str] | None
) -> JobFilters:
    from reformatters.core.dynamical_dataset import JobFilters

    return JobFilters(
        filter_start=parse_timestamp(filter_start, "--filter-start") if filter_start else None,
        filter_end=parse_timestamp(filter_end, "--filter-end") if filter_end else None,
        filter_variable_names=tuple(names or ()),
    )


def _print_report(dataset_id: str, report: BackfillReport, elapsed_s: float) -> None:
    outcome = report.outcome
    stderr.print(
        f"[bold]{dataset_id}[/bold]: ran {report.jobs_run} of {report.jobs_total} jobs in "
        f"{elapsed_s:.1f} s, wrote {report.bytes_written / 1e6:.1f} MB",
        highlight=False,
    )
    for line in outcome.lines():
        stderr.print(line, highlight=False, soft_wrap=True)


def _exit_status(dataset_id: str, report: BackfillReport) -> None:
    """Exit 1, after the summary, when a source file failed or is missing or a variable's
    message was absent; the last line says how many and where the list is."""
    outcome = report.outcome
    if not outcome.ok():
        listing = outcome.write_list(dataset_id)
        stderr.print(
            f"[red]error:[/red] {outcome.problem_summary()}; published values were kept, "
            f"their other positions are NaN; the list: {listing}",
            highlight=False,
            soft_wrap=True,
        )
        # SystemExit, not typer.Exit: `reformat` runs click with standalone_mode=False.
        raise SystemExit(1)


def build_dataset_cli(dataset: DynamicalDataset[Any, Any]) -> typer.Typer:
    attrs = dataset.template_config.dataset_attributes
    app = typer.Typer(
        help=f"{attrs.name} ({attrs.dataset_id} v{attrs.dataset_version}).",
        no_args_is_help=True,
        add_completion=False,
    )

    @app.command("update-template")
    def update_template() -> None:
        """Render the dataset's structure into its checked-in templates/latest.zarr."""
        path = dataset.template_config.update_template()
        stderr.print(f"wrote {path}")

    @app.command("backfill-local")
    def backfill_local(
        append_dim_end: EndArg,
        filter_start: StartOpt = None,
        filter_end: EndOpt = None,
        filter_variable_names: VarsOpt = None,
        output_url: OutputOpt = None,
        break_lease: BreakLeaseOpt = False,
    ) -> None:
        """Plan all jobs, prepare the store and run the jobs in this process."""
        end = parse_timestamp(append_dim_end, "APPEND_DIM_END")
        filters = _filters(filter_start, filter_end, filter_variable_names)
        started = datetime.now(UTC)
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=stderr,
            transient=True,
            # Not drawn into logs or pipes; its refresh thread rendered the bar 10 times a
            # second anyway (90 ms of the main process's CPU per 12 s backfill).
            disable=not stderr.is_terminal,
        ) as progress:
            task = progress.add_task(f"{dataset.dataset_id} backfill", total=None)

            def on_progress(done: int, total: int, description: str) -> None:
                progress.update(task, completed=done, total=total, description=description)

            report = dataset.backfill_local(
                end, filters, output_url, on_progress=on_progress, break_lease=break_lease
            )
        _print_report(dataset.dataset_id, report, (datetime.now(UTC) - started).total_seconds())
        stderr.print(f"store: {dataset.output_stores(output_url).primary.url}")
        _exit_status(dataset.dataset_id, report)

    @app.command("process-backfill-region-jobs")
    def process_backfill_region_jobs(
        append_dim_end: EndArg,
        filter_start: StartOpt = None,
        filter_end: EndOpt = None,
        filter_variable_names: VarsOpt = None,
        output_url: OutputOpt = None,
        run_id: Annotated[
            str | None,
            typer.Option(
                help="Name of the distributed run (the Job name): the worker that completes the "
                "run publishes the final metadata."
            ),
        ] = None,
        break_lease: BreakLeaseOpt = False,
    ) -> None:
        """Worker: process this worker's share of the backfill jobs.

        The worker index comes from JOB_COMPLETION_INDEX (set by Kubernetes indexed Jobs) or
        WORKER_INDEX, the worker count from WORKERS_TOTAL.
        """
        end = parse_timestamp(append_dim_end, "APPEND_DIM_END")
        filters = _filters(filter_start, filter_end, filter_variable_names)
        index, total = _worker_index_from_env(), _workers_total_from_env()
        started = datetime.now(UTC)
        report = dataset.process_backfill_region_jobs(
            end, index, total, filters, output_url, run_id=run_id, break_lease=break_lease
        )
        _print_report(dataset.dataset_id, report, (datetime.now(UTC) - started).total_seconds())
        _exit_status(dataset.dataset_id, report)

    from reformatters.core.operations.cli import add_operations_commands

    add_operations_commands(app, dataset)
    dataset.extend_cli(app)
    return app
