"""reformatters-core: templates, region jobs, storage, sources and the plugin hooks."""

from reformatters.core.config_models import (
    BaseInternalAttrs,
    BloscCompression,
    Coordinate,
    CoordinateAttrs,
    DatasetAttributes,
    DataVar,
    DataVarAttrs,
    Encoding,
    FrozenModel,
)
from reformatters.core.dynamical_dataset import DynamicalDataset, JobFilters
from reformatters.core.hookspecs import hookimpl
from reformatters.core.region_job import (
    RegionJob,
    SourceFileCoord,
    SourceFileStatus,
    get_worker_jobs,
)
from reformatters.core.sources.errors import SourceFileMissingError
from reformatters.core.template_config import TemplateConfig

__all__ = [
    "BaseInternalAttrs",
    "BloscCompression",
    "Coordinate",
    "CoordinateAttrs",
    "DataVar",
    "DataVarAttrs",
    "DatasetAttributes",
    "DynamicalDataset",
    "Encoding",
    "FrozenModel",
    "JobFilters",
    "RegionJob",
    "SourceFileCoord",
    "SourceFileMissingError",
    "SourceFileStatus",
    "TemplateConfig",
    "get_worker_jobs",
    "hookimpl",
]
