"""Where a pairing set and its pairs stand, from the proposal to the pair's end."""

from enum import StrEnum


class PairingSetStatus(StrEnum):
    """A set is ``proposed`` for review, ``approved`` by the committee, or ``superseded`` by
    a newer proposal (or a newer approval)."""

    proposed = "proposed"
    approved = "approved"
    superseded = "superseded"


class PairStatus(StrEnum):
    """A pair is ``active`` until a partner withdraws (``withdrawn``) or the committee ends
    it (``ended``)."""

    active = "active"
    withdrawn = "withdrawn"
    ended = "ended"
