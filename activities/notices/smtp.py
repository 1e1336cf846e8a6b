"""Notices by e-mail over SMTP (aiosmtplib): plain, STARTTLS or TLS, as GRANTFLOW_SMTP_URL says; one message per
notice, its Message-ID derived from the notice's key, so a message sent again is recognisably the same one."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from urllib.parse import unquote, urlsplit

import aiosmtplib

from activities.notices.transport import Refused
from records.outbox import Claimed

SCHEMES = {"smtp": (False, False), "smtp+starttls": (False, True), "smtps": (True, False)}  # (TLS, STARTTLS)
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """smtp://[user:password@]host[:port], smtp+starttls://... or smtps://...; anything else is one clear error."""
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError(f"GRANTFLOW_SMTP_URL must be smtp://, smtp+starttls:// or smtps://HOST[:PORT], not {url!r}")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise ValueError(f"GRANTFLOW_SMTP_URL has no valid port: {url!r}") from None
        tls, starttls = SCHEMES[parts.scheme]
        return cls(parts.hostname, port, tls, starttls, unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)


def message_id(key: str, domain: str) -> str:
    """The Message-ID of a notice: the same for every attempt to send it, different for every notice."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def sender_domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "grantflow.localhost"


class SmtpTransport:
    name = "smtp"
    field = "email"

    def __init__(self, server: SmtpServer, sender: str, timeout_s: float = 30.0) -> None:
        self.server, self.sender, self.timeout_s = server, sender, timeout_s

    def message(self, n: Claimed) -> EmailMessage:
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = self.sender, n.address, n.subject
        m["Message-ID"], m["Date"] = n.message_id, formatdate(localtime=True)
        m["X-Grantflow-Notice"] = n.key
        m.set_content(n.body, charset="utf-8")
        return m

    async def send(self, notice: Claimed) -> tuple[int | None, str]:
        s = self.server
        try:
            _, reply = await aiosmtplib.send(
                self.message(notice), hostname=s.host, port=s.port, use_tls=s.tls, start_tls=s.starttls,
                username=s.username, password=s.password, timeout=self.timeout_s)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            raise Refused(first.code, first.message, first.code >= 500) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise Refused(exc.code, exc.message, exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise Refused(None, str(exc) or type(exc).__name__, False) from exc
        return 250, reply
