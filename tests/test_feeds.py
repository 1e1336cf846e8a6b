"""A call's deadline feed without a server: closes that depend on who applies, relative ones computed, read back from
the iCalendar text instant by instant; and which changes of the timetable count as revisions of which deadline."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from icalendar import Calendar

from client.calls import prepare
from documents.ical import ical
from models.call import load_call
from models.deadline_feed import application_feed, call_feed
from models.messages import ApplicationStatus, CallEvent, CallStatus, TransitionRecord
from tests.conftest import CALLS

CALL_005 = next(CALLS.glob("005-*.yaml"))
CALL_009 = next(CALLS.glob("009-*.yaml"))
CST = "+08:00"


def _read(content: bytes) -> dict[str, Any]:
    cal = Calendar.from_ical(content)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert len(events) == len(cal.walk("VEVENT"))  # one event per UID
    return events


def _status(path: Any, events: list[CallEvent] | None = None) -> tuple[Any, CallStatus]:
    prepared = prepare(load_call(path))
    call = prepared.definition
    return prepared, CallStatus(call.id, call.version(), None, prepared.timetable, events or [])


def test_category_closes_and_those_relative_to_them_are_each_an_event_at_its_instant() -> None:
    prepared, status = _status(CALL_009)
    call = prepared.definition
    events = _read(ical(call_feed(prepared.input, status)))
    categories = [c for c in call.categories if c.closes]
    assert len(categories) >= 10
    for c in categories:
        own = c.closes["application"]
        assert isinstance(own, datetime)
        application = events[f"deadline-call-{call.id}-category-{c.id}-application@grantflow"]
        recommendation = events[f"deadline-call-{call.id}-category-{c.id}-recommendation@grantflow"]
        assert application["DTSTART"].dt == own
        assert recommendation["DTSTART"].dt == own + timedelta(days=5)  # {after: application, days: 5}
        assert c.name in str(recommendation["SUMMARY"])
    assert len(events) == 2 * len(categories) + sum(1 for p in prepared.timetable.phases if p.closes)


def test_a_recommenders_close_is_an_event_naming_whom_it_binds() -> None:
    prepared, status = _status(CALL_005)
    call = prepared.definition
    events = _read(ical(call_feed(prepared.input, status)))
    city = events[f"deadline-call-{call.id}-overrides-0-recommendation@grantflow"]
    assert city["DTSTART"].dt == datetime.fromisoformat(f"2025-10-09T12:00:00{CST}")
    assert "利州区科技主管部门" in str(city["SUMMARY"])
    assert events[f"deadline-call-{call.id}-recommendation@grantflow"]["DTSTART"].dt == datetime.fromisoformat(
        f"2025-10-17T12:00:00{CST}")


def test_only_changes_that_can_move_a_deadline_count_as_its_revisions() -> None:
    prepared, status = _status(CALL_009)
    call = prepared.definition
    closes = prepared.timetable.get("application").closes
    assert closes is not None
    at = closes - timedelta(days=3)
    timetable = copy.deepcopy(prepared.timetable)
    timetable.set_close("application", closes + timedelta(days=4), prepared.input.calendar)
    changes = [CallEvent(0, "opened", "application", at - timedelta(days=30), "grantflow", "system", "planned"),
               CallEvent(1, "extended", "application", at, "pm-1", "manager", "停电", closes, closes + timedelta(days=4))]
    feed = call_feed(prepared.input, replace(status, timetable=timetable, events=changes))
    by_uid = {e.uid: e for e in feed.events}
    phase = by_uid[f"deadline-call-{call.id}-application@grantflow"]
    assert (phase.at, phase.revisions.count, phase.revisions.last) == (closes + timedelta(days=4), 1, at)
    fixed = by_uid[f"deadline-call-{call.id}-category-spark-application@grantflow"]
    assert fixed.revisions.count == 0 and fixed.revisions.last < at  # a dated close of its own: unmoved
    relative = by_uid[f"deadline-call-{call.id}-category-spark-recommendation@grantflow"]
    assert relative.revisions.count == 1  # relative to the application close: it may have moved
    following = by_uid[f"deadline-call-{call.id}-recommendation@grantflow"]  # opens with it, closes 5 days later
    assert (following.at, following.revisions.count) == (closes + timedelta(days=9), 1)
    assert by_uid[f"deadline-call-{call.id}-category-spark-recommendation@grantflow"].at == relative.at  # unmoved


def test_a_step_deadline_counted_from_each_entry_is_revised_by_each_re_entry() -> None:
    """004's agency check closes 5 working days after the application reaches it: a second entry (after a return)
    sets it anew, which the application's feed counts as a revision, as it counts an extension of it."""
    prepared, status = _status(next(CALLS.glob("004-*.yaml")))
    call = prepared.definition
    first = datetime.fromisoformat(f"2026-05-12T10:00:00{CST}")
    entries = [first, first + timedelta(days=8)]
    due = prepared.input.calendar.end_after_working_days(entries[-1], 5, call.zone)
    history = [TransitionRecord(i, "approve", "awaiting_recommender_review", "awaiting_agency_check", "org-1",
                                "recommender", "", at) for i, at in enumerate(entries)]
    app = ApplicationStatus(call.id, "a1", "awaiting_agency_check", False, call.version(),
                            {"step:agency_check": due}, history, [], 0, category=call.categories[0].id)
    [event] = application_feed(prepared.input, status, app).events
    assert (event.uid, event.at) == ("deadline-application-a1-step:agency_check@grantflow", due)
    assert (event.revisions.count, event.revisions.last) == (1, entries[-1])
    extended = TransitionRecord(2, "extend_deadline", "awaiting_agency_check", "awaiting_agency_check", "pm-1",
                                "manager", "材料补正", entries[-1] + timedelta(days=1),
                                data={"window": "step:agency_check"})
    app.transitions.append(extended)
    [event] = application_feed(prepared.input, status, app).events
    assert (event.revisions.count, event.revisions.last) == (2, extended.at)
