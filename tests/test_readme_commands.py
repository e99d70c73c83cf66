"""Every ``reformat`` command the README and the docs show is one the installed command line
accepts (arguments and options parsed by the real app, nothing run), and the README's offline
"Read it" steps run as written on a store (the demo's synthesized GFS run)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from helpers import REPO_ROOT

from reformatters.core.plugins import get_registry
from reformatters.tools.cli import add_plugin_commands, build_app

DOCUMENTS = [
    REPO_ROOT / "README.md",
    REPO_ROOT / "deploy" / "README.md",
    *sorted((REPO_ROOT / "docs").glob("*.md")),
    *sorted((REPO_ROOT / "packages").glob("*/README.md")),
]
_BLOCK = re.compile(r"```(?:sh|bash)\n(.*?)```", re.DOTALL)


def shown_commands() -> list[tuple[str, str]]:
    """(document, command line) of every ``reformat ...`` line in a sh/bash block; lines with a
    ``<placeholder>`` are left out."""
    commands = []
    for document in DOCUMENTS:
        for block in _BLOCK.findall(document.read_text()):
            for raw in block.replace("\\\n", " ").splitlines():
                line = re.sub(r"^(uv run (--all-packages )?(--frozen )?)", "", raw.strip())
                line = line.split(" #")[0].strip()
                if line.startswith("reformat ") and "<" not in line:
                    commands.append((str(document.relative_to(REPO_ROOT)), line))
    return commands


COMMANDS = shown_commands()


def _parse(command: Any, args: list[str]) -> None:
    """Parse ``args`` as the shell would hand them to ``command`` (typer's click objects),
    through every sub-command, without running anything."""
    context = command.make_context(command.name, args)
    # typer's vendored click keeps a group's sub-command name in `_protected_args`.
    while hasattr(command, "resolve_command") and (rest := context._protected_args + context.args):
        name, sub, sub_args = command.resolve_command(context, rest)
        assert sub is not None, name
        command, context = sub, sub.make_context(name, sub_args, parent=context)


def test_a_wrong_option_is_refused() -> None:
    with pytest.raises(pytest.fail.Exception, match="No such option"):
        test_a_shown_command_is_accepted("-", "reformat noaa-gfs-forecast update --no-such-option")


def test_the_documents_show_commands() -> None:
    assert len(COMMANDS) >= 15
    assert "README.md" in {d for d, _ in COMMANDS}


@pytest.mark.parametrize(("document", "line"), COMMANDS, ids=[f"{d}: {c}" for d, c in COMMANDS])
def test_a_shown_command_is_accepted(document: str, line: str) -> None:
    registry = get_registry()
    app = build_app(registry)
    add_plugin_commands(app, registry)
    command = typer.main.get_command(app)
    try:
        _parse(command, shlex.split(line)[1:])
    except typer.Exit:
        pass  # --help
    except typer.TyperException as error:
        pytest.fail(f"{document}: `{line}`: {error}")


@pytest.mark.slow
def test_read_it_runs_as_written(tmp_path: Path) -> None:
    from reformatters.noaa.gfs.demo import run_demo

    result = run_demo(tmp_path / "data", inits=1, leads=2)
    init = str(result.dataset["init_time"].values[0])[:13]
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme[readme.index("## Read it") : readme.index("## Run it in production")]
    python_code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    shell = _BLOCK.search(section)
    assert python_code is not None and shell is not None
    env = {**os.environ, "REFORMATTERS_LOG_LEVEL": "WARNING"}
    env.pop("REFORMATTERS_OUTPUT_URL", None)
    code = python_code[1].replace("2024-01-01T00", init)
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True)
    (tmp_path / "sites.csv").write_text("id,latitude,longitude\nboulder,40.0,-105.25\n")
    bin_dir = Path(sys.executable).parent
    printed = ""
    for line in shell[1].splitlines():
        args = shlex.split(line)
        program = str(bin_dir / "reformat") if args[0] == "reformat" else sys.executable
        run = subprocess.run(
            [program, *args[1:]], check=False, cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert run.returncode == 0, f"{line}\n{run.stdout}\n{run.stderr}"
        printed += run.stdout
    assert "boulder" in printed  # the DuckDB query shows the extracted site's rows
    assert (tmp_path / "ts.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_relative_links_resolve(document: Path) -> None:
    """Nothing moved out of the README left a dangling link behind."""
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", document.read_text()):
        assert (document.parent / target).exists(), f"{document.name}: {target}"
