"""An application's trail: every change, timer, notice and closure from the histories, checked against the DB."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from activities.records import ClosureSummary
from audit.life import ApplicationLife, CallLife
from audit.records import Records, differences

COLUMNS = ("event", "request_event", "workflow", "local", "utc", "kind", "what", "actor_id", "role", "reason",
           "deadline", "db")


@dataclass
class TrailRow:
    event: int
    workflow: str
    at: datetime
    kind: str  # transition | extension | refused | timer | signal | formal | notice | phase | closure | broadcast
    what: str
    actor_id: str = ""
    role: str = ""
    reason: str = ""
    deadline: datetime | None = None
    db: str = ""  # how the records DB compares: agrees | differs: ... | missing (empty: not in the DB)
    request_event: int | None = None  # the WorkflowExecutionUpdateAccepted of a person's request


@dataclass
class Trail:
    application_id: str
    workflow_id: str
    call_id: str
    zone: str
    state: str
    rows: list[TrailRow]

    def summary(self) -> dict[str, int]:
        """Rows per DB verdict, for the lines under the table."""
        out: dict[str, int] = {}
        for r in self.rows:
            if r.db:
                verdict = r.db.split(":")[0]
                out[verdict] = out.get(verdict, 0) + 1
        return out


def _db_transition(app: ApplicationLife, records: Records | None, seq: int) -> str:
    if records is None:
        return ""
    row = records.transitions_of(app.application_id).get(seq)
    if row is None:
        return "missing"
    proven = next(p for p in app.transitions if p.record.seq == seq)
    diff = differences(proven.record, row)
    return "differs: " + "; ".join(diff) if diff else "agrees"


def build_trail(app: ApplicationLife, call: CallLife | None, records: Records | None) -> Trail:
    """Rows of the application's workflow in event order, with the call's phase changes and closures up to its
    last event; each transition and notice says whether the records DB agrees."""
    w = app.workflow_id
    rows: list[TrailRow] = []
    for p in app.transitions:
        t = p.record
        kind = "extension" if t.trigger == "extend_deadline" else "transition"
        what = (f"{t.data.get('window')}: {t.data.get('previous')} -> {t.data.get('new')}" if kind == "extension"
                else f"{t.trigger}: {t.source} -> {t.dest}")
        rows.append(TrailRow(p.event_id, w, t.at, kind, what, t.actor_id, t.role, t.reason, t.deadline,
                             _db_transition(app, records, t.seq), p.request_event_id))
    rows += [TrailRow(h.event_id, w, h.at, h.kind, h.what, h.actor_id, h.role, h.reason) for h in app.happenings]
    notices = {n.key: n for n in records.notices} if records is not None else {}
    for n in app.notices:
        row = notices.get(n.key)
        verdict = "" if records is None else "missing" if row is None else (
            "agrees" if (row.delivered_at is not None) == n.delivered else
            f"agrees: queued, then {row.status} by {row.channel} at {row.delivered_at}" if row.status == "sent" else
            f"differs: delivered {'yes' if n.delivered else 'no'} in history, {row.status} in DB"
            + (f" ({row.failure})" if row.failure else ""))
        rows.append(TrailRow(n.event_id, w, n.at, "notice",
                             f"{n.kind} to {n.recipient}{'' if n.delivered else ' (queued, not delivered)'}",
                             db=verdict))
    if call is not None:
        end = app.last_at or datetime.max.replace(tzinfo=UTC)
        events = {e.seq: e for e in records.call_events} if records is not None else {}
        for c in call.changes:
            e = c.event
            if e.at > end:
                continue
            stored = events.get(e.seq)
            same = stored is not None and (stored.kind, stored.phase, stored.new, stored.actor_id) == (
                e.kind, e.phase, e.new, e.actor_id)
            verdict = "" if records is None else "missing" if stored is None else "agrees" if same else "differs"
            rows.append(TrailRow(c.event_id, call.workflow_id, e.at, "phase", f"{e.phase} {e.kind}"
                                 + (f" ({e.new.astimezone(call.call.zone).isoformat()})" if e.new else ""),
                                 e.actor_id, e.role, e.reason,
                                 e.previous if e.kind == "extended" else None, verdict, c.request_event_id))
        rows += [TrailRow(x.event_id, call.workflow_id, x.at, "timer", x.what)
                 for x in call.happenings if x.kind == "timer" and x.at <= end]
        rows += [TrailRow(x.event_id, call.workflow_id, x.at, "closure", _closure(x.summary))
                 for x in call.closures if x.at <= end]
    rows.sort(key=lambda r: (r.at, r.workflow != w, r.event))
    return Trail(app.application_id, w, app.call.id, app.call.timezone, app.state, rows)


def _closure(summary: ClosureSummary) -> str:
    counts = ", ".join(f"{state} {n}" for state, n in sorted(summary.counts.items())) or "nothing to settle"
    return f"{summary.phase} closed at {summary.instant.isoformat()}: {counts}"


def _cells(trail: Trail, r: TrailRow) -> dict[str, str]:
    zone = ZoneInfo(trail.zone)
    return {
        "event": str(r.event), "request_event": str(r.request_event or ""), "workflow": r.workflow, "local": r.at.astimezone(zone).isoformat(),
        "utc": r.at.astimezone(UTC).isoformat(), "kind": r.kind, "what": r.what, "actor_id": r.actor_id,
        "role": r.role, "reason": r.reason, "deadline": r.deadline.astimezone(zone).isoformat() if r.deadline else "",
        "db": r.db,
    }


def trail_csv(trail: Trail) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS))
    writer.writeheader()
    for r in trail.rows:
        writer.writerow(_cells(trail, r))
    return buf.getvalue()


def trail_json(trail: Trail) -> str:
    head = {k: v for k, v in asdict(trail).items() if k != "rows"}
    return json.dumps({**head, "rows": [_cells(trail, r) for r in trail.rows], "db": trail.summary()},
                      ensure_ascii=False, indent=2)
