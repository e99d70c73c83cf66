"""Workspace layout: one hatchling distribution per member sharing the `reformatters` namespace.

Each member stands alone on PyPI: its own version, README, licence, classifiers and dependencies
(every third-party module it imports, with a lower bound the lock satisfies; sibling
distributions within one minor series). `.ci/run` builds every member (the sdist, then the wheel
from that sdist) into ``$REFORMATTERS_WHEEL_DIR``; the built artifacts are inspected here.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import sys
import tarfile
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO_ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

WORKSPACE = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
MEMBERS = sorted(
    path for pattern in WORKSPACE["members"] for path in REPO_ROOT.glob(pattern) if path.is_dir()
)
LOCK = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
LOCKED = {canonicalize_name(p["name"]): Version(p["version"]) for p in LOCK["package"]}
ROOT_LICENSE = (REPO_ROOT / "LICENSE").read_bytes()
PUBLISHED_CLASSIFIERS = {
    "Programming Language :: Python :: 3 :: Only",
    "Programming Language :: Python :: 3.13",
    "Operating System :: POSIX :: Linux",
}


def _project(member: Path) -> dict[str, Any]:
    return tomllib.loads((member / "pyproject.toml").read_text())


def _name(member: Path) -> str:
    return str(_project(member)["project"]["name"])


def _requirements(member: Path, *, extras: bool = False) -> list[Requirement]:
    project = _project(member)["project"]
    declared = list(project.get("dependencies", []))
    if extras:
        for group in project.get("optional-dependencies", {}).values():
            declared.extend(group)
    return [Requirement(r) for r in declared]


def _is_dataset_package(member: Path) -> bool:
    project = _project(member)["project"]
    return member.parent.name == "packages" and "reformatters" in project.get("entry-points", {})


WORKSPACE_VERSIONS = {
    canonicalize_name(_name(m)): Version(_project(m)["project"]["version"]) for m in MEMBERS
}


def test_workspace_has_core_tools_and_packages() -> None:
    names = {_name(m) for m in MEMBERS}
    assert {"reformatters-core", "reformatters-tools", "reformatters-noaa-gfs"} <= names


@pytest.mark.parametrize("member", MEMBERS, ids=lambda p: p.name)
def test_member_is_a_hatchling_namespace_distribution(member: Path) -> None:
    project = _project(member)
    assert project["build-system"]["build-backend"] == "hatchling.build"
    # License-Expression and License-File (core metadata 2.4, PEP 639) need hatchling 1.27.
    assert "hatchling>=1.27" in project["build-system"]["requires"]
    assert project["project"]["requires-python"] == ">=3.13"
    assert not (member / "src" / "reformatters" / "__init__.py").exists()
    assert not (member / "src" / "reformatters" / "noaa" / "__init__.py").exists()


@pytest.mark.parametrize("member", MEMBERS, ids=lambda p: p.name)
def test_member_metadata_stands_alone(member: Path) -> None:
    project = _project(member)["project"]
    Version(project["version"])
    assert project["description"]
    assert project["readme"] == "README.md"
    readme = (member / "README.md").read_text()
    assert readme.startswith(f"# {project['name']}\n")
    assert len(readme.splitlines()) >= 5, "a README that says what the distribution is for"
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert (member / "LICENSE").read_bytes() == ROOT_LICENSE
    assert set(project["classifiers"]) >= PUBLISHED_CLASSIFIERS
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # PEP 639


@pytest.mark.parametrize("member", MEMBERS, ids=lambda p: p.name)
def test_dependencies_have_lower_bounds_the_lock_satisfies(member: Path) -> None:
    for requirement in _requirements(member, extras=True):
        name = canonicalize_name(requirement.name)
        operators = {spec.operator for spec in requirement.specifier}
        assert ">=" in operators, f"{requirement} has no lower bound"
        locked = WORKSPACE_VERSIONS.get(name) or LOCKED[name]
        assert requirement.specifier.contains(locked, prereleases=True), (
            f"{_name(member)}: {requirement} excludes the locked {locked}"
        )
        if name in WORKSPACE_VERSIONS:
            # Siblings: compatible within the dependency's current minor series (0.x: a minor
            # release may break the plugin API; see docs/releasing.md).
            upper = Version(f"{locked.major}.{locked.minor + 1}")
            assert f"<{upper}" in {str(s) for s in requirement.specifier}, requirement


@pytest.mark.parametrize(
    "member", [m for m in MEMBERS if _is_dataset_package(m)], ids=lambda p: p.name
)
def test_dataset_packages_bring_core_and_tools(member: Path) -> None:
    """`pip install reformatters-<provider>-<model>` alone gives a working `reformat` command."""
    names = {canonicalize_name(r.name) for r in _requirements(member)}
    assert {"reformatters-core", "reformatters-tools"} <= names


def _imported_modules(member: Path) -> set[str]:
    modules: set[str] = set()
    for path in (member / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"__future__", "reformatters"}


@pytest.mark.parametrize("member", MEMBERS, ids=lambda p: p.name)
def test_every_imported_third_party_module_is_declared(member: Path) -> None:
    providers = importlib.metadata.packages_distributions()
    declared = {canonicalize_name(r.name) for r in _requirements(member, extras=True)}
    for module in sorted(_imported_modules(member)):
        distributions = {canonicalize_name(d) for d in providers.get(module, [])}
        assert distributions, f"{module} (imported by {_name(member)}) is not installed"
        assert distributions & declared, f"{_name(member)} imports {module} but does not declare it"


def test_namespace_imports() -> None:
    import reformatters
    import reformatters.core
    import reformatters.tools

    assert getattr(reformatters, "__file__", None) is None  # implicit namespace package
    assert len(list(reformatters.__path__)) >= 3


# ---- the built artifacts ----

WHEEL_DIR = os.environ.get("REFORMATTERS_WHEEL_DIR")


@pytest.fixture(scope="module")
def wheel_dir() -> Path:
    if WHEEL_DIR is None:
        message = ".ci/run builds the wheels and sdists and sets REFORMATTERS_WHEEL_DIR"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return Path(WHEEL_DIR)


def _artifact(folder: Path, member: Path, suffix: str) -> Path:
    project = _project(member)["project"]
    stem = f"{project['name'].replace('-', '_')}-{project['version']}"
    path = folder / f"{stem}{suffix}"
    assert path.is_file(), f"{path.name} was not built"
    return path


def _templates(member: Path) -> dict[str, bytes]:
    """Every file of the member's rendered templates and package data (synthesis templates and
    model inventories), by path relative to src/."""
    return {
        path.relative_to(member / "src").as_posix(): path.read_bytes()
        for pattern in ("templates/latest.zarr", "synthesis_data")
        for folder in (member / "src").rglob(pattern)
        for path in folder.rglob("*")
        if path.is_file()
    }


@pytest.mark.parametrize("member", MEMBERS, ids=lambda p: p.name)
def test_built_wheel(member: Path, wheel_dir: Path) -> None:
    project = _project(member)["project"]
    wheel = _artifact(wheel_dir, member, "-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        files = set(archive.namelist())
        dist_info = f"{wheel.name.removesuffix('-py3-none-any.whl')}.dist-info"
        metadata = Parser().parsestr(archive.read(f"{dist_info}/METADATA").decode())
        assert archive.read(f"{dist_info}/licenses/LICENSE") == ROOT_LICENSE
        for name, data in _templates(member).items():
            assert name in files, f"{wheel.name} lacks {name}"
            assert archive.read(name) == data, f"{wheel.name}: {name} differs from the repository"
    assert "reformatters/__init__.py" not in files
    assert "reformatters/noaa/__init__.py" not in files
    assert not any("/tests/" in f or f.startswith("tests/") for f in files)
    assert metadata["Name"] == project["name"]
    assert metadata["Version"] == project["version"]
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert set(metadata.get_all("Classifier") or []) == set(project["classifiers"])
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload().strip() == (member / "README.md").read_text().strip()
    requires = {str(Requirement(r)) for r in metadata.get_all("Requires-Dist") or []}
    assert {str(r) for r in _requirements(member)} <= requires
    if member.name in ("noaa-gfs", "noaa-hrrr"):
        assert any("/synthesis_data/" in f and f.endswith(".grib2") for f in files)


@pytest.mark.parametrize("member", MEMBERS, ids=lambda p: p.name)
def test_built_sdist(member: Path, wheel_dir: Path) -> None:
    """The sdist has what rebuilds the wheel (``uv build`` builds the wheel from it)."""
    sdist = _artifact(wheel_dir, member, ".tar.gz")
    prefix = sdist.name.removesuffix(".tar.gz")
    with tarfile.open(sdist) as archive:
        names = {m.name.removeprefix(f"{prefix}/"): m for m in archive.getmembers() if m.isfile()}
        for required in ("pyproject.toml", "README.md", "LICENSE", "PKG-INFO"):
            assert required in names, f"{sdist.name} lacks {required}"
        license_file = archive.extractfile(names["LICENSE"])
        assert license_file is not None
        assert license_file.read() == ROOT_LICENSE
        for name, data in _templates(member).items():
            assert f"src/{name}" in names, f"{sdist.name} lacks src/{name}"
            extracted = archive.extractfile(names[f"src/{name}"])
            assert extracted is not None
            assert extracted.read() == data
    sources = {
        path.relative_to(member).as_posix()
        for path in (member / "src").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert sources <= set(names)
    assert not any(n.endswith(".pyc") or n.startswith("tests/") for n in names)
