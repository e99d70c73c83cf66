from datetime import datetime

import pytest
from pydantic import ValidationError

from reformatters.core import Encoding, JobFilters, get_worker_jobs
from reformatters.core.errors import InvalidArgumentError
from reformatters.core.region_job import shard_regions
from reformatters.example_plugin.dataset import make_dataset


def test_shards_must_be_multiples_of_chunks() -> None:
    with pytest.raises(ValidationError, match="not a multiple"):
        Encoding(dtype="float32", fill_value=float("nan"), chunks=(5, 4), shards=(12, 8))
    # Shards may overhang the array edge (e.g. 721 rows in 726-row shards of 121-row chunks).
    Encoding(dtype="float32", fill_value=float("nan"), chunks=(121,), shards=(726,))


@pytest.mark.parametrize("workers_total", [1, 2, 3, 7])
def test_worker_jobs_partition_the_job_list(workers_total: int) -> None:
    jobs = list(range(10))
    shares = [get_worker_jobs(jobs, i, workers_total) for i in range(workers_total)]
    assert sorted(j for share in shares for j in share) == jobs
    assert all(len(set(a) & set(b)) == 0 for a in shares for b in shares if a is not b)
    assert shares[0][0] == 0


@pytest.mark.parametrize(("index", "total"), [(-1, 2), (2, 2), (0, 0)])
def test_worker_index_out_of_range(index: int, total: int) -> None:
    with pytest.raises(ValueError, match="worker index"):
        get_worker_jobs([1, 2], index, total)


def test_regions_are_shards_along_append_dim() -> None:
    dataset = make_dataset()
    template = dataset.template_config.get_template(datetime(2000, 1, 3, 5))
    regions = shard_regions(template, dataset.template_config.data_vars, "time")
    assert regions == [slice(0, 24), slice(24, 48), slice(48, 53)]


def test_jobs_filters_select_whole_regions() -> None:
    dataset = make_dataset()
    template = dataset.template_config.get_template(datetime(2000, 1, 4))
    all_jobs = dataset.get_jobs(template, JobFilters())
    assert [j.region for j in all_jobs] == [slice(0, 24), slice(24, 48), slice(48, 72)]
    filtered = dataset.get_jobs(
        template,
        JobFilters(
            filter_start=datetime(2000, 1, 2, 23),
            filter_end=datetime(2000, 1, 3, 1),
            filter_variable_names=("wind_speed_10m",),
        ),
    )
    assert [j.region for j in filtered] == [slice(24, 48), slice(48, 72)]
    assert all([v.name for v in j.data_vars] == ["wind_speed_10m"] for j in filtered)


def test_job_list_is_deterministic() -> None:
    dataset = make_dataset()
    end = datetime(2000, 1, 6)
    first = [
        j.summary()
        for j in dataset.get_jobs(dataset.template_config.get_template(end), JobFilters())
    ]
    second = [
        j.summary()
        for j in dataset.get_jobs(dataset.template_config.get_template(end), JobFilters())
    ]
    assert first == second


@pytest.mark.parametrize(
    ("end", "filters", "match"),
    [
        (datetime(1999, 12, 31), JobFilters(), "must be after the dataset start"),
        (datetime(2000, 1, 2), JobFilters(filter_variable_names=("nope",)), "unknown variable"),
        (
            datetime(2000, 1, 2),
            JobFilters(filter_start=datetime(2000, 1, 1, 5), filter_end=datetime(2000, 1, 1, 2)),
            "before --filter-end",
        ),
    ],
)
def test_invalid_arguments(end: datetime, filters: JobFilters, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        make_dataset().validate_job_arguments(end, filters)
