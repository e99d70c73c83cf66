"""The dataset pages and the README's datasets table are generated from the checked-in
templates (``python -m reformatters.tools.dataset_docs``): they must match what the generator
writes now, cover every dataset of the repository's packages, and be linked from each package's
README (the text the package index shows)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from helpers import REPO_ROOT

from reformatters.core.plugins import get_registry
from reformatters.tools.dataset_docs import expected_files, main, repo_datasets

REGISTRY = get_registry()
PAGES_URL = "https://github.com/reformatters/reformatters/blob/main/docs/datasets/"


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return expected_files(REGISTRY, REPO_ROOT)


def test_pages_and_table_match_the_templates(generated: dict[str, str]) -> None:
    stale = [name for name, text in generated.items() if (REPO_ROOT / name).read_text() != text]
    assert not stale, (
        f"out of date: {stale}; run uv run --all-packages python -m reformatters.tools.dataset_docs"
    )
    on_disk = {f"docs/datasets/{p.name}" for p in (REPO_ROOT / "docs" / "datasets").glob("*.md")}
    assert on_disk == {name for name in generated if name.startswith("docs/datasets/")}


def test_every_package_dataset_has_a_page_a_row_and_a_link(generated: dict[str, str]) -> None:
    entries = repo_datasets(REGISTRY, REPO_ROOT)
    package_ids = set()
    for pyproject in (REPO_ROOT / "packages").glob("*/pyproject.toml"):
        if "entry-points" in tomllib.loads(pyproject.read_text()).get("project", {}):
            package_ids.add(tomllib.loads(pyproject.read_text())["project"]["name"])
    assert {e.distribution for e in entries} == package_ids
    readme = (REPO_ROOT / "README.md").read_text()
    for entry in entries:
        dataset_id = entry.dataset.dataset_id
        assert f"docs/datasets/{dataset_id}.md" in generated
        assert f"[`{dataset_id}`](docs/datasets/{dataset_id}.md)" in readme
        package = entry.dataset.template_config.template_path().resolve()
        package_readme = next(
            p / "README.md" for p in package.parents if (p / "pyproject.toml").exists()
        )
        assert f"{PAGES_URL}{dataset_id}.md" in package_readme.read_text(), package_readme


def test_check_mode_finds_stale_and_stray_pages_and_the_generator_fixes_them(
    tmp_path: Path, generated: dict[str, str]
) -> None:
    for name, text in generated.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    args = ["--repo", str(REPO_ROOT), "--out", str(tmp_path)]
    assert main([*args, "--check"]) == 0
    page = tmp_path / next(n for n in generated if n.startswith("docs/datasets/"))
    page.write_text(page.read_text().replace("float32", "float64"))
    (tmp_path / "docs/datasets/gone-dataset.md").write_text("# gone")
    assert main([*args, "--check"]) == 1
    assert main(args) == 0
    assert main([*args, "--check"]) == 0
    assert not (tmp_path / "docs/datasets/gone-dataset.md").exists()
