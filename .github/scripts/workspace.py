#!/usr/bin/env python3
"""Workspace facts for the GitHub Actions workflows (standard library only).

    workspace.py select-tests CHANGED_FILES_LIST   which tests a change needs (ci.yml)
    workspace.py release-tag TAG                   check a `<distribution>-v<version>` tag
    workspace.py dataset-packages                  distributions that provide datasets

Each prints ``key=value`` lines for ``$GITHUB_OUTPUT``. tests/test_workflows.py tests it.
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Changes that need no tests (lint and type checks still run).
DOCS_ONLY = ("docs/*", "README.md", "benchmarks/README.md", "deploy/README.md", "LICENSE")
# Tests that look at every distribution at once; they run whenever any package changes.
REGISTRY_WIDE_TESTS = (
    "tests/test_distributions.py",
    "tests/test_templates.py",
    "tests/test_wheel_install.py",
)
TAG_PATTERN = re.compile(r"^(?P<distribution>reformatters(?:-[a-z0-9]+)*)-v(?P<version>\d\S*)$")


@dataclass(frozen=True)
class Member:
    path: str  # relative to the repository root, e.g. "packages/noaa-gfs"
    name: str
    version: str
    dependencies: frozenset[str]  # names of sibling distributions it depends on
    entry_points: bool
    private: bool


def _requirement_name(requirement: str) -> str:
    match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return match.group(1).lower().replace("_", "-") if match else ""


def members(root: Path = REPO_ROOT) -> list[Member]:
    workspace = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    found: list[Member] = []
    for pattern in workspace["members"]:
        for folder in sorted(root.glob(pattern)):
            if not (folder / "pyproject.toml").is_file():
                continue
            project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
            found.append(
                Member(
                    path=folder.relative_to(root).as_posix(),
                    name=project["name"],
                    version=project["version"],
                    dependencies=frozenset(
                        _requirement_name(r) for r in project.get("dependencies", [])
                    ),
                    entry_points="reformatters" in project.get("entry-points", {}),
                    private="Private :: Do Not Upload" in project.get("classifiers", []),
                )
            )
    names = {m.name for m in found}
    return [
        Member(m.path, m.name, m.version, m.dependencies & names, m.entry_points, m.private)
        for m in found
    ]


@dataclass(frozen=True)
class Selection:
    run: str  # "all", "some" (the paths) or "none"
    paths: tuple[str, ...] = ()


def select_tests(changed: list[str], root: Path = REPO_ROOT) -> Selection:
    """Which tests a change needs.

    A change to a dataset package (``packages/<name>/``) runs that package's own tests
    (``packages/<name>/tests``), those of the packages that depend on it and the registry-wide
    tests. Documentation alone runs nothing. Anything else (core, tools, the root configuration,
    the lock, tests/, workflows, deploy/) runs everything.
    """
    workspace = members(root)
    packages = {m.path: m for m in workspace if m.path.startswith("packages/")}
    touched: set[str] = set()
    for line in changed:
        path = line.strip()
        if not path or any(fnmatch.fnmatch(path, pattern) for pattern in DOCS_ONLY):
            continue
        parts = path.split("/")
        folder = "/".join(parts[:2])
        if len(parts) > 2 and folder in packages:
            touched.add(packages[folder].name)
            continue
        return Selection("all")
    # Dependents too (noaa-common -> noaa-gfs, noaa-hrrr), until nothing changes.
    while True:
        more = {m.name for m in workspace if m.dependencies & touched} - touched
        if not more:
            break
        touched |= more
    if not touched:
        return Selection("none")
    paths: list[str] = []
    for member in sorted(packages.values(), key=lambda m: m.path):
        if member.name not in touched:
            continue
        if (root / member.path / "tests").is_dir():
            paths.append(f"{member.path}/tests")
    paths.extend(p for p in REGISTRY_WIDE_TESTS if (root / p).is_file())
    return Selection("some", tuple(paths))


def release_tag(tag: str, root: Path = REPO_ROOT) -> Member:
    """The member a ``<distribution>-v<version>`` tag releases; raises ValueError if none may."""
    match = TAG_PATTERN.match(tag)
    if match is None:
        raise ValueError(f"tag {tag!r} is not <distribution>-v<version>")
    by_name = {m.name: m for m in members(root)}
    member = by_name.get(match["distribution"])
    if member is None:
        raise ValueError(f"tag {tag!r}: no workspace member is named {match['distribution']!r}")
    if member.private:
        raise ValueError(f"tag {tag!r}: {member.name} is private (Private :: Do Not Upload)")
    if match["version"] != member.version:
        raise ValueError(
            f"tag {tag!r} says version {match['version']} but {member.path}/pyproject.toml "
            f"says {member.version}"
        )
    return member


def dataset_packages(root: Path = REPO_ROOT) -> list[str]:
    return sorted(m.name for m in members(root) if m.entry_points and not m.private)


def main(argv: list[str]) -> int:
    command, *args = argv
    if command == "select-tests":
        changed = Path(args[0]).read_text().splitlines()
        selection = select_tests(changed)
        print(f"run={selection.run}")
        print(f"paths={json.dumps(list(selection.paths))}")
        print(f"pytest-args={' '.join(selection.paths)}")
    elif command == "release-tag":
        try:
            member = release_tag(args[0])
        except ValueError as e:
            print(f"::error::{e}", file=sys.stderr)
            return 1
        print(f"distribution={member.name}")
        print(f"version={member.version}")
        print(f"path={member.path}")
    elif command == "dataset-packages":
        print(f"packages={' '.join(dataset_packages())}")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
