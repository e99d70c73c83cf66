"""A dataset's card: ``dataset.toml`` beside its template config module.

The card holds what a dataset declares as plain data: its names and prose (``[attributes]``,
rendered into the Zarr attributes), its append dimension (``[template]``) and how it is operated
(``[operations]``, an ``OperationsSpec``: schedules, thresholds, resources). The code of a
dataset keeps what is computed or executed: grid, lead times, variables, readers, validators.

Durations are ISO 8601 strings (``"PT4H"``, ``"PT45M"``, ``"P1D"``); start times TOML local
date-times (UTC).
"""

from __future__ import annotations

import inspect
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

CARD_NAME = "dataset.toml"


def card_path(owner: type) -> Path:
    """The card beside the module that defines ``owner`` (a template config class) or, for a
    subclass declared elsewhere (e.g. in a test), beside its nearest ancestor's module that has
    one."""
    for cls in owner.__mro__:
        if cls.__module__ in ("builtins", "abc"):
            continue
        path = Path(inspect.getfile(cls)).parent / CARD_NAME
        if path.exists():
            return path
    return Path(inspect.getfile(owner)).parent / CARD_NAME


@cache
def read_card(path: Path) -> Mapping[str, Any]:
    """The card's tables; empty when there is no card (a dataset declared wholly in code)."""
    if not path.exists():
        return {}
    with path.open("rb") as file:
        return tomllib.load(file)


def card_table(owner: type, table: str) -> Mapping[str, Any]:
    """One table of ``owner``'s card (empty when the card or the table is absent)."""
    return _table(card_path(owner), table)


def card_table_beside(module_file: str | Path, table: str) -> Mapping[str, Any]:
    """One table of the card beside a module (its ``__file__``), for declarations made before
    the template config class exists (e.g. the prose a dataset adds to its variables' comments)."""
    return _table(Path(module_file).with_name(CARD_NAME), table)


def _table(path: Path, table: str) -> Mapping[str, Any]:
    value = read_card(path).get(table, {})
    assert isinstance(value, Mapping), f"{path}: [{table}] must be a table"
    return value
