"""Every variable's GRIB2 codes agree with DWD's own parameter table as ecCodes ships it
(``grib2/localConcepts/edzw/shortName.def``, edzw = DWD's centre), for the variables the real
fixtures do not cover (TD_2M, VMAX_10M, PMSL, TOT_PREC, ASWDIR_S, ...)."""

from __future__ import annotations

import re
from pathlib import Path

import pygrib
import pytest

from reformatters.dwd.icon.eu_forecast.dynamical_dataset import make_eu_forecast_dataset
from reformatters.dwd.icon.variables import IconDataVar

_ENTRY = re.compile(r"^'(?P<name>[^']+)' = \{(?P<body>[^}]*)\}", re.MULTILINE)
_STATISTIC_CODES = {"average_from_start": 0, "accumulated_from_start": 1, "max_since_previous": 2}
DATA_VARS = make_eu_forecast_dataset().template_config.data_vars


def _dwd_concepts() -> dict[str, list[dict[str, int]]]:
    path = Path(pygrib.get_definitions_path()) / "grib2/localConcepts/edzw/shortName.def"
    concepts: dict[str, list[dict[str, int]]] = {}
    for match in _ENTRY.finditer(path.read_text()):
        keys = dict(re.findall(r"(\w+)\s*=\s*(-?\d+)\s*;", match["body"]))
        concepts.setdefault(match["name"], []).append({k: int(v) for k, v in keys.items()})
    return concepts


def _ours(var: IconDataVar) -> dict[str, int]:
    attrs = var.internal_attrs
    keys = {
        "discipline": 0,
        "parameterCategory": attrs.parameter_category,
        "parameterNumber": attrs.parameter_number,
        "typeOfFirstFixedSurface": attrs.surface_type,
        "scaledValueOfFirstFixedSurface": int(attrs.level),
    }
    if attrs.statistic is not None:
        keys["typeOfStatisticalProcessing"] = _STATISTIC_CODES[attrs.statistic]
    return keys


@pytest.mark.parametrize("var", DATA_VARS, ids=lambda v: v.internal_attrs.dwd_name)
def test_codes_match_dwds_table(var: IconDataVar) -> None:
    concepts = _dwd_concepts()[var.internal_attrs.dwd_name]
    ours = _ours(var)
    # A concept names only the keys that identify it; each of them must agree with ours.
    matching = [c for c in concepts if all(ours.get(k, v) == v for k, v in c.items())]
    assert matching, f"{var.name}: {ours} matches none of DWD's {concepts}"
    # Whatever a concept leaves out (e.g. PMSL's level) must not be a key we rely on wrongly:
    # the statistic, where DWD states one, is always among the keys compared.
    if var.internal_attrs.statistic is not None:
        assert any("typeOfStatisticalProcessing" in c for c in matching), var.name
