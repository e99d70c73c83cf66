"""No block of six or more lines repeats between two dataset packages, or between core and a
package: the same lines, or the same shape with other names. Each file of core and of every
package (``src`` and ``tests``) is first normalized with ``tokenize``: every name that is not a
keyword becomes ``N``, every string (f-strings too) ``S``, every number ``0``; comments,
imports, blank lines and lines of bare punctuation are dropped, a docstring ends a run, and each
kept line remembers the original lines it stands for. pylint's similarity checker (``Symilar``, the
engine of ``symilar`` and of its duplicate-code R0801) then compares the normalized copies pair
by pair; an identical block normalizes identically, so this also covers the exact repeats.
A block counts where six of its lines in a row have substance (not a run of list items or of
one-word keyword arguments, nor a shape found in more than eight places) and its two files are
in two different members (``core``, ``packages/<name>``): a member's tests are that member."""

from __future__ import annotations

import ast
import io
import itertools
import keyword
import tokenize
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import REPO_ROOT
from pylint.checkers.symilar import Symilar

MIN_LINES = 6
_DOCSTRINGS = itertools.count()
# Symilar reports a block only when it is *longer* than its min_lines (pylint 4.1:
# `eff_cmn_nb > min_similarity_lines`), so MIN_LINES - 1 makes six lines the smallest block.
# Its comment, docstring and import options stay off: the normalization does that work, and the
# normalized copies are not Python that astroid could parse for them. Signatures count (the old
# exact check ignored them): `def` lines of the same shape are part of a repeated function, as
# `duplicates` (the command) counts them too; one line alone never makes a block.
SYMILAR_MIN_LINES = MIN_LINES - 1
_SKIPPED_TOKENS = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
}

# What a normalized line stands for: its first and last line in the original file (1-based).
LineSpan = tuple[int, int]
# A block counts only where some MIN_LINES lines of it in a row carry at least this many tokens
# a line on average and this many statements (see `_substantial`): runs of list items, keyword
# arguments of one word or one-word lines alone are data or plumbing, not logic.
MIN_TOKENS_PER_LINE = 4
MIN_STATEMENTS = 2
# ... and where that run does not stand in more places than this across all the files read: a
# shape that common is an idiom (a run of same-kind keyword arguments), not a piece to share.
MAX_PLACES = 8
_STATEMENT_WORDS = {"assert", "await", "break", "continue", "del", "elif", "else", "except"}
_STATEMENT_WORDS |= {"for", "if", "raise", "return", "try", "while", "with", "yield"}
_COMPARISONS = {"==", "!=", "<=", ">="}


@dataclass(frozen=True)
class Normalized:
    """A file's normalized lines, and for each the original lines it stands for."""

    lines: list[str]
    spans: list[LineSpan]


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

    def overlaps(self, other: Place) -> bool:
        return self.path == other.path and self.start < other.end and other.start < self.end

    def in_original(self, spans: Sequence[LineSpan]) -> Place:
        """The place in the original file of this place in the normalized copy."""
        return Place(self.path, spans[self.start][0] - 1, spans[self.end - 1][1])


def _is_statement(line: str) -> bool:
    """Whether a normalized line does something: it starts with a statement keyword, assigns
    (or passes a keyword argument), or is long (eight tokens or more)."""
    words = line.split()
    assigns = any(w.endswith("=") and w not in _COMPARISONS for w in words)
    return words[0] in _STATEMENT_WORDS or assigns or len(words) >= 8


def _windows(lines: Sequence[str]) -> list[tuple[str, ...]]:
    """Every MIN_LINES lines in a row."""
    return [tuple(lines[i : i + MIN_LINES]) for i in range(len(lines) - MIN_LINES + 1)]


def _substantial(window: Sequence[str], places: Mapping[tuple[str, ...], int]) -> bool:
    """Whether MIN_LINES normalized lines in a row are more than thin data or a common idiom."""
    tokens = sum(len(line.split()) for line in window)
    statements = sum(map(_is_statement, window))
    return (
        tokens >= MIN_TOKENS_PER_LINE * MIN_LINES
        and statements >= MIN_STATEMENTS
        and places[tuple(window)] <= MAX_PLACES
    )


def _dropped_lines(tree: ast.Module) -> tuple[set[int], set[int]]:
    """The lines (1-based) of imports and docstrings (any statement that is a bare string), and
    the first line of each docstring."""
    dropped: set[int] = set()
    docstring_starts: set[int] = set()
    for node in ast.walk(tree):
        docstring = (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        if isinstance(node, ast.Import | ast.ImportFrom) or docstring:
            dropped.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        if docstring:
            docstring_starts.add(node.lineno)
    return dropped, docstring_starts


def normalize(source: str) -> Normalized:
    """The normalized lines of a Python source, and the original lines each stands for.

    A token belongs to the line it starts on; where a token runs over several lines (a long
    string), what follows it on its last line belongs to that same line."""
    dropped, docstring_starts = _dropped_lines(ast.parse(source))
    words: dict[int, list[str]] = {}
    last_line: dict[int, int] = {}
    line_of: dict[int, int] = {}  # a row where a long token ends -> the row it started on
    fstring_depth = 0
    fstring_row = 0
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        kind, text, (row, _), (end_row, _), _ = token
        row = line_of.get(row, row)
        if kind == tokenize.FSTRING_START:
            fstring_depth += 1
            fstring_row = fstring_row if fstring_depth > 1 else row
            continue
        if fstring_depth:
            fstring_depth -= kind == tokenize.FSTRING_END
            if fstring_depth:
                continue
            kind, row = tokenize.STRING, fstring_row
        if end_row > row:
            line_of[end_row] = row
        if kind in _SKIPPED_TOKENS or row in dropped:
            continue
        if kind == tokenize.NAME:
            text = text if keyword.iskeyword(text) else "N"
        elif kind == tokenize.STRING:
            text = "S"
        elif kind == tokenize.NUMBER:
            text = "0"
        words.setdefault(row, []).append(text)
        last_line[row] = max(last_line.get(row, row), end_row)
    # A docstring is not compared but ends a run, as in `duplicates` (the command), where its lines
    # break the shape: a class's fields do not run on into the lines before its docstring.
    for row in docstring_starts:
        words[row] = [f"docstring{next(_DOCSTRINGS)}"]
        last_line[row] = row
    lines: list[str] = []
    spans: list[LineSpan] = []
    for row in sorted(words):
        line = " ".join(words[row])
        if any(character.isalnum() for character in line):  # not bare punctuation
            lines.append(line)
            spans.append((row, last_line[row]))
    return Normalized(lines, spans)


def sources(root: Path) -> list[str]:
    """The Python files of core and of every package below ``root`` (``src`` and ``tests``),
    relative to ``root``."""
    folders = [root / "core" / "src", root / "core" / "tests"]
    for package in sorted((root / "packages").glob("*")):
        folders += [package / "src", package / "tests"]
    return [
        str(path.relative_to(root))
        for folder in folders
        for path in sorted(folder.rglob("*.py"))
        if "__pycache__" not in path.parts
    ]


def repeats(root: Path, names: Sequence[str]) -> list[tuple[int, Place, Place]]:
    """Each (normalized lines, place, place) where a substantial block of the files ``names``
    (relative to ``root``) stands in two members, with the lines of the original files.

    The pairs come from ``Symilar._iter_sims`` (every pair of files) rather than from the
    report of ``symilar``: the report keeps a block's first pair only, so a block that core
    shares with one of its own files would hide the same block in a package."""
    files = {name: normalize((root / name).read_text(encoding="utf-8")) for name in names}
    symilar = Symilar(min_lines=SYMILAR_MIN_LINES)
    for name, normalized in files.items():
        symilar.append_stream(name, io.StringIO("".join(f"{s}\n" for s in normalized.lines)))
    counts = Counter(window for f in files.values() for window in _windows(f.lines))
    pairs = set()
    for common in symilar._iter_sims():
        first = Place(common.fst_lset.name, common.fst_file_start, common.fst_file_end)
        second = Place(common.snd_lset.name, common.snd_file_start, common.snd_file_end)
        block = files[first.path].lines[first.start : first.end]
        if first.member != second.member and any(
            _substantial(window, counts) for window in _windows(block)
        ):
            one, other = sorted(p.in_original(files[p.path].spans) for p in (first, second))
            pairs.add((common.cmn_lines_nb, one, other))
    kept: list[tuple[int, Place, Place]] = []
    for lines, one, other in sorted(pairs, key=lambda pair: (-pair[0], pair[1], pair[2])):
        # A run of one shape (keyword arguments) matches again one line further: say it once.
        if not any(one.overlaps(a) and other.overlaps(b) for _, a, b in kept):
            kept.append((lines, one, other))
    return kept


def test_places_belong_to_members() -> None:
    assert Place("core/tests/test_lease.py", 0, 6).member == "core"
    assert Place("packages/noaa-gfs/src/reformatters/noaa/gfs/a.py", 0, 6).member == (
        "packages/noaa-gfs"
    )
    assert str(Place("core/src/reformatters/core/a.py", 10, 17)) == (
        "core/src/reformatters/core/a.py:11-17"
    )


def test_the_sources_are_core_and_the_packages_with_their_tests() -> None:
    files = sources(REPO_ROOT)
    assert "core/src/reformatters/core/region_job.py" in files
    assert any(s.startswith("packages/noaa-common/src/") for s in files)
    assert any(s.startswith("core/tests/") for s in files)
    assert any(s.startswith("packages/noaa-gfs/tests/") for s in files)
    assert not [s for s in files if not s.startswith(("core/", "packages/"))]


def test_normalizing_keeps_the_shape_and_where_each_line_came_from() -> None:
    source = '''"""Module docstring."""
from pathlib import Path


def load(path: Path,
         limit: int = 3) -> str:
    """Docstring."""
    # a comment
    text = path.read_text(encoding="utf-8")[: limit * 2]
    return f"{text!r} and {
        limit
    }" if text else """many
lines"""
'''
    normalized = normalize(source)
    # Each docstring stands as a line of its own that matches no other.
    first, second = (line for line in normalized.lines if line.startswith("docstring"))
    assert first != second
    assert [line for line in normalized.lines if not line.startswith("docstring")] == [
        "def N ( N : N ,",
        "N : N = 0 ) -> N :",
        "N = N . N ( N = S ) [ : N * 0 ]",
        "return S if N else S",
    ]
    assert normalized.spans == [(1, 1), (5, 5), (6, 6), (7, 7), (9, 9), (10, 13)]


_SHAPE = """
{signature}
    {a} = 0
    for {b} in values:
        if {b} % {n} == 0:
            {a} += {b} * {n}
    {a} -= len("{s}")
"""
_NAMES = {
    "core/src/reformatters/core/sums.py": {
        "signature": "def total(values: list[int]) -> int:",
        "a": "acc",
        "b": "v",
        "n": "2",
        "s": "x",
    },
    "packages/pkg-a/tests/test_sums.py": {
        "signature": "def score(values, start=None):",
        "a": "s",
        "b": "item",
        "n": "7",
        "s": "yz",
    },
}


def _write_members(root: Path, last_line: str) -> None:
    """One file in core and one in a package's tests, of the shape of ``_SHAPE`` (the function
    signatures aside) with other names, strings and numbers, and ``last_line`` after it."""
    for path, names in _NAMES.items():
        text = "# padding\n\n" * (3 if path.startswith("core") else 0) + _SHAPE + last_line
        (root / path).parent.mkdir(parents=True)
        (root / path).write_text(text.format(**names), encoding="utf-8")


def test_six_lines_of_the_same_shape_in_two_members_are_a_repeat(tmp_path: Path) -> None:
    _write_members(tmp_path, last_line="    return {a} + {b}\n")
    found = [(n, str(a), str(b)) for n, a, b in repeats(tmp_path, sources(tmp_path))]
    # The signatures differ; the six lines after them are the block, at their original lines.
    assert found == [
        (6, "core/src/reformatters/core/sums.py:9-14", "packages/pkg-a/tests/test_sums.py:3-8")
    ]
    core_lines = (tmp_path / "core/src/reformatters/core/sums.py").read_text().splitlines()
    assert [core_lines[8].strip(), core_lines[13].strip()] == ["acc = 0", "return acc + v"]


def test_five_lines_of_the_same_shape_are_not_a_repeat(tmp_path: Path) -> None:
    _write_members(tmp_path, last_line="")
    assert repeats(tmp_path, sources(tmp_path)) == []


def test_a_block_that_core_repeats_itself_is_still_found_in_a_package(tmp_path: Path) -> None:
    _write_members(tmp_path, last_line="    return {a} + {b}\n")
    core = tmp_path / "core/src/reformatters/core"
    (core / "sums_again.py").write_text((core / "sums.py").read_text(), encoding="utf-8")
    found = [(str(a), str(b)) for _, a, b in repeats(tmp_path, sources(tmp_path))]
    assert found == [
        ("core/src/reformatters/core/sums.py:9-14", "packages/pkg-a/tests/test_sums.py:3-8"),
        ("core/src/reformatters/core/sums_again.py:9-14", "packages/pkg-a/tests/test_sums.py:3-8"),
    ]


def test_runs_of_list_items_or_keyword_arguments_are_not_a_repeat(tmp_path: Path) -> None:
    items = "".join(f'    "name_{i}",\n' for i in range(9))
    for path in _NAMES:
        (tmp_path / path).parent.mkdir(parents=True)
        (tmp_path / path).write_text(f"NAMES = (\n{items})\n", encoding="utf-8")
    assert repeats(tmp_path, sources(tmp_path)) == []


def test_six_lines_in_two_files_of_one_member_are_not_a_repeat(tmp_path: Path) -> None:
    _write_members(tmp_path, last_line="    return {a} + {b}\n")
    (tmp_path / "core/tests").mkdir()
    (tmp_path / "packages/pkg-a/tests/test_sums.py").rename(tmp_path / "core/tests/test_sums.py")
    assert repeats(tmp_path, sources(tmp_path)) == []


@pytest.mark.slow  # about 2 s of one core
def test_no_block_repeats_between_packages_or_core_and_a_package() -> None:
    pairs = repeats(REPO_ROOT, sources(REPO_ROOT))
    listing = "\n".join(f"{lines:4d} lines: {a}  ~  {b}" for lines, a, b in pairs)
    assert not pairs, (
        f"{len(pairs)} blocks of {MIN_LINES}+ lines (the same, or the same shape with other "
        f"names) repeat across workspace members:\n{listing}"
    )
