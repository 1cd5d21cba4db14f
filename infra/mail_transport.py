"""Choosing the transport: SMTP when a host is configured, the .eml folder otherwise."""

from infra.mail import MailSettings, Transport
from infra.mail_eml import EmlFolderTransport
from infra.mail_smtp import SmtpTransport


def open_transport(settings: MailSettings) -> Transport:
    """The transport the settings name (as SPEC says: no SMTP host, .eml files)."""
    if not settings.host:
        return EmlFolderTransport(settings.mail_dir, settings.mail_from)
    return SmtpTransport(settings)
