"""The pairs' health on the status page: flagged pairs first, counts, months; no notes."""

from datetime import date

from flows.cockpit_health import health_section
from flows.usecases.pair_health import MonthlyShare, PairHealth, ProgramHealth


def _pair(number: int, *, meetings: int, flagged: bool = False, goals: bool = True) -> PairHealth:
    return PairHealth(
        pair_id=number,
        mentor_id=f"M{number}",
        mentor_name=f"Mentor {number}",
        mentee_id=f"E{number}",
        mentee_name=f"Mentee {number}",
        meetings=meetings,
        last_meeting=date(2027, 1, 10) if meetings else None,
        last_score=2 if flagged else 4,
        goals_set=goals,
        flagged=flagged,
        reasons=("the check-in scored 2 of 5",) if flagged else (),
    )


def test_flagged_pairs_come_first_with_their_reasons_and_the_months_are_counted() -> None:
    health = ProgramHealth(
        2026,
        (_pair(1, meetings=0, flagged=True, goals=False), _pair(2, meetings=3)),
        (MonthlyShare("2026-12", 1, 2), MonthlyShare("2027-01", 2, 2)),
    )
    text = "\n".join(health_section(health))
    assert "2 active pairs: 1 have logged a meeting, 1 have set goals." in text
    assert "Needing the committee's attention: 1." in text
    attention = text.index("### Needing attention")
    assert "Mentor 1 (M1) and Mentee 1 (E1): the check-in scored 2 of 5" in text[attention:]
    assert "Mentor 2" not in text  # a pair doing well is counted, not listed
    assert "December 2026: 1 of 2 pairs met (50%)" in text
    assert "January 2027: 2 of 2 pairs met (100%)" in text


def test_no_pairs_and_no_flags_are_said_plainly() -> None:
    assert "No active pairs." in health_section(ProgramHealth(2026, ()))
    calm = "\n".join(health_section(ProgramHealth(2026, (_pair(1, meetings=1),))))
    assert "Needing the committee's attention: none." in calm
    assert "### Needing attention" not in calm
