"""GEFS against real NOAA files (../shared/fixtures/real/gefs): the inventories of a perturbed
member (gep01 pgrb2s.0p25 f015), the control (gec00 pgrb2a.0p50 f432) and the ensemble mean
(geavg pgrb2s.0p25 f000), and real messages of a perturbed member, the control and the mean,
decoded through the backfill's code path (identity with the ensemble member, grid)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pygrib
import pytest

from reformatters.core.sources.errors import SourceError
from reformatters.core.sources.grib import decode_message
from reformatters.core.sources.grib_identity import EnsembleRole, GribIdentity, GridSpec
from reformatters.core.testing.backfill import region_job_for_template
from reformatters.noaa.common.identity import noaa_identity
from reformatters.noaa.common.idx import IdxEntry, MessageSelector, parse_noaa_idx
from reformatters.noaa.gefs.common import (
    HALF_DEGREE,
    SOURCES,
    Product,
    member_role,
    upsample_half_degree,
)
from reformatters.noaa.gefs.forecast.dynamical_dataset import make_forecast_dataset
from reformatters.noaa.gefs.forecast.region_job import GefsForecastRegionJob, GefsSourceFileCoord
from reformatters.noaa.gefs.synthesis import ensemble_label

END = datetime(2025, 8, 2)  # of the template the jobs cover
INVENTORIES = {
    # (file, member, lead, product)
    "gep01.t00z.pgrb2s.0p25.f015.idx": (1, 15, Product.S),
    "gec00.t00z.pgrb2a.0p50.f432.idx": (0, 432, Product.A),
}


def _job() -> GefsForecastRegionJob:
    return region_job_for_template(make_forecast_dataset(), GefsForecastRegionJob, END)


def _picked(entries: list[IdxEntry], wanted: list[tuple[str, MessageSelector]]) -> dict[str, int]:
    """How many inventory lines each variable's selector matches."""
    return {
        name: sum((e.element, e.level) == (s.element, s.level) and s.matches(e) for e in entries)
        for name, s in wanted
    }


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_every_wanted_line_is_picked_exactly_once(real_fixtures_dir: Path, name: str) -> None:
    member, lead, product = INVENTORIES[name]
    entries = parse_noaa_idx((real_fixtures_dir / "gefs" / name).read_text())
    assert {e.extra_text for e in entries} == {ensemble_label(member)}
    coord = GefsSourceFileCoord(
        init_time=pd.Timestamp("2025-08-01T00"),
        lead_time=pd.Timedelta(hours=lead),
        ensemble_member=member,
        product=product,
    )
    wanted = [(var.name, selector) for var, selector in _job()._wanted(coord)]
    # The variables this product carries at this lead, and only those.
    assert {n for n, _ in wanted} == {
        n for n, source in SOURCES.items() if source.product(lead) is product
    }
    assert _picked(entries, wanted) == {n: 1 for n, _ in wanted}


def test_ensemble_mean_inventory_at_lead_0(real_fixtures_dir: Path) -> None:
    """NOAA's mean of the members (``ens mean``) has every instantaneous field the dataset
    reads from the 0.25 degree files at lead 0."""
    entries = parse_noaa_idx(
        (real_fixtures_dir / "gefs" / "geavg.t00z.pgrb2s.0p25.f000.idx").read_text()
    )
    assert {e.extra_text for e in entries} == {"ens mean"}
    wanted = [
        (var.name, MessageSelector(a.grib_element, a.grib_level, "anl"))
        for var in make_forecast_dataset().template_config.data_vars
        if (a := var.internal_attrs).has_lead_0_value and SOURCES[var.name].early is Product.S
    ]
    assert len(wanted) >= 9
    assert _picked(entries, wanted) == {n: 1 for n, _ in wanted}


def test_perturbed_member_messages_name_their_member(real_fixtures_dir: Path) -> None:
    """gep08: TMP 100 hPa (template 4.1) and APCP 6-12 h (4.11), both member 8; NOMADS cut a
    29 x 21 piece of the 0.5 degree grid (rows south to north)."""
    path = real_fixtures_dir / "gefs" / "gep08.t00z.pgrb2a.0p50.f012"
    data = path.read_bytes()
    second = data.index(b"GRIB", 4)
    piece = GridSpec("regular_ll", ni=29, nj=21, first_lat=41.0, first_lon=355.0)
    reference = pd.Timestamp("2020-08-25T00").to_pydatetime()
    tmp = decode_message(
        path,
        0,
        expected=noaa_identity(
            "TMP", "100 mb", "12 hour fcst", reference_time=reference, ensemble=member_role(8)
        ),
        grid=piece,
    )
    apcp = decode_message(
        path,
        second,
        expected=noaa_identity(
            "APCP",
            "surface",
            "6-12 hour acc fcst",
            reference_time=reference,
            ensemble=member_role(8),
        ),
        grid=piece,
    )
    reference_values = [m.values for m in pygrib.open(str(path))]
    np.testing.assert_array_equal(tmp, reference_values[0])
    np.testing.assert_array_equal(apcp, reference_values[1])
    for wrong in (member_role(7), member_role(0), EnsembleRole("derived", 0)):
        with pytest.raises(SourceError, match="ensemble"):
            decode_message(
                path,
                0,
                expected=noaa_identity("TMP", "100 mb", "12 hour fcst", ensemble=wrong),
                grid=piece,
            )


def test_ensemble_mean_message_is_a_derived_field(real_fixtures_dir: Path) -> None:
    """geavg: templates 4.2/4.12, derivedForecast 0 (the unweighted mean of all members)."""
    path = real_fixtures_dir / "gefs" / "geavg.t06z.pgrb2a.0p50.f006"
    messages = list(pygrib.open(str(path)))
    (prmsl,) = [m for m in messages if m.shortName == "prmsl"]
    offset = _offsets(path.read_bytes())[messages.index(prmsl)]
    piece = GridSpec("regular_ll", ni=29, nj=21, first_lat=41.0, first_lon=355.0)
    values = decode_message(
        path,
        offset,
        expected=noaa_identity(
            "PRMSL", "mean sea level", "6 hour fcst", ensemble=EnsembleRole("derived", 0)
        ),
        grid=piece,
    )
    np.testing.assert_array_equal(values, prmsl.values)
    with pytest.raises(SourceError, match="ensemble"):
        decode_message(
            path,
            offset,
            expected=noaa_identity(
                "PRMSL", "mean sea level", "6 hour fcst", ensemble=member_role(0)
            ),
            grid=piece,
        )


def test_control_half_degree_message_lands_on_the_quarter_degree_grid(
    real_fixtures_dir: Path,
) -> None:
    """gec00 SOILW (0.5 degree, 720 x 361, a bitmap over the oceans): decoded with the
    control's identity and the 0.5 degree grid, then placed on the dataset's grid: source points
    unchanged, a point between two land points their mean, NaN next to the sea."""
    path = real_fixtures_dir / "gefs" / "gec00_20250101_00_soilw.grib"
    (message,) = list(pygrib.open(str(path)))
    assert (message["Ni"], message["Nj"]) == (HALF_DEGREE.ni, HALF_DEGREE.nj)
    values = decode_message(
        path,
        0,
        # A soil layer NOAA's level names in noaa_identity do not cover: checked by codes.
        expected=GribIdentity(2, 0, 192, end_step=timedelta(hours=3), ensemble=member_role(0)),
        grid=HALF_DEGREE,
    )
    assert np.isnan(values).any() and not np.isnan(values).all()
    fine = upsample_half_degree(values)
    np.testing.assert_array_equal(fine[0::2, 0::2], values)
    left, right = values[:, :-1], values[:, 1:]
    np.testing.assert_allclose(fine[0::2, 1:-1:2], (left + right) / 2, rtol=0, atol=1e-12)
    assert np.array_equal(np.isnan(fine[0::2, 1:-1:2]), np.isnan(left) | np.isnan(right))


def _offsets(data: bytes) -> list[int]:
    offsets, position = [], 0
    while (position := data.find(b"GRIB", position)) != -1:
        offsets.append(position)
        position += int.from_bytes(data[position + 8 : position + 16], "big")
    return offsets
