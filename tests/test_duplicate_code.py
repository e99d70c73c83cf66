"""No block of six or more lines repeats between two dataset packages, or between core and a
package: pylint's similarity checker (``symilar``, the engine of its duplicate-code R0801) over
the sources of core and of every package (their ``src`` only, no tests), ignoring comments,
docstrings, imports and signatures; only pairs of files from two different members count."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import REPO_ROOT

MIN_LINES = 6
SYMILAR = [
    str(Path(sys.executable).parent / "symilar"),
    f"--duplicates={MIN_LINES}",
    "--ignore-comments",
    "--ignore-docstrings",
    "--ignore-imports",
    "--ignore-signatures",
]
_GROUP = re.compile(r"^(\d+) similar lines in \d+ files$")
_PLACE = re.compile(r"^==(?P<path>.+):\[(?P<start>\d+):(?P<end>\d+)\]$")


@dataclass(frozen=True, order=True)
class Place:
    path: str
    start: int  # symilar's numbering: the first line is 0
    end: int

    @property
    def member(self) -> str:
        """``core`` or ``packages/<name>``: the workspace member the file belongs to."""
        parts = Path(self.path).parts
        return "/".join(parts[:2]) if parts[0] == "packages" else parts[0]

    def __str__(self) -> str:
        return f"{self.path}:{self.start + 1}-{self.end}"


def _sources() -> list[str]:
    roots = [REPO_ROOT / "core" / "src", *sorted((REPO_ROOT / "packages").glob("*/src"))]
    return [
        str(path.relative_to(REPO_ROOT))
        for root in roots
        for path in sorted(root.rglob("*.py"))
        if "__pycache__" not in path.parts
        and "tests" not in path.relative_to(root).parts
        and not path.name.startswith("test_")
        and path.name != "conftest.py"
    ]


def cross_member_pairs(report: str) -> list[tuple[int, Place, Place]]:
    """Each (lines, place, place) of symilar's report whose two places are in different members."""
    pairs = []
    lines = 0
    places: list[Place] = []
    for line in [*report.splitlines(), ""]:
        if match := _PLACE.match(line):
            places.append(Place(match["path"], int(match["start"]), int(match["end"])))
            continue
        for first, second in itertools.combinations(sorted(places), 2):
            if first.member != second.member:
                pairs.append((lines, first, second))
        places = []
        if match := _GROUP.match(line):
            lines = int(match[1])
    return sorted(pairs, key=lambda pair: (-pair[0], pair[1], pair[2]))


def test_the_report_is_read_pair_by_pair() -> None:
    report = """
7 similar lines in 3 files
==core/src/reformatters/core/a.py:[10:17]
==packages/noaa-gfs/src/reformatters/noaa/gfs/b.py:[3:10]
==packages/noaa-gfs/src/reformatters/noaa/gfs/c.py:[20:27]
   x = 1
   y = 2

6 similar lines in 2 files
==packages/noaa-gfs/src/reformatters/noaa/gfs/b.py:[30:36]
==packages/noaa-gfs/src/reformatters/noaa/gfs/c.py:[40:46]
   z = 3
TOTAL lines=100 duplicates=13 percent=13.00
"""
    assert [(n, str(a), str(b)) for n, a, b in cross_member_pairs(report)] == [
        (
            7,
            "core/src/reformatters/core/a.py:11-17",
            "packages/noaa-gfs/src/reformatters/noaa/gfs/b.py:4-10",
        ),
        (
            7,
            "core/src/reformatters/core/a.py:11-17",
            "packages/noaa-gfs/src/reformatters/noaa/gfs/c.py:21-27",
        ),
    ]


def test_the_sources_are_core_and_the_packages_without_tests() -> None:
    sources = _sources()
    assert "core/src/reformatters/core/region_job.py" in sources
    assert any(s.startswith("packages/noaa-common/src/") for s in sources)
    assert not [s for s in sources if not s.startswith(("core/src/", "packages/"))]
    assert not [s for s in sources if "/tests/" in s or Path(s).name.startswith("test_")]


@pytest.mark.slow  # about 20 s of one core
def test_no_block_repeats_between_packages_or_core_and_a_package() -> None:
    result = subprocess.run(
        [*SYMILAR, *_sources()],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TOTAL lines=" in result.stdout, result.stdout + result.stderr
    pairs = cross_member_pairs(result.stdout)
    listing = "\n".join(f"{lines:4d} lines: {a}  ==  {b}" for lines, a, b in pairs)
    assert not pairs, (
        f"{len(pairs)} blocks of {MIN_LINES}+ lines repeat across workspace members "
        f"(symilar numbering shifted to 1-based lines):\n{listing}"
    )
