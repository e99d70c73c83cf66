"""``reformat initialize-new-integration``: names, planning, registering variants, and the whole
path in a copy of this workspace (generate, re-lock and sync offline, ``reformat --help``,
update-template, the generated tests, ruff and mypy, a CLI backfill from a synthesized mirror)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from helpers import REPO_ROOT

from reformatters.core.errors import UserError
from reformatters.tools.scaffold.generate import initialize_new_integration
from reformatters.tools.scaffold.names import DatasetKind, IntegrationNames, validate_names
from reformatters.tools.scaffold.render import add_variant_to_plugin, sort_first_party_imports
from reformatters.tools.scaffold.root_pyproject import plan_root_pyproject
from reformatters.tools.scaffold.workspace import find_workspace_root
from reformatters.tools.testing import run_reformat

ROOT_PYPROJECT = """\
[project]
name = "ws"
version = "0.1.0"

[tool.uv.workspace]
members = ["core", "tools", "packages/*"]

[tool.uv.sources]
reformatters-core = { workspace = true }

[dependency-groups]
dev = [
    "pytest>=8",
    "reformatters-core",
    "ruff>=0.8",
]

[tool.mypy]
mypy_path = ["core/src", "tools/src"]
"""


def _member(path: Path, name: str, version: str = "0.1.0") -> None:
    path.mkdir(parents=True)
    (path / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "{version}"\n')


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text(ROOT_PYPROJECT)
    (root / "LICENSE").write_text("Apache License 2.0\n")
    _member(root / "core", "reformatters-core", "0.3.1")
    _member(root / "tools", "reformatters-tools", "0.3.1")
    (root / "packages").mkdir()
    return root


# ---- names --------------------------------------------------------------------------------------


def test_names_derive_every_identifier() -> None:
    names = validate_names("acme", "foo2", "forecast_48_hour")
    assert names.dataset_id == "acme-foo2-forecast-48-hour"
    assert names.distribution == "reformatters-acme-foo2"
    assert names.package_dir == "acme-foo2"
    assert names.entry_point == "acme-foo2"
    assert names.variant_module == "reformatters.acme.foo2.forecast_48_hour"
    assert names.variant_class == "Forecast48Hour"
    assert names.factory == "make_forecast_48_hour_dataset"
    assert names.test_file == "test_acme_foo2_forecast_48_hour.py"


def test_kind_defaults_from_the_variant_name() -> None:
    assert DatasetKind.for_variant("analysis") == DatasetKind.ANALYSIS
    assert DatasetKind.for_variant("hourly_analysis") == DatasetKind.ANALYSIS
    assert DatasetKind.for_variant("forecast_48_hour") == DatasetKind.FORECAST
    assert DatasetKind.for_variant("ensemble") == DatasetKind.FORECAST


@pytest.mark.parametrize(
    ("provider", "model", "variant", "message"),
    [
        ("Acme", "foo", "forecast", "provider 'Acme' is not valid"),
        ("acme", "2foo", "forecast", "model '2foo' is not valid"),
        ("acme", "foo-bar", "forecast", "model 'foo-bar' is not valid"),
        ("acme", "foo_bar", "forecast", "model 'foo_bar' is not valid"),
        ("acme", "foo", "fore-cast", "variant 'fore-cast' is not valid"),
        ("acme", "foo", "forecast_", "variant 'forecast_' is not valid"),
        ("acme", "foo", "", "variant '' is not valid"),
        ("acme", "class", "forecast", "Python keyword"),
        ("acme", "foo", "match", "Python keyword"),
        ("a" * 17, "foo", "forecast", "longer than 16"),
        ("acme", "foo", "f" * 21, "longer than 20"),
        ("core", "foo", "forecast", "shadow reformatters.core"),
        ("tools", "foo", "forecast", "shadow reformatters.tools"),
        ("acme", "foo", "plugin", "collides"),
    ],
)
def test_invalid_names_are_rejected(provider: str, model: str, variant: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        validate_names(provider, model, variant)


def test_workspace_root_is_found_upwards(workspace: Path, tmp_path: Path) -> None:
    deep = workspace / "packages" / "x" / "y"
    deep.mkdir(parents=True)
    assert find_workspace_root(deep) == workspace
    with pytest.raises(UserError, match=r"no uv workspace"):
        find_workspace_root(tmp_path)
    assert find_workspace_root(REPO_ROOT / "tools") == REPO_ROOT


# ---- root pyproject.toml and plugin edits --------------------------------------------------------


def test_root_pyproject_registers_the_package_once() -> None:
    names = IntegrationNames("acme", "foo", "forecast")
    edit = plan_root_pyproject(ROOT_PYPROJECT, names)
    data = tomllib.loads(edit.text)
    assert data["tool"]["uv"]["sources"]["reformatters-acme-foo"] == {"workspace": True}
    # Beside the other packages, not after the tools.
    assert data["dependency-groups"]["dev"] == [
        "pytest>=8",
        "reformatters-core",
        "reformatters-acme-foo",
        "ruff>=0.8",
    ]
    assert data["tool"]["mypy"]["mypy_path"] == ["core/src", "tools/src", "packages/acme-foo/src"]
    # packages/* already covers the member.
    assert data["tool"]["uv"]["workspace"]["members"] == ["core", "tools", "packages/*"]
    assert len(edit.changes) == 3 and edit.notes == []
    again = plan_root_pyproject(edit.text, names)
    assert again.text == edit.text and again.changes == []


def test_root_pyproject_adds_an_explicit_member_and_notes_missing_tables() -> None:
    text = '[tool.uv.workspace]\nmembers = ["core"]\n'
    edit = plan_root_pyproject(text, IntegrationNames("acme", "foo", "forecast"))
    assert tomllib.loads(edit.text)["tool"]["uv"]["workspace"]["members"] == [
        "core",
        "packages/acme-foo",
    ]
    assert edit.notes == []  # no sources/dev/mypy tables: nothing else to register


def test_plugin_gets_the_variant_import_in_isort_order_and_its_factory_last() -> None:
    plugin = (
        '"""Plugin."""\n\n'
        "from collections.abc import Callable\n\n"
        "from reformatters.core.hookspecs import hookimpl\n"
        "from reformatters.zeta.foo.forecast.dynamical_dataset import make_forecast_dataset\n\n"
        "DATASET_FACTORIES: list[Callable[[], object]] = [\n"
        "    make_forecast_dataset,\n"
        "]\n"
    )
    names = IntegrationNames("zeta", "foo", "analysis")
    edited = add_variant_to_plugin(plugin, names)
    assert edited.splitlines()[4:7] == [
        "from reformatters.core.hookspecs import hookimpl",
        "from reformatters.zeta.foo.analysis.dynamical_dataset import make_analysis_dataset",
        "from reformatters.zeta.foo.forecast.dynamical_dataset import make_forecast_dataset",
    ]
    assert edited.endswith("    make_forecast_dataset,\n    make_analysis_dataset,\n]\n")
    with pytest.raises(ValueError, match="already in DATASET_FACTORIES"):
        add_variant_to_plugin(edited, names)
    with pytest.raises(ValueError, match="no DATASET_FACTORIES"):
        add_variant_to_plugin('"""Plugin."""\n\nfrom reformatters.core import x\n', names)


def test_first_party_imports_sort_like_ruff() -> None:
    modules = ["forecast_a", "forecast10", "forecast", "forecast9"]
    source = "".join(f"from reformatters.z.{m}.d import f_{m}\n" for m in modules)
    assert sort_first_party_imports(source).splitlines() == [
        f"from reformatters.z.{m}.d import f_{m}"
        for m in ("forecast", "forecast9", "forecast10", "forecast_a")
    ]


# ---- generating files ---------------------------------------------------------------------------


def test_new_package_then_a_second_variant(workspace: Path) -> None:
    result = initialize_new_integration("acme", "foo", "forecast", workspace, render_template=False)
    package = workspace / "packages" / "acme-foo"
    src = package / "src" / "reformatters" / "acme" / "foo"
    assert result.new_package and not result.template_rendered
    assert {str(p) for p in result.created} >= {
        "packages/acme-foo/pyproject.toml",
        "packages/acme-foo/README.md",
        "packages/acme-foo/LICENSE",
        "packages/acme-foo/src/reformatters/acme/foo/plugin.py",
        "packages/acme-foo/src/reformatters/acme/foo/forecast/region_job.py",
        "packages/acme-foo/tests/test_acme_foo_forecast.py",
    }
    assert result.modified == [Path("pyproject.toml")]
    # Implicit namespace packages: nothing above the model's package has an __init__.py.
    assert not (package / "src" / "reformatters" / "__init__.py").exists()
    assert not (package / "src" / "reformatters" / "acme" / "__init__.py").exists()
    assert (src / "__init__.py").exists() and (src / "forecast" / "__init__.py").exists()
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    assert project["name"] == "reformatters-acme-foo"
    assert project["entry-points"]["reformatters"] == {"acme-foo": "reformatters.acme.foo.plugin"}
    assert "reformatters-core>=0.3.1,<0.4" in project["dependencies"]
    assert project["license-files"] == ["LICENSE"]
    assert 'dataset_id = "acme-foo-forecast"' in (src / "forecast" / "dataset.toml").read_text()
    assert any("update-template" in step for step in result.next_steps())

    plugin_before = (src / "plugin.py").read_text()
    readme_before = (package / "README.md").read_text()
    test_before = (package / "tests" / "test_acme_foo_forecast.py").read_text()
    second = initialize_new_integration("acme", "foo", "analysis", workspace, render_template=False)
    assert not second.new_package and second.notes == []
    assert sorted(str(p) for p in second.modified) == [
        "packages/acme-foo/README.md",
        "packages/acme-foo/src/reformatters/acme/foo/plugin.py",
    ]
    plugin = (src / "plugin.py").read_text()
    assert (
        plugin != plugin_before
        and "    make_forecast_dataset,\n    make_analysis_dataset,\n" in (plugin)
    )
    readme = (package / "README.md").read_text()
    assert readme.startswith(readme_before) and "## `acme-foo-analysis`" in readme
    assert (package / "tests" / "test_acme_foo_forecast.py").read_text() == test_before
    # Named like an analysis: time x latitude x longitude, unless --kind says otherwise.
    assert second.kind == "analysis"
    assert "AnalysisTemplateConfig[" in (src / "analysis" / "template_config.py").read_text()
    third = initialize_new_integration(
        "acme", "foo", "reanalysis", workspace, kind=DatasetKind.FORECAST, render_template=False
    )
    assert third.kind == "forecast"
    assert "ForecastTemplateConfig[" in (src / "reanalysis" / "template_config.py").read_text()
    # The root is registered already: not touched again.
    assert Path("pyproject.toml") not in second.modified

    with pytest.raises(UserError, match="already exists"):
        initialize_new_integration("acme", "foo", "analysis", workspace, render_template=False)


def test_refuses_to_overwrite_and_writes_nothing(workspace: Path) -> None:
    stray = workspace / "packages" / "acme-foo" / "tests" / "test_acme_foo_forecast.py"
    stray.parent.mkdir(parents=True)
    stray.write_text("# mine\n")
    (stray.parents[1] / "pyproject.toml").write_text(
        '[project]\nname = "reformatters-acme-foo"\n'
        '[project.entry-points.reformatters]\nacme-foo = "reformatters.acme.foo.plugin"\n'
    )
    pyproject_before = (workspace / "pyproject.toml").read_text()
    with pytest.raises(UserError, match="refusing to overwrite existing files: packages/acme-foo"):
        initialize_new_integration("acme", "foo", "forecast", workspace, render_template=False)
    assert stray.read_text() == "# mine\n"
    assert (workspace / "pyproject.toml").read_text() == pyproject_before
    assert not (workspace / "packages" / "acme-foo" / "src").exists()


def test_library_packages_and_foreign_distributions_are_refused(workspace: Path) -> None:
    _member(workspace / "packages" / "acme-common", "reformatters-acme-common")
    with pytest.raises(UserError, match="library, not a dataset package"):
        initialize_new_integration("acme", "common", "forecast", workspace, render_template=False)
    _member(workspace / "packages" / "acme-bar", "something-else")
    with pytest.raises(UserError, match="holds 'something-else'"):
        initialize_new_integration("acme", "bar", "forecast", workspace, render_template=False)


def test_cli_reports_bad_names_in_one_line(tmp_path: Path) -> None:
    args = ("initialize-new-integration", "acme", "Foo", "forecast", "--workspace", str(tmp_path))
    result = run_reformat(*args, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: model 'Foo' is not valid: use lowercase letters and digits, starting with a "
        "letter (e.g. 'noaa', 'gfs', 'forecast')"
    ]


# ---- the whole path in a copy of this workspace -------------------------------------------------


def _copy_workspace(destination: Path) -> None:
    """Tracked files (and new, not ignored ones, as other work may add them) of this checkout."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = REPO_ROOT / relative
        if source.is_file():
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _run(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600, status: int = 0
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == status, (
        f"{' '.join(args)} exited {result.returncode}\n"
        f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
    )
    return result


def _locked_packages(lock: Path) -> dict[str, str]:
    return {p["name"]: p["version"] for p in tomllib.loads(lock.read_text())["package"]}


RELOCK_NEEDS = (
    "an offline re-lock needs the registry metadata of every locked package in uv's cache: "
    "run `uv lock --locked --refresh` once with the network (.ci/run does)"
)


def _relock_offline(uv: str, ws: Path, env: dict[str, str]) -> None:
    """``uv lock --offline``; without the registry metadata in uv's cache, skip (fail on CI)."""
    result = subprocess.run(
        [uv, "lock", "--offline"], cwd=ws, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0 and "network was disabled" in result.stderr:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{RELOCK_NEEDS}\n{result.stderr}")
        pytest.skip(RELOCK_NEEDS)
    assert result.returncode == 0, f"uv lock --offline exited {result.returncode}\n{result.stderr}"


@pytest.mark.slow
def test_scaffolded_integration_works_in_a_copy_of_the_workspace(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ws, venv = tmp_path / "ws", tmp_path / "venv"
    _copy_workspace(ws)
    # uv's cache stays the one this run uses: the offline re-lock below reads registry metadata
    # from it (.ci/run and the CI workflow fetch it in build-distributions.sh).
    env = {
        k: v
        for k, v in os.environ.items()
        if k == "UV_CACHE_DIR"
        or not k.startswith(("UV_", "VIRTUAL_ENV", "PYTEST_", "REFORMATTERS_", "COV_"))
    }
    env |= {
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_PYTHON_DOWNLOADS": "never",
        "REFORMATTERS_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
    }
    # The copy has no ../shared next to it: point the generated real-file test at ours.
    real = Path(
        os.environ.get("REFORMATTERS_REAL_FIXTURES", REPO_ROOT.parent / "shared/fixtures/real")
    )
    if real.is_dir():
        env["REFORMATTERS_REAL_FIXTURES"] = str(real)
    else:
        env.pop("CI", None)  # the generated real-file test skips instead of failing
    passed = "3 passed" if real.is_dir() else "2 passed, 1 skipped"
    scaffold = [sys.executable, "-m", "reformatters.tools", "initialize-new-integration"]

    out = _run([*scaffold, "acme", "foo", "forecast", "--workspace", str(ws)], ws, env).stdout
    assert "Next steps:" in out and "latest.zarr" in out
    package = ws / "packages" / "acme-foo"
    template = package / "src/reformatters/acme/foo/forecast/templates/latest.zarr"
    rendered = {p: p.read_bytes() for p in template.rglob("*") if p.is_file()}
    assert rendered

    # The lock gains the new member and nothing else; offline (tests run without a network).
    locked_before = _locked_packages(ws / "uv.lock")
    _relock_offline(uv, ws, env)
    assert _locked_packages(ws / "uv.lock") == {
        **locked_before,
        "reformatters-acme-foo": "0.1.0",
    }
    _run([uv, "sync", "--all-packages", "--frozen", "--offline", "--quiet"], ws, env)
    bin_dir = venv / "bin"
    help_text = _run([str(bin_dir / "reformat"), "--help"], ws, env).stdout
    assert "acme-foo-forecast" in help_text and "initialize-new-integration" in help_text
    _run([str(bin_dir / "reformat"), "acme-foo-forecast", "update-template"], ws, env)
    assert {p: p.read_bytes() for p in template.rglob("*") if p.is_file()} == rendered

    pytest_command = [str(bin_dir / "python"), "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    out = _run([*pytest_command, "-p", "no:xdist", "packages/acme-foo"], ws, env).stdout
    assert passed in out
    _run([str(bin_dir / "ruff"), "check", "packages/acme-foo"], ws, env)
    _run([str(bin_dir / "ruff"), "format", "--check", "packages/acme-foo"], ws, env)
    _run([str(bin_dir / "mypy"), "packages/acme-foo/src"], ws, env)
    # The layering contracts hold with the new family in the graph, their wildcards unedited (core's
    # own cycles are core's business: tests/test_layering.py).
    python = str(bin_dir / "python")
    contracts = tomllib.loads((ws / "pyproject.toml").read_text())["tool"]["importlinter"]
    layering = [c["id"] for c in contracts["contracts"] if c["type"] != "acyclic_siblings"]
    lint = [str(bin_dir / "lint-imports"), "--no-cache", "--no-logo"]
    out = _run([*lint, *(f"--contract={c}" for c in layering)], ws, env).stdout
    assert f"Contracts: {len(layering)} kept, 0 broken." in out
    graph = "import grimp; print(sorted(grimp.build_graph('reformatters', cache_dir=None).modules))"
    assert "'reformatters.acme.foo.forecast'" in _run([python, "-c", graph], ws, env).stdout
    # The repository's distribution conventions (metadata, bounds, licence, declared imports);
    # the built-wheel checks need .ci/run's wheel folder, which this copy does not build.
    out = _run(
        [
            *pytest_command,
            "-p",
            "no:xdist",
            "tests/test_distributions.py",
            "-k",
            "acme and not built",
        ],
        ws,
        env,
    ).stdout
    assert " passed" in out and "failed" not in out and "error" not in out

    # What the generated README tells users: synthesize a mirror, backfill through the CLI.
    mirror, output = tmp_path / "mirror", tmp_path / "output"
    reformat = str(bin_dir / "reformat")
    synthesize = ["mirror", "synthesize", "acme-foo-forecast", "2024-01-01T00", "2024-01-01T12"]
    _run([reformat, *synthesize, str(mirror)], ws, env)
    backfill_env = {**env, "REFORMATTERS_SOURCE_MIRROR": str(mirror)}
    backfill = ["acme-foo-forecast", "backfill-local", "2024-01-01T12", "--output-url"]
    # The synthesized mirror holds leads 0-3 of the 2 inits' 49: the rest are missing, so the
    # backfill writes what it has and exits 1 saying so.
    backfilled = _run([reformat, *backfill, str(output)], ws, backfill_env, status=1)
    assert "source files: 8 read, 90 missing, 0 failed" in backfilled.stderr
    assert (output / "acme-foo-forecast" / "v0.1.0.zarr" / "zarr.json").is_file()

    # A second variant (an analysis) of the same package: registered in its plugin, no re-sync.
    _run([*scaffold, "acme", "foo", "analysis", "--workspace", str(ws)], ws, env)
    help_text = _run([reformat, "--help"], ws, env).stdout
    assert "acme-foo-analysis" in help_text and "acme-foo-forecast" in help_text
    analysis_test = "packages/acme-foo/tests/test_acme_foo_analysis.py"
    out = _run([*pytest_command, "-p", "no:xdist", analysis_test], ws, env).stdout
    assert passed in out
    _run([str(bin_dir / "ruff"), "check", "packages/acme-foo"], ws, env)
    _run([str(bin_dir / "ruff"), "format", "--check", "packages/acme-foo"], ws, env)


def test_template_is_rendered_with_the_new_sources(workspace: Path) -> None:
    """The store is rendered by this interpreter with only the package's src added to its path."""
    result = initialize_new_integration("acme", "bar", "forecast", workspace)
    assert result.template_rendered and result.notes == []
    store = workspace / "packages/acme-bar/src/reformatters/acme/bar/forecast/templates/latest.zarr"
    assert store.relative_to(workspace) in result.created
    metadata = json.loads((store / "zarr.json").read_text())
    assert metadata["attributes"]["dataset_id"] == "acme-bar-forecast"
    assert (store / "temperature_2m" / "zarr.json").is_file()
    assert "uv run reformat acme-bar-forecast update-template" not in result.next_steps()


@pytest.mark.parametrize(
    ("provider", "model", "variants"),
    [
        ("acme", "foo", ("forecast", "analysis")),
        # The longest names allowed, and a provider that sorts after "core".
        ("zabcdefghijklmno", "qrstuvwxyzabcdef", ("forecast_48_hour_xyz", "analysis_48_hour_xyz")),
    ],
)
def test_generated_code_is_ruff_clean(
    workspace: Path, provider: str, model: str, variants: tuple[str, ...]
) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    for variant in variants:
        initialize_new_integration(provider, model, variant, workspace, render_template=False)
    package = str(workspace / "packages" / f"{provider}-{model}")
    config = ["--config", str(REPO_ROOT / "pyproject.toml")]
    for command in (["check", *config, package], ["format", "--check", *config, package]):
        result = subprocess.run([ruff, *command], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
