"""The hash chain over a call's transitions rows: each row holds the previous row's hash and its own."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def _instant(t: datetime | None) -> str | None:
    return t.astimezone(UTC).isoformat() if t is not None else None


HASHED = ("call_id", "application_id", "seq", "trigger", "source", "dest", "actor_id", "role", "reason", "at",
          "deadline")


def canonical(fields: Mapping[str, Any]) -> str:
    """A row's content as it is hashed: every field but the id and the hashes, in a fixed form."""
    return json.dumps({k: _instant(fields[k]) if k in ("at", "deadline") else fields[k] for k in HASHED},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def row_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """The hash of a transitions row (its columns by name) chained after `prev_hash`."""
    return hashlib.sha256((prev_hash + canonical(fields)).encode()).hexdigest()
