"""Keep the benchmarks working: helpers, and every benchmark once on a tiny workload.

No timing is asserted: only that each benchmark runs, prints its table and writes JSON with the
machine description, library versions, the git commit and medians over the repeats.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import __main__ as cli
from benchmarks import backfill, decoders, scale
from benchmarks.common import Stat, TreeMonitor
from benchmarks.naive import filter_keys
from benchmarks.real_fixtures import FixtureMessage
from benchmarks.workload import GEFS_ID, Workload, all_variable_names

TINY = ["--leads", "1", "--variables", "temperature_2m,wind_u_10m", "--repeats", "1"]


def test_stat_median_and_spread() -> None:
    stat = Stat.of([3.0, 1.0, 2.0])
    assert (stat.median, stat.min, stat.max) == (2.0, 1.0, 3.0)
    assert stat.spread() == pytest.approx(1.0)


def test_workload_messages_skip_windows_at_lead_zero(tmp_path: Path) -> None:
    workload = Workload("2024-01-01T00:00", 2, all_variable_names(), tmp_path)
    windows = {"maximum_temperature_2m", "precipitation_surface"}
    leads = {(m.var.name, m.lead) for m in workload.messages()}
    assert ("temperature_2m", 0) in leads
    assert all((name, 0) not in leads for name in windows)
    assert all((name, 1) in leads for name in windows)
    assert workload.describe()["raw_bytes"] == len(leads) * 721 * 1440 * 4


def test_naive_filter_keys_name_one_grib_message(tmp_path: Path) -> None:
    workload = Workload(
        "2024-01-01T00:00", 2, ("temperature_2m", "precipitation_surface"), tmp_path
    )
    keys = [filter_keys(m.var, m.lead, m.forecast) for m in workload.messages()]
    assert keys[0] == {
        "discipline": 0,
        "parameterCategory": 0,
        "parameterNumber": 0,
        "typeOfLevel": "heightAboveGround",
        "level": 2,
    }
    assert keys[-1]["startStep"] == 0


def test_paired_efficiency_only_for_runs_taken_in_turns() -> None:
    def runs(paired: bool, *walls: float) -> dict[str, object]:
        return {"paired": paired, "runs": [{"wall_seconds": w} for w in walls]}

    # `bound` or `naive` alone, compared with the backfill of an earlier `all` (3 pairs)
    assert cli.paired_efficiency({"backfill": runs(True, 4, 4, 4), "bound": runs(False, 1)}) is None
    assert cli.paired_efficiency({"backfill": runs(True, 4, 4, 4), "naive": runs(False, 9)}) is None
    paired = cli.paired_efficiency({"backfill": runs(True, 4, 2), "bound": runs(True, 1, 2)})
    assert paired is not None
    assert paired.values == [0.25, 1.0]


def test_tree_monitor_counts_children_cpu() -> None:
    code = (
        "import subprocess, sys; "
        "subprocess.run([sys.executable, '-c', 'sum(i * i for i in range(3_000_000))'])"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    with TreeMonitor(process.pid, interval=0.02) as monitor:
        process.wait()
    assert monitor.sample.processes >= 1
    assert monitor.sample.peak_process_rss > 0


@pytest.mark.slow
def test_every_benchmark_runs_on_a_tiny_workload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [*TINY, "--work-dir", str(tmp_path / "work"), "--results-dir", str(tmp_path)]
    assert cli.main(["all", *args]) == 0
    out = capsys.readouterr().out
    for title in ("backfill-local", "CPU bound", "naive xarray+cfgrib", "read temperature_2m"):
        assert title in out
    assert "efficiency (bound / backfill wall time)" in out
    summary = json.loads((tmp_path / "all-latest.json").read_text())
    assert {"machine", "libraries", "git", "comparisons"} <= summary.keys()
    assert summary["libraries"]["zarr"]
    for name in ("backfill", "bound", "naive", "read"):
        document = json.loads((tmp_path / f"{name}-latest.json").read_text())
        assert document["workload"]["messages"] == 2
        assert document["stats"]["wall_seconds" if name != "read" else "map_seconds"]["median"] > 0
    backfill = json.loads((tmp_path / "backfill-latest.json").read_text())
    assert backfill["stats"]["bytes_fetched"]["median"] > 0
    # alone, `bound` compares itself with that (paired) backfill
    assert cli.main(["bound", *args]) == 0
    assert "efficiency (bound / backfill wall time)" in capsys.readouterr().out
    assert backfill["stats"]["bytes_written"]["median"] > 0


def test_workload_of_consecutive_inits_on_a_pooled_mirror(tmp_path: Path) -> None:
    one = Workload("2024-01-01T00:00", 2, ("temperature_2m",), tmp_path, pooled=True)
    two = Workload("2024-01-01T00:00", 2, ("temperature_2m",), tmp_path, inits=2, pooled=True)
    assert two.init_times == ["2024-01-01T00:00", "2024-01-01T06:00"]
    assert two.mirror_dir == one.mirror_dir == tmp_path / "mirror-pooled-2-leads"
    paths = {m.init: m.path for m in two.messages() if m.lead == 1}
    assert "gfs.20240101/06/atmos/gfs.t06z.pgrb2.0p25.f001" in str(paths["2024-01-01T06:00"])
    assert len(two.messages()) == 2 * len(one.messages()) == 4
    assert two.describe()["inits"] == 2 and two.describe()["mirror"] == "pooled"
    assert "inits" not in one.describe()
    command = backfill.reformat_command(two, tmp_path / "out")
    assert command[3:6] == ["2024-01-01T12:00:00", "--filter-start", "2024-01-01T00:00:00"]
    assert scale.parse_inits("4,1,2,2") == [1, 2, 4]
    with pytest.raises(SystemExit):
        scale.parse_inits("0,1")


@pytest.mark.slow
def test_scale_runs_on_a_tiny_workload(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--leads", "1", "--variables", "temperature_2m", "--inits", "1,2"]
    args += ["--work-dir", str(tmp_path / "work"), "--results-dir", str(tmp_path)]
    assert cli.main(["scale", *args]) == 0
    out = capsys.readouterr().out
    assert "wall ratio 2/1" in out and "peak_process_rss ratio 2/1" in out
    document = json.loads((tmp_path / "scale-latest.json").read_text())
    assert document["sizes"] == [1, 2] and document["workload"]["inits"] == 2
    assert document["bound"]["messages"] == 1
    for size in ("1", "2"):
        stats = document["stats"][size]
        assert stats["messages"]["median"] == int(size)
        assert stats["bytes_fetched"]["median"] > 0 and stats["peak_process_rss"]["median"] > 0
    assert document["ratios"]["wall 2/1"] > 0


def test_gefs_workload_messages_per_member_and_grid(tmp_path: Path) -> None:
    variables = ("temperature_2m", "dew_point_temperature_2m", "wind_u_100m")
    workload = Workload("2024-01-01T00:00", 3, variables, tmp_path, GEFS_ID, (0, 30))
    assert workload.lead_hours == [237, 240, 246]
    found = {(m.var.name, m.member, m.lead): m for m in workload.messages()}
    # dew point has no 0.5 degree message: none at 246 h
    assert len(found) == 2 * (3 + 2 + 3)
    assert ("dew_point_temperature_2m", 0, 246) not in found
    assert not found[("temperature_2m", 30, 240)].half_degree
    assert found[("temperature_2m", 30, 246)].half_degree
    assert found[("wind_u_100m", 0, 237)].half_degree
    assert "gep30.t00z.pgrb2s.0p25.f240" in str(found[("temperature_2m", 30, 240)].path)
    command = backfill.reformat_command(workload, tmp_path / "out")
    assert command[1] == GEFS_ID
    assert command[-4:] == ["--filter-ensemble-members", "0", "--filter-ensemble-members", "30"]
    assert workload.describe()["members"] == [0, 30]


@pytest.mark.slow
def test_gefs_backfill_and_bound_run_on_a_tiny_workload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--dataset", GEFS_ID, "--members", "1", "--variables", "temperature_2m,wind_u_100m"]
    args += ["--leads", "1", "--repeats", "1", "--work-dir", str(tmp_path / "work")]
    assert cli.main(["all", *args, "--results-dir", str(tmp_path)]) == 0
    assert "efficiency (bound / backfill wall time)" in capsys.readouterr().out
    for name in ("backfill", "bound"):
        document = json.loads((tmp_path / f"{name}-latest.json").read_text())
        assert document["workload"]["dataset"] == GEFS_ID
        assert document["workload"]["messages"] == 2
    with pytest.raises(SystemExit):
        cli.main(["naive", *args])


# ---- decoders and codecs --real: the real fixtures (skipped where they are not found) -----------

_SMALL_REAL_FILES = (
    "gefs/gep08.t00z.pgrb2a.0p50.f012",  # simple packing
    "gfs/gdas.t12z.pgrb2.0p25.f000.46",  # complex packing with spatial differencing
    "dwd/test_icon_europe_000_ASOB_S.grib2",  # simple packing, a constant field
)


def _copy_real(real_fixtures_dir: Path, tmp_path: Path, *files: str) -> Path:
    root = tmp_path / "fixtures"
    for name in files:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((real_fixtures_dir / name).read_bytes())
    return root


def _not_installed() -> decoders.Decode:
    raise ImportError("No module named 'not_a_grib_decoder'")


def test_decoders_benchmark_on_a_few_real_messages(
    real_fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy_real(real_fixtures_dir, tmp_path, *_SMALL_REAL_FILES)
    args = ["decoders", "--repeats", "1", "--fixtures", str(root)]
    assert cli.main([*args, "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "decoders by packing" in out
    assert "5.3 complex + spatial diff." in out
    document = json.loads((tmp_path / "decoders-latest.json").read_text())
    assert {"machine", "libraries", "git"} <= document.keys()
    messages = len(document["messages"])
    assert messages >= len(_SMALL_REAL_FILES)
    # the reference equals itself; every decoder reports on every message
    assert document["overall"]["pygrib"]["identical"] == messages
    assert set(document["decoders"]) == {d.name for d in decoders.DECODERS}
    for message in document["messages"]:
        for name, result in message["results"].items():
            assert "error" in result or result["cpu_ms"] > 0, name


def test_a_decoder_not_installed_is_skipped(real_fixtures_dir: Path, tmp_path: Path) -> None:
    root = _copy_real(real_fixtures_dir, tmp_path, _SMALL_REAL_FILES[0])
    missing = decoders.Decoder("missing", "not-a-grib-decoder", "absent", _not_installed)
    result = decoders.run(root, 1, (decoders.DECODERS[0], missing))
    assert result["decoders"]["missing"]["available"] is False
    assert "not installed" in result["decoders"]["missing"]["skipped"]
    assert set(result["overall"]) == {"pygrib"}


def test_boustrophedonic_rows_are_reversed_like_pygrib() -> None:
    message = FixtureMessage("misc", "f", 0, shape=(3, 2), alternative_rows=True)
    shaped = decoders.as_pygrib_layout(np.arange(6.0), message)
    assert shaped.tolist() == [[0, 1], [3, 2], [4, 5]]


def test_codecs_on_a_real_field(
    real_fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy_real(
        real_fixtures_dir, tmp_path, "gfs/test_NOAAS3_HRES-GFS_10u_20210509T06_S00.grib"
    )
    args = ["codecs", "--real", "--repeats", "1", "--fixtures", str(root)]
    assert cli.main([*args, "--results-dir", str(tmp_path)]) == 0
    assert "GFS 1.0 UGRD 10 m" in capsys.readouterr().out
    document = json.loads((tmp_path / "codecs-real-latest.json").read_text())
    field = document["fields"]["GFS 1.0 UGRD 10 m"]
    assert field["keep_mantissa_bits"] == 6
    assert field["chunks"] == 6  # 181 x 360 in 121 x 121 chunks
    assert "not found" in document["fields"]["HRRR REFC"]["skipped"]
    for setting in document["settings"]["all real fields"].values():
        assert setting["ratio"] > 1


def test_reads_shard_pieces_and_chunk_aligned_regions() -> None:
    from benchmarks.reads_store import read_region, shard_pieces

    region = read_region((5, None, 130), (10, 300, 400), (4, 100, 121))
    assert region == ((4, 8), (0, 300), (121, 242))
    pieces = shard_pieces(region, (8, 200, 242))
    assert pieces == [((4, 8), (0, 200), (121, 242)), ((4, 8), (200, 300), (121, 242))]


@pytest.mark.slow
def test_reads_runs_on_cropped_grids(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    real_fixtures_dir: Path,
) -> None:
    monkeypatch.setenv("REFORMATTERS_REAL_FIXTURES", str(real_fixtures_dir))
    datasets = ("noaa-gfs-analysis", "noaa-gefs-forecast-35-day")
    for dataset in datasets:
        args = ["reads", "--dataset", dataset, "--crop", "40", "--hours", "30", "--repeats", "1"]
        args += ["--work-dir", str(tmp_path / "work"), "--results-dir", str(tmp_path)]
        assert cli.main(args) == 0
        document = json.loads((tmp_path / "reads-latest.json").read_text())
        found = document["results"][dataset]
        assert set(found["reads"]) >= {"map", "point"}
        for by_layout in found["reads"].values():
            assert by_layout["ours"]["stats"]["bytes_read"]["median"] > 0
            assert len(by_layout) == 2
        assert found["stores"]["ours"]["compression_ratio"] > 1
    assert "members" in capsys.readouterr().out  # the ensemble's third read
    assert cli.main(args) == 0  # the same stores again: reused, not rebuilt
    assert "reused" in capsys.readouterr().err


@pytest.mark.slow
def test_update_benchmark_runs_on_a_tiny_workload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--leads", "3", "--new-leads", "1", "--repeats", "1"]
    args += ["--work-dir", str(tmp_path / "work"), "--results-dir", str(tmp_path)]
    assert cli.main(["update", *args]) == 0
    assert "incremental / reread" in capsys.readouterr().out
    document = json.loads((tmp_path / "update-latest.json").read_text())
    assert document["workload"]["new_leads"] == 1
    incremental, reread = (document["stats"][mode] for mode in ("incremental", "reread"))
    # Lead 2 is new; lead 1 is published but fetched again as the step before it.
    assert incremental["leads_fetched"]["median"] == 2
    assert reread["leads_fetched"]["median"] == 3
    with pytest.raises(SystemExit, match="--variables"):
        cli.main(["update", *args, "--variables", "temperature_2m"])
