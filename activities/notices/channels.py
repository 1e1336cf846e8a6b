"""Inline channels: a notice handed over inside the transaction that queues it (the log by default, memory in tests)."""

from __future__ import annotations

from typing import Protocol

import structlog

from records.tables import NoticeRow


class Channel(Protocol):
    name: str

    def deliver(self, notice: NoticeRow) -> None: ...


class LogChannel:
    """Default channel: every notice becomes one structured log line."""

    name = "log"

    def __init__(self) -> None:
        self._log = structlog.get_logger("grantflow.notice")

    def deliver(self, notice: NoticeRow) -> None:
        self._log.info(
            "notice", key=notice.key, call_id=notice.call_id, application_id=notice.application_id,
            recipient=notice.recipient, kind=notice.kind, subject=notice.subject,
        )


class MemoryChannel:
    """Keeps delivered notices in memory: for simulations and tests that count what reached people."""

    name = "memory"

    def __init__(self) -> None:
        self.delivered: list[str] = []

    def deliver(self, notice: NoticeRow) -> None:
        self.delivered.append(notice.key)
