"""The table of points: a CSV or a data frame with columns ``id``, ``latitude``, ``longitude``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reformatters.core.errors import InvalidArgumentError


def read_points_csv(path: Path) -> pd.DataFrame:
    """Read and validate a CSV of points with columns ``id``, ``latitude``, ``longitude``."""
    if not path.is_file():
        raise InvalidArgumentError(f"--points: no such file {path}")
    try:
        frame = pd.read_csv(path, dtype=str, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise InvalidArgumentError(f"--points: cannot read {path} as CSV: {e}") from None
    return validate_points(frame, source=str(path))


def validate_points(points: pd.DataFrame, source: str = "points") -> pd.DataFrame:
    """Points as (id: str, latitude: float, longitude: float) with unique ids and valid ranges."""
    columns = {str(c).strip().lower(): c for c in points.columns}
    missing = [c for c in ("id", "latitude", "longitude") if c not in columns]
    if missing:
        raise InvalidArgumentError(
            f"{source}: missing column(s) {', '.join(missing)}; expected columns id, latitude, "
            f"longitude (found {', '.join(map(str, points.columns)) or 'none'})"
        )
    if len(points) == 0:
        raise InvalidArgumentError(f"{source}: no points")
    ids = points[columns["id"]].astype(str).str.strip()
    if (ids == "").any() or points[columns["id"]].isna().any():
        raise InvalidArgumentError(f"{source}: every point needs an id")
    duplicated = sorted(set(ids[ids.duplicated()]))
    if duplicated:
        raise InvalidArgumentError(f"{source}: duplicate point id(s) {', '.join(duplicated)}")
    result = pd.DataFrame({"id": ids.to_numpy()})
    for name, limit in (("latitude", 90.0), ("longitude", 360.0)):
        values = pd.to_numeric(points[columns[name]], errors="coerce").to_numpy(np.float64)
        low = -90.0 if name == "latitude" else -180.0
        bad = ~np.isfinite(values) | (values < low) | (values > limit)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise InvalidArgumentError(
                f"{source}: point {ids.iloc[first]!r} has {name} "
                f"{points[columns[name]].iloc[first]!r}; expected a number from {low:g} to "
                f"{limit:g}"
            )
        result[name] = values
    return result
