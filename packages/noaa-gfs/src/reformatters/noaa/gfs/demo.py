"""placeholder"""

from typing import Any


def add_demo_command(app: Any) -> None:
    pass
