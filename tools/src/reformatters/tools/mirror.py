"""``reformat mirror``: provider-layout source mirrors for offline runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from reformatters.core.errors import InvalidArgumentError
from reformatters.core.plugins import Registry
from reformatters.tools.options import parse_timestamp

stderr = Console(stderr=True)


def build_mirror_app(registry: Registry) -> typer.Typer:
    app = typer.Typer(
        help="Source mirrors: folders laid out like the providers' buckets.",
        no_args_is_help=True,
        add_completion=False,
    )

    @app.command("synthesize")
    def synthesize(
        dataset_id: Annotated[str, typer.Argument(help="Dataset whose source files to write.")],
        start: Annotated[str, typer.Argument(help="First append-dim position (ISO 8601).")],
        end: Annotated[str, typer.Argument(help="End of the append dim, exclusive (ISO 8601).")],
        folder: Annotated[Path, typer.Argument(help="Mirror folder (<folder>/<bucket>/<key>).")],
    ) -> None:
        """Write deterministic synthetic source files in the provider's layout."""
        dataset = registry.get(dataset_id)
        first = parse_timestamp(start, "START")
        last = parse_timestamp(end, "END")
        if last <= first:
            raise InvalidArgumentError("END must be after START")
        paths = dataset.synthesize_source_mirror(first, last, folder)
        size = sum(p.stat().st_size for p in paths)
        stderr.print(f"wrote {len(paths)} files ({size / 1e6:.1f} MB) under {folder}")
        stderr.print(f"use it with: REFORMATTERS_SOURCE_MIRROR={folder.resolve()}")

    @app.command("serve")
    def serve(
        folder: Annotated[Path, typer.Argument(help="Mirror folder to serve.")],
        port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8000,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    ) -> None:
        """Serve a mirror folder over HTTP (Range requests, HEAD) until interrupted."""
        from reformatters.core.sources.server import run_mirror_server

        if not folder.is_dir():
            raise InvalidArgumentError(f"mirror folder {folder} does not exist")
        stderr.print(f"serving {folder} at http://{host}:{port}/ (Ctrl-C to stop)")
        stderr.print(f"use it with: REFORMATTERS_SOURCE_MIRROR=http://{host}:{port}")
        run_mirror_server(folder, host=host, port=port)

    return app
