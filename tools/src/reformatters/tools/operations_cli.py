"""The operational commands of every dataset: ``backfill-kubernetes``, ``update`` and
``validate`` (the functions they run are reformatters.core.operations')."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.tools.options import (
    BreakLeaseOpt,
    DryRunOpt,
    EndArg,
    EndOpt,
    MembersOpt,
    NamespaceOpt,
    NowOpt,
    OutputOpt,
    StartOpt,
    VarsOpt,
    job_filters,
    now_or,
    parse_timestamp,
    stderr,
    stdout,
)

if TYPE_CHECKING:
    from reformatters.core.operations.update import UpdateReport
    from reformatters.core.operations.validation import ValidationReport

ImageOpt = Annotated[
    str | None,
    typer.Option(help="Container image (default $REFORMATTERS_IMAGE or the dataset's image)."),
]

ReReadOpt = Annotated[
    bool,
    typer.Option(
        "--reread-published",
        help="Read every source file of the re-processed positions again, including those "
        "already published with data (default: their published values are reused).",
    ),
]


def add_operations_commands(app: typer.Typer, dataset: DynamicalDataset[Any, Any]) -> None:
    @app.command("backfill-kubernetes")
    def backfill_kubernetes(
        append_dim_end: EndArg,
        jobs_per_pod: Annotated[int, typer.Option(help="Region jobs per pod.")] = 1,
        max_parallelism: Annotated[int, typer.Option(help="Pods running at once.")] = 10,
        filter_start: StartOpt = None,
        filter_end: EndOpt = None,
        filter_variable_names: VarsOpt = None,
        filter_ensemble_members: MembersOpt = None,
        output_url: OutputOpt = None,
        image: ImageOpt = None,
        namespace: NamespaceOpt = None,
        dry_run: DryRunOpt = False,
        break_lease: BreakLeaseOpt = False,
    ) -> None:
        """Publish the store's metadata, then run the backfill as a Kubernetes Indexed Job."""
        from reformatters.core.operations import backfill, kube_api
        from reformatters.core.operations.manifests import to_manifest, to_yaml

        filters = job_filters(
            filter_start, filter_end, filter_variable_names, filter_ensemble_members
        )
        plan = backfill.plan_kubernetes_backfill(
            dataset,
            parse_timestamp(append_dim_end, "APPEND_DIM_END"),
            filters,
            jobs_per_pod,
            max_parallelism,
            image,
            output_url,
            now_or(None),
        )
        summary = (
            f"{dataset.dataset_id}: {plan.jobs_total} region jobs on {plan.workers} workers "
            f"({plan.parallelism} at once), store {plan.output_base}"
        )
        if dry_run:
            sys.stdout.write(to_yaml([to_manifest(plan.job)]))
            stderr.print(f"dry run: {summary}", highlight=False)
            return
        backfill.prepare_store(dataset, plan, break_lease=break_lease)
        ns = namespace or kube_api.default_namespace()
        name = kube_api.create_job(kube_api.batch_api(), ns, plan.job)
        stderr.print(f"created job {ns}/{name}: {summary}", highlight=False)

    @app.command("update")
    def update(
        now: NowOpt = None,
        output_url: OutputOpt = None,
        break_lease: BreakLeaseOpt = False,
        reread_published: ReReadOpt = False,
    ) -> None:
        """Extend the published dataset up to this run's scheduled time (chunks, then metadata)."""
        from reformatters.core.operations.update import run_update

        report = run_update(
            dataset,
            now_or(now),
            output_url,
            break_lease=break_lease,
            reuse_published=not reread_published,
        )
        print_update_report(report)
        if not report.ok:
            listing = report.outcome.write_list(dataset.dataset_id)
            stderr.print(
                f"[red]error:[/red] {report.outcome.problem_summary(missing_expected=True)}; "
                f"published values were kept; the list: {listing}",
                highlight=False,
                soft_wrap=True,
            )
            # SystemExit, not typer.Exit: `reformat` runs click with standalone_mode=False.
            raise SystemExit(1)

    @app.command("validate")
    def validate(now: NowOpt = None, output_url: OutputOpt = None) -> None:
        """Check the published dataset: latency, NaNs in the newest data, shards, replicas."""
        from reformatters.core.operations.validation import validate_dataset

        report = validate_dataset(dataset, now_or(now), output_url)
        print_validation_report(report)
        if not report.passed:
            # SystemExit, not typer.Exit: `reformat` runs click with standalone_mode=False.
            raise SystemExit(1)


def _t(value: datetime) -> str:
    return f"{value:%Y-%m-%dT%H:%M}"


def print_update_report(report: UpdateReport) -> None:
    added = report.added
    stdout.print(
        f"{report.dataset_id} update for schedule tick {_t(report.scheduled_time)}: "
        f"{report.jobs_run} region jobs",
        highlight=False,
    )
    if added:
        stdout.print(
            f"  added {len(added)} {report.append_dim} value(s): {_t(added[0])} .. {_t(added[-1])}",
            highlight=False,
        )
    else:
        stdout.print(f"  added no {report.append_dim} values", highlight=False)
    stdout.print(
        f"  published {report.append_dim} now ends before {_t(report.published_end_after)}",
        highlight=False,
    )
    if withheld := report.withheld:
        stdout.print(
            f"  not yet available (trimmed): {len(withheld)} value(s) from {_t(withheld[0])}",
            highlight=False,
        )
    counts = ", ".join(f"{status.value} {n}" for status, n in sorted(report.file_counts.items()))
    stdout.print(f"  source files: {counts or 'none'}", highlight=False)
    if report.kept_published_values:
        stdout.print(
            f"  kept {report.kept_published_values} published values whose source files were "
            "unavailable this run",
            highlight=False,
        )
    for line in report.outcome.lines()[1:]:
        stderr.print(line, highlight=False, soft_wrap=True)


def print_validation_report(report: ValidationReport) -> None:
    table = Table(title=f"validate {report.dataset_id} ({report.store})")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for check in report.checks:
        table.add_row(
            check.name, "[green]PASS[/green]" if check.passed else "[red]FAIL[/red]", check.detail
        )
    stdout.print(table)
    failed = [c for c in report.checks if not c.passed]
    if failed:
        stdout.print(f"[red]{len(failed)} of {len(report.checks)} checks failed[/red]")
    else:
        stdout.print(f"[green]all {len(report.checks)} checks passed[/green]")
