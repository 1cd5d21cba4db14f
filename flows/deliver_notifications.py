"""The mail delivery flow: every few minutes, send what the outbox holds.

Each run claims the messages it sends (see ``flows.usecases.notifications.deliver``), so a
scheduled run, a person's run from the UI, the CLI and a second worker can overlap and
still send each message once. A run that could not use the mail server ends Failed with
the sentence that says why; a SIGTERM lets the messages in flight finish and gives back
the rest before the run ends.

Each run publishes the ``mail-delivery`` page (what it sent, by kind and to whom, and what
the server refused, with its answer) and refreshes the status page of each cycle it sent
mail for.
"""

from prefect import State, flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.states import Completed, Failed

import flows.failed_echo  # noqa: F401  (no traceback after a refusal)
from flows.orchestration import failed_message_ids, publish_delivery
from flows.signals import stop_on_signals
from flows.usecases.clock import utcnow
from flows.usecases.notifications import deliver, list_messages
from infra.uow import UnitOfWork


@flow(name="deliver-notifications", log_prints=True)
def deliver_notifications() -> State[dict[str, object]]:
    """Send every queued message; failures are kept with the server's answer."""
    uow = UnitOfWork.from_settings()
    started, failed_before = utcnow(), failed_message_ids(uow)
    with stop_on_signals() as stop:
        counts = deliver(uow, stop=stop)
    logger = get_run_logger()
    said = (
        f"Sent {counts.sent} message(s); {counts.failed} refused by the mail server; "
        f"{counts.pending} still waiting (see the mail-delivery artifact)."
    )
    logger.info(said)
    for problem in publish_delivery(uow, counts, started=started, failed_before=failed_before):
        logger.warning(problem)
    if counts.failed:
        failed = list_messages(uow, failed_only=True)[:50]
        create_markdown_artifact(
            key="mail-failures",
            description="Messages the mail server refused",
            markdown="# Messages that could not be delivered\n\n"
            "| to | kind | answer |\n|---|---|---|\n"
            + "\n".join(f"| {m.to_address} | {m.kind} | {m.last_error} |" for m in failed),
        )
    if counts.blocked:
        return Failed(
            message=f"{counts.blocked}; {counts.pending} message(s) stay queued",
            data=counts.as_dict(),
        )
    return Completed(message=said, data=counts.as_dict())
