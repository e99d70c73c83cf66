"""What a run did with its source files, over all its region jobs: the summary a person reads at
the end of a run, the warnings logged once per run, and whether the run may exit 0.

Results come per (variable, file). A file counts once: *failed* if any of its variables failed to
download or read, *missing* if it is not there, *read* if any variable was read from it. A file
whose inventory lacks one variable's line costs only that variable (*absent*), reported once per
variable with the line that was expected.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reformatters.core.logging import get_logger
from reformatters.core.region_job import (
    RegionJobResult,
    SourceFileCoord,
    SourceFileResult,
    SourceFileStatus,
)

log = get_logger(__name__)

# Request timings in obstore's messages, which differ between otherwise equal failures.
_TIMING = re.compile(r" in \d+(\.\d+)?(ns|µs|us|ms|s)\b|, after \d+ retries")

FAILED = frozenset({SourceFileStatus.DOWNLOAD_FAILED, SourceFileStatus.READ_FAILED})
REPORT_DIR_ENV = "REFORMATTERS_REPORT_DIR"
_SHOWN = 3


@dataclass(frozen=True)
class OutcomeSummary:
    files_read: int
    missing: tuple[SourceFileResult, ...]
    failed: tuple[SourceFileResult, ...]
    # Variable name -> the files whose inventory lacks its message.
    absent: Mapping[str, tuple[SourceFileResult, ...]]
    # Variable name -> values its transforms set to NaN as invalid.
    invalid_values: Mapping[str, int]

    @classmethod
    def of(cls, results: Iterable[RegionJobResult]) -> OutcomeSummary:
        by_file: dict[SourceFileCoord, list[SourceFileResult]] = defaultdict(list)
        absent: dict[str, list[SourceFileResult]] = defaultdict(list)
        invalid: Counter[str] = Counter()
        for result in results:
            invalid.update(result.invalid_values)
            for name, file_results in result.files.items():
                for r in file_results:
                    by_file[r.coord].append(r)
                    if r.status == SourceFileStatus.ABSENT:
                        absent[name].append(r)
        failed, missing, read = [], [], 0
        for file_results in by_file.values():
            statuses = {r.status for r in file_results}
            if statuses & FAILED:
                failed.append(next(r for r in file_results if r.status in FAILED))
            elif SourceFileStatus.MISSING in statuses:
                missing.append(file_results[0])
            if SourceFileStatus.SUCCEEDED in statuses:
                read += 1
        return cls(
            files_read=read,
            missing=tuple(missing),
            failed=tuple(failed),
            absent={name: tuple(rs) for name, rs in sorted(absent.items())},
            invalid_values=dict(sorted(invalid.items())),
        )

    def ok(self, *, missing_expected: bool = False) -> bool:
        """No file failed, every file that is there had every variable's message, and no file
        is missing (unless ``missing_expected``: an update's newest positions, still being
        published)."""
        return not self.failed and not self.absent and (missing_expected or not self.missing)

    def problem_summary(self, *, missing_expected: bool = False) -> str:
        """What keeps the run from exiting 0, e.g. ``2 source files failed, 1 missing``."""
        files = [(len(self.failed), "failed")]
        if not missing_expected:
            files.append((len(self.missing), "missing"))
        parts = [f"{count} {what}" for count, what in files if count]
        if parts:
            parts[0] = f"{parts[0].split(' ')[0]} source file(s) {parts[0].split(' ', 1)[1]}"
        if self.absent:
            parts.append(f"{len(self.absent)} variable(s) absent from inventories")
        return ", ".join(parts)

    def write_list(self, dataset_id: str) -> Path:
        """Every failed, missing and absent file, one line each (tab-separated: what, URL,
        detail), into ``$REFORMATTERS_REPORT_DIR`` (default: the system's temporary folder)."""
        folder = Path(
            os.environ.get(REPORT_DIR_ENV) or Path(tempfile.gettempdir()) / "reformatters"
        )
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{dataset_id}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}.txt"
        lines = [f"failed\t{r.coord.get_url()}\t{r.error}" for r in self.failed]
        lines += [f"missing\t{r.coord.get_url()}\t" for r in self.missing]
        lines += [
            f"absent\t{r.coord.get_url()}\t{name}: no line {r.error}"
            for name, results in self.absent.items()
            for r in results
        ]
        lines += [
            f"invalid\t\t{count} value(s) of {name}" for name, count in self.invalid_values.items()
        ]
        path.write_text("".join(f"{line}\n" for line in lines))
        return path

    def log_warnings(self, dataset_id: str) -> None:
        """One warning per absent variable (with the line expected) and per variable with
        invalid values: what the run's per-file debug lines leave out."""
        for name, results in self.absent.items():
            log.warning(
                "inventory lacks a variable's message",
                dataset=dataset_id,
                variable=name,
                files=len(results),
                expected=results[0].error,
                first=results[0].coord.get_url(),
            )
        for name, count in self.invalid_values.items():
            log.warning(
                "values set to NaN as invalid", dataset=dataset_id, variable=name, values=count
            )

    def lines(self) -> list[str]:
        """The summary for a person: counts first, then what went wrong, grouped."""
        lines = [
            f"source files: {self.files_read} read, {len(self.missing)} missing, "
            f"{len(self.failed)} failed"
        ]
        causes = Counter(_cause(r) for r in self.failed)
        for cause, count in causes.most_common(_SHOWN):
            example = next(r for r in self.failed if _cause(r) == cause).coord.get_url()
            lines.append(f"  failed: {count} file(s): {cause} (e.g. {example})")
        if len(causes) > _SHOWN:
            lines.append(f"  ... and {len(causes) - _SHOWN} more causes of failure")
        folders = Counter(r.coord.get_url().rsplit("/", 1)[0] for r in self.missing)
        for folder, count in folders.most_common(_SHOWN):
            lines.append(f"  missing: {count} file(s) in {folder}/")
        if len(folders) > _SHOWN:
            lines.append(f"  ... and {len(folders) - _SHOWN} more folders with missing files")
        for name, results in self.absent.items():
            lines.append(
                f"absent: {name} in {len(results)} file(s), e.g. {results[0].coord.get_url()} "
                f"has no line {results[0].error!r}"
            )
        for name, count in self.invalid_values.items():
            lines.append(f"invalid: {count} value(s) of {name} set to NaN")
        return lines


def _cause(result: SourceFileResult) -> str:
    """What went wrong with a file, its URL and timings left out, to group files by."""
    url = result.coord.get_url()
    error = result.error or result.status.value
    cause = _TIMING.sub("", error.replace(f"{url}: ", "").replace(url, "<file>"))
    return cause if len(cause) <= 200 else f"{cause[:199]}…"
