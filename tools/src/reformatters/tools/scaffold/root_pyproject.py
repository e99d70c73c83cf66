"""Registering a new package in the workspace root's ``pyproject.toml``, as the others are."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reformatters.core.errors import UserError
from reformatters.tools.scaffold.names import IntegrationNames
from reformatters.tools.scaffold.workspace import nested


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
    members = nested(data, "tool", "uv", "workspace", "members") or []
    if not any(Path(package_path).match(str(member)) for member in members):
        apply(
            f'"{package_path}" in [tool.uv.workspace] members',
            lambda t: _append_to_array(t, "tool.uv.workspace", "members", package_path),
            lambda b, a: (
                nested(a, "tool", "uv", "workspace", "members")
                == [*nested(b, "tool", "uv", "workspace", "members"), package_path]
            ),
        )
    sources = nested(data, "tool", "uv", "sources")
    if isinstance(sources, Mapping) and names.distribution not in sources:
        apply(
            f"{names.distribution} in [tool.uv.sources]",
            lambda t: _add_table_entry(
                t, "tool.uv.sources", f"{names.distribution} = {{ workspace = true }}"
            ),
            lambda b, a: (
                nested(a, "tool", "uv", "sources")
                == {**nested(b, "tool", "uv", "sources"), names.distribution: {"workspace": True}}
            ),
        )
    dev = nested(data, "dependency-groups", "dev")
    if isinstance(dev, list) and names.distribution not in dev:
        apply(
            f"{names.distribution} in the dev dependency group",
            lambda t: _append_to_array(
                t, "dependency-groups", "dev", names.distribution, '"reformatters-'
            ),
            lambda b, a: (
                sorted(nested(a, "dependency-groups", "dev"))
                == sorted([*nested(b, "dependency-groups", "dev"), names.distribution])
            ),
        )
    mypy_path = nested(data, "tool", "mypy", "mypy_path")
    src = f"{package_path}/src"
    if isinstance(mypy_path, list) and src not in mypy_path:
        apply(
            f'"{src}" in [tool.mypy] mypy_path',
            lambda t: _append_to_array(t, "tool.mypy", "mypy_path", src),
            lambda b, a: (
                nested(a, "tool", "mypy", "mypy_path")
                == [*nested(b, "tool", "mypy", "mypy_path"), src]
            ),
        )
    return edit
