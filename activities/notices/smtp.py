"""Notices by e-mail over SMTP (aiosmtplib): plain, STARTTLS or TLS, as GRANTFLOW_SMTP_URL says; one message per
notice, its Message-ID derived from the notice's key, so a message sent again is recognisably the same one. Connections
are kept between messages, as mail submission clients keep them, instead of one connection per message."""

from __future__ import annotations

import asyncio
import hashlib
import time
from contextlib import suppress
from dataclasses import dataclass
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr
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


@dataclass
class _Kept:
    client: aiosmtplib.SMTP
    sent: int = 0
    idle_since: float = 0.0


class SmtpTransport:
    """Sends each notice on a kept connection: as many are open as messages are in flight (the postman's
    concurrency); one goes back to the pool after a message, refused or not, and is closed after `reuse` messages or
    `idle_s` seconds unused. A kept connection the server closed meanwhile is replaced once, at once: the message
    goes on a new connection (the same Message-ID, should the old one have taken it before it went)."""

    name = "smtp"
    field = "email"

    def __init__(self, server: SmtpServer, sender: str, timeout_s: float = 30.0, reuse: int = 100,
                 idle_s: float = 30.0) -> None:
        self.server, self.sender, self.timeout_s = server, sender, timeout_s
        self.reuse, self.idle_s = reuse, idle_s
        self._from = formataddr(parseaddr(sender), "utf-8")
        self._idle: list[_Kept] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def message(self, n: Claimed) -> MIMEText:
        """The message, built with the email package's compat32 classes: a fifth of what EmailMessage's header
        parsing and folding cost per notice, the same message on the wire (UTF-8, RFC 2047 headers)."""
        m = MIMEText(n.body, "plain", "utf-8")
        m["From"], m["To"], m["Subject"] = self._from, n.address, Header(n.subject, "utf-8").encode()
        m["Message-ID"], m["Date"] = n.message_id, formatdate(localtime=True)
        m["X-Grantflow-Notice"] = n.key
        return m

    async def send(self, notice: Claimed) -> tuple[int | None, str]:
        try:
            reply = await self._send(self.message(notice))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            raise Refused(first.code, first.message, first.code >= 500) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise Refused(exc.code, exc.message, exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise Refused(None, str(exc) or type(exc).__name__, False) from exc
        return 250, reply

    def kept(self) -> int:
        """Connections open and unused now."""
        return sum(k.client.is_connected for k in self._idle)

    async def close(self) -> None:
        """QUIT every kept connection (the postman stops)."""
        idle, self._idle = self._idle, []
        await asyncio.gather(*(self._quit(k) for k in idle))

    async def _send(self, message: MIMEText) -> str:
        kept = await self._take()
        if kept is not None:
            with suppress(aiosmtplib.SMTPServerDisconnected):
                return await self._on(kept, message)
        return await self._on(_Kept(await self._connect()), message)

    async def _on(self, kept: _Kept, message: MIMEText) -> str:
        try:
            _, reply = await kept.client.send_message(message, timeout=self.timeout_s)
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException):
            await self._give_back(kept)  # the envelope was reset: the connection serves the next message
            raise
        except BaseException:
            kept.client.close()
            raise
        await self._give_back(kept)
        return reply

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.server
        client = aiosmtplib.SMTP(hostname=s.host, port=s.port, use_tls=s.tls, start_tls=s.starttls,
                                 username=s.username, password=s.password, timeout=self.timeout_s)
        await client.connect()
        return client

    async def _take(self) -> _Kept | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # connections belong to the loop that opened them
            self._loop, self._idle = loop, []
        now = time.monotonic()
        while self._idle:
            kept = self._idle.pop()
            if now - kept.idle_since < self.idle_s and kept.client.is_connected:
                return kept
            await self._quit(kept)
        return None

    async def _give_back(self, kept: _Kept) -> None:
        kept.sent += 1
        if kept.sent >= self.reuse or not kept.client.is_connected:
            await self._quit(kept)
            return
        kept.idle_since = time.monotonic()
        self._idle.append(kept)

    async def _quit(self, kept: _Kept) -> None:
        if not kept.client.is_connected:
            return
        try:
            await kept.client.quit(timeout=self.timeout_s)
        except (aiosmtplib.SMTPException, OSError):
            kept.client.close()
