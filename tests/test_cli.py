"""The `reformat` command line as users run it (subprocesses, real entry points)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reformatters.tools.testing import run_reformat


def test_help_lists_installed_datasets() -> None:
    result = run_reformat("--help")
    assert "example-tiny" in result.stdout
    assert "list" in result.stdout


def test_list_prints_table() -> None:
    result = run_reformat("list")
    assert "example-tiny" in result.stdout
    assert "reformatters-example-plugin" in result.stdout
    assert "temperature_2m" in result.stdout


def test_dataset_help_lists_commands() -> None:
    result = run_reformat("example-tiny", "--help")
    for command in ("update-template", "backfill-local", "process-backfill-region-jobs"):
        assert command in result.stdout


def test_dataset_command_builds_only_that_dataset() -> None:
    from reformatters.core.plugins import get_registry
    from reformatters.tools.cli import build_app

    registry = get_registry()
    assert len(registry.datasets) > 1
    full = build_app(registry)
    alone = build_app(registry, only_dataset="example-tiny")
    assert {g.name for g in full.registered_groups} >= {*registry.datasets, "mirror"}
    assert {g.name for g in alone.registered_groups} == {"example-tiny"}


def _assert_one_line_error(result, *fragments: str) -> None:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("no-such-dataset", "backfill-local", "2000-01-02"), ("unknown dataset", "example-tiny")),
        (("example-tiny", "backfill-local", "yesterday"), ("not an ISO 8601",)),
        (("example-tiny", "backfill-local", "2000-13-45"), ("not an ISO 8601",)),
        (("example-tiny", "backfill-local", "1850-01-01"), ("out of range",)),
        (("example-tiny", "backfill-local", "9999-01-01"), ("out of range",)),
        (("example-tiny", "backfill-local", "1999-06-01"), ("must be after the dataset start",)),
        (
            ("example-tiny", "backfill-local", "2000-01-02", "--filter-start", "2000-01-03"),
            ("--filter-start",),
        ),
        (
            ("example-tiny", "backfill-local", "2000-01-02", "--filter-variable-names", "nope"),
            ("unknown variable", "nope", "temperature_2m"),
        ),
        (("example-tiny", "process-backfill-region-jobs", "2000-01-02"), ("WORKER_INDEX",)),
    ],
)
def test_bad_input_gets_one_clear_line(args: tuple[str, ...], fragments: tuple[str, ...]) -> None:
    env = {"WORKER_INDEX": "", "JOB_COMPLETION_INDEX": ""}
    clean_env = {k: v for k, v in os.environ.items() if k not in env}
    os_env = {**clean_env, "REFORMATTERS_OUTPUT_URL": "/nonexistent-never-written"}
    result = run_reformat(*args, env=os_env, check=False)
    _assert_one_line_error(result, *fragments)


def test_unwritable_output_location(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_reformat(
        "example-tiny",
        "backfill-local",
        "2000-01-02",
        "--output-url",
        str(blocker / "out"),
        check=False,
    )
    _assert_one_line_error(result, "output", str(blocker))


def test_broken_plugin_is_reported_and_others_work(tmp_path: Path) -> None:
    (tmp_path / "broken_reformatters_plugin.py").write_text(
        "raise ImportError('boom: missing lib')\n"
    )
    dist_info = tmp_path / "broken_reformatters_plugin-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: broken-reformatters-plugin\nVersion: 0.1\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[reformatters]\nbroken = broken_reformatters_plugin\n"
    )
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    result = run_reformat("list", env=env)
    assert "example-tiny" in result.stdout
    assert "broken" in result.stderr and "broken-reformatters-plugin" in result.stderr
    assert "boom: missing lib" in result.stderr
    assert "Traceback" not in result.stderr


def test_typer_exit_codes_reach_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    import typer

    from reformatters.tools import cli

    build_app = cli.build_app

    def build_with_failing_command(registry, only_dataset=None):
        app = build_app(registry, only_dataset)

        @app.command("fail-with-three")
        def fail() -> None:
            raise typer.Exit(3)

        return app

    monkeypatch.setattr(cli, "build_app", build_with_failing_command)
    monkeypatch.setattr(sys, "argv", ["reformat", "fail-with-three"])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 3


def test_reformat_runs_exit_handlers_and_keeps_the_commands_status() -> None:
    program = (
        "import atexit, sys\n"
        "from reformatters.tools import cli, entry\n"
        "def command(on_ready):\n"
        "    atexit.register(print, 'exit handler ran')\n"
        "    print('output', end='')\n"
        "    raise SystemExit(int(sys.argv[1]))\n"
        "cli.main = command\n"
        "entry.main()\n"
    )
    for status in (0, 3):
        result = subprocess.run(
            [sys.executable, "-c", program, str(status)],
            check=False,
            capture_output=True,
            text=True,
        )
        assert result.returncode == status, result.stderr
        assert result.stdout == "outputexit handler ran\n"


@pytest.mark.parametrize(("given", "seen"), [(None, "1"), ("4", "4")])
def test_reformat_keeps_openblas_to_one_thread_unless_told(given: str | None, seen: str) -> None:
    program = (
        "import os\n"
        "from reformatters.tools import cli, entry\n"
        "cli.main = lambda on_ready: print(os.environ['OPENBLAS_NUM_THREADS'])\n"
        "entry.main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    result = subprocess.run(
        [sys.executable, "-c", program], env=env, check=True, capture_output=True, text=True
    )
    assert result.stdout.strip() == seen
