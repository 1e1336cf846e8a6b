"""The grammar of instants in notices: dates with or without year, hour and minute, ranges, periods of the day,
defective digit runs from stored pages, and deadlines relative to another instant. Nothing is guessed silently:
what needs a person carries a flag and its candidate readings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

_DATE = (r"(?:(?P<y>\d{4})\s*年\s*)?(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"
         r"|(?P<y2>\d{4})[-./](?P<m2>\d{1,2})[-./](?P<d2>\d{1,2})(?!\d)")
_DAY = r"(?P<y>)(?P<m>)(?P<d>\d{1,2})\s*[日号](?P<y2>)(?P<m2>)(?P<d2>)"  # the groups of _DATE, left empty
_WEEKDAY = r"(?:\s*[(（]\s*(?:星期|周)[一二三四五六日天1-7]\s*[)）])?"
_TIME = (r"(?:\s*(?P<period>上午|下午|中午|晚上|早上|凌晨))?\s*(?:(?P<h>\d{1,2}):(?P<mi>\d{2})"
         r"|(?P<h2>\d{1,2})\s*[时点](?:\s*(?P<mi2>\d{1,2})\s*分|(?P<half>半))?)")
INSTANT = re.compile(rf"(?:{_DATE}){_WEEKDAY}(?:{_TIME})?")
DAY_END = re.compile(rf"{_DAY}{_WEEKDAY}(?:{_TIME})?")  # "4月14日至16日": the end may give the day alone
# A date that a rule reads, not a deadline: "1967年1月1日(含)以后出生", "2023年1月1日前注册", "2024年7月1日以后开具".
RULE_DATE = re.compile(r"\s*(?:\(含\))?\s*(?:以后|之后|以来|后|前|以前|之前)?\s*(?:出生|注册|成立|开具|出具|签订|登记|认定|发表|立项|结题|验收)"
                       r"|\s*(?:\(含\))?\s*(?:以后|之后|以来)")
RANGE_SEP = re.compile(r"\s*(?:至|到|—|–|~|-|－)\s*")
# A run of digits (and colons) too long to be one number: 年/月/日/至 lost in a stored page's copy.
DEFECTIVE = re.compile(r"(?<![\d年月:])(?P<run>\d{5,}(?::\d{2})?(?:\d+:\d{2})*|\d{3,4}(?=\s*[时点]))(?P<hour>\s*[时点])?")
RELATIVE = re.compile(r"(?:截止|截至|结束|届满|之日|期满)[^。；;\n]{0,16}?(?:后|起)\s*(?P<n>\d{1,3})\s*"
                      r"(?P<unit>个工作日|个自然日|个日历日|工作日|自然日|日历日|天|日)(?:内|之内)?"
                      r"|(?P<n2>\d{1,3})\s*(?P<unit2>个工作日|工作日)(?:内|之内)")

Part = Literal["point", "from", "to"]


@dataclass
class Found:
    """One instant as the notice writes it, with its reading (None when a person must choose)."""

    start: int
    end: int
    text: str
    part: Part
    when: datetime | None
    flags: list[str] = field(default_factory=list)
    candidates: list[datetime] = field(default_factory=list)


@dataclass
class Relative:
    """A deadline counted from another instant: "截止后5个工作日内"."""

    start: int
    end: int
    text: str
    days: int
    unit: Literal["working_days", "calendar_days"] | None  # None: the notice does not say which


def _hour(m: re.Match[str]) -> tuple[int, int] | None:
    h = m.group("h") or m.group("h2")
    if h is None:
        return None
    hour, minute = int(h), int(m.group("mi") or m.group("mi2") or (30 if m.group("half") else 0))
    period = m.group("period")
    if period in ("下午", "晚上") and hour < 12:
        hour += 12
    return hour, minute


def _at(day: date, hm: tuple[int, int], zone: ZoneInfo) -> datetime:
    hour, minute = hm
    return datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(hours=hour, minutes=minute)


class Reader:
    """Reads instants in order, carrying year and month from the previous full date (or the notice's date)."""

    def __init__(self, issued: date | None, zone: ZoneInfo) -> None:
        self.issued = issued
        self.zone = zone
        self.year: int | None = issued.year if issued else None
        self.month: int | None = None

    def read(self, m: re.Match[str], part: Part) -> Found:
        flags: list[str] = []
        y = m.group("y") or m.group("y2")
        mo = m.group("m") or m.group("m2")
        d = int(m.group("d") or m.group("d2"))
        year = int(y) if y else self.year
        month = int(mo) if mo else self.month
        if month is None or year is None:
            return Found(m.start(), m.end(), m.group(0), part, None, ["a day with no month or year"])
        try:
            day = date(year, month, d)
        except ValueError:
            return Found(m.start(), m.end(), m.group(0), part, None, [f"no such day: {year}-{month}-{d}"])
        if not y and self.issued and day < self.issued - timedelta(days=60):
            day = day.replace(year=year + 1)
            flags.append(f"year {year + 1} assumed: the day would fall long before the notice in {year}")
        self.year, self.month = day.year, day.month
        hm = _hour(m)
        if hm is None:
            end_of_day = datetime(day.year, day.month, day.day, tzinfo=self.zone) + timedelta(days=1)
            start_of_day = end_of_day - timedelta(days=1)
            first = start_of_day if part == "from" else end_of_day
            return Found(m.start(), m.end(), m.group(0), part, None, [*flags, "a date with no hour"],
                         [first, datetime(day.year, day.month, day.day, 17, tzinfo=self.zone)])
        if hm[0] > 24 or hm[1] > 59 or (hm[0] == 24 and hm[1]):
            return Found(m.start(), m.end(), m.group(0), part, None, [*flags, f"no such time: {hm[0]}:{hm[1]:02d}"])
        return Found(m.start(), m.end(), m.group(0), part, _at(day, hm, self.zone), flags)


def find_instants(text: str, issued: date | None, zone: ZoneInfo) -> list[Found]:
    """Every instant of `text` in order; a range gives a `from` and a `to`, the second taking year, month and
    period from the first where it omits them."""
    reader = Reader(issued, zone)
    found: list[Found] = []
    pos = 0
    while (m := INSTANT.search(text, pos)) is not None:
        if RULE_DATE.match(text, m.end()):
            reader.read(m, "point")  # a rule's date still carries its year to the dates after it
            pos = m.end()
            continue
        sep = RANGE_SEP.match(text, m.end())
        second = (INSTANT.match(text, sep.end()) or DAY_END.match(text, sep.end())) if sep else None
        if second is not None:
            found.append(reader.read(m, "from"))
            found.append(reader.read(second, "to"))
            pos = second.end()
        else:
            found.append(reader.read(m, "point"))
            pos = m.end()
    return sorted(found + find_defective(text, issued, zone, found), key=lambda f: f.start)


def find_defective(text: str, issued: date | None, zone: ZoneInfo, taken: list[Found]) -> list[Found]:
    """Digit runs where a stored page dropped 年/月/日/至 ("10176时", "20197129:0081217:00"): flagged, with the
    instants of every reading that makes real months, days and hours in order."""
    out: list[Found] = []
    for m in DEFECTIVE.finditer(text):
        if any(f.start <= m.start() < f.end for f in taken) or (":" not in m["run"] and not m["hour"]):
            continue
        readings = _readings(m["run"], bool(m["hour"]), issued.year if issued else None, zone)
        candidates = list(dict.fromkeys(t for reading in readings[:4] for t in reading))
        out.append(Found(m.start(), m.end(), m.group(0), "point", None,
                         [f"defective digits {m.group(0)!r}: 年/月/日 lost in the copy"], candidates))
    return out


def _instant_prefixes(run: str, year: int | None, last: bool, hour_suffix: bool) -> list[tuple[tuple[int, ...], str]]:
    """(year, month, day, hour, minute) read from the start of `run`, with what is left of it."""
    out: list[tuple[tuple[int, ...], str]] = []
    starts = [(int(run[:4]), run[4:])] if re.match(r"20\d\d", run) else []
    for y, rest in [*starts, *([(year, run)] if year is not None else [])]:
        for i in (1, 2):
            for j in (1, 2):
                month, day, tail = rest[:i], rest[i:i + j], rest[i + j:]
                hm = re.match(r"(\d{1,2}):(\d{2})", tail)
                if hm:
                    out.append(((y, int(month or 0), int(day or 0), int(hm[1]), int(hm[2])), tail[hm.end():]))
                elif last and hour_suffix and tail.isdigit() and len(tail) <= 2:
                    out.append(((y, int(month or 0), int(day or 0), int(tail), 0), ""))
    return out


def _readings(run: str, hour_suffix: bool, year: int | None, zone: ZoneInfo, depth: int = 0) -> list[list[datetime]]:
    """Every way to read `run` as instants in order (at most three), each a list of datetimes."""
    if depth > 2 or (year is None and not re.match(r"20\d\d", run)):
        return []
    out: list[list[datetime]] = []
    for (y, mo, d, h, mi), rest in _instant_prefixes(run, year, ":" not in run, hour_suffix):
        try:
            when = _at(date(y, mo, d), (h, mi), zone)
        except ValueError:
            continue
        if h > 24 or mi > 59:
            continue
        if not rest:
            out.append([when])
        else:
            out += [[when, *later] for later in _readings(rest, hour_suffix, y, zone, depth + 1) if later[0] > when]
    return out


def find_relative(text: str) -> list[Relative]:
    out: list[Relative] = []
    for m in RELATIVE.finditer(text):
        unit_text = m.group("unit") or m.group("unit2")
        unit: Literal["working_days", "calendar_days"] | None = (
            "working_days" if "工作日" in unit_text else "calendar_days" if unit_text in ("个自然日", "个日历日", "自然日", "日历日")
            else None)
        out.append(Relative(m.start(), m.end(), m.group(0), int(m.group("n") or m.group("n2")), unit))
    return out
