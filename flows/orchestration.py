"""What every Prefect flow does around a use case: events, artifacts, the flow run id."""

from prefect.artifacts import create_markdown_artifact
from prefect.events import emit_event
from prefect.runtime import flow_run

from flows.usecases.cycles import TransitionResult, describe
from infra.uow import UnitOfWork


def current_flow_run_id() -> str | None:
    """The running flow's id for the audit log (None outside a flow run)."""
    run_id = flow_run.id
    return str(run_id) if run_id else None


def cycle_resource(year: int) -> dict[str, str]:
    return {
        "prefect.resource.id": f"mentoring.cycle.{year}",
        "prefect.resource.name": f"Mentoring cycle {year}",
    }


def announce_transition(result: TransitionResult) -> None:
    """Emit the step taken and the state reached so deployment triggers can react.

    ``mentoring.cycle.<event>`` (``mentoring.cycle.open_call``) says what happened;
    ``mentoring.cycle.<state>`` (``mentoring.cycle.assessed``) says where the cycle now
    stands. Event and state names never coincide, so a trigger can listen to either.
    """
    payload = {"year": result.year, "source": result.source, "target": result.target}
    for name in (result.event, result.target):
        emit_event(
            event=f"mentoring.cycle.{name}",
            resource=cycle_resource(result.year),
            payload={**payload, "event": result.event},
        )


def publish_cycle_summary(uow: UnitOfWork, year: int, headline: str) -> None:
    """A markdown artifact the committee sees in the UI after each transition."""
    summary = describe(uow, year)
    rows = "\n".join(f"| {event} | {at} |" for event, at in summary.calendar.items())
    create_markdown_artifact(
        key=f"cycle-{year}-summary",
        description=f"Mentoring cycle {year}",
        markdown=(
            f"# Mentoring cycle {year}: `{summary.state}`\n\n{headline}\n\n"
            f"Allowed next: {', '.join(summary.allowed_events) or 'none (final)'}\n\n"
            f"| milestone | due |\n|---|---|\n{rows}\n"
        ),
    )
