"""Plugin discovery through the hooks: each plugin's datasets attributed to it, a failing or
repeating plugin reported and left out, plugins' commands and their need for region-job workers."""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Callable
from types import ModuleType, SimpleNamespace

import pytest
import typer

from reformatters.core import plugins
from reformatters.core.hookspecs import hookimpl
from reformatters.tools import cli


def _plugin(
    monkeypatch: pytest.MonkeyPatch, name: str, **hooks: Callable[..., object]
) -> importlib.metadata.EntryPoint:
    module = ModuleType(f"fake_reformatters_plugin_{name}")
    for hook_name, function in hooks.items():
        setattr(module, hook_name, hookimpl(function))
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return importlib.metadata.EntryPoint(name, module.__name__, "reformatters")


def _datasets(*ids: str) -> Callable[[], list[SimpleNamespace]]:
    return lambda: [SimpleNamespace(dataset_id=dataset_id) for dataset_id in ids]


def _install(monkeypatch: pytest.MonkeyPatch, *entry_points: importlib.metadata.EntryPoint) -> None:
    def entry_points_of(group: str) -> list[importlib.metadata.EntryPoint]:
        return list(entry_points) if group == "reformatters" else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points_of)


def _fails() -> list[SimpleNamespace]:
    raise RuntimeError("no datasets today")


def test_datasets_are_attributed_and_failures_isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(
        monkeypatch,
        _plugin(monkeypatch, "a", reformatters_datasets=_datasets("x", "y")),
        _plugin(monkeypatch, "b", reformatters_datasets=_datasets("y", "z")),
        _plugin(monkeypatch, "c", reformatters_datasets=_fails),
    )
    registry = plugins.load_registry()
    assert {i: e.plugin_name for i, e in registry.datasets.items()} == {
        "x": "a",
        "y": "a",
        "z": "b",
    }
    assert [(f.name, f.error) for f in registry.failures] == [
        ("b", "dataset id 'y' already provided by ?"),
        ("c", "RuntimeError: no datasets today"),
    ]
    assert registry.plugin_manager is not None
    assert not registry.plugin_manager.has_plugin("c")


def test_plugin_commands_declare_region_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    def reformatters_cli(app: typer.Typer) -> list[str]:
        @app.command("tour")
        def tour() -> None:
            """Runs region jobs."""

        @app.command("hello")
        def hello() -> None:
            """Does not."""

        return ["tour"]

    _install(
        monkeypatch,
        _plugin(monkeypatch, "a", reformatters_datasets=_datasets("x")),
        _plugin(monkeypatch, "b", reformatters_cli=reformatters_cli),
    )
    registry = plugins.load_registry()
    app = typer.Typer()
    assert cli.add_plugin_commands(app, registry) == {"tour"}
    assert {c.name for c in app.registered_commands} == {"tour", "hello"}


@pytest.mark.parametrize(
    ("argv", "region_jobs"),
    [
        (["example-tiny", "backfill-local", "--help"], True),
        (["example-tiny", "validate", "--help"], False),
        (["list"], False),
    ],
)
def test_reformat_says_whether_the_command_runs_region_jobs(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], region_jobs: bool
) -> None:
    seen: list[bool] = []
    monkeypatch.setattr(sys, "argv", ["reformat", *argv])
    try:
        cli.main(on_ready=seen.append)
    except SystemExit as exiting:
        assert exiting.code in (0, None)
    assert seen == [region_jobs]
