"""The Sandbox protocol: where tests and candidates run."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from repairbot.models import RunSpec, TestRun


class Sandbox(Protocol):
    """Runs test suites of work trees that live under the job's scratch directory.

    One sandbox serves one repair job: it is opened once (`__enter__`), serves many `run` calls, possibly
    from several threads at once (up to `max_parallel`), and leaves nothing behind on `__exit__`.
    """

    name: str  # "docker" or "local"
    description: str  # one line for the report: what isolation and image were used

    @property
    def max_parallel(self) -> int: ...

    @property
    def notes(self) -> tuple[str, ...]:
        """For the report: instruments repairbot supplied to the test interpreter, degraded modes."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def run(self, spec: RunSpec) -> TestRun: ...
