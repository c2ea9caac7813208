"""Every failure class maps to one user-facing message (DESIGN §8)."""

from __future__ import annotations


class RepairbotError(Exception):
    """A failure the user can act on. `str(err)` is the one-line message; `exit_code` the CLI status."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class BadInput(RepairbotError):
    """The path, options or project cannot be repaired as given."""


class EnvironmentProblem(RepairbotError):
    """Something outside the project is missing: the Docker engine, a model, an interpreter."""


class NothingToRepair(RepairbotError):
    """The suite already passes."""

    exit_code = 1


class FailingAtBase(NothingToRepair):
    """Tests fail, but each failed the same way at the base (or is flaky): the changes since do not explain
    them, so there is nothing for this change to repair. Callers must not say that the tests pass. `failing`:
    the failing tests kept apart."""

    def __init__(self, message: str, failing: tuple[str, ...], base: str) -> None:
        super().__init__(message)
        self.failing = failing
        self.base = base


def missing_extra(err: ImportError, extra: str, what: str) -> EnvironmentProblem:
    """The error for a feature whose optional dependencies are not installed."""
    return EnvironmentProblem(
        f"{what} needs {err.name or 'a package that is not installed'}",
        hint=f"pip install 'repairbot[{extra}]'",
    )
