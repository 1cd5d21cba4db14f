"""How role-specific form exports combine: one person, two forms, one application.

The committee's Google Forms are one for mentors and one for mentees; a member who
answers both (the mentor form's "also a mentee?" = Yes) is a ``both`` participant. The
mentor form carries the capacity, the mentee form what they hope to get out of it.
"""

import dataclasses

from domain.applications import Application, Role


def combine_forms(earlier: Application, later: Application) -> Application:
    """The later form's answers, with the roles of both forms and the mentor's capacity."""
    if later.role is Role.BOTH or earlier.role is later.role:
        return later
    mentor_side = later if later.is_mentor else earlier
    goals = later.goals if earlier.goals == later.goals else f"{earlier.goals}; {later.goals}"
    return dataclasses.replace(
        later,
        role=Role.BOTH,
        max_mentees=mentor_side.max_mentees,
        areas=earlier.areas | later.areas,
        goals=goals,
    )
