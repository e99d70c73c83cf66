"""Mechanical checks of the framework's boundaries: core names no provider or model (the same
search as ``grep -rniE '\\b(noaa|gfs|...)' core/src``, over contents and file names), and no
module of core or tools is longer than 400 lines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import REPO_ROOT

PROVIDER_WORDS = re.compile(rb"\b(noaa|gfs|gefs|hrrr|ecmwf|ifs|aifs|dwd|icon)", re.IGNORECASE)
MAX_MODULE_LINES = 400
MAX_HITS_SHOWN = 200


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.relative_to(root).parts:
            yield path


def _provider_hits(root: Path) -> list[str]:
    hits = []
    for path in _files(root):
        relative = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        if PROVIDER_WORDS.search(str(path.relative_to(root)).encode()):
            hits.append(f"{relative}: (file name)")
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if PROVIDER_WORDS.search(line):
                text = line.decode(errors="replace").strip()
                hits.append(f"{relative}:{number}: {text[:120]}")
    return hits


def test_the_search_finds_what_grep_finds(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "noaa_things").mkdir(parents=True)
    (tmp_path / "pkg" / "noaa_things" / "ok.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "a.py").write_text(
        "from x import GFS\nnot_a_word = 'pgfs gifs'\n# the HRRR grid\nicons = 1\n"
    )
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "noaa.pyc").write_bytes(b"gfs")
    hits = [hit.rpartition("/pkg/")[2] for hit in _provider_hits(tmp_path)]
    assert hits == [
        "a.py:1: from x import GFS",
        "a.py:3: # the HRRR grid",
        "a.py:4: icons = 1",
        "noaa_things/ok.py: (file name)",
    ]


def test_core_names_no_provider_or_model() -> None:
    hits = _provider_hits(REPO_ROOT / "core" / "src")
    shown = "\n".join(hits[:MAX_HITS_SHOWN])
    more = f"\n... and {len(hits) - MAX_HITS_SHOWN} more" if len(hits) > MAX_HITS_SHOWN else ""
    assert not hits, f"{len(hits)} provider or model names in core/src:\n{shown}{more}"


@pytest.mark.parametrize("member", ["core", "tools"])
def test_no_module_is_longer_than_400_lines(member: str) -> None:
    root = REPO_ROOT / member / "src"
    long = {
        str(path.relative_to(REPO_ROOT)): count
        for path in _files(root)
        if path.suffix == ".py" and (count := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    listing = "\n".join(f"{lines:6d} {path}" for path, lines in sorted(long.items()))
    assert not long, f"modules over {MAX_MODULE_LINES} lines in {member}/src:\n{listing}"
