"""The mail delivery flow: every few minutes, send what the outbox holds.

Delivery is idempotent (each message is marked as soon as the server answers), so a
duplicate scheduled run or an overlap with a manual run sends nothing twice.
"""

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows.usecases.notifications import deliver, list_messages
from infra.uow import UnitOfWork


@flow(name="deliver-notifications", log_prints=True)
def deliver_notifications() -> dict[str, int]:
    """Send every queued message; failures are kept with the server's answer."""
    uow = UnitOfWork.from_settings()
    counts = deliver(uow)
    logger = get_run_logger()
    logger.info("sent %s, failed %s, pending %s", counts.sent, counts.failed, counts.pending)
    if counts.failed:
        failed = list_messages(uow, failed_only=True)[:50]
        create_markdown_artifact(
            key="mail-failures",
            description="Messages the mail server refused",
            markdown="# Messages that could not be delivered\n\n"
            "| to | kind | answer |\n|---|---|---|\n"
            + "\n".join(f"| {m.to_address} | {m.kind} | {m.last_error} |" for m in failed),
        )
    return counts.as_dict()
