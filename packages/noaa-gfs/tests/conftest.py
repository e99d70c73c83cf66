"""Fixtures of the GFS tests (core's plugin is loaded by the repository's root conftest)."""

from reformatters.noaa.gfs.testing import gfs_mirror

__all__ = ["gfs_mirror"]
