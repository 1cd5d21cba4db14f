"""Stored values the program cannot use, refused with the cycle, column and value named.

Every value is checked where it enters the program, but a row changed by hand (SQL, a
restore from elsewhere) can still hold one the domain refuses. A repository that meets
one raises :class:`UnusableStoredValue` as it turns the row into a domain object, so the
refusal says which cycle and which column to correct, instead of a ``ValueError`` or a
``KeyError`` escaping later from wherever the value is first used.
"""

from domain.errors import DomainError
from domain.values import shown

IN_THE_DATABASE = "correct it in the database"


class UnusableStoredValue(DomainError):
    """A stored value the domain refuses; ``column`` names it as ``table.column`` (or a
    section of a JSON column), ``year`` the cycle whose row holds it.

    The sentence reads: cycle 2026's stored time zone 'America' (cycles.timezone) is not
    an IANA zone name; correct it in the database, e.g. to America/Chicago.
    """

    def __init__(self, year: int, column: str, what: str, problem: str, fix: str) -> None:
        super().__init__(f"cycle {year}'s stored {what} ({column}) {problem}; {fix}")
        self.year, self.column = year, column

    @classmethod
    def value(
        cls, year: int, column: str, what: str, value: object, problem: str, fix: str
    ) -> "UnusableStoredValue":
        """The refusal of one stored value, quoted (cut short if long)."""
        quoted = shown(value) if isinstance(value, str) else repr(value)
        return cls(year, column, f"{what} {quoted}", problem, fix)
