"""The import contracts of the root pyproject (`lint-imports`, import-linter): the real tree keeps
them, and a deliberate violation in a copy of the tree breaks the contract it should, with the
contract's name in the output. Plus core's import cycles, listed module by module (grimp)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
import pytest
from helpers import REPO_ROOT

import reformatters

PYPROJECT = REPO_ROOT / "pyproject.toml"
CONTRACTS: dict[str, str] = {
    contract["id"]: contract["name"]
    for contract in tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
}
# Core's cycles have their own test below (module by module); the rest must hold today.
CYCLE_CONTRACT = "core-acyclic"
LAYERING_CONTRACTS = sorted(set(CONTRACTS) - {CYCLE_CONTRACT})

# Runs lint-imports (the installed console script's command) on a tree of sources given as the
# first argument, with the folders that hold this checkout's reformatters packages taken off
# sys.path first: otherwise `reformatters`, a namespace package, would also gather the real ones.
_LINT_A_COPY = """\
import os, sys
src, real = sys.argv[1], set(sys.argv[2].split(os.pathsep))
sys.path[:] = [src, *(entry for entry in sys.path if entry not in real)]
sys.argv = ["lint-imports", *sys.argv[3:]]
from importlinter.cli import lint_imports_command
lint_imports_command()
"""


def _lint(cwd: Path, *args: str, src: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    options = ["--no-cache", "--no-logo", *args]
    if src is None:
        command = [str(Path(sys.executable).parent / "lint-imports"), *options]
    else:
        real = os.pathsep.join(str(Path(p).parent) for p in reformatters.__path__)
        command = [sys.executable, "-c", _LINT_A_COPY, str(src), real, *options]
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _status(output: str, contract_id: str) -> str:
    """KEPT or BROKEN, as lint-imports reports the contract (names may wrap onto a second line)."""
    flat = " ".join(output.split())
    name = " ".join(CONTRACTS[contract_id].split())
    for status in ("KEPT", "BROKEN"):
        if f"{name} {status}" in flat:
            return status
    raise AssertionError(f"lint-imports did not report {name!r}:\n{output}")


def test_the_tree_keeps_the_layering_contracts() -> None:
    contracts = [arg for contract in LAYERING_CONTRACTS for arg in ("--contract", contract)]
    result = _lint(REPO_ROOT, *contracts)
    assert result.returncode == 0, result.stdout + result.stderr
    for contract in LAYERING_CONTRACTS:
        assert _status(result.stdout, contract) == "KEPT"


# ---- a deliberate violation in a copy -----------------------------------------------------------


def _copy_sources(destination: Path) -> Path:
    """Every workspace member's ``src/reformatters`` merged into one ``src`` (a namespace)."""
    src = destination / "src"
    for portion in reformatters.__path__:
        shutil.copytree(
            portion,
            src / "reformatters",
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.zarr"),
        )
    shutil.copy2(PYPROJECT, destination / "pyproject.toml")
    return src


def _write(src: Path, files: Mapping[str, str]) -> None:
    for relative, text in files.items():
        path = src / "reformatters" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as stream:
            stream.write(text)


VIOLATIONS: dict[str, tuple[str, dict[str, str]]] = {
    "core imports a dataset package": (
        "core-imports-only-core",
        {"core/errors.py": "\nimport reformatters.noaa.common\n"},
    ),
    "core imports tools under TYPE_CHECKING": (
        "core-imports-only-core",
        {
            "core/rounding.py": (
                "\nfrom typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
                "    import reformatters.tools.cli\n"
            )
        },
    ),
    "core imports a family that does not exist yet": (
        "core-imports-only-core",
        {
            "ecmwf/ifs/__init__.py": "",
            "core/errors.py": "\nimport reformatters.ecmwf.ifs\n",
        },
    ),
    "tools imports a dataset package": (
        "tools-imports-only-core",
        {"tools/deploy.py": "\nimport reformatters.noaa.gfs\n"},
    ),
    "a dataset package imports tools": (
        "top-level-independent",
        {"noaa/hrrr/__init__.py": "\nimport reformatters.tools.deploy\n"},
    ),
    "a noaa package imports the example plugin": (
        "top-level-independent",
        {"noaa/common/__init__.py": "\nimport reformatters.example_plugin\n"},
    ),
    "a new family's model imports another family's common package": (
        "top-level-independent",
        {"ecmwf/ifs/__init__.py": "\nimport reformatters.noaa.common\n"},
    ),
    "gfs imports hrrr": (
        "models-independent",
        {"noaa/gfs/__init__.py": "\nimport reformatters.noaa.hrrr\n"},
    ),
    "noaa common imports a model": (
        "models-independent",
        {"noaa/common/variables.py": "\nimport reformatters.noaa.gfs\n"},
    ),
    "a new family's models import each other": (
        "models-independent",
        {
            "ecmwf/common/__init__.py": "",
            "ecmwf/aifs/__init__.py": "\nimport reformatters.ecmwf.common\n",
            "ecmwf/ifs/__init__.py": "\nimport reformatters.ecmwf.aifs\n",
        },
    ),
}


def _lint_copy(tmp_path: Path, files: Mapping[str, str]) -> tuple[int, str]:
    src = _copy_sources(tmp_path)
    _write(src, files)
    result = _lint(tmp_path, src=src)
    return result.returncode, result.stdout + result.stderr


def test_the_copy_is_linted_like_the_tree(tmp_path: Path) -> None:
    """The harness sees the copy as lint-imports sees the tree: the same verdict per contract."""
    _, copied = _lint_copy(tmp_path, {})
    real = _lint(REPO_ROOT).stdout
    assert "Analyzed" in copied
    assert {c: _status(copied, c) for c in CONTRACTS} == {c: _status(real, c) for c in CONTRACTS}
    assert _status(copied, "core-imports-only-core") == "KEPT"


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_a_violation_breaks_its_contract(tmp_path: Path, case: str) -> None:
    contract, files = VIOLATIONS[case]
    status, output = _lint_copy(tmp_path, files)
    assert status != 0, output
    assert _status(output, contract) == "BROKEN", output
    # The report names the import that was added.
    added = [word for text in files.values() for word in text.split() if "reformatters." in word]
    assert any(name in output for name in added), output


def test_allowed_imports_keep_the_contracts(tmp_path: Path) -> None:
    """A new family with a common package (no config edit), one-level packages' own imports."""
    _, output = _lint_copy(
        tmp_path,
        {
            "ecmwf/common/__init__.py": "\nimport reformatters.core.errors\n",
            "ecmwf/common/grib/index.py": "\nimport reformatters.core.storage\n",
            "ecmwf/ifs/__init__.py": "\nimport reformatters.ecmwf.common\n",
            "ecmwf/ifs/forecast/__init__.py": "\nimport reformatters.core\n",
            "ecmwf/ifs/forecast/region_job.py": "\nimport reformatters.ecmwf.common.grib.index\n",
            "ecmwf/aifs/__init__.py": "\nfrom reformatters.ecmwf.common import grib\n",
            # A one-level package's __init__ and modules importing each other, and core.
            "tools/__init__.py": (
                "\nimport reformatters.core.errors\nimport reformatters.tools.cli\n"
            ),
            "tools/points.py": "\nimport reformatters.tools\n",
            "example_plugin/__init__.py": "\nimport reformatters.example_plugin.dataset\n",
            "example_plugin/dataset.py": "\nimport reformatters.example_plugin\n",
        },
    )
    for contract in LAYERING_CONTRACTS:
        assert _status(output, contract) == "KEPT", output


# ---- core's import cycles, module by module -----------------------------------------------------


def _cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """The strongly connected components (two modules or more) among ``package`` and its
    descendants, each sorted; imports under ``if TYPE_CHECKING:`` included (grimp's default)."""
    modules = sorted({package} | graph.find_descendants(package))
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & set(modules)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan; core is a few dozen modules deep at most
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in edges[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    return sorted(components)


def _describe(graph: grimp.ImportGraph, component: Iterable[str]) -> str:
    members = set(component)
    lines = []
    for importer in sorted(members):
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            details = graph.get_import_details(importer=importer, imported=imported)
            where = ", ".join(f"line {d['line_number']}" for d in details)
            lines.append(f"    {importer} -> {imported} ({where})")
    return "\n".join(lines)


def test_cycles_are_found_module_by_module() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [
        ("p", "p.a"),  # a package importing its own module...
        ("p.a", "p"),  # ...which imports the package back
        ("p.b", "p.c"),
        ("p.c", "p.d.e"),
        ("p.d.e", "p.b"),
        ("p.f", "p.b"),  # imports into a cycle without being part of it
        ("p.b", "q"),  # outside the package
        ("q", "p.f"),
    ]:
        graph.add_import(importer=importer, imported=imported)
    graph.add_module("p.d")
    assert _cycles(graph, "p") == [["p", "p.a"], ["p.b", "p.c", "p.d.e"]]


def test_core_has_no_import_cycles() -> None:
    graph = grimp.build_graph("reformatters", cache_dir=None)
    cycles = _cycles(graph, "reformatters.core")
    report = "\n".join(f"cycle of {len(c)} modules:\n{_describe(graph, c)}" for c in cycles)
    assert not cycles, f"reformatters.core imports itself in circles:\n{report}"
