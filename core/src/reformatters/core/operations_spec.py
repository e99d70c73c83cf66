"""What a dataset declares about how it is operated: resources, schedules, thresholds.

Every model is frozen. A dataset declares ``operations: ClassVar[OperationsSpec] = ...`` (or
overrides ``DynamicalDataset.operations_config()``); ``model_copy(update=...)`` suits small changes.
Quantities use Kubernetes notation ("4Gi", "500m"). The checks ``validate`` runs are data too:
``ValidationSpec.validators``, functions of a ``ValidationContext`` (see operations.validation).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from reformatters.core.config_models import DataVar, FrozenModel

if TYPE_CHECKING:
    import xarray as xr

    from reformatters.core.storage import OutputStores

DEFAULT_IMAGE = "ghcr.io/dynamical-org/reformatters:latest"

_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_HINTS = ("SECRET", "PASSWORD", "TOKEN", "CREDENTIAL", "PRIVATE", "ACCESS_KEY")


def _check_quantity(value: str) -> str:
    if not _QUANTITY.match(value):
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. '2', '500m', '4Gi')")
    return value


class ContainerResources(FrozenModel):
    """CPU and memory of one container, its memory-backed /dev/shm and its scratch volume.

    Memory is both request and limit (a pod that swaps or gets OOM-killed mid-shard is worse than
    one that is scheduled later); /dev/shm counts against the memory limit.
    """

    cpu: str = "1"
    cpu_limit: str | None = None
    memory: str = "4Gi"
    shared_memory: str = "512Mi"
    ephemeral_storage: str = "10Gi"

    @field_validator("cpu", "cpu_limit", "memory", "shared_memory", "ephemeral_storage")
    @classmethod
    def _quantities(cls, value: str | None) -> str | None:
        return value if value is None else _check_quantity(value)


class PodSettings(FrozenModel):
    """Settings shared by every pod of a dataset (backfill workers, update, validate)."""

    # Each Secret is mounted with envFrom: keys become environment variables (e.g. AWS_*).
    secret_names: tuple[str, ...] = ("reformatters-storage",)
    # Plain, non-secret environment (e.g. REFORMATTERS_OUTPUT_URL, AWS_REGION).
    env: dict[str, str] = Field(default_factory=dict)
    service_account_name: str | None = None
    node_selector: dict[str, str] = Field(default_factory=dict)
    run_as_user: int = 1000
    image_pull_policy: str = "IfNotPresent"

    @field_validator("env")
    @classmethod
    def _no_credentials_in_plain_env(cls, env: dict[str, str]) -> dict[str, str]:
        for name in env:
            if not _ENV_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid environment variable name")
            if any(hint in name.upper() for hint in _SECRET_HINTS):
                raise ValueError(
                    f"{name} looks like a credential: put it in a Secret named in secret_names"
                )
        return env


class ScheduledCommand(FrozenModel):
    """A command run by a CronJob (``update`` or ``validate``): when, with what, for how long."""

    # Five-field cron expression, evaluated in UTC.
    cron: str
    resources: ContainerResources = ContainerResources()
    active_deadline: timedelta = timedelta(minutes=30)
    starting_deadline: timedelta = timedelta(minutes=10)
    ttl_after_finished: timedelta = timedelta(days=1)
    backoff_limit: int = 1
    suspend: bool = False

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, cron: str) -> str:
        from cronsim import CronSim, CronSimError

        from reformatters.core.schedule import SCHEDULE_ORIGIN

        if len(cron.split()) != 5:
            raise ValueError(f"cron {cron!r} must have five fields")
        try:
            CronSim(cron, SCHEDULE_ORIGIN)
        except CronSimError as e:
            raise ValueError(f"cron {cron!r}: {e}") from e
        return cron


class UpdateSchedule(ScheduledCommand):
    """When new source data is expected and when the update job runs."""

    # Hours (UTC) of the provider's runs, e.g. (0, 6, 12, 18); informational.
    run_hours_utc: tuple[int, ...] = ()
    # Time from a position (e.g. an init time) until its files are typically all published. The
    # update processes positions up to its scheduled time minus this latency (files that are
    # still missing are trimmed and picked up by a later run).
    typical_latency: timedelta = timedelta(0)


class ArchiveSchedule(ScheduledCommand):
    """The source archiver (``archive-sources``), for providers that keep their files briefly:
    each run copies, as published, the files of every run of the last ``lookback`` that the
    archive does not hold complete yet (see operations.archive)."""

    # Where the copies go (e.g. s3://bucket/sources); None: $REFORMATTERS_ARCHIVE_URL in the pod
    # (its env or one of its Secrets).
    archive_url: str | None = None
    # Shorter than the provider keeps a run, longer than the schedule's interval (a missed run
    # is caught up by the next one).
    lookback: timedelta = timedelta(hours=24)


class ValidationSpec(ScheduledCommand):
    """What the validator checks after each update."""

    # The checks, in order; None: validation.STANDARD_VALIDATORS. To add one of your own, list
    # (*STANDARD_VALIDATORS, my_check).
    validators: tuple[Validator, ...] | None = None

    # The newest append-dim value must be at most this old (relative to the check's time).
    max_latest_age: timedelta = timedelta(days=1)
    # NaN fraction checks look at the append-dim positions within this window of the newest one
    # (zero: only the newest)...
    recent_window: timedelta = timedelta(0)
    # ...and fail if any checked variable's NaN fraction there exceeds this...
    max_nan_fraction: float = Field(default=0.0, ge=0.0, le=1.0)
    # ...or its own limit, for variables whose NaN has a meaning (e.g. "no cloud ceiling").
    nan_fraction_limits: dict[str, float] = Field(default_factory=dict)
    # Variables checked for NaN fraction (None: all data variables).
    nan_check_variables: tuple[str, ...] | None = None
    # Lead times left out of the NaN check (forecasts; e.g. window statistics at lead 0).
    nan_check_exclude_leads: tuple[timedelta, ...] = ()
    # Variables the source carries only up to a lead time: their later leads are left out of
    # the NaN check (they are NaN by design).
    nan_check_max_lead: dict[str, timedelta] = Field(default_factory=dict)
    # Positions along other dims the NaN and range checks look at, for datasets too large to
    # read whole (e.g. a few of an ensemble's members); all positions when a dim is not named.
    check_positions: dict[str, tuple[int, ...]] = Field(default_factory=dict)


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class ValidationContext:
    """What a validator is given: the published dataset, opened, and the dataset's thresholds."""

    dataset_id: str
    append_dim: str
    append_dim_frequency: timedelta
    data_vars: tuple[DataVar[Any], ...]
    spec: ValidationSpec
    outputs: OutputStores
    ds: xr.Dataset
    now: datetime


type Validator = Callable[[ValidationContext], Sequence[CheckResult]]


class BackfillJobConfig(FrozenModel):
    """The Indexed Job of ``backfill-kubernetes``."""

    resources: ContainerResources = ContainerResources(cpu="2", memory="8Gi")
    backoff_limit_per_index: int = 3
    active_deadline: timedelta = timedelta(days=3)
    ttl_after_finished: timedelta = timedelta(days=7)


class OperationsSpec(FrozenModel):
    """Everything operational a dataset declares; the defaults suit a small hourly dataset.

    Datasets set it as a class attribute, ``operations: ClassVar[OperationsSpec] = ...``, or
    override ``DynamicalDataset.operations_config()``.
    """

    update: UpdateSchedule = UpdateSchedule(cron="0 * * * *")
    validation: ValidationSpec = ValidationSpec(
        cron="30 * * * *",
        resources=ContainerResources(cpu="500m", memory="2Gi"),
        active_deadline=timedelta(minutes=15),
    )
    backfill: BackfillJobConfig = BackfillJobConfig()
    # A CronJob that archives the source files (None: the provider keeps them).
    archive: ArchiveSchedule | None = None
    pod: PodSettings = PodSettings()
    # Default container image of this dataset's pods (else $REFORMATTERS_IMAGE or DEFAULT_IMAGE).
    image: str | None = None
