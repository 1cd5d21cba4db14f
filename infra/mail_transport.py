"""Choosing the transport: SMTP when a host is configured, the .eml folder otherwise."""

from infra.mail import MailSettings, Transport


def open_transport(settings: MailSettings) -> Transport:
    """The transport the settings name (as SPEC says: no SMTP host, .eml files); only its
    module is loaded, so writing .eml files does not load ``smtplib`` and ``ssl``."""
    if not settings.host:
        from infra.mail_eml import EmlFolderTransport

        return EmlFolderTransport(settings.mail_dir, settings.mail_from)
    from infra.mail_smtp import SmtpTransport

    return SmtpTransport(settings)
