"""Test helpers shared by every reformatters package (see ``fixtures`` for the pytest plugin)."""
