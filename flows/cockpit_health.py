"""The pairs' health on the "Cycle YEAR" status page: who needs the committee, who meets.

Built from :func:`flows.usecases.pair_health.program_health`, so it shows what
``mentoring pairs health`` shows: counts, dates, scores and flags, never a note.
"""

from domain.cycle_states import CycleState
from flows.cockpit_pages import md
from flows.usecases.pair_health import ProgramHealth, attention_sentence, health_words

SHOWN_IN = frozenset({CycleState.active, CycleState.ended, CycleState.assessed})
"""The states in which pairs meet or have met: the section appears from mentoring's start."""


def health_section(health: ProgramHealth) -> list[str]:
    """Flagged pairs first, then how many pairs met, month by month."""
    pairs = health.pairs
    lines = ["## The pairs", ""]
    if not pairs:
        return [*lines, "No active pairs.", ""]
    flagged = [p for p in pairs if p.flagged]
    met = sum(1 for p in pairs if p.meetings)
    goals = sum(1 for p in pairs if p.goals_set)
    lines += [
        f"- {len(pairs)} active pairs: {met} have logged a meeting, {goals} have set goals.",
        f"- Needing the committee's attention: {len(flagged) or 'none'}.",
        "",
    ]
    if flagged:
        lines += ["### Needing attention", ""]
        lines += [f"- {md(attention_sentence(p))}" for p in flagged]
        lines.append("")
    if health.months:
        lines += ["### Pairs that met, month by month", ""]
        lines += [f"- {health_words(share)}" for share in health.months]
        lines.append("")
    return lines
