"""Rendering the packaged templates, and the generated modules' ``reformatters`` imports."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from string import Template

from reformatters.tools.scaffold.names import IntegrationNames

_FACTORIES = "DATASET_FACTORIES"
_LINE_LENGTH = 100
_TEMPLATES = "scaffold_templates"


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


def render_plugin(names: IntegrationNames) -> str:
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
