"""Structured logging: readable lines on a terminal, JSON lines elsewhere (e.g. Kubernetes).

``REFORMATTERS_LOG_FORMAT=console|json`` chooses; by default a terminal on stderr gets console
lines (level, time, message, fields) and anything else (a pipe, a file, a log collector) JSON.
``REFORMATTERS_LOG_LEVEL`` sets the level (default INFO).
"""

import logging
import os
import sys

import structlog

from reformatters.core.errors import InvalidArgumentError

LOG_FORMAT_ENV = "REFORMATTERS_LOG_FORMAT"
LOG_LEVEL_ENV = "REFORMATTERS_LOG_LEVEL"
LOG_FORMATS = ("console", "json")


def log_format() -> str:
    configured = os.environ.get(LOG_FORMAT_ENV, "").strip().lower()
    if not configured:
        return "console" if sys.stderr.isatty() else "json"
    if configured not in LOG_FORMATS:
        raise InvalidArgumentError(
            f"{LOG_FORMAT_ENV}={configured!r} is not a log format: use console or json"
        )
    return configured


def configure_logging(level: str | None = None) -> None:
    level_name = (level or os.environ.get(LOG_LEVEL_ENV, "INFO")).upper()
    levels = logging.getLevelNamesMapping()
    if level_name not in levels:
        raise InvalidArgumentError(
            f"{LOG_LEVEL_ENV}={level_name!r} is not a log level: use DEBUG, INFO, WARNING or ERROR"
        )
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
    ]
    if log_format() == "console":
        processors += [
            structlog.processors.TimeStamper(fmt="%H:%M:%S", utc=False),
            structlog.dev.ConsoleRenderer(
                colors=sys.stderr.isatty(), pad_event=32, sort_keys=False
            ),
        ]
    else:
        processors += [
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(levels[level_name]),
        # The stderr of the moment, not of configuration time (tests and embedding applications
        # swap sys.stderr, and a progress bar redirects it so log lines print above the bar).
        logger_factory=_current_stderr_logger,
        cache_logger_on_first_use=False,
    )


def _current_stderr_logger(*_: object) -> structlog.PrintLogger:
    return structlog.PrintLogger(file=sys.stderr)


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
