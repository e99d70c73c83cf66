"""``reformat initialize-new-integration <provider> <model> <variant>``: scaffold a dataset.

Generates ``packages/<provider>-<model>/`` (distribution ``reformatters-<provider>-<model>``,
import path ``reformatters.<provider>.<model>``, entry point ``<provider>-<model>``) with one
dataset ``<provider>-<model>-<variant>`` in ``reformatters.<provider>.<model>.<variant>``, or adds
the variant to a package it generated before. The dataset works end to end as generated: a
forecast (init_time x lead_time) or an analysis (time) on a small global grid, read from GRIB2
files with ``.idx`` inventories, a synthesized source mirror and a test that backfills from it
over loopback; ``TODO`` marks what the integrator replaces (``docs/integration-guide.md``).

Nothing is overwritten: every file is planned first and the command stops with a one-line error
if any new file already exists. The workspace root's ``pyproject.toml`` gets the package in
``[tool.uv.sources]``, the ``dev`` dependency group and mypy's ``mypy_path``, as the existing
packages are registered. The template (``templates/latest.zarr``) is rendered in a subprocess
that sees the new sources, so the generated tests pass right after ``uv sync --all-packages``.
"""

from __future__ import annotations

import ast
import keyword
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from reformatters.core.errors import UserError

__all__ = [
    "DatasetKind",
    "IntegrationNames",
    "ScaffoldResult",
    "find_workspace_root",
    "initialize_new_integration",
    "register_scaffold_command",
    "validate_names",
]

MAX_NAME_LENGTH = 16
MAX_VARIANT_LENGTH = 20
_NAME = re.compile(r"[a-z][a-z0-9]*")
_VARIANT = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# Providers that would shadow the framework's own subpackages of ``reformatters``.
_RESERVED_PROVIDERS = frozenset({"core", "tools", "testing"})
# Variants that would collide with modules and folders of the generated package.
_RESERVED_VARIANTS = frozenset({"plugin", "tests", "templates"})
_FACTORIES = "DATASET_FACTORIES"
_LINE_LENGTH = 100
_TEMPLATES = "scaffold_templates"
# Placeholder dates of the generated template (DATASET_START, two 6-hourly inits after it).
_EXAMPLE_START = "2024-01-01T00"
_EXAMPLE_END = "2024-01-01T12"


class DatasetKind(StrEnum):
    """The shape of the generated dataset."""

    FORECAST = "forecast"  # init_time x lead_time x latitude x longitude, one file per init+lead
    ANALYSIS = "analysis"  # time x latitude x longitude, one file per time

    @classmethod
    def for_variant(cls, variant: str) -> DatasetKind:
        """The default: ``analysis`` for variants named like one, else ``forecast``."""
        return cls.ANALYSIS if "analysis" in variant else cls.FORECAST


# ---- names ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntegrationNames:
    """Every name derived from ``<provider> <model> <variant>``."""

    provider: str
    model: str
    variant: str

    @property
    def package_dir(self) -> str:
        return f"{self.provider}-{self.model}"

    @property
    def distribution(self) -> str:
        return f"reformatters-{self.provider}-{self.model}"

    @property
    def entry_point(self) -> str:
        return f"{self.provider}-{self.model}"

    @property
    def import_root(self) -> str:
        return f"reformatters.{self.provider}.{self.model}"

    @property
    def variant_module(self) -> str:
        return f"{self.import_root}.{self.variant}"

    @property
    def dataset_id(self) -> str:
        return f"{self.provider}-{self.model}-{self.variant.replace('_', '-')}"

    @property
    def variant_class(self) -> str:
        """CamelCase prefix of the variant's classes (``forecast_48_hour``: Forecast48Hour)."""
        return "".join(part.capitalize() for part in self.variant.split("_"))

    @property
    def factory(self) -> str:
        return f"make_{self.variant}_dataset"

    @property
    def test_file(self) -> str:
        return f"test_{self.provider}_{self.model}_{self.variant}.py"

    def substitutions(self) -> dict[str, str]:
        return {
            "provider": self.provider,
            "model": self.model,
            "variant": self.variant,
            "Variant": self.variant_class,
            "provider_title": self.provider.upper(),
            "model_title": self.model.upper(),
            "dataset_id": self.dataset_id,
            "dataset_name": (
                f"{self.provider.upper()} {self.model.upper()} {self.variant.replace('_', ' ')}"
            ),
            "distribution": self.distribution,
            "entry_point": self.entry_point,
            "package_dir": self.package_dir,
            "start": _EXAMPLE_START,
            "end": _EXAMPLE_END,
        }


def _check_name(kind: str, value: str, pattern: re.Pattern[str], max_length: int) -> None:
    rule = (
        "lowercase letters and digits, starting with a letter"
        if pattern is _NAME
        else "lowercase letters and digits, starting with a letter, parts joined by '_'"
    )
    if not pattern.fullmatch(value):
        raise UserError(
            f"{kind} {value!r} is not valid: use {rule} (e.g. 'noaa', 'gfs', 'forecast')"
        )
    if len(value) > max_length:
        raise UserError(f"{kind} {value!r} is longer than {max_length} characters")
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        raise UserError(f"{kind} {value!r} is a Python keyword and cannot be a module name")


def validate_names(provider: str, model: str, variant: str) -> IntegrationNames:
    """Check the three names; raise ``UserError`` saying what is wrong."""
    _check_name("provider", provider, _NAME, MAX_NAME_LENGTH)
    _check_name("model", model, _NAME, MAX_NAME_LENGTH)
    _check_name("variant", variant, _VARIANT, MAX_VARIANT_LENGTH)
    if provider in _RESERVED_PROVIDERS:
        raise UserError(
            f"provider {provider!r} would shadow reformatters.{provider}; choose another name"
        )
    if variant in _RESERVED_VARIANTS:
        raise UserError(f"variant {variant!r} collides with the package's own {variant!r}")
    return IntegrationNames(provider, model, variant)


# ---- workspace ----------------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{path} is not valid TOML: {e}") from None


def _is_workspace_root(path: Path) -> bool:
    pyproject = path / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        data = tomllib.loads(pyproject.read_text())
    except tomllib.TOMLDecodeError:
        return False
    return "workspace" in data.get("tool", {}).get("uv", {})


def find_workspace_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` whose pyproject.toml has [tool.uv.workspace]."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if _is_workspace_root(folder):
            return folder
    raise UserError(
        f"no uv workspace (a pyproject.toml with [tool.uv.workspace]) at or above {start}; "
        "run this inside the reformatters repository or pass --workspace"
    )


def _version_range(pyproject: Path) -> str:
    """``>=X.Y.Z,<X.(Y+1)`` for a 0.x workspace member, ``>=X.Y.Z,<(X+1)`` otherwise."""
    if not pyproject.is_file():
        return ""
    version = str(_read_toml(pyproject).get("project", {}).get("version", ""))
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version)
    if match is None:
        return ""
    major, minor = int(match.group(1)), int(match.group(2))
    upper = f"0.{minor + 1}" if major == 0 else f"{major + 1}"
    return f">={version},<{upper}"


# ---- rendering ----------------------------------------------------------------------------------


def _template(path: str) -> str:
    resource: Traversable = files("reformatters.tools").joinpath(_TEMPLATES)
    for part in path.split("/"):
        resource = resource.joinpath(part)
    return resource.read_text()


def render(path: str, substitutions: Mapping[str, str]) -> str:
    """Render one packaged template (``string.Template``: ``${name}``, ``$$`` for ``$``)."""
    return Template(_template(path)).substitute(substitutions)


def _import_statement(module: str, name: str) -> str:
    """``from module import name`` as ruff formats it (wrapped if it would be too long)."""
    line = f"from {module} import {name}"
    if len(line) <= _LINE_LENGTH:
        return line
    return f"from {module} import (\n    {name},\n)"


def _natural_key(text: str) -> list[tuple[int, int]]:
    """Sort key of ruff's isort for module names: characters in order, runs of digits compared
    as numbers (``forecast.x`` < ``forecast9`` < ``forecast10`` < ``forecast_a``)."""
    key: list[tuple[int, int]] = []
    for digits, other in re.findall(r"(\d+)|(\D)", text.lower()):
        key.append((ord("0"), int(digits)) if digits else (ord(other), 0))
    return key


def _first_party_block(tree: ast.Module) -> list[ast.ImportFrom]:
    """The top-level ``from reformatters... import`` statements (one contiguous block)."""
    nodes = [
        node
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        and node.module is not None
        and node.module.split(".")[0] == "reformatters"
    ]
    if nodes:
        start, end = nodes[0].lineno, nodes[-1].end_lineno
        assert end is not None
        if [node for node in tree.body if start <= node.lineno <= end] != nodes:
            raise ValueError("its reformatters imports are not one contiguous block")
    return nodes


def sort_first_party_imports(source: str, extra: Mapping[str, str] | None = None) -> str:
    """``source`` with its ``reformatters`` imports (plus ``extra``: module -> statement) in the
    order ruff's isort wants: by module name, so a provider sorts before or after ``core``."""
    tree = ast.parse(source)
    nodes = _first_party_block(tree)
    if not nodes and not extra:
        return source
    if not nodes:
        raise ValueError("it imports nothing from reformatters")
    lines = source.splitlines(keepends=True)
    statements = {
        str(node.module): "".join(lines[node.lineno - 1 : node.end_lineno]).rstrip("\n")
        for node in nodes
    }
    statements.update(extra or {})
    block = "\n".join(statements[m] for m in sorted(statements, key=_natural_key)) + "\n"
    start, end = nodes[0].lineno, nodes[-1].end_lineno
    return "".join([*lines[: start - 1], block, *lines[end:]])


_PLUGIN_CORE_IMPORTS = {
    "reformatters.core.dynamical_dataset": "DynamicalDataset",
    "reformatters.core.hookspecs": "hookimpl",
}


def _render_plugin(names: IntegrationNames) -> str:
    modules = {**_PLUGIN_CORE_IMPORTS, f"{names.variant_module}.dynamical_dataset": names.factory}
    imports = "\n".join(
        _import_statement(module, modules[module]) for module in sorted(modules, key=_natural_key)
    )
    substitutions = {
        **names.substitutions(),
        "imports": imports,
        "factories": f"    {names.factory},",
    }
    return render("package/plugin.py.tmpl", substitutions)


def add_variant_to_plugin(source: str, names: IntegrationNames) -> str:
    """``source`` (a plugin module) with the variant's factory imported and registered.

    The factory is appended to the ``DATASET_FACTORIES`` list (one entry per line) and its
    import is placed among the other ``reformatters`` imports in sorted order. Raises
    ``ValueError`` if the module does not have that shape.
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    factories = next(
        (
            node
            for node in tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            and any(
                isinstance(target, ast.Name) and target.id == _FACTORIES
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            )
        ),
        None,
    )
    if factories is None or not isinstance(factories.value, ast.Tuple | ast.List):
        raise ValueError(f"it has no {_FACTORIES} list")
    entries = factories.value.elts
    if any(isinstance(entry, ast.Name) and entry.id == names.factory for entry in entries):
        raise ValueError(f"{names.factory} is already in {_FACTORIES}")
    closing = factories.value.end_lineno
    assert closing is not None
    if factories.value.lineno == closing or lines[closing - 1].strip() not in (")", "]"):
        raise ValueError(f"{_FACTORIES} is not written one entry per line")
    registered = "".join([*lines[: closing - 1], f"    {names.factory},\n", *lines[closing - 1 :]])
    module = f"{names.variant_module}.dynamical_dataset"
    return sort_first_party_imports(registered, {module: _import_statement(module, names.factory)})


# ---- root pyproject.toml ------------------------------------------------------------------------


def _table_span(lines: list[str], header: str) -> tuple[int, int] | None:
    """(first line after ``[header]``, index of the next table header or the end)."""
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == f"[{header}]") + 1
    except StopIteration:
        return None
    end = next(
        (i for i in range(start, len(lines)) if lines[i].lstrip().startswith("[")), len(lines)
    )
    return start, end


def _append_to_array(
    text: str, table: str, key: str, item: str, after_prefix: str | None = None
) -> str | None:
    """``text`` with the TOML string ``item`` appended to ``[table] key = [...]``.

    None if the table or key is absent. One-line and one-item-per-line arrays are kept as such.
    """
    lines = text.splitlines(keepends=True)
    span = _table_span(lines, table)
    if span is None:
        return None
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=\s*\[")
    index = next((i for i in range(*span) if pattern.match(lines[i])), None)
    if index is None:
        return None
    quoted = f'"{item}"'
    line = lines[index]
    if line.rstrip().endswith("]"):
        body = line.rstrip()[:-1].rstrip()
        separator = "" if body.endswith("[") else ", "
        body = body[:-1].rstrip() if body.endswith(",") else body
        lines[index] = f"{body}{separator}{quoted}]\n"
        return "".join(lines)
    closing = next(i for i in range(index + 1, len(lines)) if lines[i].strip().startswith("]"))
    if after_prefix is not None:
        # Right after the last item starting with the prefix (e.g. the other packages).
        kin = [i for i in range(index + 1, closing) if lines[i].strip().startswith(after_prefix)]
        if kin and lines[kin[-1]].rstrip().endswith(","):
            line = lines[kin[-1]]
            lines.insert(kin[-1] + 1, f"{line[: len(line) - len(line.lstrip())]}{quoted},\n")
            return "".join(lines)
    previous = lines[closing - 1]
    indent = "    "
    if closing - 1 > index:
        indent = previous[: len(previous) - len(previous.lstrip())]
        if not previous.rstrip().endswith(","):
            lines[closing - 1] = previous.rstrip() + ",\n"
    lines.insert(closing, f"{indent}{quoted},\n")
    return "".join(lines)


def _add_table_entry(text: str, table: str, entry: str) -> str | None:
    """``text`` with the line ``entry`` added at the end of ``[table]`` (None if no table)."""
    lines = text.splitlines(keepends=True)
    span = _table_span(lines, table)
    if span is None:
        return None
    start, end = span
    last = end
    while last > start and not lines[last - 1].strip():
        last -= 1
    lines.insert(last, entry + "\n")
    return "".join(lines)


def _nested(data: Mapping[str, Any], *keys: str) -> Any:
    value: Any = data
    for key in keys:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


@dataclass
class _RootEdit:
    text: str
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_root_pyproject(text: str, names: IntegrationNames) -> _RootEdit:
    """Register the package in the workspace root's pyproject.toml, as the others are.

    Each edit is checked by parsing the result: exactly the intended value must change.
    """
    edit = _RootEdit(text)
    package_path = f"packages/{names.package_dir}"

    def apply(
        description: str,
        change: Callable[[str], str | None],
        check: Callable[[dict[str, Any], dict[str, Any]], bool],
    ) -> None:
        new_text = change(edit.text)
        if new_text is None:
            edit.notes.append(f"root pyproject.toml: no place found to add {description}")
            return
        before, after = tomllib.loads(edit.text), tomllib.loads(new_text)
        if not check(before, after):
            raise UserError(
                f"could not add {description} to the root pyproject.toml safely; add it by hand "
                "and run the command again"
            )
        edit.text = new_text
        edit.changes.append(description)

    data = tomllib.loads(text)
    members = _nested(data, "tool", "uv", "workspace", "members") or []
    if not any(Path(package_path).match(str(member)) for member in members):
        apply(
            f'"{package_path}" in [tool.uv.workspace] members',
            lambda t: _append_to_array(t, "tool.uv.workspace", "members", package_path),
            lambda b, a: (
                _nested(a, "tool", "uv", "workspace", "members")
                == [*_nested(b, "tool", "uv", "workspace", "members"), package_path]
            ),
        )
    sources = _nested(data, "tool", "uv", "sources")
    if isinstance(sources, Mapping) and names.distribution not in sources:
        apply(
            f"{names.distribution} in [tool.uv.sources]",
            lambda t: _add_table_entry(
                t, "tool.uv.sources", f"{names.distribution} = {{ workspace = true }}"
            ),
            lambda b, a: (
                _nested(a, "tool", "uv", "sources")
                == {**_nested(b, "tool", "uv", "sources"), names.distribution: {"workspace": True}}
            ),
        )
    dev = _nested(data, "dependency-groups", "dev")
    if isinstance(dev, list) and names.distribution not in dev:
        apply(
            f"{names.distribution} in the dev dependency group",
            lambda t: _append_to_array(
                t, "dependency-groups", "dev", names.distribution, '"reformatters-'
            ),
            lambda b, a: (
                sorted(_nested(a, "dependency-groups", "dev"))
                == sorted([*_nested(b, "dependency-groups", "dev"), names.distribution])
            ),
        )
    mypy_path = _nested(data, "tool", "mypy", "mypy_path")
    src = f"{package_path}/src"
    if isinstance(mypy_path, list) and src not in mypy_path:
        apply(
            f'"{src}" in [tool.mypy] mypy_path',
            lambda t: _append_to_array(t, "tool.mypy", "mypy_path", src),
            lambda b, a: (
                _nested(a, "tool", "mypy", "mypy_path")
                == [*_nested(b, "tool", "mypy", "mypy_path"), src]
            ),
        )
    return edit


# ---- planning and writing -----------------------------------------------------------------------

_KIND_FILES = (
    "template_config.py",
    "region_job.py",
    "synthesis.py",
    "dynamical_dataset.py",
)


@dataclass
class ScaffoldResult:
    """What ``initialize_new_integration`` did (paths relative to the workspace root)."""

    names: IntegrationNames
    workspace: Path
    new_package: bool
    kind: DatasetKind
    created: list[Path] = field(default_factory=list)
    modified: list[Path] = field(default_factory=list)
    template_rendered: bool = False
    notes: list[str] = field(default_factory=list)
    # The plugin module the variant could not be registered in automatically, if any.
    unregistered: Path | None = None

    def next_steps(self) -> list[str]:
        names = self.names
        test = f"packages/{names.package_dir}/tests/{names.test_file}"
        steps = [
            "uv sync --all-packages        # locks and installs the package"
            if self.new_package
            else "uv sync --all-packages",
            f"uv run reformat --help        # lists {names.dataset_id}",
        ]
        if self.unregistered:
            steps.insert(0, f"register {names.factory} in {self.unregistered} (see the note)")
        if not self.template_rendered:
            steps.append(f"uv run reformat {names.dataset_id} update-template")
        steps += [
            f"uv run pytest {test}",
            f"grep -rn TODO packages/{names.package_dir}   # what to fill in; see its README.md",
            "docs/integration-guide.md: base classes, chunks and shards, testing",
            f"after each change to template_config.py: uv run reformat {names.dataset_id} "
            "update-template",
        ]
        return steps


def _entry_point_module(pyproject: Path) -> str | None:
    entry_points = _nested(_read_toml(pyproject), "project", "entry-points", "reformatters")
    if not isinstance(entry_points, Mapping) or not entry_points:
        return None
    return str(next(iter(entry_points.values())))


def _existing_dataset_ids(workspace: Path) -> set[str]:
    found = set()
    pattern = re.compile(r'dataset_id\s*=\s*"([a-z0-9-]+)"')
    for path in (workspace / "packages").glob("*/src/**/*.py"):
        found.update(pattern.findall(path.read_text(errors="replace")))
    return found


def _render_template_store(workspace: Path, names: IntegrationNames, package: Path) -> str | None:
    """Run ``update_template`` of the new variant in a subprocess that sees its sources.

    Returns None on success, else the error output (the caller reports it as a next step).
    """
    code = (
        "import importlib\n"
        f"module = importlib.import_module({names.variant_module + '.template_config'!r})\n"
        f"config = getattr(module, {names.variant_class + 'TemplateConfig'!r})()\n"
        "print(config.update_template())\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(package / "src"), env.get("PYTHONPATH", "")) if p
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=workspace,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip().splitlines()
        return output[-1] if output else f"exit code {result.returncode}"
    return None


def initialize_new_integration(
    provider: str,
    model: str,
    variant: str,
    workspace: Path | None = None,
    *,
    kind: DatasetKind | None = None,
    render_template: bool = True,
) -> ScaffoldResult:
    """Generate the package (or add the variant) and register it; see the module docstring."""
    names = validate_names(provider, model, variant)
    kind = kind or DatasetKind.for_variant(variant)
    root = find_workspace_root(workspace or Path.cwd())
    if workspace is not None and root != workspace.resolve():
        raise UserError(f"{workspace} is not a uv workspace root (found {root} above it)")
    package = root / "packages" / names.package_dir
    package_src = package / "src" / "reformatters" / names.provider / names.model
    variant_dir = package_src / names.variant
    substitutions = names.substitutions()
    new_files: dict[Path, str] = {}
    edits: dict[Path, str] = {}
    appended: dict[Path, str] = {}
    notes: list[str] = []
    result = ScaffoldResult(names, root, new_package=not package.exists(), kind=kind)

    if names.dataset_id in _existing_dataset_ids(root):
        raise UserError(f"dataset id {names.dataset_id!r} already exists in {root / 'packages'}")
    if variant_dir.exists():
        raise UserError(f"{variant_dir} already exists; choose another variant name")

    if result.new_package:
        license_file = root / "LICENSE"
        substitutions_package = {
            **substitutions,
            "core_requirement": _version_range(root / "core" / "pyproject.toml"),
            "tools_requirement": _version_range(root / "tools" / "pyproject.toml"),
            # The generated code reads and writes wgrib2-style .idx inventories (noaa-common).
            "noaa_common_requirement": _version_range(
                root / "packages" / "noaa-common" / "pyproject.toml"
            ),
            "license_files": 'license-files = ["LICENSE"]\n' if license_file.is_file() else "",
        }
        new_files[package / "pyproject.toml"] = render(
            "package/pyproject.toml.tmpl", substitutions_package
        )
        readme = render("package/README.md.tmpl", substitutions)
        section = render("variant/README-section.md.tmpl", substitutions)
        new_files[package / "README.md"] = readme + section
        if license_file.is_file():
            new_files[package / "LICENSE"] = license_file.read_text()
        new_files[package_src / "__init__.py"] = render("package/__init__.py.tmpl", substitutions)
        new_files[package_src / "plugin.py"] = _render_plugin(names)
    else:
        pyproject = package / "pyproject.toml"
        if not pyproject.is_file():
            raise UserError(f"{package} exists but has no pyproject.toml")
        distribution = _nested(_read_toml(pyproject), "project", "name")
        if distribution != names.distribution:
            raise UserError(
                f"{package} holds {distribution!r}, not {names.distribution!r}; choose other names"
            )
        plugin_module = _entry_point_module(pyproject)
        if plugin_module is None:
            raise UserError(
                f"{names.distribution} declares no entry point in the 'reformatters' group; "
                "it is a library, not a dataset package"
            )
        plugin = package / "src" / Path(*plugin_module.split(".")).with_suffix(".py")
        try:
            edits[plugin] = add_variant_to_plugin(plugin.read_text(), names)
        except (OSError, ValueError, SyntaxError) as e:
            result.unregistered = plugin.relative_to(root)
            notes.append(
                f"register {names.factory} (from {names.variant_module}.dynamical_dataset) in "
                f"{plugin.relative_to(root)} by hand: {e}"
            )
        package_readme = package / "README.md"
        if package_readme.is_file():
            appended[package_readme] = render("variant/README-section.md.tmpl", substitutions)

    new_files[variant_dir / "__init__.py"] = render("variant/__init__.py.tmpl", substitutions)
    for name in _KIND_FILES:
        new_files[variant_dir / name] = render(f"{kind}/{name}.tmpl", substitutions)
    new_files[package / "tests" / names.test_file] = render(
        f"{kind}/test_variant.py.tmpl", substitutions
    )
    for path, text in new_files.items():
        if path.suffix == ".py":
            new_files[path] = sort_first_party_imports(text)

    root_pyproject = root / "pyproject.toml"
    root_edit = plan_root_pyproject(root_pyproject.read_text(), names)
    notes += root_edit.notes
    if root_edit.changes:
        edits[root_pyproject] = root_edit.text

    existing = sorted(path for path in new_files if path.exists())
    if existing:
        shown = ", ".join(str(p.relative_to(root)) for p in existing[:3])
        raise UserError(f"refusing to overwrite existing files: {shown}")

    for path, text in new_files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        result.created.append(path.relative_to(root))
    for path, text in edits.items():
        path.write_text(text)
        result.modified.append(path.relative_to(root))
    for path, text in appended.items():
        with path.open("a") as handle:
            handle.write(text)
        result.modified.append(path.relative_to(root))

    if render_template:
        error = _render_template_store(root, names, package)
        if error is None:
            result.template_rendered = True
            result.created.append((variant_dir / "templates" / "latest.zarr").relative_to(root))
        else:
            notes.append(f"rendering templates/latest.zarr failed ({error})")
    result.notes = notes
    return result


# ---- command line -------------------------------------------------------------------------------


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
