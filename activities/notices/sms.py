"""Notices by text message, behind the same transport interface as e-mail: a provider adapter sends the subject line;
the default adapter only logs what it would send."""

from __future__ import annotations

from typing import Protocol

import structlog

from records.outbox import Claimed

SMS_LIMIT = 70  # characters in one Chinese SMS segment


class SmsProvider(Protocol):
    name: str

    async def send(self, mobile: str, text: str, reference: str) -> str:
        """Send `text` to `mobile`; the provider's receipt. `reference` is stable per notice (for the provider's
        own de-duplication); raise activities.notices.transport.Refused when the provider refuses."""
        ...


class LogSmsProvider:
    """The default provider: a structured log line per text message, nothing leaves the machine."""

    name = "log"

    def __init__(self) -> None:
        self._log = structlog.get_logger("grantflow.sms")

    async def send(self, mobile: str, text: str, reference: str) -> str:
        self._log.info("sms", mobile=f"{mobile[:3]}****{mobile[-4:]}", text=text, reference=reference)
        return "logged"


class SmsTransport:
    name = "sms"
    field = "mobile"

    def __init__(self, provider: SmsProvider | None = None) -> None:
        self.provider: SmsProvider = provider or LogSmsProvider()

    async def send(self, notice: Claimed) -> tuple[int | None, str]:
        text = notice.subject if len(notice.subject) <= SMS_LIMIT else notice.subject[:SMS_LIMIT - 1] + "…"
        receipt = await self.provider.send(notice.address, text, notice.message_id)
        return None, f"{self.provider.name}: {receipt}"

    async def close(self) -> None:
        """A provider adapter holds no connection between texts."""
