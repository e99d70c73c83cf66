"""Structured logging: key=value lines on a terminal, JSON lines elsewhere (e.g. Kubernetes)."""

import logging
import os
import sys

import structlog


def configure_logging(level: str | None = None) -> None:
    level_name = (level or os.environ.get("REFORMATTERS_LOG_LEVEL", "INFO")).upper()
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(colors=False)
        if sys.stderr.isatty()
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level_name]
        ),
        # The stderr of the moment, not of configuration time (tests and embedding applications
        # swap sys.stderr; a bound one may be closed by the time something logs).
        logger_factory=_current_stderr_logger,
        cache_logger_on_first_use=False,
    )


def _current_stderr_logger(*_: object) -> structlog.PrintLogger:
    return structlog.PrintLogger(file=sys.stderr)


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
