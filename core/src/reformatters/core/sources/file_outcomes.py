"""Process many source files in threads, where a source error fails only its own file."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from reformatters.core.sources.errors import SourceError

__all__ = ["FileOutcome", "collect_outcomes", "iter_ok"]


@dataclass(frozen=True, slots=True)
class FileOutcome[T]:
    """The result of processing one source file: a value, or the source error that stopped it."""

    url: str
    value: T | None = None
    error: SourceError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def collect_outcomes[T](
    urls: Sequence[str], process: Callable[[str], T], *, max_workers: int = 4
) -> list[FileOutcome[T]]:
    """Run ``process`` on every URL in a thread pool; a ``SourceError`` fails only its own file.

    Other exceptions are bugs and propagate.
    """

    def run(url: str) -> FileOutcome[T]:
        try:
            return FileOutcome(url, value=process(url))
        except SourceError as error:
            return FileOutcome(url, error=error)

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(run, urls))


def iter_ok[T](outcomes: Sequence[FileOutcome[T]]) -> Iterator[tuple[str, T]]:
    """The successful outcomes' (url, value) pairs."""
    for outcome in outcomes:
        if outcome.error is None:
            assert outcome.value is not None
            yield outcome.url, outcome.value
