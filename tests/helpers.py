"""Helpers for the cross-package tests: run `reformat` as users do, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def reformat_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "reformatters.tools", *args]


def run_reformat(
    *args: str, env: Mapping[str, str] | None = None, check: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "REFORMATTERS_LOG_LEVEL": "WARNING", "COLUMNS": "200", **(env or {})}
    result = subprocess.run(
        reformat_command(*args),
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"reformat {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result
