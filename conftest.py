"""The whole suite's setup: a hermetic environment, and what this run did not cover.

A developer's shell may hold settings of the product (``REFORMATTERS_*``, ``AWS_*``, Kubernetes
configuration) and files in the home folder (``~/.aws``, ``~/.kube``, matplotlib's caches) that
would change what a test sees. They are removed here, before any test module is imported, so the
suite gives the same result on a machine that never saw the project. What the suite is *meant* to
receive from outside stays: the real fixtures' folder, the folders ``.ci/run`` builds, ``CI`` and
the opt-in switches.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest

pytest_plugins = ["reformatters.core.testing.fixtures"]

PASSED_THROUGH = frozenset(
    {
        "REFORMATTERS_REAL_FIXTURES",
        "REFORMATTERS_WHEEL_DIR",
        "REFORMATTERS_WHEELHOUSE",
        "REFORMATTERS_OPERATIONS_ALL_DATASETS",
        "REFORMATTERS_REPORT_DIR",
    }
)
PRODUCT_SETTINGS = ("REFORMATTERS_", "AWS_", "KUBERNETES_", "OBSTORE_")
WORKER_SETTINGS = frozenset({"WORKERS_TOTAL", "WORKER_INDEX", "JOB_COMPLETION_INDEX", "KUBECONFIG"})


def _hermetic_environment(starts_the_run: bool) -> None:
    for name in list(os.environ):
        if name in PASSED_THROUGH:
            continue
        if name.startswith(PRODUCT_SETTINGS) or name in WORKER_SETTINGS:
            del os.environ[name]
    # Files a library would read from the home folder when nothing else is configured.
    nowhere = str(Path(tempfile.gettempdir()) / "reformatters-tests-no-such-file")
    os.environ["AWS_CONFIG_FILE"] = nowhere
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = nowhere
    os.environ["KUBECONFIG"] = nowhere
    if starts_the_run:  # xdist's workers share the folders of the process that started them
        os.environ["MPLCONFIGDIR"] = tempfile.mkdtemp(prefix="reformatters-tests-matplotlib-")
        os.environ["REFORMATTERS_REPORT_DIR"] = tempfile.mkdtemp(prefix="reformatters-tests-")


STARTS_THE_RUN = "PYTEST_XDIST_WORKER" not in os.environ
_hermetic_environment(STARTS_THE_RUN)


def pytest_unconfigure() -> None:
    if STARTS_THE_RUN:
        for name in ("MPLCONFIGDIR", "REFORMATTERS_REPORT_DIR"):
            shutil.rmtree(os.environ[name], ignore_errors=True)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return re.sub(r"^Skipped: ", "", reason)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Count what did not run, by reason, last: a run with skips is not full coverage."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    ran = sum(len(terminalreporter.stats.get(k, [])) for k in ("passed", "failed", "error"))
    terminalreporter.section(f"not covered by this run: {len(skipped)} skipped, {ran} ran")
    for reason, count in Counter(map(_skip_reason, skipped)).most_common():
        terminalreporter.write_line(f"{count:5d}  {reason}")


@pytest.fixture(autouse=True)
def _fresh_source_hosts() -> None:
    """Each test starts knowing nothing about source hosts: a loopback port a test found closed
    may be another test's server later (see reformatters.core.sources.reachability)."""
    from reformatters.core.sources.reachability import HEALTH

    HEALTH.reset()
