"""A past call loaded by `grantflow up` is rehearsed with its first window open at once: moved by whole weeks so that
the loading instant falls inside it (weekdays and wall-clock times kept), or after it when no whole week lands there."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from client.calls import open_now_shift, prepare
from models.call import load_call
from tests.conftest import CALLS

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALL_000 = load_call(CALLS / "000-sx-2025-basic-research-geology.yaml")


@pytest.mark.parametrize("at", [datetime(2026, 12, 6, 21, 55, tzinfo=SHANGHAI),
                                datetime(2027, 3, 1, 0, 0, tzinfo=SHANGHAI),
                                datetime(2030, 7, 14, 9, 30, 0, 1, tzinfo=SHANGHAI)])
def test_a_past_window_is_moved_by_whole_weeks_to_contain_the_instant(at: datetime) -> None:
    first = CALL_000.phases[0]
    assert isinstance(first.opens, datetime) and isinstance(first.closes, datetime)
    days = open_now_shift(CALL_000, at)
    assert days is not None and days > 0 and days % 7 == 0
    assert first.opens + timedelta(days=days) <= at < first.closes + timedelta(days=days)
    prepared = prepare(CALL_000, open_at=at)
    application = prepared.timetable.phases[0]
    assert prepared.shift_days == days and application.opens is not None and application.closes is not None
    assert application.opens <= at < application.closes
    assert application.closes.astimezone(SHANGHAI).weekday() == first.closes.astimezone(SHANGHAI).weekday()
    assert application.closes.astimezone(SHANGHAI).time() == first.closes.astimezone(SHANGHAI).time()


def test_a_window_not_closed_yet_is_not_moved() -> None:
    first = CALL_000.phases[0]
    assert isinstance(first.closes, datetime)
    assert open_now_shift(CALL_000, first.closes - timedelta(milliseconds=1)) == 0
    assert prepare(CALL_000, open_at=first.closes - timedelta(milliseconds=1)).shift_days == 0


def test_a_window_shorter_than_a_week_is_moved_after_the_instant_instead() -> None:
    data = CALL_000.model_dump()
    opens = data["phases"][0]["opens"]
    data["phases"][0]["closes"] = opens + timedelta(days=3)
    short = type(CALL_000).model_validate(data)
    at = opens + timedelta(days=10)  # a whole-week shift puts the window's opening 3 days before: its close is past
    assert open_now_shift(short, at) is None
    prepared = prepare(short, open_at=at)
    assert prepared.shift_days % 7 == 0 and min(prepared.definition.dated_instants()) > at
