"""What an import run from the Prefect UI says and shows: its sentence (the run's state
message and first log line), its counts, and its page (a markdown artifact listing each
refused line and why).

Only wording and rendering live here; flows/committee_imports.py reads the boxes, calls
the use cases and publishes. Applications and survey answers are reported in one shape
(:func:`cycle_import_report`); the roster, which belongs to no cycle, in its own.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.time_words import moment_words
from flows.cockpit_pages import md

ROSTER_KEY = "roster-import"


class ImportKind(StrEnum):
    """What a form imports; its value names the cycle's import page."""

    roster = "roster"
    applications = "applications"
    survey_answers = "survey-answers"


TITLES: Mapping[ImportKind, str] = {
    ImportKind.roster: "Import of the membership roster",
    ImportKind.applications: "Import of applications",
    ImportKind.survey_answers: "Import of survey answers",
}

NOTHING_SAVED = "Nothing was saved; run again with dry_run (Check only) switched off to import."


def import_key(kind: ImportKind, year: int | None) -> str:
    """The artifact key of an import's page: ``roster-import``, ``cycle-YEAR-import-KIND``."""
    return ROSTER_KEY if year is None else f"cycle-{year}-import-{kind}"


def see_the_page(kind: ImportKind, year: int | None) -> str:
    """Where the committee finds the refused lines, as the UI shows it."""
    return f"see “{import_key(kind, year)}” in the run's Artifacts tab"


def count_words(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` with its noun, plural unless one: "1 line", "3 survey answers"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


@dataclass(frozen=True)
class ImportReport:
    """What one import run found or did, ready to be said and shown."""

    kind: ImportKind
    year: int | None
    saved: bool
    sentence: str
    counts: Sequence[tuple[str, int]]
    rejected: Sequence[Mapping[str, Any]]
    warnings: Sequence[Mapping[str, Any]] = ()
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return import_key(self.kind, self.year)


def _checked(kind: ImportKind, year: int | None, lines: int, would: str, refused: int) -> str:
    return (
        f"Checked {count_words(lines, 'line')}: {would}, {refused} refused "
        f"({see_the_page(kind, year)}). {NOTHING_SAVED}"
    )


@dataclass(frozen=True)
class RosterFigures:
    """What a roster import counted."""

    added: int
    updated: int
    unchanged: int
    refused: int


def roster_report(
    figures: RosterFigures,
    *,
    actor: str,
    saved: bool,
    rejected: Sequence[Mapping[str, Any]],
    data: Mapping[str, Any],
) -> ImportReport:
    """The roster's sentence and counts, checked only or imported."""
    kind = ImportKind.roster
    added = count_words(figures.added, "member")
    if saved:
        sentence = (
            f"Roster imported (by {actor}): {added} added, {figures.updated} updated, "
            f"{figures.unchanged} unchanged; {count_words(figures.refused, 'line')} refused "
            f"({see_the_page(kind, None)})."
        )
    else:
        lines = figures.added + figures.updated + figures.unchanged + figures.refused
        would = f"{added} would be added, {figures.updated} updated, {figures.unchanged} unchanged"
        sentence = _checked(kind, None, lines, would, figures.refused)
    counts = [
        ("added", figures.added),
        ("updated", figures.updated),
        ("unchanged", figures.unchanged),
        ("refused", figures.refused),
    ]
    return ImportReport(kind, None, saved, sentence, counts, rejected, data=data)


@dataclass(frozen=True)
class CycleImportFigures:
    """What an import into a cycle counted, alike for applications and survey answers.

    ``repeats`` are the lines the file gives again for the same answer (the later one is
    kept); ``replaced``, the earlier ones the import replaces (in the file, and once saved
    also those stored before); ``messages``, the mail it queued (None: it queues none)."""

    noun: str
    imported: int
    repeats: int
    replaced: int
    refused: int
    warnings: int | None = None
    messages: int | None = None


def cycle_import_report(
    kind: ImportKind,
    year: int,
    figures: CycleImportFigures,
    *,
    actor: str,
    saved: bool,
    rejected: Sequence[Mapping[str, Any]],
    warnings: Sequence[Mapping[str, Any]] = (),
    data: Mapping[str, Any],
) -> ImportReport:
    """The sentence and counts of an import into cycle ``year``, checked only or saved."""
    taken = count_words(figures.imported, figures.noun)
    if saved:
        sentence = (
            f"Imported {taken} into cycle {year} (by {actor}); "
            f"{count_words(figures.refused, 'line')} refused ({see_the_page(kind, year)})"
        )
        if figures.messages is not None:
            sentence += f"; {count_words(figures.messages, 'message')} to send"
        sentence += "."
        counts = [
            ("imported", figures.imported),
            (f"replacing an earlier {figures.noun}", figures.replaced),
        ]
    else:
        lines = figures.imported + figures.repeats + figures.refused
        sentence = _checked(kind, year, lines, f"{taken} would be imported", figures.refused)
        counts = [
            ("would be imported", figures.imported),
            ("repeated in the file", figures.repeats),
        ]
    counts.append(("refused", figures.refused))
    if figures.warnings is not None:
        counts.append(("with a warning", figures.warnings))
    return ImportReport(kind, year, saved, sentence, counts, rejected, warnings, data)


@dataclass(frozen=True)
class ImportBoxes:
    """The form's boxes the page repeats: where from, which form tool, who."""

    source: str
    actor: str
    form_tool: str | None = None  # None for the roster, which has no form tool box


def import_page(report: ImportReport, boxes: ImportBoxes, now: datetime, zone: str) -> str:
    """The run's page: what was read, the counts, each refused line and why, the warnings."""
    where = "" if report.year is None else f", cycle {report.year}"
    done = "imported" if report.saved else "checked only: nothing was saved"
    lines = [
        f"# {TITLES[report.kind]}{where} ({done})",
        "",
        md(report.sentence),
        "",
        f"- From: {md(boxes.source.strip())}",
    ]
    if boxes.form_tool is not None:
        lines.append(f"- Form tool: {md(boxes.form_tool)}")
    lines += [
        f"- By {md(boxes.actor.strip())}, {moment_words(now, zone, with_year=True)}",
        "",
        "| | how many |",
        "|---|---:|",
        *(f"| {label} | {n} |" for label, n in report.counts),
        "",
        f"## Refused lines ({len(report.rejected)})",
        "",
    ]
    lines += _line_table(report.rejected, "reason", "why it was refused") or [
        "No line was refused."
    ]
    if report.kind is ImportKind.applications:
        lines += ["", f"## Warnings ({len(report.warnings)})", ""]
        lines += _line_table(report.warnings, "warning", "warning") or ["No warning."]
    if not report.saved:
        lines += ["", f"_{NOTHING_SAVED}_"]
    return "\n".join(lines) + "\n"


def _line_table(entries: Sequence[Mapping[str, Any]], text: str, heading: str) -> list[str]:
    """One row per line of the file (line 1 is the header), with the member it names."""
    if not entries:
        return []
    rows = ["| line | member | " + heading + " |", "|---:|---|---|"]
    rows += [
        f"| {entry.get('line', '')} | {md(entry.get('member_id', ''))} | "
        f"{md(entry.get(text, ''))} |"
        for entry in entries
    ]
    return rows
