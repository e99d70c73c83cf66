import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from gfs_mirror import gfs_mirror  # noqa: F401  (a session fixture)
