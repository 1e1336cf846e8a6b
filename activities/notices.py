"""Notice texts and delivery channels; the outbox rows themselves are written by the record activities."""

from __future__ import annotations

from typing import Protocol

import structlog

from records.tables import NoticeRow

TEMPLATES: dict[str, tuple[str, str]] = {
    "transition": ("{application_id}: {dest_label}", "{application_id} moved from {source} to {dest} ({trigger}) by {role} {actor_id}. {reason}"),
    "reminder": ("{application_id}: deadline {deadline}", "{application_id} is waiting for you ({action}); the deadline is {deadline}."),
    "overdue": ("{application_id}: overdue since {deadline}", "{application_id} is still waiting for you ({action}); the deadline was {deadline}."),
    "escalation": ("{application_id}: overdue, escalated", "{application_id} has waited for {action} since {deadline}; please see to it."),
    "phase_opened": ("{call_id}: {phase_name} opened", "{phase_name} of call {call_id} opened at {at}; it closes {closes}."),
    "phase_closed": ("{call_id}: {phase_name} closed", "{phase_name} of call {call_id} closed at {at}. No late change is accepted."),
    "call_revised": ("{call_id}: call definition revised", "The definition of call {call_id} was revised ({detail}). {reason}"),
    "phase_extended": ("{call_id}: {phase_name} extended", "{phase_name} of call {call_id} now closes {closes} (was {previous}). {reason}"),
}


class _Defaults(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def render(kind: str, data: dict[str, str]) -> tuple[str, str]:
    subject, body = TEMPLATES.get(kind, ("{kind}", "{kind}"))
    values = _Defaults(data, kind=kind)
    return subject.format_map(values), body.format_map(values).strip()


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
