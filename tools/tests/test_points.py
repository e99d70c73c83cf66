"""Point extraction: nearest cells checked against brute force, DuckDB idempotence, bytes read."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyproj
import pytest
import synthetic_stores as stores
import xarray as xr
from zarr.storage import LocalStore

from reformatters.core.errors import InvalidArgumentError, UserError
from reformatters.tools.points import extract as extract_module
from reformatters.tools.points.benchmark import benchmark_extraction
from reformatters.tools.points.extract import extract_points
from reformatters.tools.points.members import parse_members
from reformatters.tools.points.output import write_points
from reformatters.tools.points.sites import read_points_csv
from reformatters.tools.points.store import CountingStore, open_store

R = 6_371_229.0


def _great_circle(lat1, lon1, lat2, lon2):
    """Haversine distance, written independently of the module under test."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2) ** 2
    return 2 * R * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def _random_points(n: int, seed: int, lon_low: float = -180.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": [f"site-{i}" for i in range(n)],
            "latitude": rng.uniform(-90, 90, n),
            "longitude": rng.uniform(lon_low, lon_low + 360, n),
        }
    )


def _nearest_cells_brute_force(lat: np.ndarray, lon: np.ndarray, plat: float, plon: float):
    """Every (i_lat, i_lon) at the minimum great-circle distance (ties kept)."""
    glat, glon = np.meshgrid(lat, lon, indexing="ij")
    dist = _great_circle(plat, plon, glat, glon)
    best = dist.min()
    return np.argwhere(dist <= best + 1e-6)


def _check_latlon_extraction(ds: xr.Dataset, frame: pd.DataFrame, points: pd.DataFrame) -> None:
    loaded = ds.load()
    lat, lon = loaded["latitude"].values, loaded["longitude"].values
    time_dims = [d for d in loaded["temperature_2m"].dims if d not in ("latitude", "longitude")]
    rows_per_point = int(np.prod([loaded.sizes[d] for d in time_dims]))
    assert len(frame) == len(points) * rows_per_point
    for _, point in points.iterrows():
        got = frame[frame["point_id"] == point["id"]]
        cells = _nearest_cells_brute_force(lat, lon, point["latitude"], point["longitude"])
        matched = False
        for i_lat, i_lon in cells:
            if got["grid_latitude"].iloc[0] == lat[i_lat] and (
                got["grid_longitude"].iloc[0] == lon[i_lon]
            ):
                for name in stores.VARIABLES:
                    expected = loaded[name].isel(latitude=i_lat, longitude=i_lon)
                    expected_values = expected.transpose(*time_dims).values.ravel()
                    np.testing.assert_array_equal(got[name].to_numpy(), expected_values)
                matched = True
        assert matched, (point.to_dict(), got.iloc[0].to_dict(), cells)


def test_forecast_latlon_50_random_points_match_brute_force(tmp_path: Path) -> None:
    path = stores.write_forecast_store(tmp_path / "forecast.zarr")
    ds = open_store(LocalStore(path, read_only=True))
    points = _random_points(50, seed=11)
    frame = extract_points(ds, points)
    assert list(frame.columns) == [
        "point_id",
        "latitude",
        "longitude",
        "grid_latitude",
        "grid_longitude",
        "init_time",
        "lead_time",
        "valid_time",
        *sorted(stores.VARIABLES),
    ]
    assert (frame["valid_time"] == frame["init_time"] + frame["lead_time"]).all()
    _check_latlon_extraction(ds, frame, points)


def test_longitudes_0_360_inputs_give_the_same_cells(tmp_path: Path) -> None:
    path = stores.write_forecast_store(tmp_path / "forecast.zarr")
    ds = open_store(LocalStore(path, read_only=True))
    points = _random_points(50, seed=12)
    shifted = points.assign(longitude=points["longitude"] % 360)
    a, b = extract_points(ds, points), extract_points(ds, shifted)
    pd.testing.assert_frame_equal(a.drop(columns="longitude"), b.drop(columns="longitude"))


def test_analysis_0_360_grid_with_dateline_points(tmp_path: Path) -> None:
    path = stores.write_analysis_store(tmp_path / "analysis.zarr")
    ds = open_store(LocalStore(path, read_only=True))
    random = _random_points(50, seed=13)
    edges = pd.DataFrame(
        {
            "id": ["east-of-dateline", "west-of-dateline", "greenwich-w", "greenwich-e", "np"],
            "latitude": [10.3, -10.3, 51.5, 51.5, 89.9],
            "longitude": [179.9, -179.2, -0.9, 359.6, 12.0],
        }
    )
    points = pd.concat([random, edges], ignore_index=True)
    frame = extract_points(ds, points, start=pd.Timestamp("2024-03-01T06").to_pydatetime())
    sub = ds.sel(time=slice("2024-03-01T06", None))
    _check_latlon_extraction(sub, frame, points)
    by_id = frame.groupby("point_id").first()
    assert by_id.loc["east-of-dateline", "grid_longitude"] == 180.0
    assert by_id.loc["west-of-dateline", "grid_longitude"] == 180.0
    assert by_id.loc["greenwich-w", "grid_longitude"] == 0.0
    assert by_id.loc["greenwich-e", "grid_longitude"] == 0.0
    assert frame["time"].min() == pd.Timestamp("2024-03-01T06")


def test_lambert_50_random_points_match_projected_brute_force(tmp_path: Path) -> None:
    path = stores.write_lambert_store(tmp_path / "lambert.zarr")
    ds = open_store(LocalStore(path, read_only=True))
    x, y = stores.lambert_xy()
    rng = np.random.default_rng(14)
    px = rng.uniform(x.min(), x.max(), 50)
    py = rng.uniform(y.min(), y.max(), 50)
    crs = pyproj.CRS.from_proj4(stores.LAMBERT_PROJ4)
    to_geo = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    plon, plat = to_geo.transform(px, py)
    points = pd.DataFrame({"id": [f"s{i}" for i in range(50)], "latitude": plat, "longitude": plon})
    frame = extract_points(ds, points, variables=["temperature_2m"])
    assert "precipitation_surface" not in frame.columns
    loaded = ds.load()
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    xx, yy = np.meshgrid(x, y)
    for i, point in points.iterrows():
        qx, qy = to_xy.transform(point["longitude"], point["latitude"])
        dist = np.hypot(xx - qx, yy - qy)
        j_y, j_x = np.unravel_index(np.argmin(dist), dist.shape)
        got = frame[frame["point_id"] == point["id"]]
        expected = loaded["temperature_2m"].isel(y=j_y, x=j_x).values
        np.testing.assert_array_equal(got["temperature_2m"].to_numpy(), expected, err_msg=str(i))
        assert got["grid_latitude"].iloc[0] == loaded["latitude"].values[j_y, j_x]
        assert got["grid_longitude"].iloc[0] == loaded["longitude"].values[j_y, j_x]


def test_points_outside_the_grid_are_named(tmp_path: Path) -> None:
    path = stores.write_lambert_store(tmp_path / "lambert.zarr")
    ds = open_store(LocalStore(path, read_only=True))
    points = pd.DataFrame(
        {"id": ["denver", "sydney"], "latitude": [39.7, -33.9], "longitude": [-105.0, 151.2]}
    )
    with pytest.raises(UserError, match="'sydney' outside the projected Lambert Conic Conformal"):
        extract_points(ds, points)
    regional = stores.analysis_dataset().sel(latitude=slice(20, 50), longitude=slice(230, 300))
    inside = pd.DataFrame({"id": ["edge"], "latitude": [50.9], "longitude": [-130.9]})
    assert len(extract_points(regional, inside)) > 0
    outside = pd.DataFrame({"id": ["paris"], "latitude": [48.9], "longitude": [2.3]})
    with pytest.raises(UserError, match="'paris' outside the grid"):
        extract_points(regional, outside)


def test_unknown_variable_and_empty_range(tmp_path: Path) -> None:
    ds = stores.analysis_dataset()
    points = _random_points(2, seed=1)
    with pytest.raises(InvalidArgumentError, match=r"unknown variable.*nope.*temperature_2m"):
        extract_points(ds, points, variables=["nope"])
    with pytest.raises(InvalidArgumentError, match="no time values"):
        extract_points(ds, points, start=pd.Timestamp("2030-01-01").to_pydatetime())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,lat,lon\na,1,2\n", "missing column"),
        ("id,latitude,longitude\na,91,2\n", "'a' has latitude"),
        ("id,latitude,longitude\na,north,2\n", "'a' has latitude"),
        ("id,latitude,longitude\na,1,2\na,3,4\n", "duplicate point id"),
        ("id,latitude,longitude\n", "no points"),
    ],
)
def test_bad_points_csv(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sites.csv"
    path.write_text(text)
    with pytest.raises(InvalidArgumentError, match=message):
        read_points_csv(path)


def test_points_csv_ids_stay_strings(tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    path.write_text("ID, Latitude, Longitude, elevation\n007,40,-105,1600\n12,0,0,0\n")
    points = read_points_csv(path)
    assert list(points["id"]) == ["007", "12"]


def test_duckdb_writes_are_idempotent_upserts(tmp_path: Path) -> None:
    ds = stores.forecast_dataset()
    points = _random_points(5, seed=3)
    db = tmp_path / "sites.duckdb"
    first = extract_points(ds, points, end=pd.Timestamp("2024-03-01T12").to_pydatetime())
    write_points(first, db)
    write_points(first, db)

    def count() -> int:
        with duckdb.connect(str(db)) as con:
            return int(con.execute("SELECT count(*) FROM points").fetchone()[0])

    assert count() == len(first) == 5 * 2 * 4
    # Overlapping range with changed values: rows are updated, new ones added, none duplicated.
    changed = ds.copy(deep=True)
    changed["temperature_2m"] = changed["temperature_2m"] + 100
    second = extract_points(changed, points, start=pd.Timestamp("2024-03-01T06").to_pydatetime())
    write_points(second, db)
    assert count() == 5 * 3 * 4
    with duckdb.connect(str(db)) as con:
        stored = con.execute(
            "SELECT temperature_2m FROM points WHERE init_time = '2024-03-01T06:00' "
            "ORDER BY point_id, valid_time"
        ).fetchnumpy()["temperature_2m"]
        keys = con.execute(
            "SELECT constraint_column_names FROM duckdb_constraints() "
            "WHERE table_name = 'points' AND constraint_type = 'PRIMARY KEY'"
        ).fetchone()
    expected = second[second["init_time"] == pd.Timestamp("2024-03-01T06")]
    np.testing.assert_allclose(
        stored, expected.sort_values(["point_id", "valid_time"])["temperature_2m"]
    )
    assert list(keys[0]) == ["point_id", "init_time", "valid_time"]


def test_duckdb_nan_becomes_null_and_analysis_key(tmp_path: Path) -> None:
    ds = stores.analysis_dataset(hours=4)
    ds["temperature_2m"][:] = np.nan
    frame = extract_points(ds, _random_points(3, seed=4))
    db = tmp_path / "a.duckdb"
    write_points(frame, db, table="analysis")
    write_points(frame, db, table="analysis")
    with duckdb.connect(str(db)) as con:
        nulls, total = con.execute(
            "SELECT count(*) FILTER (temperature_2m IS NULL), count(*) FROM analysis"
        ).fetchone()
    assert nulls == total == 12


def test_parquet_csv_and_unknown_extension(tmp_path: Path) -> None:
    frame = extract_points(stores.forecast_dataset(), _random_points(2, seed=5))
    write_points(frame, tmp_path / "s.parquet")
    with duckdb.connect() as con:
        stored = con.execute("SELECT * FROM read_parquet(?)", [str(tmp_path / "s.parquet")]).df()
    pd.testing.assert_frame_equal(stored, frame, check_dtype=False)
    write_points(frame, tmp_path / "s.csv")
    assert len(pd.read_csv(tmp_path / "s.csv")) == len(frame)
    with pytest.raises(InvalidArgumentError, match=r"unknown extension '\.xlsx'"):
        write_points(frame, tmp_path / "s.xlsx")


def test_reads_only_the_needed_chunks(tmp_path: Path) -> None:
    path = stores.write_analysis_store(tmp_path / "analysis.zarr", hours=96)
    counting = CountingStore(LocalStore(path, read_only=True))
    ds = open_store(counting)
    metadata_bytes = counting.stats.bytes_read
    points = _random_points(3, seed=6)
    frame = extract_points(
        ds, points, variables=["temperature_2m"], end=pd.Timestamp("2024-03-02T00").to_pydatetime()
    )
    assert len(frame) == 3 * 24
    data_read = counting.stats.bytes_read - metadata_bytes
    total = stores.data_bytes(path)
    touched = {k for k in counting.stats.keys if k.startswith(("temperature_2m/c", "precip"))}
    # 3 points x 1 day: at most 3 inner chunks (plus shard indexes) of one variable.
    assert all(k.startswith("temperature_2m/c/0/") for k in touched), touched
    assert len(touched) <= 3
    assert 0 < data_read < 0.01 * total, (data_read, total)


def test_benchmark_smoke(tmp_path: Path) -> None:
    result = benchmark_extraction(
        tmp_path, hours=48, n_points=5, grid=(19, 36), chunks=(24, 8, 8), shards=(48, 16, 16)
    )
    assert result.rows == 48 * 5
    assert 0 < result.bytes_read < result.store_bytes
    assert result.requests > 0
    assert result.seconds > 0


def test_points_near_cell_edges_use_great_circle_not_separable_nearest() -> None:
    """Midway between two grid latitudes, and off the meridian, the great-circle nearest cell is
    often the poleward one although the nearer latitude is the equatorward one."""
    ds = stores.forecast_dataset(n_init=1)
    lat, lon = ds["latitude"].values, ds["longitude"].values
    rng = np.random.default_rng(21)
    n = 300
    plat = rng.integers(-44, 44, n) * 2.0 + 1.0 + rng.normal(0, 0.004, n)
    plon = rng.uniform(-180, 180, n)
    points = pd.DataFrame({"id": [f"e{i}" for i in range(n)], "latitude": plat, "longitude": plon})
    frame = extract_points(ds, points).groupby("point_id", sort=False).first()
    separable_wrong = 0
    for _, point in points.iterrows():
        cells = _nearest_cells_brute_force(lat, lon, point["latitude"], point["longitude"])
        got = frame.loc[point["id"]]
        chosen = [(lat[i], lon[j]) for i, j in cells]
        assert (got["grid_latitude"], got["grid_longitude"]) in chosen
        nearest_lat = lat[np.argmin(np.abs(lat - point["latitude"]))]
        separable_wrong += all(c[0] != nearest_lat for c in chosen)
    assert separable_wrong > 0  # the case this test is about does occur


def test_batched_reads_give_the_same_table(monkeypatch: pytest.MonkeyPatch) -> None:
    ds = stores.forecast_dataset()
    points = _random_points(23, seed=8)
    whole = extract_points(ds, points)
    monkeypatch.setattr(extract_module, "MAX_VALUES_PER_READ", 4 * 12)  # 4 points per batch
    batched = extract_points(ds, points)
    pd.testing.assert_frame_equal(batched, whole)
    assert list(dict.fromkeys(batched["point_id"])) == list(points["id"])


def test_ensemble_every_member_matches_the_store(tmp_path: Path) -> None:
    path = stores.write_ensemble_store(tmp_path / "ensemble.zarr")
    ds = open_store(LocalStore(path, read_only=True))
    points = _random_points(30, seed=15)
    frame = extract_points(ds, points)
    assert list(frame.columns) == [
        "point_id",
        "latitude",
        "longitude",
        "grid_latitude",
        "grid_longitude",
        "init_time",
        "ensemble_member",
        "lead_time",
        "valid_time",
        *sorted(stores.VARIABLES),
    ]
    assert frame["ensemble_member"].dtype == np.int16
    assert (frame["valid_time"] == frame["init_time"] + frame["lead_time"]).all()
    first = frame[frame["point_id"] == "site-0"]
    assert list(first["ensemble_member"]) == [
        m for _ in range(2) for m in range(4) for _ in range(5)
    ]
    _check_latlon_extraction(ds, frame, points)


def test_ensemble_member_filter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = stores.write_ensemble_store(tmp_path / "ensemble.zarr")
    ds = open_store(LocalStore(path, read_only=True))
    points = _random_points(12, seed=16)
    frame = extract_points(ds, points, ensemble_members=[3, 1])
    assert sorted(set(frame["ensemble_member"])) == [1, 3]
    _check_latlon_extraction(ds.isel(ensemble_member=[1, 3]), frame, points)
    monkeypatch.setattr(extract_module, "MAX_VALUES_PER_READ", 3 * 2 * 2 * 5)  # 3 points a read
    pd.testing.assert_frame_equal(extract_points(ds, points, ensemble_members=[1, 3]), frame)


def test_ensemble_member_errors() -> None:
    points = _random_points(2, seed=17)
    with pytest.raises(InvalidArgumentError, match=r"--ensemble-member: no member 4, 40 .* 0 to 3"):
        extract_points(stores.ensemble_dataset(), points, ensemble_members=[0, 4, 40])
    with pytest.raises(InvalidArgumentError, match="test-analysis has no ensemble members"):
        extract_points(stores.analysis_dataset(hours=2), points, ensemble_members=[0])


@pytest.mark.parametrize(
    ("values", "members"),
    [(["0"], [0]), (["3", "1"], [1, 3]), (["0,2-4", "3"], [0, 2, 3, 4]), ([" 5 - 6 "], [5, 6])],
)
def test_parse_members(values: list[str], members: list[int]) -> None:
    assert parse_members(values) == members


@pytest.mark.parametrize("text", ["x", "-1", "1-", "2-1", "1.5", ","])
def test_parse_members_rejects(text: str) -> None:
    with pytest.raises(InvalidArgumentError, match="--ensemble-member"):
        parse_members([text])


def test_ensemble_duckdb_key_has_the_member(tmp_path: Path) -> None:
    ds = stores.ensemble_dataset()
    points = _random_points(3, seed=18)
    db = tmp_path / "ens.duckdb"
    write_points(extract_points(ds, points, ensemble_members=[0, 1]), db)
    write_points(extract_points(ds, points, ensemble_members=[1, 2, 3]), db)
    with duckdb.connect(str(db)) as con:
        counts = con.execute(
            "SELECT count(*), count(DISTINCT ensemble_member) FROM points"
        ).fetchone()
        keys = con.execute(
            "SELECT constraint_column_names FROM duckdb_constraints() "
            "WHERE table_name = 'points' AND constraint_type = 'PRIMARY KEY'"
        ).fetchone()
    assert counts == (3 * 2 * 4 * 5, 4)
    assert keys is not None
    assert list(keys[0]) == ["point_id", "init_time", "ensemble_member", "valid_time"]
