"""A feed of deadlines as iCalendar (RFC 5545): each deadline an instant in the call's timezone (TZID with its
VTIMEZONE), a stable UID, SEQUENCE and LAST-MODIFIED from its revisions, an alarm per reminder offset of the call."""

from __future__ import annotations

from datetime import UTC, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone

from models.deadline_feed import Feed

MEDIA_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//grantflow//deadlines//ZH"
REFRESH = timedelta(hours=1)


@lru_cache(maxsize=16)
def vtimezone(name: str) -> Timezone:
    """The VTIMEZONE of a zone (its transitions 1970-2038, as icalendar derives them), made once per process."""
    return Timezone.from_tzid(name)


def ical(feed: Feed) -> bytes:
    """The feed as an iCalendar document. A deadline is an instant, so an event has a DTSTART and no end (it ends
    where it starts, RFC 5545 3.6.1) and is transparent: it occupies no time."""
    zone = ZoneInfo(feed.timezone)
    cal = Calendar()
    for name, value in (("prodid", PRODID), ("version", "2.0"), ("calscale", "GREGORIAN"), ("method", "PUBLISH"),
                        ("x-wr-calname", feed.name), ("x-wr-timezone", feed.timezone), ("x-published-ttl", "PT1H")):
        cal.add(name, value)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})  # an extension reaches subscribers soon
    cal.add_component(vtimezone(feed.timezone))
    for e in sorted(feed.events, key=lambda e: (e.at, e.uid)):
        event = Event()
        event.add("uid", e.uid)
        event.add("summary", e.summary)
        event.add("description", e.description)
        event.add("dtstart", e.at.astimezone(zone))
        event.add("dtstamp", e.revisions.last.astimezone(UTC))
        event.add("last-modified", e.revisions.last.astimezone(UTC))
        event.add("sequence", e.revisions.count)
        event.add("transp", "TRANSPARENT")
        event.add("categories", [e.window])
        for before in feed.reminders:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"提醒：{e.summary}")
            alarm.add("trigger", -before)
            event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()  # type: ignore[no-any-return]
