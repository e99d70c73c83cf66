"""``reformat <dataset-id> ...``: the command line of one dataset, built from its methods."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.core.job_runner import BackfillReport
from reformatters.tools.archive_cli import ARCHIVE_URL_ENV, archive_sources_command
from reformatters.tools.dataset_commands import add_dataset_tool_commands
from reformatters.tools.operations_cli import add_operations_commands
from reformatters.tools.options import (
    BreakLeaseOpt,
    EndArg,
    EndOpt,
    MembersOpt,
    OutputOpt,
    StartOpt,
    VarsOpt,
    job_filters,
    parse_timestamp,
    stderr,
    worker_index_from_env,
    workers_total_from_env,
)

# The commands of every dataset that run region jobs in the `reformat` process: it starts its
# worker processes before running them (see reformatters.tools.entry).
REGION_JOB_COMMANDS = frozenset({"backfill-local", "process-backfill-region-jobs", "update"})


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
    """The typer app mounted as ``reformat <dataset-id>``."""
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
        filter_ensemble_members: MembersOpt = None,
        output_url: OutputOpt = None,
        break_lease: BreakLeaseOpt = False,
    ) -> None:
        """Plan all jobs, prepare the store and run the jobs in this process."""
        end = parse_timestamp(append_dim_end, "APPEND_DIM_END")
        filters = job_filters(
            filter_start, filter_end, filter_variable_names, filter_ensemble_members
        )
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
        filter_ensemble_members: MembersOpt = None,
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
        filters = job_filters(
            filter_start, filter_end, filter_variable_names, filter_ensemble_members
        )
        index, total = worker_index_from_env(), workers_total_from_env()
        started = datetime.now(UTC)
        report = dataset.process_backfill_region_jobs(
            end, index, total, filters, output_url, run_id=run_id, break_lease=break_lease
        )
        _print_report(dataset.dataset_id, report, (datetime.now(UTC) - started).total_seconds())
        _exit_status(dataset.dataset_id, report)

    @app.command("archive-sources")
    def archive_sources(
        init_time: Annotated[
            str | None,
            typer.Argument(
                help="The run to archive (ISO 8601, UTC). Without it: every run of the last "
                "--lookback-hours not yet complete in the archive (the operational archiver)."
            ),
        ] = None,
        archive_url: Annotated[
            str | None,
            typer.Option(
                "--archive-url",
                envvar=ARCHIVE_URL_ENV,
                show_envvar=True,
                help="Where the copies go, e.g. s3://bucket/prefix (laid out as a source mirror: "
                "point REFORMATTERS_SOURCE_MIRROR at it to backfill from it).",
            ),
        ] = None,
        lookback_hours: Annotated[
            float | None,
            typer.Option(
                help="Without INIT_TIME: how far back to look for runs (default: the dataset's "
                "archive schedule, else 24)."
            ),
        ] = None,
    ) -> None:
        """Copy the source files of runs, as published, to an archive, with a manifest per run.

        Exits 1 when a run whose files should all be published by now still misses some."""
        archive_sources_command(dataset, init_time, archive_url, lookback_hours)

    add_operations_commands(app, dataset)
    add_dataset_tool_commands(app, dataset)
    return app
