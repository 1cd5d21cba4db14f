"""Mail settings come from the environment: a stall costs seconds, a run has a deadline."""

import pytest

from infra.settings import mail_settings_from_env


def test_the_smtp_timeout_and_the_run_deadline_have_defaults_an_operator_can_change() -> None:
    default = mail_settings_from_env({})
    assert (default.timeout, default.deadline_seconds) == (10, 600)
    chosen = mail_settings_from_env(
        {"MENTORING_SMTP_TIMEOUT": "3", "MENTORING_MAIL_DEADLINE": "60"}
    )
    assert (chosen.timeout, chosen.deadline_seconds) == (3, 60)


def test_a_timeout_that_is_not_a_positive_whole_number_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="MENTORING_SMTP_TIMEOUT must be at least 1"):
        mail_settings_from_env({"MENTORING_SMTP_TIMEOUT": "0"})
    with pytest.raises(ValueError, match="MENTORING_MAIL_DEADLINE must be a whole number"):
        mail_settings_from_env({"MENTORING_MAIL_DEADLINE": "soon"})
