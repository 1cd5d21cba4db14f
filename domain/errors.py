"""Errors the domain raises: each carries one sentence a committee member can act on."""


class DomainError(Exception):
    """A request the program's rules refuse (exit code 1 on the command line)."""


class TransitionRefused(DomainError):
    """An event that the cycle's current state or a guard does not allow; ``missing`` names
    what would let it through (``reason``, ``approved_pairings``), for an entry point's hint."""

    def __init__(self, message: str, *, year: int, missing: str | None = None) -> None:
        super().__init__(message)
        self.year, self.missing = year, missing


class MissingValue(DomainError):
    """A value the rules require was left empty; ``field`` names it (``actor``, ``reason``)
    so each entry point can point at its own input (a flag, a form field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class CycleNotFound(DomainError):
    """No cycle exists for the requested year; ``year`` lets an entry point say how to
    create it."""

    def __init__(self, message: str, *, year: int | None = None) -> None:
        super().__init__(message)
        self.year = year

    @classmethod
    def for_year(cls, year: int) -> "CycleNotFound":
        return cls(f"there is no cycle {year}", year=year)


class CalendarError(DomainError):
    """A milestone date that cannot be set (past, out of order, unknown)."""
