"""Analysis commands added to every dataset's sub-app: ``extract-points`` and ``plot``.

    reformat <dataset-id> extract-points --points sites.csv --output sites.duckdb
    reformat <dataset-id> plot map --variable temperature_2m --output map.png
    reformat <dataset-id> plot timeseries --variable temperature_2m \\
        --latitude 40 --longitude -105 --output ts.png

Ensemble datasets (an ``ensemble_member`` dim): ``extract-points --ensemble-member 0,1-10``
selects members (default all), ``plot map --ensemble-member N`` or ``--ensemble-statistic
mean|spread`` chooses the field (default the control), and ``plot timeseries`` draws a plume.

They read the dataset's published store (``--output-url`` overrides the base location, as for the
other commands) and only the chunks they need. Their modules (matplotlib, DuckDB) are imported
when a command runs, so they do not slow down ``reformat`` itself.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from reformatters.core.dynamical_dataset import DynamicalDataset
from reformatters.core.errors import InvalidArgumentError, OutputLocationError
from reformatters.tools.options import OutputOpt, parse_timestamp

if TYPE_CHECKING:
    import xarray as xr

stderr = Console(stderr=True)

VariablesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--variables",
        "--variable",
        help="Variables to extract (repeat, or separate with commas); default all.",
    ),
]
AppendStartOpt = Annotated[
    str | None,
    typer.Option("--start", help="First time on the append dim (inclusive, ISO 8601)."),
]
AppendEndOpt = Annotated[
    str | None, typer.Option("--end", help="End on the append dim (exclusive, ISO 8601).")
]
VariableOpt = Annotated[str, typer.Option("--variable", help="Variable to plot.")]
PngOpt = Annotated[Path, typer.Option("--output", help="PNG file to write.")]
MembersOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--ensemble-member",
        "--ensemble-members",
        help="Ensemble members (repeat, or commas and ranges: 0,3,5-10); default all.",
    ),
]
InitTimeOpt = Annotated[
    str | None,
    typer.Option("--init-time", help="Forecast run (ISO 8601); default the latest with data."),
]


def open_dataset(dataset: DynamicalDataset[Any, Any], output_url: str | None) -> xr.Dataset:
    """The dataset's published primary store, opened lazily for reading."""
    from reformatters.tools.points.store import open_store

    location = dataset.output_stores(output_url).primary
    if not location.exists():
        raise OutputLocationError(
            f"no {dataset.dataset_id} store at {location.url}; pass --output-url with the base "
            f"location it was written to, or run backfill-local first"
        )
    return open_store(location.zarr_store(read_only=True))


def _timestamp(value: str | None, option: str) -> datetime | None:
    return parse_timestamp(value, option) if value else None


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or () for v in value.split(",") if v.strip()]


def add_dataset_tool_commands(app: typer.Typer, dataset: DynamicalDataset[Any, Any]) -> None:
    """Add ``extract-points`` and ``plot map|timeseries`` to a dataset's typer sub-app."""
    table_default = dataset.dataset_id.replace("-", "_").replace(".", "_")

    @app.command("extract-points")
    def extract_points_command(
        points: Annotated[
            Path, typer.Option("--points", help="CSV with columns id, latitude, longitude.")
        ],
        output: Annotated[
            Path,
            typer.Option("--output", help="Table to write: .duckdb (upsert), .parquet or .csv."),
        ],
        variables: VariablesOpt = None,
        start: AppendStartOpt = None,
        end: AppendEndOpt = None,
        table: Annotated[str, typer.Option("--table", help="DuckDB table name.")] = table_default,
        ensemble_members: MembersOpt = None,
        output_url: OutputOpt = None,
    ) -> None:
        """Values at the grid cell nearest to each point, one row per point and time step."""
        from reformatters.tools.points.extract import extract_points
        from reformatters.tools.points.members import parse_members
        from reformatters.tools.points.output import check_output_path, write_points
        from reformatters.tools.points.sites import read_points_csv

        check_output_path(output)
        sites = read_points_csv(points)
        start_time, end_time = _timestamp(start, "--start"), _timestamp(end, "--end")
        if start_time and end_time and start_time >= end_time:
            raise InvalidArgumentError("--start must be before --end")
        members = parse_members(ensemble_members) if ensemble_members else None
        ds = open_dataset(dataset, output_url)
        frame = extract_points(
            ds, sites, _split(variables) or None, start_time, end_time, ensemble_members=members
        )
        rows = write_points(frame, output, table=table)
        where = f" (table {table})" if output.suffix.lower() in (".duckdb", ".db") else ""
        stderr.print(f"wrote {rows} rows for {len(sites)} points to {output}{where}")

    plot_app = typer.Typer(
        help="Render PNG plots (map of one field, time series at a point).",
        no_args_is_help=True,
        add_completion=False,
    )

    @plot_app.command("map")
    def plot_map_command(
        variable: VariableOpt,
        output: PngOpt,
        time: Annotated[
            str | None, typer.Option("--time", help="Analysis time; default the latest with data.")
        ] = None,
        init_time: InitTimeOpt = None,
        lead_time: Annotated[
            str | None, typer.Option("--lead-time", help="Lead time (6, 6h, PT6H); default 0.")
        ] = None,
        ensemble_member: Annotated[
            str | None,
            typer.Option("--ensemble-member", help="Ensemble member; default 0, the control."),
        ] = None,
        ensemble_statistic: Annotated[
            str | None,
            typer.Option(
                "--ensemble-statistic",
                help="mean or spread (standard deviation) over all members, instead of one member.",
            ),
        ] = None,
        output_url: OutputOpt = None,
    ) -> None:
        """Map of one field with a colour bar in the variable's units."""
        from reformatters.tools.plots import parse_lead_time, plot_map
        from reformatters.tools.points.members import parse_member, parse_statistic

        ds = open_dataset(dataset, output_url)
        path = plot_map(
            ds,
            variable,
            output,
            time=_timestamp(time, "--time"),
            init_time=_timestamp(init_time, "--init-time"),
            lead_time=parse_lead_time(lead_time) if lead_time else None,
            ensemble_member=parse_member(ensemble_member) if ensemble_member else None,
            ensemble_statistic=parse_statistic(ensemble_statistic) if ensemble_statistic else None,
        )
        stderr.print(f"wrote {path}")

    @plot_app.command("timeseries")
    def plot_timeseries_command(
        variable: VariableOpt,
        latitude: Annotated[float, typer.Option("--latitude", help="Degrees north.")],
        longitude: Annotated[float, typer.Option("--longitude", help="Degrees east.")],
        output: PngOpt,
        init_time: InitTimeOpt = None,
        start: AppendStartOpt = None,
        end: AppendEndOpt = None,
        output_url: OutputOpt = None,
    ) -> None:
        """Time series at the nearest grid cell (a forecast run, or an analysis period)."""
        from reformatters.tools.plots import plot_timeseries

        ds = open_dataset(dataset, output_url)
        path = plot_timeseries(
            ds,
            variable,
            latitude,
            longitude,
            output,
            init_time=_timestamp(init_time, "--init-time"),
            start=_timestamp(start, "--start"),
            end=_timestamp(end, "--end"),
        )
        stderr.print(f"wrote {path}")

    app.add_typer(plot_app, name="plot")
