"""`reformat <dataset-id> extract-points | plot ...` on the example-tiny dataset's store."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest
import synthetic_stores as stores
import typer
from matplotlib.image import imread
from typer.testing import CliRunner

from reformatters.core.plugins import Registry, get_registry
from reformatters.core.storage import open_object_store
from reformatters.core.testing.fixtures import MotoS3Server
from reformatters.example_plugin.dataset import make_dataset
from reformatters.tools import cli
from reformatters.tools.cli import main
from reformatters.tools.dataset_cli import REGION_JOB_COMMANDS, build_dataset_cli
from reformatters.tools.testing import run_reformat

STORE = Path("example-tiny") / "v0.1.0.zarr"


@pytest.fixture
def output_base(tmp_path: Path) -> Path:
    base = tmp_path / "output"
    stores.write_analysis_store(base / STORE, hours=24)
    return base


@pytest.fixture
def sites(tmp_path: Path) -> Path:
    path = tmp_path / "sites.csv"
    path.write_text(
        "id,latitude,longitude\nden,39.74,-104.99\nsyd,-33.87,151.21\nsuva,-18.1,178.4\n"
    )
    return path


def _app() -> typer.Typer:
    return build_dataset_cli(make_dataset())


def test_region_job_commands_are_dataset_commands() -> None:
    assert {c.name for c in _app().registered_commands} >= REGION_JOB_COMMANDS


def _invoke(*args: str) -> None:
    result = CliRunner().invoke(_app(), list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_extract_points_into_duckdb_twice(output_base: Path, sites: Path, tmp_path: Path) -> None:
    db = tmp_path / "sites.duckdb"
    args = ("extract-points", "--points", str(sites), "--output", str(db))
    for _ in range(2):
        _invoke(*args, "--output-url", str(output_base), "--variables", "temperature_2m")
    with duckdb.connect(str(db)) as con:
        count, points = con.execute(
            "SELECT count(*), count(DISTINCT point_id) FROM example_tiny"
        ).fetchone()
        columns = [row[0] for row in con.execute("DESCRIBE example_tiny").fetchall()]
    assert (count, points) == (3 * 24, 3)
    assert "precipitation_surface" not in columns
    # A later run with another variable and a sub-range adds the column, not rows.
    _invoke(
        *args,
        "--output-url",
        str(output_base),
        "--variables",
        "temperature_2m,precipitation_surface",
        "--start",
        "2024-03-01T12",
        "--end",
        "2024-03-01T18",
    )
    with duckdb.connect(str(db)) as con:
        count, filled = con.execute(
            "SELECT count(*), count(precipitation_surface) FROM example_tiny"
        ).fetchone()
    assert (count, filled) == (3 * 24, 3 * 6)


def test_extract_points_from_s3(
    output_base: Path,
    sites: Path,
    tmp_path: Path,
    moto_s3_server: MotoS3Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prefix = "points-test"
    local = output_base / STORE
    files = [p for p in local.rglob("*") if p.is_file()]
    for path in files:
        moto_s3_server.put(
            f"{prefix}/{STORE.as_posix()}/{path.relative_to(local).as_posix()}", path.read_bytes()
        )
    for key, value in moto_s3_server.env().items():
        monkeypatch.setenv(key, value)
    assert open_object_store(f"s3://{moto_s3_server.bucket}/{prefix}") is not None
    before = len(moto_s3_server.request_log())
    out = tmp_path / "sites.parquet"
    _invoke(
        "extract-points",
        "--points",
        str(sites),
        "--output",
        str(out),
        "--output-url",
        f"s3://{moto_s3_server.bucket}/{prefix}",
    )
    assert out.stat().st_size > 0
    gets = [
        line for line in moto_s3_server.request_log()[before:] if '"GET ' in line and "/c/" in line
    ]
    data_objects = [p for p in files if "/c/" in p.relative_to(local.parent).as_posix()]
    # Ranged reads of the few shards holding the three points, not every chunk object.
    assert gets and len({line.split()[-4] for line in gets}) < len(data_objects), gets


def test_plot_commands(output_base: Path, tmp_path: Path) -> None:
    map_png, ts_png = tmp_path / "map.png", tmp_path / "ts.png"
    base = ("--output-url", str(output_base))
    _invoke("plot", "map", "--variable", "temperature_2m", "--output", str(map_png), *base)
    _invoke(
        "plot",
        "timeseries",
        "--variable",
        "temperature_2m",
        "--latitude",
        "40",
        "--longitude",
        "-105",
        "--output",
        str(ts_png),
        *base,
    )
    for png in (map_png, ts_png):
        assert imread(png).shape[0] >= 300


def _main_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> str:
    """Run ``reformat example-tiny ...`` in this process; return its one line of error.

    Only example-tiny is registered, so other plugins' state cannot add warning lines.
    """
    registry = Registry(datasets={"example-tiny": get_registry().datasets["example-tiny"]})
    monkeypatch.setattr(cli, "get_registry", lambda: registry)
    monkeypatch.setattr(sys, "argv", ["reformat", "example-tiny", *args])
    monkeypatch.setenv("COLUMNS", "300")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_cli_errors_are_one_clear_line(
    output_base: Path,
    sites: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad_columns = tmp_path / "bad.csv"
    bad_columns.write_text("name,lat,lon\nx,1,2\n")
    bad_latitude = tmp_path / "bad-lat.csv"
    bad_latitude.write_text("id,latitude,longitude\nnowhere,95,2\n")
    db = str(tmp_path / "o.duckdb")
    base = ("--output-url", str(output_base))
    cases = [
        (("--points", str(bad_columns), "--output", db), "missing column(s) id, latitude"),
        (("--points", str(bad_latitude), "--output", db), "'nowhere' has latitude"),
        (("--points", str(sites), "--output", str(tmp_path / "o.xlsx")), "unknown extension"),
        (("--points", str(sites), "--output", db, "--start", "2025-01-01"), "no time values"),
        (("--points", str(tmp_path / "none.csv"), "--output", db), "no such file"),
    ]
    for args, fragment in cases:
        line = _main_error(capsys, monkeypatch, "extract-points", *args, *base)
        assert fragment in line, line
    regional = tmp_path / "regional"
    conus = stores.analysis_dataset().sel(latitude=slice(20, 50), longitude=slice(230, 300))
    stores.write_store(conus, regional / STORE)
    line = _main_error(
        capsys,
        monkeypatch,
        "extract-points",
        "--points",
        str(sites),
        "--output",
        db,
        "--output-url",
        str(regional),
    )
    assert "'syd', 'suva' outside the grid" in line, line
    line = _main_error(
        capsys,
        monkeypatch,
        "extract-points",
        "--points",
        str(sites),
        "--output",
        db,
        "--output-url",
        str(tmp_path),
    )
    assert "no example-tiny store" in line, line
    line = _main_error(
        capsys,
        monkeypatch,
        "plot",
        "map",
        "--variable",
        "nope",
        "--output",
        str(tmp_path / "m.png"),
        *base,
    )
    assert "unknown variable(s) nope" in line, line


def test_cli_error_as_users_see_it(output_base: Path, sites: Path, tmp_path: Path) -> None:
    result = run_reformat(
        "example-tiny",
        "extract-points",
        "--points",
        str(sites),
        "--output",
        str(tmp_path / "o.duckdb"),
        "--variables",
        "nope",
        "--output-url",
        str(output_base),
        check=False,
    )
    # Other installed plugins may add their own warning lines; the error itself is one line.
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert len(errors) == 1 and "unknown variable(s) nope" in errors[0], result.stderr


@pytest.fixture
def ensemble_base(tmp_path: Path) -> Path:
    base = tmp_path / "ensemble"
    stores.write_ensemble_store(base / STORE)
    return base


def test_ensemble_extract_points_and_plots(
    ensemble_base: Path, sites: Path, tmp_path: Path
) -> None:
    db = tmp_path / "ens.duckdb"
    base = ("--output-url", str(ensemble_base))
    _invoke(
        "extract-points", "--points", str(sites), "--output", str(db), *base,
        "--ensemble-member", "0", "--ensemble-member", "2-3",
    )  # fmt: skip
    with duckdb.connect(str(db)) as con:
        counts = con.execute(
            "SELECT count(*), list(DISTINCT ensemble_member ORDER BY ensemble_member) "
            "FROM example_tiny"
        ).fetchone()
    assert counts == (3 * 2 * 3 * 5, [0, 2, 3])
    map_png, ts_png = tmp_path / "map.png", tmp_path / "ts.png"
    _invoke(
        "plot", "map", "--variable", "temperature_2m", "--output", str(map_png), *base,
        "--ensemble-member", "1",
    )  # fmt: skip
    _invoke(
        "plot", "map", "--variable", "temperature_2m", "--output", str(map_png), *base,
        "--ensemble-statistic", "spread",
    )  # fmt: skip
    _invoke(
        "plot", "timeseries", "--variable", "temperature_2m", "--latitude", "40",
        "--longitude", "-105", "--output", str(ts_png), *base,
    )  # fmt: skip
    for png in (map_png, ts_png):
        assert imread(png).shape[0] >= 300


def test_ensemble_member_errors_are_one_clear_line(
    output_base: Path,
    ensemble_base: Path,
    sites: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = str(tmp_path / "o.duckdb")
    png = str(tmp_path / "m.png")
    extract = ("extract-points", "--points", str(sites), "--output", db)
    plot_map = ("plot", "map", "--variable", "temperature_2m", "--output", png)
    cases = [
        ((*extract, "--ensemble-member", "40"), ensemble_base, "no member 40 in"),
        ((*extract, "--ensemble-member", "1-x"), ensemble_base, "'1-x' is not a member number"),
        ((*extract, "--ensemble-member", "0"), output_base, "has no ensemble members"),
        ((*plot_map, "--ensemble-member", "31"), ensemble_base, "no member 31 in"),
        ((*plot_map, "--ensemble-member", "0"), output_base, "has no ensemble members"),
        ((*plot_map, "--ensemble-member", "x"), ensemble_base, "'x' is not a member number"),
        ((*plot_map, "--ensemble-statistic", "median"), ensemble_base, "not one of mean, spread"),
    ]
    for args, base, fragment in cases:
        line = _main_error(capsys, monkeypatch, *args, "--output-url", str(base))
        assert "--ensemble-" in line and fragment in line, line
