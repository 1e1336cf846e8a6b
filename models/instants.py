"""Instants as people read them: in the call's own timezone, whole (never UTC, never cut short)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def local(zone: ZoneInfo, t: datetime | None) -> str:
    """ISO 8601 in `zone` with its offset, e.g. 2025-04-07T17:00:00+08:00; "not set" for no instant."""
    return t.astimezone(zone).isoformat() if t is not None else "not set"


def written(zone: ZoneInfo, t: datetime | None) -> str:
    """As a Chinese notice writes an instant, in `zone`: 2025年4月7日17:00; "未定" for no instant."""
    if t is None:
        return "未定"
    t = t.astimezone(zone)
    return f"{t.year}年{t.month}月{t.day}日{t:%H:%M}"
