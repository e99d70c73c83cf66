"""The end-of-run summary groups files by what went wrong, one line per cause or folder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reformatters.core.outcomes import OutcomeSummary
from reformatters.core.region_job import (
    RegionJobResult,
    SourceFileCoord,
    SourceFileResult,
    SourceFileStatus,
)

BASE = "https://example.org/model"


class Coord(SourceFileCoord):
    run: str
    lead: int

    def get_url(self) -> str:
        return f"{BASE}/{self.run}/f{self.lead:03d}.grib2"

    def out_loc(self) -> Mapping[str, Any]:
        return {"run": self.run, "lead": self.lead}


def _failed(coord: Coord, status: int, ms: float) -> SourceFileResult:
    url = coord.get_url()
    error = (
        f"{url}: download failed after retries: Generic HTTP error: Error performing GET {url} "
        f"in {ms}ms, after 8 retries - Server returned non-2xx status code: {status}"
    )
    return SourceFileResult(coord, SourceFileStatus.DOWNLOAD_FAILED, error)


def test_failed_files_are_grouped_by_cause_and_missing_files_by_folder() -> None:
    results = [_failed(Coord(run="00", lead=lead), 503, 10.5 + lead) for lead in range(40)]
    results += [_failed(Coord(run="06", lead=lead), 500, 3.0) for lead in range(2)]
    results += [
        SourceFileResult(Coord(run=run, lead=lead), SourceFileStatus.MISSING, "NotFoundError")
        for run in ("12", "18")
        for lead in range(5 if run == "12" else 100)
    ]
    results.append(SourceFileResult(Coord(run="00", lead=99), SourceFileStatus.SUCCEEDED))
    summary = OutcomeSummary.of([RegionJobResult(slice(0, 1), {"t2m": results})])
    assert summary.lines() == [
        "source files: 1 read, 105 missing, 42 failed",
        "  failed: 40 file(s): download failed after retries: Generic HTTP error: Error "
        "performing GET <file> - Server returned non-2xx status code: 503 "
        f"(e.g. {BASE}/00/f000.grib2)",
        "  failed: 2 file(s): download failed after retries: Generic HTTP error: Error "
        "performing GET <file> - Server returned non-2xx status code: 500 "
        f"(e.g. {BASE}/06/f000.grib2)",
        f"  missing: 100 file(s) in {BASE}/18/",
        f"  missing: 5 file(s) in {BASE}/12/",
    ]
    assert not summary.ok() and not summary.ok(missing_expected=True)
    assert summary.problem_summary() == "42 source file(s) failed, 105 missing"
