"""Workspace layout: one hatchling distribution per member sharing the `reformatters` namespace."""

import os
import tomllib
import zipfile
from pathlib import Path

import pytest
from helpers import REPO_ROOT

WORKSPACE = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
MEMBERS = sorted(
    path for pattern in WORKSPACE["members"] for path in REPO_ROOT.glob(pattern) if path.is_dir()
)


def _project(member: Path) -> dict:
    return tomllib.loads((member / "pyproject.toml").read_text())


def test_workspace_has_core_tools_and_packages() -> None:
    names = {_project(m)["project"]["name"] for m in MEMBERS}
    assert {"reformatters-core", "reformatters-tools", "reformatters-noaa-gfs"} <= names


@pytest.mark.parametrize("member", MEMBERS, ids=lambda p: p.name)
def test_member_is_a_hatchling_namespace_distribution(member: Path) -> None:
    project = _project(member)
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert project["project"]["requires-python"] == ">=3.13"
    assert not (member / "src" / "reformatters" / "__init__.py").exists()
    assert not (member / "src" / "reformatters" / "noaa" / "__init__.py").exists()


def test_namespace_imports() -> None:
    import reformatters
    import reformatters.core
    import reformatters.tools

    assert getattr(reformatters, "__file__", None) is None  # implicit namespace package
    assert len(list(reformatters.__path__)) >= 3


WHEEL_DIR = os.environ.get("REFORMATTERS_WHEEL_DIR")


@pytest.mark.skipif(WHEEL_DIR is None, reason=".ci/run builds the wheels and sets the folder")
def test_built_wheels() -> None:
    assert WHEEL_DIR is not None
    wheels = {p.name.split("-")[0]: p for p in Path(WHEEL_DIR).glob("*.whl")}
    expected = {_project(m)["project"]["name"].replace("-", "_") for m in MEMBERS}
    assert expected <= set(wheels)
    for name, wheel in wheels.items():
        files = zipfile.ZipFile(wheel).namelist()
        assert "reformatters/__init__.py" not in files, name
        assert "reformatters/noaa/__init__.py" not in files, name
    core_files = zipfile.ZipFile(wheels["reformatters_core"]).namelist()
    assert any("synthesis_data/" in f for f in core_files)
    for member in MEMBERS:
        for template in member.glob("src/**/templates/latest.zarr/zarr.json"):
            wheel = wheels[_project(member)["project"]["name"].replace("-", "_")]
            relative = template.relative_to(member / "src").as_posix()
            assert relative in zipfile.ZipFile(wheel).namelist()
