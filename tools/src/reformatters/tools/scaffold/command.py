"""The ``initialize-new-integration`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from reformatters.tools.scaffold.generate import initialize_new_integration
from reformatters.tools.scaffold.names import DatasetKind


def register_scaffold_command(app: typer.Typer) -> None:
    @app.command("initialize-new-integration")
    def initialize_new_integration_command(
        provider: Annotated[str, typer.Argument(help="Provider, e.g. noaa (lowercase).")],
        model: Annotated[str, typer.Argument(help="Model, e.g. gefs (lowercase).")],
        variant: Annotated[
            str, typer.Argument(help="Dataset variant, e.g. forecast or analysis (lowercase).")
        ],
        workspace: Annotated[
            Path | None,
            typer.Option(
                help="Workspace root (default: the nearest folder at or above the current one "
                "whose pyproject.toml has a tool.uv.workspace table)."
            ),
        ] = None,
        kind: Annotated[
            DatasetKind | None,
            typer.Option(
                help="forecast (init_time x lead_time x lat x lon) or analysis (time x lat x "
                "lon); default: analysis if the variant's name contains 'analysis'."
            ),
        ] = None,
        template: Annotated[
            bool,
            typer.Option(help="Render templates/latest.zarr right away."),
        ] = True,
    ) -> None:
        """Generate packages/<provider>-<model>/ with dataset <provider>-<model>-<variant> (or
        add the variant to that package): code with TODOs, a synthesized-mirror test, a guide."""
        console = Console(highlight=False, soft_wrap=True)
        result = initialize_new_integration(
            provider, model, variant, workspace, kind=kind, render_template=template
        )
        names = result.names
        where = f"packages/{names.package_dir}"
        if result.new_package:
            console.print(
                f"Created {names.distribution} in {where} with {names.dataset_id} ({result.kind}):"
            )
        else:
            console.print(
                f"Added {names.dataset_id} ({result.kind}) to {names.distribution} in {where}:"
            )
        for path in result.created:
            console.print(f"  + {path}")
        for path in result.modified:
            console.print(f"  ~ {path}")
        for note in result.notes:
            console.print(f"[yellow]note:[/yellow] {escape(note)}")
        console.print("\nNext steps:")
        for number, step in enumerate(result.next_steps(), start=1):
            console.print(f"  {number}. {escape(step)}")
