"""noaa-hrrr-analysis end to end, offline: f00 files of each hour's run and f01 files of the run
one hour earlier, synthesized, served over loopback HTTP, written locally and to S3 (moto)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr
from pyproj import CRS
from test_noaa_hrrr_forecast import assert_matches

from reformatters.core import JobFilters
from reformatters.core.region_job import SourceFileStatus
from reformatters.core.sources.server import serve_mirror
from reformatters.core.testing.backfill import open_store
from reformatters.core.testing.fixtures import MotoS3Server
from reformatters.noaa.hrrr.analysis.dynamical_dataset import make_analysis_dataset
from reformatters.noaa.hrrr.analysis.region_job import HrrrAnalysisRegionJob
from reformatters.noaa.hrrr.common import HRRR_CRS, NX, NY

pytestmark = pytest.mark.slow

DATASET_ID = "noaa-hrrr-analysis"
START = datetime(2024, 1, 1, 0)
END = datetime(2024, 1, 1, 2)
# Instantaneous variables from f00 plus precipitation from the previous run's f01. (Every
# variable's f00/f01 reading is covered by the forecast test; these cover the analysis layout.)
NAMES = (
    "temperature_2m",
    "categorical_rain_surface",
    "downward_short_wave_radiation_flux_surface",
    "precipitation_surface",
)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hrrr-analysis-mirror")
    dataset = make_analysis_dataset()
    paths = dataset.synthesize_source_mirror(START, END, folder)
    # f00 of 00 and 01 UTC, f01 of 23 UTC (previous day) and 00 UTC.
    names = ["t00z.wrfsfcf00", "t01z.wrfsfcf00", "t23z.wrfsfcf01", "t00z.wrfsfcf01"]
    assert sorted(p.name for p in paths) == sorted(f"hrrr.{n}.grib2" for n in names)
    return folder


def _check_values(ds: xr.Dataset, names: tuple[str, ...]) -> None:
    config = make_analysis_dataset().template_config
    for name in names:
        var = config.data_var(name)
        for time in pd.date_range(START, END, freq="h", inclusive="left"):
            actual = ds[name].sel(time=time).values
            if not var.internal_attrs.has_lead_0_value:
                assert_matches(actual, var, time - pd.Timedelta(hours=1), 1)
            else:
                assert_matches(actual, var, time, 0)


def test_source_groups_split_f00_and_f01_variables() -> None:
    """f01 of the previous run: precipitation (a last-hour window) and the categorical types,
    which HRRR writes as constant placeholders at f00 (the real f00 inventory: 188 bytes)."""
    config = make_analysis_dataset().template_config
    groups = HrrrAnalysisRegionJob.source_groups(config.data_vars)
    assert [v.name for v in groups[1]] == [
        "precipitation_surface",
        "categorical_snow_surface",
        "categorical_ice_pellets_surface",
        "categorical_freezing_rain_surface",
        "categorical_rain_surface",
    ]
    assert len(groups[0]) == len(config.data_vars) - 5
    assert "f01" in config.data_var("categorical_rain_surface").attrs.comment


def test_backfill_local_values_and_grid(mirror: Path, tmp_path: Path) -> None:
    import cf_xarray  # noqa: F401

    output = str(tmp_path / "output")
    with pytest.MonkeyPatch.context() as patch, serve_mirror(mirror) as server:
        patch.setenv("REFORMATTERS_SOURCE_MIRROR", server.url)
        patch.setenv("REFORMATTERS_SCRATCH", str(tmp_path / "scratch"))
        report = make_analysis_dataset().backfill_local(
            END, JobFilters(filter_start=START, filter_variable_names=NAMES), output_url=output
        )
    assert report.count(SourceFileStatus.SUCCEEDED) == 2 * len(NAMES)
    assert report.count(SourceFileStatus.DOWNLOAD_FAILED, SourceFileStatus.READ_FAILED) == 0
    ds = open_store(f"{output}/{DATASET_ID}/v0.2.0.zarr")
    assert (ds.sizes["y"], ds.sizes["x"]) == (NY, NX)
    assert pd.Timestamp(ds["time"].values[-1]) == pd.Timestamp(END) - pd.Timedelta(hours=1)
    _check_values(ds, NAMES)
    assert CRS.from_wkt(ds.spatial_ref.attrs["crs_wkt"]) == HRRR_CRS
    assert ds["latitude"].dims == ("y", "x")
    assert ds.cf.grid_mapping_names == {"lambert_conformal_conic": ["spatial_ref"]}
    assert ds.cf.axes["T"] == ["time"]
    assert ds["precipitation_surface"].attrs["units"] == "kg m-2 s-1"


def test_backfill_to_s3_output(
    mirror: Path, moto_s3_env: MotoS3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFORMATTERS_SCRATCH", str(tmp_path / "scratch"))
    names = ("wind_v_10m", "precipitation_surface")
    output = f"s3://{moto_s3_env.bucket}/hrrr-analysis"
    with serve_mirror(mirror) as server:
        monkeypatch.setenv("REFORMATTERS_SOURCE_MIRROR", server.url)
        make_analysis_dataset().backfill_local(
            END, JobFilters(filter_start=START, filter_variable_names=names), output_url=output
        )
    ds = open_store(f"{output}/{DATASET_ID}/v0.2.0.zarr")
    _check_values(ds, names)
    assert CRS.from_wkt(ds.spatial_ref.attrs["crs_wkt"]) == HRRR_CRS
