"""reformatters-core: templates, region jobs, storage, sources and the plugin hooks.

The public names load on first use (PEP 562), so importing a light submodule (errors, parallel)
does not import xarray, zarr and pandas: ``reformat`` starts its worker server before those.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from reformatters.core.dynamical_dataset import (
        DynamicalDataset,
        JobFilters,
    )
    from reformatters.core.hookspecs import (
        hookimpl,
    )
    from reformatters.core.region_job import (
        RegionJob,
        SourceFileCoord,
        SourceFileStatus,
        get_worker_jobs,
    )
    from reformatters.core.sources.errors import (
        SourceFileMissingError,
    )
    from reformatters.core.template_config import (
        TemplateConfig,
    )

_MODULE_OF = {
    "BaseInternalAttrs": "reformatters.core.config_models",
    "BloscCompression": "reformatters.core.config_models",
    "Coordinate": "reformatters.core.config_models",
    "CoordinateAttrs": "reformatters.core.config_models",
    "DatasetAttributes": "reformatters.core.config_models",
    "DataVar": "reformatters.core.config_models",
    "DataVarAttrs": "reformatters.core.config_models",
    "Encoding": "reformatters.core.config_models",
    "FrozenModel": "reformatters.core.config_models",
    "DynamicalDataset": "reformatters.core.dynamical_dataset",
    "JobFilters": "reformatters.core.dynamical_dataset",
    "hookimpl": "reformatters.core.hookspecs",
    "RegionJob": "reformatters.core.region_job",
    "SourceFileCoord": "reformatters.core.region_job",
    "SourceFileStatus": "reformatters.core.region_job",
    "get_worker_jobs": "reformatters.core.region_job",
    "SourceFileMissingError": "reformatters.core.sources.errors",
    "TemplateConfig": "reformatters.core.template_config",
}

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


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
