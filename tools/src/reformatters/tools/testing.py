"""Run ``reformat`` in tests as users do: a subprocess of this interpreter, its output captured.

Shared by the root cross-package tests and by the dataset packages' own tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping


def reformat_command(*args: str) -> list[str]:
    """The argument list that runs ``reformat *args`` with this interpreter."""
    return [sys.executable, "-m", "reformatters.tools", *args]


def run_reformat(
    *args: str, env: Mapping[str, str] | None = None, check: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``reformat *args`` with quiet logs and wide help; with ``check``, fail on a non-zero exit
    with both outputs in the message."""
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
