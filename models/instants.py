"""Instants as people read them: in the call's own timezone, whole (never UTC, never cut short)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def local(zone: ZoneInfo, t: datetime | None) -> str:
    """ISO 8601 in `zone` with its offset, e.g. 2025-04-07T17:00:00+08:00; "not set" for no instant."""
    return t.astimezone(zone).isoformat() if t is not None else "not set"
