"""Each dataset package installs from its built wheel into a clean virtual environment.

`.ci/run` builds every workspace member (sdist, then the wheel from that sdist) into
``$REFORMATTERS_WHEEL_DIR`` and, while it still has the network, downloads the third-party wheels
that ``uv.lock`` pins (hash-checked, from PyPI) into ``$REFORMATTERS_WHEELHOUSE``. This test runs
offline: it creates a virtual environment with the system's Python 3.13, installs only the dataset
package (``--no-index``: core, tools and every other dependency must come through the package's
own metadata, from those two folders, never from the workspace), then checks that

- ``reformat --help`` offers exactly that package's datasets (and ``reformat list`` agrees), and
- ``reformat <id> update-template`` in that environment (a scratch copy of the installed package)
  rewrites each template byte for byte as the wheel shipped it.

Without the two variables the test skips, except with ``CI=true``, where it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from helpers import REPO_ROOT

WHEEL_DIR_ENV = "REFORMATTERS_WHEEL_DIR"
WHEELHOUSE_ENV = "REFORMATTERS_WHEELHOUSE"

# Members of packages/ that provide datasets through an entry point (noaa-common provides none).
DATASET_PACKAGES = sorted(
    tomllib.loads(path.read_text())["project"]["name"]
    for path in REPO_ROOT.glob("packages/*/pyproject.toml")
    if "reformatters" in tomllib.loads(path.read_text())["project"].get("entry-points", {})
)


def _folders() -> tuple[Path, Path]:
    wheel_dir, wheelhouse = os.environ.get(WHEEL_DIR_ENV), os.environ.get(WHEELHOUSE_ENV)
    if not wheel_dir or not wheelhouse:
        message = f"{WHEEL_DIR_ENV} and {WHEELHOUSE_ENV} are set by .ci/run"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return Path(wheel_dir), Path(wheelhouse)


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.fail("uv is needed to create the virtual environment")
    return uv


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without anything that points into the workspace's venv."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT"}
    }
    env.update(
        UV_PYTHON_DOWNLOADS="never",
        UV_OFFLINE="1",
        UV_NO_CONFIG="1",
        REFORMATTERS_LOG_LEVEL="WARNING",
        REFORMATTERS_SCRATCH=str(tmp_path / "scratch"),
        MPLCONFIGDIR=str(tmp_path / "matplotlib"),
        COLUMNS="200",
    )
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(args)} exited {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result


def _wheel(wheel_dir: Path, distribution: str) -> Path:
    wheels = sorted(wheel_dir.glob(f"{distribution.replace('-', '_')}-*.whl"))
    assert len(wheels) == 1, f"expected one wheel of {distribution} in {wheel_dir}: {wheels}"
    return wheels[0]


def _datasets_by_distribution() -> dict[str, set[str]]:
    """Dataset ids of every workspace plugin, by the distribution that provides them."""
    from reformatters.core.plugins import load_registry

    registry = load_registry()
    assert not registry.failures, registry.failures
    by_distribution: dict[str, set[str]] = {}
    for dataset_id, entry in registry.datasets.items():
        by_distribution.setdefault(entry.distribution, set()).add(dataset_id)
    return by_distribution


def _template_files(wheel: Path) -> dict[str, bytes]:
    """Every file of every ``templates/latest.zarr`` in the wheel, by path inside the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        return {
            name: archive.read(name)
            for name in archive.namelist()
            if "/templates/latest.zarr/" in name and not name.endswith("/")
        }


def _installed_template_files(site_packages: Path, wheel_paths: dict[str, bytes]) -> dict:
    roots = {name.split("/templates/latest.zarr/")[0] for name in wheel_paths}
    installed: dict[str, bytes] = {}
    for root in roots:
        template = site_packages / root / "templates" / "latest.zarr"
        for path in template.rglob("*"):
            if path.is_file():
                installed[path.relative_to(site_packages).as_posix()] = path.read_bytes()
    return installed


def test_every_dataset_package_is_covered() -> None:
    assert "reformatters-noaa-gfs" in DATASET_PACKAGES


@pytest.mark.slow
@pytest.mark.parametrize("distribution", DATASET_PACKAGES)
def test_dataset_package_installs_from_wheels(distribution: str, tmp_path: Path) -> None:
    wheel_dir, wheelhouse = _folders()
    uv = _uv()
    env = _clean_env(tmp_path)
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    reformat = venv / "bin" / "reformat"

    # The interpreter behind this test run (its base, not the workspace venv); never a download.
    _run([uv, "venv", "--no-project", "--python", sys.executable, str(venv)], env, tmp_path)
    _run(
        [
            uv,
            "pip",
            "install",
            "--python",
            str(python),
            "--no-index",
            "--find-links",
            str(wheelhouse),
            "--find-links",
            str(wheel_dir),
            distribution,
        ],
        env,
        tmp_path,
    )

    # The dataset package alone brought core and tools (and noaa-common), all from wheels.
    freeze = _run([uv, "pip", "freeze", "--python", str(python)], env, tmp_path).stdout
    installed = {line.split("==")[0] for line in freeze.splitlines() if "==" in line}
    assert {"reformatters-core", "reformatters-tools", distribution} <= installed, freeze
    assert not any(" @ " in line for line in freeze.splitlines()), freeze  # no path installs
    site_packages = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            env,
            tmp_path,
        ).stdout.strip()
    )
    core_location = _run(
        [str(python), "-c", "import reformatters.core; print(reformatters.core.__path__[0])"],
        env,
        tmp_path,
    ).stdout.strip()
    assert Path(core_location).is_relative_to(site_packages), core_location

    by_distribution = _datasets_by_distribution()
    expected = by_distribution[distribution]
    others = set().union(*(ids for name, ids in by_distribution.items() if name != distribution))

    help_run = _run([str(reformat), "--help"], env, tmp_path)
    assert "failed to load" not in help_run.stderr, help_run.stderr  # a missing dependency
    help_text = help_run.stdout
    commands = {
        line.strip("│ ").split()[0] for line in help_text.splitlines() if line.startswith("│ ")
    }
    assert expected <= commands, help_text
    assert not commands & others, help_text
    listed = _run([str(reformat), "list"], env, tmp_path).stdout
    for dataset_id in expected | others:
        assert (dataset_id in listed) == (dataset_id in expected), listed

    wheel_templates = _template_files(_wheel(wheel_dir, distribution))
    assert wheel_templates, "the wheel ships no rendered template"
    assert _installed_template_files(site_packages, wheel_templates) == wheel_templates
    for dataset_id in sorted(expected):
        _run([str(reformat), dataset_id, "update-template"], env, tmp_path)
    after = _installed_template_files(site_packages, wheel_templates)
    assert sorted(after) == sorted(wheel_templates)
    changed = sorted(name for name in wheel_templates if after[name] != wheel_templates[name])
    assert not changed, f"update-template changed {changed}"
