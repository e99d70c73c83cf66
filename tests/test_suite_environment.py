"""The suite does not depend on what a developer's machine holds (the root conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import REPO_ROOT

HOSTILE = {
    "REFORMATTERS_SOURCE_MIRROR": "/nonexistent/mirror",
    "REFORMATTERS_OUTPUT_URL": "/nonexistent/output",
    "REFORMATTERS_SCRATCH": "/nonexistent/scratch",
    "REFORMATTERS_DECODE_PROCESSES": "7",
    "REFORMATTERS_LOG_LEVEL": "DEBUG",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_PROFILE": "someone-elses",
    "WORKERS_TOTAL": "3",
    "KUBECONFIG": "/home/someone/.kube/config",
}


def test_the_developers_settings_do_not_reach_the_tests() -> None:
    for name, value in HOSTILE.items():
        assert os.environ.get(name) != value, name
    assert Path(os.environ["MPLCONFIGDIR"]).is_dir()
    assert not Path(os.environ["AWS_CONFIG_FILE"]).exists()
    assert not Path(os.environ["KUBECONFIG"]).exists()


def test_a_run_started_with_a_developers_settings_does_not_see_them(tmp_path: Path) -> None:
    # As a developer's shell would start it: no trace of the run this test is part of.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env |= {**HOSTILE, "HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-q",
            f"{Path(__file__).name}::test_the_developers_settings_do_not_reach_the_tests",
        ],
        cwd=REPO_ROOT / "tests",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
