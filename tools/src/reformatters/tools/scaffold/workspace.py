"""Finding the uv workspace and reading what its members declare."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reformatters.core.errors import UserError


def read_toml(path: Path) -> dict[str, Any]:
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


def version_range(pyproject: Path) -> str:
    """``>=X.Y.Z,<X.(Y+1)`` for a 0.x workspace member, ``>=X.Y.Z,<(X+1)`` otherwise."""
    if not pyproject.is_file():
        return ""
    version = str(read_toml(pyproject).get("project", {}).get("version", ""))
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version)
    if match is None:
        return ""
    major, minor = int(match.group(1)), int(match.group(2))
    upper = f"0.{minor + 1}" if major == 0 else f"{major + 1}"
    return f">={version},<{upper}"


def nested(data: Mapping[str, Any], *keys: str) -> Any:
    value: Any = data
    for key in keys:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def entry_point_module(pyproject: Path) -> str | None:
    entry_points = nested(read_toml(pyproject), "project", "entry-points", "reformatters")
    if not isinstance(entry_points, Mapping) or not entry_points:
        return None
    return str(next(iter(entry_points.values())))


def existing_dataset_ids(workspace: Path) -> set[str]:
    found = set()
    pattern = re.compile(r'dataset_id\s*=\s*"([a-z0-9-]+)"')
    for path in (workspace / "packages").glob("*/src/**/*.py"):
        found.update(pattern.findall(path.read_text(errors="replace")))
    return found
