import sys
from pathlib import Path

from reformatters.noaa.gfs.testing import gfs_mirror

# helpers.py and kubernetes_api_double.py, imported by the tests here as top-level modules.
sys.path.insert(0, str(Path(__file__).parent))

__all__ = ["gfs_mirror"]  # a session fixture: tests/test_writers.py uses the GFS mirror
