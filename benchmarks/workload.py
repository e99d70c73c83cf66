"""What is benchmarked: a dataset (GFS, GEFS), one init (or consecutive inits), its leads,
members and variables, the synthesized mirror of their source files and the GRIB messages a
backfill of them decodes."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyproj  # noqa: F401  (must be imported before eccodes, see the shared library facts)

GFS_ID = "noaa-gfs-forecast"
GEFS_ID = "noaa-gefs-forecast-35-day"
DATASET_ID = GFS_ID  # the default workload
DEFAULT_INIT = "2024-01-01T00:00"
FIELD_SHAPE = (721, 1440)
FIELD_BYTES = FIELD_SHAPE[0] * FIELD_SHAPE[1] * 4


@dataclass(frozen=True)
class Message:
    """One GRIB message a backfill decodes: its variable, member (None: deterministic), lead,
    ``.idx`` forecast description, source file in the mirror and whether it is on a 0.5 degree
    grid (the pipeline interpolates it onto the 0.25 degree one)."""

    var: Any
    member: int | None
    lead: int
    forecast: str
    path: Path
    half_degree: bool = False
    init: str = ""


@dataclass(frozen=True)
class Dataset:
    """What the benchmarks need to know of one dataset; imports are lazy (pyproj first)."""

    id: str
    version: str
    # `--leads` default: how many of `candidate_leads()` (a workload takes the first N).
    default_leads: int
    default_members: tuple[int, ...]
    # Benchmarks that support the dataset (`all` runs those of backfill, bound, naive, read).
    benchmarks: tuple[str, ...]

    # The dataset's package (``<package>.common``, ``<package>.forecast.template_config``).
    package: str

    def _module(self, name: str) -> Any:
        return importlib.import_module(f"{self.package}.{name}")

    def _config(self) -> Any:
        """The dataset's template config, as its package declares it (code and card)."""
        return self._module("forecast.dynamical_dataset").make_forecast_dataset().template_config

    def lead_hours(self) -> list[int]:
        """Every lead of the dataset, in order (positions along ``lead_time``)."""
        lead_times = self._config().lead_times
        return [int(t.total_seconds()) // 3600 for t in lead_times]

    def candidate_leads(self) -> list[int]:
        """GFS: its leads from 0; GEFS: the default synthesized leads (0.25 then 0.5 degree)."""
        if self.id == GFS_ID:
            return self.lead_hours()
        from reformatters.noaa.gefs.synthesis import DEFAULT_SYNTHESIS_LEADS

        return list(DEFAULT_SYNTHESIS_LEADS)

    def data_vars(self) -> tuple[Any, ...]:
        return tuple(self._config().data_vars)

    def variable_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.data_vars())

    def init_frequency(self) -> timedelta:
        frequency: timedelta = self._config().append_dim_frequency
        return frequency

    def source(
        self, mirror_dir: Path, init: str, member: int | None, var: Any, lead: int
    ) -> tuple[Path, bool] | None:
        """(path, half degree) of the file holding ``var`` at ``lead``, None where none does."""
        import pandas as pd

        if self.id == GFS_ID:
            from reformatters.noaa.gfs.synthesis import mirror_path

            return mirror_path(mirror_dir, pd.Timestamp(init), lead), False
        from reformatters.noaa.gefs.common import SOURCES, Product

        product = SOURCES[var.name].product(lead)
        if product is None or member is None:
            return None
        url = product.url(pd.Timestamp(init), member, lead)
        return mirror_dir / url.removeprefix("s3://"), product is not Product.S

    def files(self, mirror_dir: Path, init: str, members: tuple[int, ...], lead: int) -> list[Path]:
        """Every source file of ``lead`` the synthesis writes (any variable subset reads them)."""
        import pandas as pd

        if self.id == GFS_ID:
            from reformatters.noaa.gfs.synthesis import mirror_path

            return [mirror_path(mirror_dir, pd.Timestamp(init), lead)]
        from reformatters.noaa.gefs.synthesis import products_at

        return [
            mirror_dir / p.url(pd.Timestamp(init), m, lead).removeprefix("s3://")
            for m in members
            for p in products_at(lead)
        ]

    def synthesize(
        self, mirror_dir: Path, init: str, members: tuple[int, ...], leads: list[int]
    ) -> None:
        """Every variable's files of ``leads`` (all members' files for GEFS)."""
        import pandas as pd

        if self.id == GFS_ID:
            from reformatters.noaa.gfs.synthesis import synthesize_gfs_mirror

            synthesize_gfs_mirror(mirror_dir, [pd.Timestamp(init)], leads, self.data_vars())
            return
        from reformatters.noaa.gefs.synthesis import synthesize_gefs_mirror

        synthesize_gefs_mirror(mirror_dir, [pd.Timestamp(init)], members, leads, self.data_vars())

    def synthesize_pooled(
        self, mirror_dir: Path, files: list[tuple[str, int]], pool_folder: Path
    ) -> None:
        """Every variable's files of (init, lead) ``files`` as relabelled copies of a pool of
        synthesized files in ``pool_folder`` (GFS only: see
        reformatters.noaa.common.pooled_mirror)."""
        import pandas as pd

        if self.id != GFS_ID:
            raise SystemExit(f"a pooled mirror is only written for {GFS_ID}")
        from reformatters.noaa.gfs.synthesis import synthesize_pooled_gfs_mirror

        by_init: dict[str, list[int]] = {}
        for init, lead in files:
            by_init.setdefault(init, []).append(lead)
        for init, leads in by_init.items():
            synthesize_pooled_gfs_mirror(
                mirror_dir,
                [pd.Timestamp(init)],
                leads,
                self.data_vars(),
                pool_folder=pool_folder,
            )


DATASETS = {
    GFS_ID: Dataset(
        GFS_ID,
        "0.1.0",
        default_leads=24,
        default_members=(),
        benchmarks=("backfill", "bound", "naive", "read", "codecs", "update", "scale"),
        package="reformatters.noaa.gfs",
    ),
    GEFS_ID: Dataset(
        GEFS_ID,
        "0.1.0",
        default_leads=3,
        default_members=(0, 1, 30),
        benchmarks=("backfill", "bound"),
        package="reformatters.noaa.gefs",
    ),
}


@dataclass(frozen=True)
class Workload:
    """``inits`` consecutive inits of a dataset from ``init``, their first ``leads`` benchmark
    leads, a set of variables and (for an ensemble) of members. A ``pooled`` mirror holds
    relabelled copies of a few synthesized files (cheap for many inits and leads)."""

    init: str
    leads: int
    variables: tuple[str, ...]
    work_dir: Path
    dataset: str = DATASET_ID
    members: tuple[int, ...] = ()
    inits: int = 1
    pooled: bool = False

    @property
    def spec(self) -> Dataset:
        return DATASETS[self.dataset]

    @property
    def init_times(self) -> list[str]:
        import pandas as pd

        first = pd.Timestamp(self.init)
        step = self.spec.init_frequency()
        return [(first + i * step).isoformat(timespec="minutes") for i in range(self.inits)]

    @property
    def lead_hours(self) -> list[int]:
        return self.spec.candidate_leads()[: self.leads]

    def data_vars(self) -> list[Any]:
        by_name = {v.name: v for v in self.spec.data_vars()}
        return [by_name[name] for name in self.variables]

    def messages(self) -> list[Message]:
        """Every message the backfill decodes, per variable, member and lead."""
        found = []
        for init in self.init_times:
            for var in self.data_vars():
                for member in self.members or (None,):
                    for lead in self.lead_hours:
                        forecast = var.internal_attrs.forecast_description(lead)
                        source = self.spec.source(self.mirror_dir, init, member, var, lead)
                        if forecast is not None and source is not None:
                            found.append(Message(var, member, lead, forecast, *source, init=init))
        return found

    @property
    def mirror_dir(self) -> Path:
        # Always synthesized for every variable so one mirror serves every variable subset;
        # each dataset's files are under its bucket's name. A pooled mirror serves every init
        # but holds only its leads: a backfill reads every lead a mirror holds.
        if self.pooled:
            return self.work_dir / f"mirror-pooled-{self.leads}-leads"
        return self.work_dir / f"mirror-{self.init.replace(':', '')}"

    def describe(self) -> dict[str, Any]:
        messages = len(self.messages())
        return {
            "dataset": self.dataset,
            "init": self.init,
            **({"inits": self.inits} if self.inits != 1 else {}),
            **({"mirror": "pooled"} if self.pooled else {}),
            "leads": self.leads,
            **(
                {"lead_hours": self.lead_hours, "members": list(self.members)}
                if self.members
                else {}
            ),
            "variables": list(self.variables),
            "messages": messages,
            "raw_bytes": messages * FIELD_BYTES,
        }


def workload_size(workload: Workload) -> str:
    """``24 leads x 25 variables`` (``x 3 members of <dataset>`` for an ensemble), for titles."""
    size = f"{workload.leads} leads x {len(workload.variables)} variables"
    if workload.inits != 1:
        size = f"{workload.inits} inits x {size}"
    if workload.members:
        size += f" x {len(workload.members)} members"
    return size if workload.dataset == DATASET_ID else f"{size} of {workload.dataset}"


def all_variable_names(dataset: str = DATASET_ID) -> tuple[str, ...]:
    return DATASETS[dataset].variable_names()


def ensure_mirror(workload: Workload) -> float:
    """Synthesize the missing source files (+ .idx) of the workload; returns seconds spent.

    Files are kept between runs (git-ignored under benchmarks/results/) and always hold real
    values for every variable, so any variable subset reads the same bytes.
    """
    import time

    from benchmarks.common import log

    def complete(init: str, lead: int) -> bool:
        files = workload.spec.files(workload.mirror_dir, init, workload.members, lead)
        return all(f.exists() and f.with_name(f.name + ".idx").exists() for f in files)

    started = time.perf_counter()
    if workload.pooled:
        files = [
            (init, lead)
            for init in workload.init_times
            for lead in workload.lead_hours
            if not complete(init, lead)
        ]
        if files:
            log(f"writing {len(files)} pooled {workload.dataset} files into {workload.mirror_dir}")
            workload.spec.synthesize_pooled(workload.mirror_dir, files, workload.work_dir)
        return time.perf_counter() - started
    for init in workload.init_times:
        missing = [lead for lead in workload.lead_hours if not complete(init, lead)]
        if missing:
            log(f"synthesizing {workload.dataset} {init} lead(s) {missing} ...")
            workload.spec.synthesize(workload.mirror_dir, init, workload.members, missing)
    return time.perf_counter() - started


def message_bytes(workload: Workload) -> list[tuple[Message, bytes]]:
    """Every message with its GRIB bytes, located through its file's .idx."""
    from reformatters.noaa.common.idx import MessageSelector, parse_noaa_idx

    found = []
    entries_by_path: dict[Path, Any] = {}
    for message in workload.messages():
        path = message.path
        if path not in entries_by_path:
            idx = path.with_name(path.name + ".idx").read_text()
            entries_by_path[path] = (parse_noaa_idx(idx), path.stat().st_size)
        entries, size = entries_by_path[path]
        attrs = message.var.internal_attrs
        selector = MessageSelector(attrs.grib_element, attrs.grib_level, message.forecast)
        position = next(i for i, e in enumerate(entries) if selector.matches(e))
        start = entries[position].offset
        end = entries[position + 1].offset if position + 1 < len(entries) else size
        with path.open("rb") as f:
            f.seek(start)
            found.append((message, f.read(end - start)))
    return found
