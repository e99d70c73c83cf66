"""Planning every file of a new package or variant, then writing them and rendering its template."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from reformatters.core.errors import UserError
from reformatters.tools.scaffold.names import DatasetKind, IntegrationNames, validate_names
from reformatters.tools.scaffold.render import (
    add_variant_to_plugin,
    render,
    render_plugin,
    sort_first_party_imports,
)
from reformatters.tools.scaffold.root_pyproject import plan_root_pyproject
from reformatters.tools.scaffold.workspace import (
    entry_point_module,
    existing_dataset_ids,
    find_workspace_root,
    nested,
    read_toml,
    version_range,
)

_KIND_FILES = (
    "template_config.py",
    "region_job.py",
    "synthesis.py",
    "dynamical_dataset.py",
    "dataset.toml",
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
    """Generate the package (or add the variant) and register it; see the package docstring."""
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

    if names.dataset_id in existing_dataset_ids(root):
        raise UserError(f"dataset id {names.dataset_id!r} already exists in {root / 'packages'}")
    if variant_dir.exists():
        raise UserError(f"{variant_dir} already exists; choose another variant name")

    if result.new_package:
        license_file = root / "LICENSE"
        substitutions_package = {
            **substitutions,
            "core_requirement": version_range(root / "core" / "pyproject.toml"),
            "tools_requirement": version_range(root / "tools" / "pyproject.toml"),
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
        new_files[package_src / "plugin.py"] = render_plugin(names)
    else:
        pyproject = package / "pyproject.toml"
        if not pyproject.is_file():
            raise UserError(f"{package} exists but has no pyproject.toml")
        distribution = nested(read_toml(pyproject), "project", "name")
        if distribution != names.distribution:
            raise UserError(
                f"{package} holds {distribution!r}, not {names.distribution!r}; choose other names"
            )
        plugin_module = entry_point_module(pyproject)
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
