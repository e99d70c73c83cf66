"""Completion records of the workers of one distributed backfill run.

Workers of a Kubernetes indexed Job only write chunks, but some coordinates depend on what the
jobs read (e.g. ``ingested_forecast_length``). Each worker, once its share is written, records
the values of those coordinates at the positions it processed under
``.reformatters/backfill-runs/<run-id>/worker-<index>.json`` in the primary store (dot-prefixed
keys are not part of the Zarr hierarchy) and then lists the run's records. The worker that sees
all records merges them into the metadata and publishes it, so the store ends up as a
single-process backfill leaves it. Records are written before they are listed, so with the
object store's read-after-write consistency at least one worker sees every record; when several
do, they publish identical bytes. A re-run index rewrites its record and publishes again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import obstore
import xarray as xr
from numpy.typing import NDArray

from reformatters.core.errors import InvalidArgumentError
from reformatters.core.storage import StoreLocation

RUNS_PREFIX = ".reformatters/backfill-runs"
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_RECORD = re.compile(r"worker-(\d+)\.json")


def validate_run_id(run_id: str) -> str:
    if not _RUN_ID.fullmatch(run_id):
        raise InvalidArgumentError(
            f"--run-id {run_id!r}: use letters, digits, '.', '_' and '-' (at most 128)"
        )
    return run_id


@dataclass(frozen=True)
class WorkerRecord:
    """The result-dependent coordinate values one worker produced, by position (a tuple of
    indexes along the coordinate's dims, e.g. (init,) or (init, member))."""

    worker_index: int
    workers_total: int
    # coordinate name -> (dtype, {position: value or None for missing})
    values: Mapping[str, tuple[str, Mapping[tuple[int, ...], Any]]]

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "worker_index": self.worker_index,
                "workers_total": self.workers_total,
                "coordinates": {
                    name: {
                        "dtype": dtype,
                        "values": {",".join(map(str, k)): v for k, v in values.items()},
                    }
                    for name, (dtype, values) in self.values.items()
                },
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> WorkerRecord:
        raw = json.loads(data)
        return cls(
            worker_index=int(raw["worker_index"]),
            workers_total=int(raw["workers_total"]),
            values={
                name: (
                    c["dtype"],
                    {tuple(int(i) for i in k.split(",")): v for k, v in c["values"].items()},
                )
                for name, c in raw["coordinates"].items()
            },
        )


def _to_json_values(values: NDArray[Any]) -> list[Any]:
    if values.dtype.kind in "mM":
        ints = values.view("int64")
        return [None if np.isnat(v) else int(i) for v, i in zip(values, ints, strict=True)]
    if values.dtype.kind == "f":
        return [None if np.isnan(v) else float(v) for v in values]
    assert values.dtype.kind in "iub", f"unsupported coordinate dtype {values.dtype}"
    return list(values.tolist())


def record_from_results(
    finalized_ds: xr.Dataset,
    names: Sequence[str],
    append_dim: str,
    regions: Sequence[slice | Mapping[str, slice]],
    worker_index: int,
    workers_total: int,
) -> WorkerRecord:
    """Values of the coordinates `names` of `finalized_ds` at every position of `regions`: a
    region of the append dim, or the positions along several dims a job covered (its region
    and partition); a coordinate's other dims are recorded whole."""
    values: dict[str, tuple[str, dict[tuple[int, ...], Any]]] = {}
    for name in names:
        coord = finalized_ds[name]
        dims = [str(d) for d in coord.dims]
        assert dims[0] == append_dim, f"{name}: result coordinates start with {append_dim}"
        by_position: dict[tuple[int, ...], Any] = {}
        for region in regions:
            where = {append_dim: region} if isinstance(region, slice) else region
            block = tuple(where.get(d, slice(0, coord.sizes[d])) for d in dims)
            block_values = np.asarray(coord.values[block])
            flat = _to_json_values(block_values.reshape(-1))
            for offset, value in zip(np.ndindex(block_values.shape), flat, strict=True):
                position = tuple(b.start + o for b, o in zip(block, offset, strict=True))
                by_position[position] = value
        values[name] = (str(coord.dtype), by_position)
    return WorkerRecord(worker_index, workers_total, values)


def apply_records(ds: xr.Dataset, records: Sequence[WorkerRecord]) -> xr.Dataset:
    """`ds` with every recorded position set; where several workers recorded one position (for
    different variable groups), the largest non-missing value wins."""
    out = ds.copy()
    names = sorted({name for record in records for name in record.values})
    for name in names:
        coord = ds[name]
        values = coord.values.copy()
        merged: dict[tuple[int, ...], Any] = {}
        for record in records:
            dtype, by_position = record.values[name]
            assert dtype == str(coord.dtype), f"{name}: recorded {dtype}, template {coord.dtype}"
            for position, value in by_position.items():
                if value is None:
                    merged.setdefault(position, None)
                elif merged.get(position) is None or value > merged[position]:
                    merged[position] = value
        for position, value in merged.items():
            values[position] = _from_json_value(value, values.dtype)
        out[name] = (coord.dims, values, dict(coord.attrs))
        out[name].encoding = dict(coord.encoding)
        out = out.set_coords(name)
    return out


def _from_json_value(value: Any, dtype: np.dtype[Any]) -> Any:
    if dtype.kind in "mM":
        nat = np.iinfo(np.int64).min
        return np.array(nat if value is None else value, "int64").view(dtype)
    if dtype.kind == "f":
        return np.nan if value is None else value
    return value


def write_record(primary: StoreLocation, run_id: str, record: WorkerRecord) -> None:
    path = f"{RUNS_PREFIX}/{run_id}/worker-{record.worker_index}.json"
    obstore.put(primary.object_store(), path, record.to_json())


def complete_run_records(primary: StoreLocation, run_id: str) -> list[WorkerRecord] | None:
    """Every worker's record if all `workers_total` workers have recorded, else None."""
    store = primary.object_store()
    prefix = f"{RUNS_PREFIX}/{run_id}/"
    paths = [m["path"] for batch in obstore.list(store, prefix=prefix) for m in batch]
    indices = {
        int(match.group(1))
        for path in paths
        if (match := _RECORD.fullmatch(path.removeprefix(prefix)))
    }
    if not indices:
        return None
    records = [
        WorkerRecord.from_json(bytes(obstore.get(store, f"{prefix}worker-{i}.json").bytes()))
        for i in sorted(indices)
    ]
    totals = {r.workers_total for r in records}
    if len(totals) != 1:
        raise InvalidArgumentError(
            f"backfill run {run_id!r} has workers with different WORKERS_TOTAL {sorted(totals)}; "
            "use a new --run-id for a differently sized run"
        )
    (total,) = totals
    if indices != set(range(total)):
        return None
    return records
