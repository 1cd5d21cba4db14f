"""Synthetic Core members and applications for the demo (deterministic, no real people)."""

import csv
import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from domain.applications import APPLICATION_FIELDS, Area
from domain.assessment import ASSESSMENT_FIELDS
from domain.members import ROSTER_FIELDS

FIRST = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jamal",
    "Kira",
    "Luis",
    "Maya",
    "Nikhil",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
]
LAST = [
    "Adams",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jones",
    "Khan",
    "Lopez",
    "Mbeki",
    "Novak",
    "Okafor",
    "Patel",
]
INSTITUTIONS = [
    ("Prairie State University Library", "academic"),
    ("Metro City Public Library", "public"),
    ("Lakeshore Community College", "academic"),
    ("Hill County Library District", "public"),
    ("State Law Library", "special"),
    ("Northern Schools Media Center", "school"),
    ("Great Plains Library Consortium", "consortium"),
    ("River Valley Public Library", "public"),
    ("Coastal University Libraries", "academic"),
    ("Museum of Natural History Library", "special"),
]
ZONES = ["America/Chicago", "America/New_York", "America/Denver", "America/Los_Angeles"]
GOALS = {
    "mentee": [
        "career planning after library school",
        "moving into management",
        "succession planning for my department",
        "job search and interviews",
        "leading a systems migration",
        "shaping my career in metadata",
    ],
    "mentor": [
        "management and leadership coaching",
        "metadata strategy and linked data",
        "facilities planning and renovation",
        "technology and systems migration",
        "assessment and user research",
        "preservation and conservation practice",
    ],
}


def write_demo_files(
    folder: Path, year: int, members: int = 90, seed: int = 7
) -> tuple[Path, Path]:
    """A roster and an applications file for cycle ``year``; returns their paths."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    people = []
    for n in range(members):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        institution, kind = rng.choice(INSTITUTIONS)
        expires = date(year + 2, 1 + n % 12, 1) if n % 15 else date(year, 3, 1)
        people.append(
            (
                f"D{n:04d}",
                first,
                last,
                f"{first}.{last}.{n}@example.org".lower(),
                institution,
                kind,
                expires,
            )
        )
    roster = folder / "roster.csv"
    with roster.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ROSTER_FIELDS)
        for pid, first, last, email, institution, _, expires in people:
            writer.writerow([pid, first, last, email, institution, expires.isoformat()])
    applications = folder / "applications.csv"
    opens = datetime(year, 8, 3, 9)
    with applications.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(APPLICATION_FIELDS)
        for n, (pid, _, _, email, institution, kind, _) in enumerate(people[:60]):
            role = "mentor" if n % 3 == 0 else "both" if n % 10 == 1 else "mentee"
            stage = (
                rng.choice(["senior", "mid"])
                if role != "mentee"
                else rng.choice(["student", "early", "early", "mid"])
            )
            areas = ";".join(str(a) for a in rng.sample(list(Area), rng.randint(1, 3)))
            goals = rng.choice(GOALS["mentee" if role == "mentee" else "mentor"])
            writer.writerow(
                [
                    (opens + timedelta(hours=13 * n)).isoformat(timespec="minutes"),
                    pid,
                    email,
                    role,
                    areas,
                    stage,
                    institution,
                    kind,
                    rng.choice(ZONES),
                    goals,
                    "" if role == "mentee" else rng.randint(1, 3),
                ]
            )
    return roster, applications


COMMENTS = [
    "",
    "",
    "Monthly check-ins kept us on track.",
    "Would have liked more structure in the first month.",
    "Helped me prepare for my first supervisory role.",
    "Good to reflect on my own practice.",
]


def write_demo_survey(
    folder: Path,
    year: int,
    pairs: list[tuple[str, str]],
    answered: Collection[tuple[str, str]] = (),
    seed: int = 11,
) -> Path:
    """The July survey export: about four in five participants answer, once per role they
    had, leaving out the (member, role) places ``answered`` on the site."""
    rng = random.Random(seed)
    places = sorted({(m, "mentor") for m, _ in pairs} | {(e, "mentee") for _, e in pairs})
    places = [place for place in places if place not in answered]
    survey = folder / "assessment.csv"
    opens = datetime(year + 1, 7, 2, 9)
    with survey.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ASSESSMENT_FIELDS)
        for n, (member_id, role) in enumerate(places):
            if rng.random() > 0.8:
                continue
            overall = rng.choice([3, 4, 4, 5, 5])
            writer.writerow(
                [
                    (opens + timedelta(hours=7 * n)).isoformat(timespec="minutes"),
                    member_id,
                    role,
                    overall,
                    max(1, overall - rng.choice([0, 0, 1])),
                    "yes" if overall >= 4 else rng.choice(["yes", "no"]),
                    rng.choice(["yes", "no"]),
                    rng.choice(COMMENTS),
                ]
            )
    return survey


@dataclass(frozen=True)
class SiteApplicant:
    """The member the demo signs in to the participants' site, and what they post there."""

    member_id: str
    email: str
    form: dict[str, str | list[str]]


def member_emails(roster: Path) -> dict[str, str]:
    """Each member's address on ``roster``, by member id."""
    with roster.open(newline="") as handle:
        return {row["member_id"]: row["email"] for row in csv.DictReader(handle)}


def site_applicant(roster: Path, applications: Path, on: date) -> SiteApplicant:
    """The first member on ``roster``, still a Core member ``on`` that day, who is not in
    ``applications``: they apply on the site, as a mentee."""
    with applications.open(newline="") as handle:
        applied = {row["member_id"] for row in csv.DictReader(handle)}
    with roster.open(newline="") as handle:
        row = next(
            r
            for r in csv.DictReader(handle)
            if r["member_id"] not in applied and date.fromisoformat(r["membership_expires"]) > on
        )
    form: dict[str, str | list[str]] = {
        "role": "mentee",
        "areas": ["Leadership & Management", "Technology"],
        "career_stage": "early",
        "library_type": "public",
        "time_zone": "America/Chicago",
        "goals": "moving into management",
        "max_mentees": "",
    }
    return SiteApplicant(row["member_id"], row["email"], form)
