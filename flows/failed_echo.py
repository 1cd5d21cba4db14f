"""Keep a refusal a refusal: no traceback after a flow that ends in a Failed state it chose.

Every flow module that returns ``Failed(message=…)`` imports this module, so the filter is
installed in the process before Prefect's engine can log the echo.
"""

import logging

from prefect.exceptions import FailedRun


class FailedStateEcho(logging.Filter):
    """Drops Prefect's echo of a Failed state that a flow returned.

    When a deployed run ends in a Failed state its flow returned (a refusal, said in one
    sentence), Prefect's engine then asks for the run's result, gets ``FailedRun`` and logs
    it to the run as "Engine execution exited with unexpected exception" with a traceback
    of its own internals: the run's message again, as a traceback. An exception a flow
    raises is not ``FailedRun`` and is still logged in full.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], FailedRun))


def quiet_failed_state_echo() -> None:
    """Install :class:`FailedStateEcho` on Prefect's flow run logger, once per process."""
    runs = logging.getLogger("prefect.flow_runs")
    if not any(isinstance(f, FailedStateEcho) for f in runs.filters):
        runs.addFilter(FailedStateEcho())


quiet_failed_state_echo()
