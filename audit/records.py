"""The records DB rows of one call, read live or from an export's `records.json`, compared as the audit needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models.messages import TransitionRecord
from records.tables import ApplicationRow, CallEventRow, NoticeRow, TransitionRow


@dataclass
class Records:
    applications: list[ApplicationRow] = field(default_factory=list)
    transitions: list[TransitionRow] = field(default_factory=list)  # in insertion (chain) order
    notices: list[NoticeRow] = field(default_factory=list)
    call_events: list[CallEventRow] = field(default_factory=list)

    def transitions_of(self, application_id: str) -> dict[int, TransitionRow]:
        return {r.seq: r for r in self.transitions if r.application_id == application_id}

    def application(self, application_id: str) -> ApplicationRow | None:
        return next((a for a in self.applications if a.id == application_id), None)


def load_records(engine: Engine, call_id: str) -> Records:
    with Session(engine) as s:
        return Records(
            applications=list(s.exec(select(ApplicationRow).where(ApplicationRow.call_id == call_id)
                                     .order_by(col(ApplicationRow.id))).all()),
            transitions=list(s.exec(select(TransitionRow).where(TransitionRow.call_id == call_id)
                                    .order_by(col(TransitionRow.id))).all()),
            notices=list(s.exec(select(NoticeRow).where(NoticeRow.call_id == call_id)
                                .order_by(col(NoticeRow.key))).all()),
            call_events=list(s.exec(select(CallEventRow).where(CallEventRow.call_id == call_id)
                                    .order_by(col(CallEventRow.seq))).all()),
        )


def records_to_json(records: Records) -> dict[str, list[dict[str, Any]]]:
    return {
        "applications": [r.model_dump(mode="json") for r in records.applications],
        "transitions": [r.model_dump(mode="json") for r in records.transitions],
        "notices": [r.model_dump(mode="json") for r in records.notices],
        "call_events": [r.model_dump(mode="json") for r in records.call_events],
    }


def records_from_json(data: dict[str, list[dict[str, Any]]]) -> Records:
    return Records(
        applications=[ApplicationRow.model_validate(r) for r in data.get("applications", [])],
        transitions=[TransitionRow.model_validate(r) for r in data.get("transitions", [])],
        notices=[NoticeRow.model_validate(r) for r in data.get("notices", [])],
        call_events=[CallEventRow.model_validate(r) for r in data.get("call_events", [])],
    )


def differences(record: TransitionRecord, row: TransitionRow) -> list[str]:
    """Fields in which a transitions row differs from the transition the history proves."""
    pairs = {"trigger": (record.trigger, row.trigger), "source": (record.source, row.source),
             "dest": (record.dest, row.dest), "actor_id": (record.actor_id, row.actor_id),
             "role": (record.role, row.role), "reason": (record.reason, row.reason), "at": (record.at, row.at),
             "deadline": (record.deadline, row.deadline)}
    return [f"{name}: history {h!s}, DB {d!s}" for name, (h, d) in pairs.items() if h != d]
