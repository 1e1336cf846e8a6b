"""The postman the settings ask for: e-mail through GRANTFLOW_SMTP_URL, then SMS by the logging provider."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from activities.notices.postman import Postman
from activities.notices.sms import SmsTransport
from activities.notices.smtp import SmtpServer, SmtpTransport, sender_domain
from infra.settings import Settings


def postman_for(engine: Engine, settings: Settings) -> Postman | None:
    """A postman when GRANTFLOW_SMTP_URL is set (a malformed URL is one clear ValueError), else None: inline log."""
    if not settings.smtp_url:
        return None
    lease = timedelta(seconds=settings.notice_lease_s)
    smtp = SmtpTransport(SmtpServer.from_url(settings.smtp_url), settings.smtp_sender,
                         timeout_s=min(30.0, lease.total_seconds() / 2))
    return Postman(engine, [smtp, SmsTransport()], domain=sender_domain(settings.smtp_sender), lease=lease)
