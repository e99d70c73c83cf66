"""Where the repository is, for the cross-package tests that read its files (workflows, lock,
pyproject tables). Running ``reformat`` in a test: ``reformatters.tools.testing``."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
