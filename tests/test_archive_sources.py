"""The operational source archiver (``reformat <id> archive-sources`` without a run, the
``archive`` CronJob) on the example dataset: recent runs not complete in the archive are copied,
complete ones are skipped, a run that should be out and is not fails the command."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from reformatters.core.operations.archive import archive_recent_runs, recent_runs
from reformatters.core.sources.mirror import SOURCE_MIRROR_ENV
from reformatters.core.sources.server import serve_mirror
from reformatters.example_plugin.dataset import (
    SOURCE_BUCKET,
    make_dataset,
    source_key_path,
    write_example_source,
)
from reformatters.tools.testing import run_reformat

NOW = datetime(2000, 1, 2, 5, 30)


def test_recent_runs_are_the_positions_in_the_window() -> None:
    dataset = make_dataset()
    runs = recent_runs(dataset, NOW, timedelta(hours=6))
    assert runs == list(pd.date_range("2000-01-02T00", "2000-01-02T05", freq="h"))
    # Never before the dataset starts; a window ending on a position includes it.
    assert recent_runs(dataset, datetime(2000, 1, 1, 2), timedelta(days=3)) == list(
        pd.date_range("2000-01-01T00", "2000-01-01T02", freq="h")
    )


def test_recent_runs_are_archived_once_and_gaps_caught_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = make_dataset()
    mirror, archive = tmp_path / "mirror", str(tmp_path / "archive")
    runs = pd.date_range("2000-01-02T00", "2000-01-02T05", freq="h")
    late = runs[4]
    write_example_source(mirror, list(runs), skip=[late])
    with serve_mirror(mirror) as server:
        monkeypatch.setenv(SOURCE_MIRROR_ENV, server.url)
        first = archive_recent_runs(dataset, archive, NOW, timedelta(hours=6))
        assert [r.init_time for r in first] == list(runs)
        assert [r.incomplete for r in first] == [t == late for t in runs]
        assert all(r.manifest is not None for r in first)

        write_example_source(mirror, [late])
        second = archive_recent_runs(dataset, archive, NOW, timedelta(hours=6))
    assert [r.manifest is None for r in second] == [t != late for t in runs]
    caught_up = second[4].manifest
    assert caught_up is not None and caught_up.missing == () and len(caught_up.files) == 1
    for run in runs:
        key = f"{SOURCE_BUCKET}/{source_key_path(run)}"
        assert (tmp_path / "archive" / key).read_bytes() == (mirror / key).read_bytes()
    written = json.loads(
        (tmp_path / "archive/manifests/example-tiny/2000-01-02T0400.json").read_text()
    )
    assert [f["key"] for f in written["files"]] == [f"{SOURCE_BUCKET}/{source_key_path(late)}"]


def test_archive_sources_command_fails_on_runs_that_should_be_out(tmp_path: Path) -> None:
    empty = tmp_path / "mirror"
    empty.mkdir()
    archive = tmp_path / "archive"
    with serve_mirror(empty) as server:
        result = run_reformat(
            "example-tiny",
            "archive-sources",
            "--lookback-hours",
            "3",
            env={SOURCE_MIRROR_ENV: server.url, "REFORMATTERS_ARCHIVE_URL": str(archive)},
            check=False,
        )
    assert result.returncode == 1, result.stderr
    assert "run(s) should be complete but miss files" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(list((archive / "manifests" / "example-tiny").glob("*.json"))) in (3, 4)


def test_archive_sources_without_a_location_says_what_to_do() -> None:
    result = run_reformat("example-tiny", "archive-sources", check=False)
    assert result.returncode != 0
    assert "pass --archive-url" in result.stderr and "REFORMATTERS_ARCHIVE_URL" in result.stderr
    assert "Traceback" not in result.stderr
