"""Benchmark of the pairing solver against three baselines on synthetic cycles.

Run ``python benchmarks/bench_matching.py`` from the repository root. Every solver runs in
a fresh subprocess on the same generated instance, so that peak memory (``ru_maxrss``) and
time are its own. Not a test: it takes minutes and prints a table.
"""

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from argparse import SUPPRESS
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import ortools
import scipy
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import linear_sum_assignment, linprog

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.applications import Application, Area, CareerStage, LibraryType, Role
from domain.matching import MatchWeights, PairingRules, propose_pairings
from domain.matching_matrix import ScoreMatrix, build_matrix
from domain.matching_solver import solve

REF = datetime(2026, 12, 1, 12, tzinfo=UTC)
_ZONES = (
    ("America/New_York", 30),
    ("America/Chicago", 25),
    ("America/Denver", 10),
    ("America/Los_Angeles", 18),
    ("America/Anchorage", 2),
    ("Pacific/Honolulu", 2),
    ("America/Toronto", 6),
    ("Europe/London", 4),
    ("Asia/Tokyo", 1),
    ("Australia/Sydney", 1),
    ("Pacific/Auckland", 1),
)
_EXPERTISE = (
    "facilities planning and renovation",
    "share experience in technical services leadership",
    "equity, diversity and inclusion work",
    "help with job search and interviews",
    "assessment and data-informed decisions",
    "coach new systems librarians",
    "preservation and conservation practice",
    "metadata strategy and linked data",
    "budgeting and grant writing",
    "managing a migration to a new library services platform",
    "supervising staff and building teams",
    "digital collections and repositories",
    "accessibility audits of library websites",
    "union negotiations and contracts",
    "strategic planning with library boards",
)
_GOALS = (
    "building a preservation program",
    "career planning after library school",
    "leading a systems migration",
    "learning assessment methods",
    "moving into management",
    "finding my first cataloging job",
    "getting involved in Core leadership",
    "succession planning for my department",
    "metadata strategy and linked data",
    "writing my first grant",
    "supervising staff for the first time",
    "making our website accessible",
    "planning a branch renovation",
    "equity, diversity and inclusion work",
    "learning about digital repositories",
)
_STAGE_WEIGHTS = {
    Role.MENTOR: (0, 10, 45, 45),
    Role.BOTH: (0, 10, 50, 40),
    Role.MENTEE: (20, 45, 28, 7),
}


def generate(size: int, seed: int) -> list[Application]:
    """A realistic cycle: ~32% mentors, ~8% both, 60% mentees, 50 institutions, 7 areas."""
    rng = random.Random(seed)
    institutions = [(f"Library {i:02d}", rng.choice(list(LibraryType))) for i in range(50)]
    zones, zone_weights = zip(*_ZONES, strict=True)
    opens = datetime(2026, 8, 1, tzinfo=UTC)
    apps = []
    for index in range(size):
        role = rng.choices(list(Role), weights=(32, 60, 8))[0]
        institution, library_type = rng.choice(institutions)
        pool = _GOALS if role is Role.MENTEE else _EXPERTISE
        apps.append(
            Application(
                submitted_at=opens + timedelta(minutes=rng.randrange(60 * 24 * 60)),
                member_id=f"M{index:06d}",
                email=f"m{index}@example.org",
                role=role,
                areas=frozenset(rng.sample(list(Area), rng.choice((1, 2, 2, 3, 3)))),
                career_stage=rng.choices(list(CareerStage), weights=_STAGE_WEIGHTS[role])[0],
                institution=institution,
                library_type=library_type,
                time_zone=rng.choices(zones, weights=zone_weights)[0],
                goals=" and ".join(rng.sample(pool, rng.choice((1, 1, 2)))),
                max_mentees=None if role is Role.MENTEE else rng.randint(1, 3),
            )
        )
    return apps


# --- the solvers, each run alone in a child process ----------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a solver achieved."""

    cents: int
    paired: int
    seconds: float
    note: str


def _matrix(apps: list[Application]) -> ScoreMatrix:
    return build_matrix(apps, MatchWeights(), PairingRules(), REF)


def run_ours(apps: list[Application]) -> Outcome:
    """The whole use case: scoring, hard constraints, optimal solve, reasons for the unpaired."""
    started = time.perf_counter()
    proposal = propose_pairings(apps, MatchWeights(), PairingRules(), REF)
    seconds = time.perf_counter() - started
    cents = sum(pair.breakdown.total_cents for pair in proposal.pairs)
    return Outcome(cents, len(proposal.pairs), seconds, "scoring, solve, reasons")


def run_ours_solver(apps: list[Application]) -> Outcome:
    """Our solver alone on the same score matrix the baselines get."""
    matrix = _matrix(apps)
    started = time.perf_counter()
    solution = solve(matrix.scores, matrix.capacity)
    seconds = time.perf_counter() - started
    cents = int(matrix.scores[solution.mentor, solution.mentee].sum())
    rounds = f"{solution.rounds} round{'s' if solution.rounds != 1 else ''}"
    note = f"{rounds}, {solution.edges:,} edges in the last flow"
    return Outcome(cents, int(solution.mentee.size), seconds, note)


def run_greedy(apps: list[Application]) -> Outcome:
    """Highest-scoring allowed edge first, while mentor and mentee are both free."""
    matrix = _matrix(apps)
    started = time.perf_counter()
    rows, cols = np.nonzero(matrix.scores >= 0)
    values = matrix.scores[rows, cols]
    order = np.argsort(-values, kind="stable")
    room = matrix.capacity.copy()
    free = np.ones(len(matrix.mentees), dtype=bool)
    cents = pairs = 0
    for k in order.tolist():
        i, j = int(rows[k]), int(cols[k])
        if room[i] and free[j]:
            room[i] -= 1
            free[j] = False
            cents += int(values[k])
            pairs += 1
            if pairs == free.size:
                break
    return Outcome(cents, pairs, time.perf_counter() - started, "")


def run_hospital_resident(apps: list[Application]) -> Outcome:
    """The `matching` library's resident-optimal Gale-Shapley (stable, not score-optimal).

    Preference lists come from the scores. ``HospitalResident`` deep-copies its players
    recursively and hits Python's recursion limit even at 250 applicants, so the library's
    own algorithm function is called on the players it builds.
    """
    from matching.algorithms import hospital_resident
    from matching.games.hospital_resident import _make_players

    matrix = _matrix(apps)
    scores = matrix.scores
    started = time.perf_counter()
    mentor_ids = [app.member_id for app in matrix.mentors]
    mentee_ids = [app.member_id for app in matrix.mentees]

    def ranked(values: NDArray[np.int32], names: list[str]) -> list[str]:
        allowed = np.flatnonzero(values >= 0)
        return [names[k] for k in allowed[np.argsort(-values[allowed], kind="stable")]]

    residents = {mentee_ids[j]: ranked(scores[:, j], mentor_ids) for j in range(scores.shape[1])}
    hospitals = {mentor_ids[i]: ranked(scores[i], mentee_ids) for i in range(scores.shape[0])}
    capacities = {name: int(c) for name, c in zip(mentor_ids, matrix.capacity, strict=True)}
    players = _make_players(residents, hospitals, capacities)
    result = hospital_resident(*players, optimal="resident")
    seconds = time.perf_counter() - started
    row, col = matrix.mentor_index(), matrix.mentee_index()
    chosen = [(row[h.name], col[r.name]) for h, matched in result.items() for r in matched]
    cents = sum(int(scores[i, j]) for i, j in chosen)
    return Outcome(cents, len(chosen), seconds, "stable matching")


def run_dense_assignment(apps: list[Application]) -> Outcome:
    """scipy's dense ``linear_sum_assignment``, each mentor repeated once per place offered.

    Forbidden cells hold 0 (an unpaired mentee also scores 0), so the maximum is exact.
    """
    matrix = _matrix(apps)
    started = time.perf_counter()
    slots = np.repeat(np.arange(len(matrix.mentors)), matrix.capacity)
    dense = np.maximum(matrix.scores.T[:, slots], 0).astype(np.float64)
    mentee, slot = linear_sum_assignment(dense, maximize=True)
    mentor = slots[slot]
    allowed = matrix.scores[mentor, mentee] >= 0
    cents = int(matrix.scores[mentor[allowed], mentee[allowed]].sum())
    note = f"{dense.shape[0]:,} x {dense.shape[1]:,} float64"
    return Outcome(cents, int(allowed.sum()), time.perf_counter() - started, note)


def run_lp(apps: list[Application]) -> Outcome:
    """The LP relaxation with HiGHS: the reference optimum (the polytope is integral)."""
    matrix = _matrix(apps)
    started = time.perf_counter()
    rows, cols = np.nonzero(matrix.scores >= 0)
    edges = rows.size
    ones = np.ones(edges)
    constraints = sparse.vstack(
        [
            sparse.csr_array((ones, (rows, np.arange(edges))), shape=(len(matrix.mentors), edges)),
            sparse.csr_array((ones, (cols, np.arange(edges))), shape=(len(matrix.mentees), edges)),
        ]
    ).tocsc()
    limits = np.concatenate([matrix.capacity, np.ones(len(matrix.mentees))])
    weights = matrix.scores[rows, cols].astype(np.float64)
    result = linprog(-weights, A_ub=constraints, b_ub=limits, bounds=(0, 1), method="highs")
    paired = round(float(result.x.sum()))
    return Outcome(round(-result.fun), paired, time.perf_counter() - started, "HiGHS")


SOLVERS: dict[str, Callable[[list[Application]], Outcome]] = {
    "ours": run_ours,
    "ours_solver": run_ours_solver,
    "greedy": run_greedy,
    "hospital_resident": run_hospital_resident,
    "dense_assignment": run_dense_assignment,
    "lp": run_lp,
}
LABELS = {
    "ours": "ours: propose_pairings (end to end)",
    "ours_solver": "ours: solver only (min-cost flow + proof)",
    "greedy": "greedy, best edge first",
    "hospital_resident": "matching 1.4.3 hospital-resident",
    "dense_assignment": "scipy linear_sum_assignment (dense)",
    "lp": "LP optimum (scipy HiGHS)",
}
LIMITS = {"hospital_resident": 300.0, "lp": 600.0}
LP_MAX_SIZE = 2500


def child(solver: str, size: int, seed: int) -> None:
    """Run one solver on one instance and print its outcome as JSON (peak memory included)."""
    apps = generate(size, seed)
    outcome = SOLVERS[solver](apps)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({**asdict(outcome), "peak_mb": peak_mb}))


# --- the parent: run everything, print the table -------------------------------------------


def run_child(solver: str, size: int, seed: int) -> dict[str, Any] | str:
    """The child's outcome, or why there is none (skipped, timed out, failed)."""
    if solver == "lp" and size > LP_MAX_SIZE:
        return "skipped: one LP column per allowed pair; 1.6 GB and 20 s already at 2,500"
    limit = LIMITS.get(solver, 1800.0)
    command = [sys.executable, __file__, "--child", solver, str(size), str(seed)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        return f"skipped: stopped at the {limit:.0f} s time cap"
    if done.returncode != 0:
        return f"failed: {done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode}"
    outcome: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return outcome


def describe(size: int, seed: int) -> str:
    apps = generate(size, seed)
    matrix = _matrix(apps)
    both = sum(app.role is Role.BOTH for app in apps)
    allowed = int(np.count_nonzero(matrix.scores >= 0))
    return (
        f"{size:,} applicants ({len(matrix.mentors):,} mentors incl. {both:,} both, "
        f"{int(matrix.capacity.sum()):,} places; {len(matrix.mentees):,} mentees; "
        f"{allowed:,} allowed pairs)"
    )


def table(size: int, seed: int) -> list[str]:
    results = {name: run_child(name, size, seed) for name in LABELS}
    reference = results["lp"] if isinstance(results["lp"], dict) else None
    source = "LP optimum"
    if reference is None and isinstance(results["dense_assignment"], dict):
        reference, source = results["dense_assignment"], "dense assignment (exact; LP integral)"
    lines = [
        f"### {describe(size, seed)}",
        f"ratio against: {source}",
        "",
        f"| {'solver':<42} | {'total score':>12} | {'ratio':>8} | {'paired':>7} "
        f"| {'time s':>8} | {'peak MB':>8} | note |",
        f"|{'-' * 44}|{'-' * 14}|{'-' * 10}|{'-' * 9}|{'-' * 10}|{'-' * 10}|------|",
    ]
    for name, label in LABELS.items():
        result = results[name]
        if isinstance(result, str):
            lines.append(
                f"| {label:<42} | {'':>12} | {'':>8} | {'':>7} | {'':>8} | {'':>8} | {result} |"
            )
            continue
        ratio = result["cents"] / reference["cents"] if reference else float("nan")
        lines.append(
            f"| {label:<42} | {result['cents'] / 100:>12,.2f} | {ratio:>8.5f} "
            f"| {result['paired']:>7,} | {result['seconds']:>8.2f} | {result['peak_mb']:>8.0f} "
            f"| {result['note']} |"
        )
    return lines


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_kb = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    return (
        f"{platform.system()} {platform.machine()}, {model}, {os.cpu_count()} cores, "
        f"{memory_kb / 1024**2:.0f} GB RAM; Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}, ortools {ortools.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 2500, 10000])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--write", type=Path, help="also save the report (Markdown) here")
    parser.add_argument("--child", nargs=3, metavar=("SOLVER", "SIZE", "SEED"), help=SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), int(args.child[2]))
        return
    lines = [
        "# Pairing benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.",
        "Each solver ran in a fresh process; peak MB is that process's maximum resident set "
        "(it includes generating the instance and, for the baselines, our score matrix).",
        "Times are the solver alone on a precomputed score matrix, except the first row, "
        "`propose_pairings` end to end (scoring, hard constraints, solve, explanations, "
        "reasons for the unpaired).",
        "",
    ]
    print("\n".join(lines), flush=True)
    for size in args.sizes:
        block = [*table(size, args.seed), ""]
        print("\n".join(block), flush=True)
        lines += block
    notes = [
        "`matching`'s `HospitalResident` deep-copies its players recursively and exceeds",
        "Python's recursion limit even at 250 applicants, so the benchmark calls the library's",
        "`hospital_resident` algorithm directly on the players the library builds; preference",
        "lists come from the same scores (mentees rank mentors, mentors rank mentees).",
    ]
    print("\n".join(notes))
    lines += notes
    if args.write:
        args.write.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
