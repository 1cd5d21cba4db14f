"""Sign-in requests counted per address and per client, in this process's memory.

A moving window (the ``limits`` library): a key may make ``count`` requests in any
``seconds``. The counts live in one process (restarting the site forgets them; two
processes would each count their own): enough for the one process ``mentoring portal`` runs.
"""

from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


@dataclass(frozen=True)
class Limit:
    """``count`` requests per ``seconds``."""

    count: int
    seconds: int


class SlidingWindow:
    """Counts requests per key; :meth:`hit` says whether one more is within the limit."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self._item = RateLimitItemPerSecond(limit.count, limit.seconds)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, key: str) -> bool:
        """Count a request by ``key``; False (not counted) once it is over the limit."""
        return bool(self._limiter.hit(self._item, key))


@dataclass
class SignInLimits:
    """The two limits on ``POST /sign-in``."""

    per_address: SlidingWindow
    per_client: SlidingWindow

    @classmethod
    def default(cls) -> "SignInLimits":
        """5 per address and 20 per client in any 15 minutes."""
        return cls(SlidingWindow(Limit(5, 15 * 60)), SlidingWindow(Limit(20, 15 * 60)))
