"""The hash chain over a call's transitions rows: each row holds the previous row's hash and its own."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

from models.records import TransitionRow

GENESIS = "0" * 64


def _instant(t: datetime | None) -> str | None:
    return t.astimezone(timezone.utc).isoformat() if t is not None else None


def canonical(row: TransitionRow) -> str:
    """The row's content as it is hashed: every field but the id and the hashes, in a fixed form."""
    return json.dumps({
        "call_id": row.call_id, "application_id": row.application_id, "seq": row.seq, "trigger": row.trigger,
        "source": row.source, "dest": row.dest, "actor_id": row.actor_id, "role": row.role, "reason": row.reason,
        "at": _instant(row.at), "deadline": _instant(row.deadline),
    }, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def row_hash(prev_hash: str, row: TransitionRow) -> str:
    return hashlib.sha256((prev_hash + canonical(row)).encode()).hexdigest()
