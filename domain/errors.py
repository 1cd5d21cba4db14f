"""Errors the domain raises: each carries one sentence a committee member can act on."""


class DomainError(Exception):
    """A request the program's rules refuse (exit code 1 on the command line)."""


class TransitionRefused(DomainError):
    """An event that the cycle's current state or a guard does not allow."""


class CycleNotFound(DomainError):
    """No cycle exists for the requested year."""


class CalendarError(DomainError):
    """A milestone date that cannot be set (past, out of order, unknown)."""
