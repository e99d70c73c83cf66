"""Keep the benchmarks working: helpers, and every benchmark once on a tiny workload.

No timing is asserted: only that each benchmark runs, prints its table and writes JSON with the
machine description, library versions, the git commit and medians over the repeats.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import __main__ as cli
from benchmarks import backfill, scale
from benchmarks.common import Stat, TreeMonitor
from benchmarks.naive import filter_keys
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
