"""The names derived from ``<provider> <model> <variant>``, and their validation."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from enum import StrEnum

from reformatters.core.errors import UserError

MAX_NAME_LENGTH = 16
MAX_VARIANT_LENGTH = 20
_NAME = re.compile(r"[a-z][a-z0-9]*")
_VARIANT = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# Providers that would shadow the framework's own subpackages of ``reformatters``.
_RESERVED_PROVIDERS = frozenset({"core", "tools", "testing"})
# Variants that would collide with modules and folders of the generated package.
_RESERVED_VARIANTS = frozenset({"plugin", "tests", "templates"})
# Placeholder dates of the generated template (its card's start, two 6-hourly inits after it).
_EXAMPLE_START = "2024-01-01T00"
_EXAMPLE_END = "2024-01-01T12"


class DatasetKind(StrEnum):
    """The shape of the generated dataset."""

    FORECAST = "forecast"  # init_time x lead_time x latitude x longitude, one file per init+lead
    ANALYSIS = "analysis"  # time x latitude x longitude, one file per time

    @classmethod
    def for_variant(cls, variant: str) -> DatasetKind:
        """The default: ``analysis`` for variants named like one, else ``forecast``."""
        return cls.ANALYSIS if "analysis" in variant else cls.FORECAST


@dataclass(frozen=True)
class IntegrationNames:
    """Every name derived from ``<provider> <model> <variant>``."""

    provider: str
    model: str
    variant: str

    @property
    def package_dir(self) -> str:
        return f"{self.provider}-{self.model}"

    @property
    def distribution(self) -> str:
        return f"reformatters-{self.provider}-{self.model}"

    @property
    def entry_point(self) -> str:
        return f"{self.provider}-{self.model}"

    @property
    def import_root(self) -> str:
        return f"reformatters.{self.provider}.{self.model}"

    @property
    def variant_module(self) -> str:
        return f"{self.import_root}.{self.variant}"

    @property
    def dataset_id(self) -> str:
        return f"{self.provider}-{self.model}-{self.variant.replace('_', '-')}"

    @property
    def variant_class(self) -> str:
        """CamelCase prefix of the variant's classes (``forecast_48_hour``: Forecast48Hour)."""
        return "".join(part.capitalize() for part in self.variant.split("_"))

    @property
    def factory(self) -> str:
        return f"make_{self.variant}_dataset"

    @property
    def test_file(self) -> str:
        return f"test_{self.provider}_{self.model}_{self.variant}.py"

    def substitutions(self) -> dict[str, str]:
        return {
            "provider": self.provider,
            "model": self.model,
            "variant": self.variant,
            "Variant": self.variant_class,
            "provider_title": self.provider.upper(),
            "model_title": self.model.upper(),
            "dataset_id": self.dataset_id,
            "dataset_name": (
                f"{self.provider.upper()} {self.model.upper()} {self.variant.replace('_', ' ')}"
            ),
            "distribution": self.distribution,
            "entry_point": self.entry_point,
            "package_dir": self.package_dir,
            "start": _EXAMPLE_START,
            "end": _EXAMPLE_END,
        }


def _check_name(kind: str, value: str, pattern: re.Pattern[str], max_length: int) -> None:
    rule = (
        "lowercase letters and digits, starting with a letter"
        if pattern is _NAME
        else "lowercase letters and digits, starting with a letter, parts joined by '_'"
    )
    if not pattern.fullmatch(value):
        raise UserError(
            f"{kind} {value!r} is not valid: use {rule} (e.g. 'noaa', 'gfs', 'forecast')"
        )
    if len(value) > max_length:
        raise UserError(f"{kind} {value!r} is longer than {max_length} characters")
    if keyword.iskeyword(value) or keyword.issoftkeyword(value):
        raise UserError(f"{kind} {value!r} is a Python keyword and cannot be a module name")


def validate_names(provider: str, model: str, variant: str) -> IntegrationNames:
    """Check the three names; raise ``UserError`` saying what is wrong."""
    _check_name("provider", provider, _NAME, MAX_NAME_LENGTH)
    _check_name("model", model, _NAME, MAX_NAME_LENGTH)
    _check_name("variant", variant, _VARIANT, MAX_VARIANT_LENGTH)
    if provider in _RESERVED_PROVIDERS:
        raise UserError(
            f"provider {provider!r} would shadow reformatters.{provider}; choose another name"
        )
    if variant in _RESERVED_VARIANTS:
        raise UserError(f"variant {variant!r} collides with the package's own {variant!r}")
    return IntegrationNames(provider, model, variant)
