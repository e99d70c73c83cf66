"""``reformat``: the command line of every installed reformatters dataset plugin."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import typer
from rich.table import Table

from reformatters.core.errors import UserError
from reformatters.core.logging import configure_logging
from reformatters.core.plugins import Registry, get_registry
from reformatters.tools import hookspecs
from reformatters.tools.dataset_cli import REGION_JOB_COMMANDS, build_dataset_cli
from reformatters.tools.deploy import register_deploy_command
from reformatters.tools.mirror import build_mirror_app
from reformatters.tools.options import stderr, stdout
from reformatters.tools.scaffold.command import register_scaffold_command


def build_app(registry: Registry, only_dataset: str | None = None) -> typer.Typer:
    """The ``reformat`` app with every installed dataset and reformat's own commands (plugins'
    top-level commands are added by `add_plugin_commands`); with `only_dataset`, the app of that
    dataset's sub-command alone (typer turns every command of every dataset into click objects
    on each run otherwise)."""
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
        app.add_typer(build_dataset_cli(entry.dataset), name=dataset_id, help=f"{attrs.name}.")
    if only_dataset is not None:
        return app
    register_deploy_command(app, registry)
    app.add_typer(build_mirror_app(registry), name="mirror")
    register_scaffold_command(app)
    return app


def add_plugin_commands(app: typer.Typer, registry: Registry) -> frozenset[str]:
    """Call every loaded plugin's ``reformatters_cli`` (reformatters.tools.hookspecs); the names
    of the commands they added that run region jobs."""
    pm = registry.plugin_manager
    if pm is None:
        return frozenset()
    hook = getattr(pm.hook, "reformatters_cli", None)
    if hook is None or not hook.has_spec():
        pm.add_hookspecs(hookspecs)
    results: list[Sequence[str] | None] = pm.hook.reformatters_cli(app=app)
    return frozenset(name for names in results if names for name in names)


def main(on_ready: Callable[[bool], None] | None = None) -> None:
    """Run ``reformat`` with ``sys.argv``. `on_ready` is called once the command line is built,
    before it runs, with whether the command runs region jobs in this process."""
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
    only_dataset = requested if requested in registry.datasets else None
    app = build_app(registry, only_dataset)
    plugin_region_jobs = frozenset() if only_dataset else add_plugin_commands(app, registry)
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
    if on_ready is not None:
        command = sys.argv[2] if only_dataset and len(sys.argv) > 2 else None
        on_ready(command in REGION_JOB_COMMANDS or requested in plugin_region_jobs)
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

        # typer >= 0.29 raises its vendored copy of click's exceptions (TyperException).
        if isinstance(e, click.ClickException | typer.TyperException):
            shown: Any = e
            shown.show()
            raise SystemExit(shown.exit_code) from None
        raise
    if isinstance(exit_code, int) and exit_code != 0:
        raise SystemExit(exit_code)
