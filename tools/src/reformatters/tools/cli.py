"""``reformat``: the command line of every installed reformatters dataset plugin."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Table

from reformatters.core.errors import UserError
from reformatters.core.logging import configure_logging
from reformatters.core.plugins import Registry, get_registry
from reformatters.tools.dataset_commands import add_dataset_tool_commands
from reformatters.tools.deploy import register_deploy_command
from reformatters.tools.mirror import build_mirror_app
from reformatters.tools.scaffold.command import register_scaffold_command

stderr = Console(stderr=True)
stdout = Console()


def build_app(registry: Registry, only_dataset: str | None = None) -> typer.Typer:
    """The ``reformat`` app; with `only_dataset`, the app of that dataset's sub-command alone
    (typer turns every command of every dataset into click objects on each run otherwise)."""
    app = typer.Typer(
        name="reformat",
        help="Reformat weather-model GRIB2 into analysis-ready Zarr v3. "
        "Each installed dataset is a sub-command.",
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode="rich",
    )

    @app.command("list")
    def list_datasets() -> None:
        """Table of installed datasets."""
        table = Table(title="Installed reformatters datasets")
        for column in ("dataset id", "version", "distribution", "append dim", "variables"):
            table.add_column(column, overflow="fold")
        for dataset_id, entry in sorted(registry.datasets.items()):
            config = entry.dataset.template_config
            table.add_row(
                dataset_id,
                config.version,
                f"{entry.distribution} {entry.distribution_version}",
                f"{config.append_dim} from {config.append_dim_start:%Y-%m-%dT%H:%M} every "
                f"{config.append_dim_frequency}",
                ", ".join(v.name for v in config.data_vars),
            )
        stdout.print(table)
        for failure in registry.failures:
            stderr.print(
                f"[red]plugin {failure.name} ({failure.distribution}) failed to load:[/red] "
                f"{failure.error}"
            )

    for dataset_id, entry in sorted(registry.datasets.items()):
        if only_dataset is not None and dataset_id != only_dataset:
            continue
        attrs = entry.dataset.template_config.dataset_attributes
        sub = entry.dataset.get_cli()
        add_dataset_tool_commands(sub, entry.dataset)
        app.add_typer(sub, name=dataset_id, help=f"{attrs.name}.")
    if only_dataset is not None:
        return app
    register_deploy_command(app, registry)
    app.add_typer(build_mirror_app(registry), name="mirror")
    register_scaffold_command(app)
    registry.add_cli_commands(app)
    return app


def main() -> None:
    try:
        configure_logging()
    except UserError as e:
        stderr.print(f"[red]error:[/red] {e}", soft_wrap=True, highlight=False)
        raise SystemExit(2) from None
    registry = get_registry()
    for failure in registry.failures:
        stderr.print(
            f"[yellow]warning:[/yellow] plugin {failure.name} ({failure.distribution}) failed to "
            f"load and is skipped: {failure.error}"
        )
    requested = sys.argv[1] if len(sys.argv) > 1 else None
    app = build_app(registry, requested if requested in registry.datasets else None)
    known = {
        *(c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands),
        *(g.name or "" for g in app.registered_groups),
    }
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-") and sys.argv[1] not in known:
        stderr.print(
            f"[red]error:[/red] unknown dataset id or command {sys.argv[1]!r}; installed datasets: "
            f"{', '.join(sorted(registry.datasets)) or 'none'} (see `reformat list`)",
            soft_wrap=True,
            highlight=False,
        )
        raise SystemExit(2)
    try:
        # Without standalone mode click returns the code of `typer.Exit(code)` instead of exiting.
        exit_code = app(standalone_mode=False)
    except UserError as e:
        stderr.print(f"[red]error:[/red] {e}", soft_wrap=True, highlight=False)
        raise SystemExit(1) from None
    except typer.Abort:
        raise SystemExit(130) from None
    except SystemExit:
        raise
    except Exception as e:
        import click

        if isinstance(e, click.ClickException):
            e.show()
            raise SystemExit(e.exit_code) from None
        raise
    if isinstance(exit_code, int) and exit_code != 0:
        raise SystemExit(exit_code)
