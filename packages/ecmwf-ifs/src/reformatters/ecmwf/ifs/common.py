"""What ECMWF's IFS open data is: its bucket layout, ensemble members, steps and grid.

ECMWF publishes one GRIB2 file per run and step holding every member and parameter of the
ensemble (``enfo`` stream, ``ef`` file: the control, MARS type ``cf``, and the 50 perturbed
members, type ``pf`` with ``number`` 1-50), with a JSON-lines ``.index`` beside it listing each
message's MARS keys and byte range. Messages are CCSDS-packed on a 0.25 degree grid whose
columns start at 180 degrees east (-180) and whose rows run from 90 to -90.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reformatters.core.coordinates import SPHERE_6371229_CRS, LatLonGrid
from reformatters.core.sources.grib_identity import EnsembleRole, GridSpec

# ECMWF's open data on AWS (eu-central-1), anonymous access.
SOURCE_BUCKET = "ecmwf-forecasts"
MEMBERS = np.arange(51, dtype=np.int16)
# 0-144 h every 3 hours, then 150-360 h every 6 hours: 49 + 36 = 85 steps.
STEP_HOURS: tuple[int, ...] = (*range(0, 145, 3), *range(150, 361, 6))


def step_url(init_time: pd.Timestamp, step_hours: int) -> str:
    """``s3://ecmwf-forecasts/YYYYMMDD/HHz/ifs/0p25/enfo/YYYYMMDDHH0000-<step>h-enfo-ef.grib2``."""
    return (
        f"s3://{SOURCE_BUCKET}/{init_time:%Y%m%d}/{init_time:%H}z/ifs/0p25/enfo/"
        f"{init_time:%Y%m%d%H}0000-{step_hours}h-enfo-ef.grib2"
    )


# IFS cycle 50r1 (from the 2026-05-12 06 UTC run) made the ENS control and the former HRES one
# forecast, disseminated as stream ``oper``, type ``fc``: the ``ef`` files hold only the 50
# perturbed members since (ECMWF's 50r1 implementation notes; ecmwf-opendata issue 101).
CONTROL_IN_OPER_FROM = pd.Timestamp("2026-05-12T06:00")


def control_in_oper(init_time: pd.Timestamp) -> bool:
    return init_time >= CONTROL_IN_OPER_FROM


def oper_url(init_time: pd.Timestamp, step_hours: int) -> str:
    """``.../ifs/0p25/oper/YYYYMMDDHH0000-<step>h-oper-fc.grib2``: the control since 50r1."""
    return (
        f"s3://{SOURCE_BUCKET}/{init_time:%Y%m%d}/{init_time:%H}z/ifs/0p25/oper/"
        f"{init_time:%Y%m%d%H}0000-{step_hours}h-oper-fc.grib2"
    )


def member_url(init_time: pd.Timestamp, member: int, step_hours: int) -> str:
    """The file holding a member's messages at a step."""
    if member == 0 and control_in_oper(init_time):
        return oper_url(init_time, step_hours)
    return step_url(init_time, step_hours)


def index_url(grib_url: str) -> str:
    """The ``.index`` beside a GRIB file: ``...-enfo-ef.index``."""
    return grib_url.removesuffix(".grib2") + ".index"


def member_index_keys(member: int, init_time: pd.Timestamp) -> dict[str, str]:
    """The ``.index`` keys that pick one member's messages: the control is MARS type ``cf``
    (matched without ``number``; ``fc`` in the ``oper`` files since 50r1), a perturbed member
    type ``pf`` with its ``number``."""
    if member == 0:
        return {"type": "fc" if control_in_oper(init_time) else "cf"}
    return {"type": "pf", "number": str(member)}


def member_role(member: int, init_time: pd.Timestamp) -> EnsembleRole | None:
    """The member a message must hold: its perturbation number (0 for the control). The code
    table 4.6 type (control, negatively or positively perturbed) is not checked: ECMWF's
    choice is not documented where we could confirm it (see ``EnsembleRole``). None for the
    control since 50r1: its ``oper`` file holds no other member to mistake it for, and whether
    its messages keep the ensemble templates is not confirmed."""
    if member == 0 and control_in_oper(init_time):
        return None
    return EnsembleRole("member", member)


# Rows 90..-90, columns 180..179.75 east (i.e. -180..179.75): as ECMWF's messages declare it.
GRID = GridSpec.global_ll(0.25, first_lon=180.0)
# IFS GRIB2 declares shapeOfTheEarth 6: a sphere of radius 6371229 m.
OUTPUT_GRID = LatLonGrid.global_regular(
    0.25,
    SPHERE_6371229_CRS,
    "IFS open data grid: a sphere of radius 6371229 m, regular 0.25 degree lat/lon.",
)
LATITUDES = OUTPUT_GRID.latitudes
LONGITUDES = OUTPUT_GRID.longitudes
