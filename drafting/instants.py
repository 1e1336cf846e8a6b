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
_TIME = (r"(?:\s*(?:当日|当天))?(?:\s*(?P<period>上午|下午|中午|晚上|夜间|早上|凌晨))?\s*(?:(?P<h>\d{1,2}):(?P<mi>\d{2})"
         r"|(?P<h2>\d{1,2})\s*[时点](?:\s*(?P<mi2>\d{1,2})\s*分|(?P<half>半))?)")
INSTANT = re.compile(rf"(?:{_DATE}){_WEEKDAY}(?:{_TIME})?")
DAY_END = re.compile(rf"{_DAY}{_WEEKDAY}(?:{_TIME})?")  # "4月14日至16日": the end may give the day alone
# A day written alone before a close word, its month the previous date's: "6月11日…(申报系统15日关闭)".
DAY_ALONE = re.compile(rf"(?<![\d年月./:-]){_DAY}(?:{_TIME})?(?=\s*(?:前|之前|以前|关闭|截止|止))")
PROGRAMME_YEAR = re.compile(r"(?P<y>20\d\d)\s*年度")
HOUR_END = re.compile(rf"(?P<y>)(?P<m>)(?P<d>)(?P<y2>)(?P<m2>)(?P<d2>){_TIME}")  # "3月5日9:00至17:00": the hour alone
# An hour whose day is another sentence's ("当日24时", "当天17:00"): a person says which day.
SAME_DAY = re.compile(r"(?:当日|当天)\s*(?:上午|下午|中午|晚上)?\s*\d{1,2}\s*(?:[时点]|:\d{2})")
# The end of a month, with no day or hour: "截至当年4月底", "9月末".
MONTH_END = re.compile(r"(?:(?P<y>\d{4})\s*年|当年|本年|今年)?\s*(?<!\d)(?P<m>\d{1,2})\s*月\s*(?:底|末)")
# The notice's own day as an opening: "自即日起", "自本通知发布之日起", "从印发之日起".
ISSUE_DAY = re.compile(r"(?:自|从)\s*(?:即日|今日|本?(?:通知|指南)?(?:印发|发布|下发|公布)之日)\s*(?:起|开始)")
# A close the notice moves: "截止时间由7月4日18:00延长至7月11日18:00" (the first no longer holds).
SUPERSEDED = re.compile(r"\s*[,，]?\s*(?:延长|延期|推迟|顺延|调整|变更|改)(?:至|到|为)")
# A date that a rule reads, not a deadline: "1967年1月1日(含)以后出生", "2023年1月1日前注册", "2024年7月1日以后开具".
RULE_DATE = re.compile(r"\s*(?:\(含\))?\s*(?:及|或)?\s*(?:以后|之后|以来|后|前|以前|之前)?\s*"
                       r"(?:出生|注册|成立|开具|出具|签订|登记|认定|发表|立项|结题|验收|授权|获批)"
                       r"|\s*(?:\(含\))?\s*(?:及|或)?\s*(?:以后|之后|以来)|\s*(?:未满|年满|不满|满)\s*\d+\s*周?岁")
# The rule word before the date: "注册时间为2023年1月1日(含)前", "出生日期在1980年1月1日之后".
RULE_BEFORE = re.compile(r"(?:出生|注册|成立|登记|认定|毕业)(?:时间|日期)?\s*(?:为|在|于|是)?\s*$")
RANGE_SEP = re.compile(r"\s*(?:至|到|—|–|~|-|－)\s*")
# A run of digits (and colons) too long to be one number: 年/月/日/至 lost in a stored page's copy.
DEFECTIVE = re.compile(r"(?<![\d年月:])(?P<run>\d{5,}(?::\d{2})?(?:\d+:\d{2})*|\d{3,4}(?=\s*[时点]))(?P<hour>\s*[时点])?")
DAY_LOST = re.compile(r"(?P<lead>[为于至到止是]\s*)?(?<![\d年月./:-])(?P<run>\d{2,8})\s*日(?!\d)")
SPACED_DAY = re.compile(r"(?<![\d.])(?P<y>20\d\d)\s+(?P<m>\d{1,2})\s+(?P<d>\d{1,2})(?![\d:年月日])")
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
    if period in ("下午", "晚上", "夜间") and hour < 12 or period in ("晚上", "夜间", "凌晨") and hour == 12:
        hour += 12 if period != "凌晨" else -12
    return hour, minute


def _at(day: date, hm: tuple[int, int], zone: ZoneInfo) -> datetime:
    hour, minute = hm
    return datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(hours=hour, minutes=minute)


class Reader:
    """Reads instants in order, carrying year and month from the previous full date (or the notice's date)."""

    def __init__(self, issued: date | None, zone: ZoneInfo, programme_year: int | None = None) -> None:
        self.issued = issued
        self.zone = zone
        self.year: int | None = issued.year if issued else None
        self.programme_year = programme_year  # "2012年度": the year when nothing else dates the notice
        self.month: int | None = None
        self.day: int | None = None

    def read(self, m: re.Match[str], part: Part, carry: bool = True) -> Found:
        """The instant of a match; `carry`: its year, month and day carry to the dates after it."""
        flags: list[str] = []
        y = m.group("y") or m.group("y2")
        mo = m.group("m") or m.group("m2")
        day_text = m.group("d") or m.group("d2")
        if not day_text and self.day is None:
            return Found(m.start(), m.end(), m.group(0), part, None, ["an hour with no day"])
        d = int(day_text) if day_text else self.day or 0
        year = int(y) if y else self.year
        month = int(mo) if mo else self.month
        assumed = year is None and self.programme_year is not None
        if assumed:
            year = self.programme_year
            flags.append(f"year {year} taken from the programme's {year}年度: no date of the notice gives one")
        if month is None or year is None:
            return Found(m.start(), m.end(), m.group(0), part, None, ["a day with no month or year"])
        try:
            day = date(year, month, d)
        except ValueError:
            return Found(m.start(), m.end(), m.group(0), part, None, [f"no such day: {year}-{month}-{d}"])
        if not y and self.issued and day < self.issued - timedelta(days=60):
            day = day.replace(year=year + 1)
            flags.append(f"year {year + 1} assumed: the day would fall long before the notice in {year}")
        if carry:
            self.year = self.year if assumed else day.year  # an assumed year is flagged again at every date
            self.month, self.day = day.month, day.day
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
    programme = PROGRAMME_YEAR.search(text)
    reader = Reader(issued, zone, int(programme["y"]) if programme and issued is None else None)
    found: list[Found] = []
    pos = 0
    while (m := _next(text, pos)) is not None:
        if RULE_DATE.match(text, m.end()) or RULE_BEFORE.search(text, max(0, m.start() - 10), m.start()):
            reader.read(m, "point", carry=issued is None)  # a birth cut-off's year is not the timeline's
            pos = m.end()
            continue
        sep = RANGE_SEP.match(text, m.end())
        second = (INSTANT.match(text, sep.end()) or DAY_END.match(text, sep.end())
                  or (HOUR_END.match(text, sep.end()) if _hour(m) else None)) if sep else None
        if second is not None:
            found.append(reader.read(m, "from"))
            found.append(_moved(text, reader.read(second, "to")))
            pos = second.end()
        else:
            found.append(_moved(text, reader.read(m, "point")))
            pos = m.end()
    found += _same_day(text, found) + _issue_day(text, issued, zone, found) + _month_end(text, issued, zone)
    return sorted(found + find_defective(text, issued, zone, found), key=lambda f: f.start)


def _next(text: str, pos: int) -> re.Match[str] | None:
    """The next date, or the next day written alone before a close word ("申报系统15日关闭"), whichever is first."""
    dated, alone = INSTANT.search(text, pos), DAY_ALONE.search(text, pos)
    return alone if alone is not None and (dated is None or alone.start() < dated.start()) else dated


def _moved(text: str, f: Found) -> Found:
    if SUPERSEDED.match(text, f.end):
        f.flags.append("the notice moves this instant (延长至/调整为): the later one holds")
    return f


def _same_day(text: str, taken: list[Found]) -> list[Found]:
    return [Found(m.start(), m.end(), m.group(0), "point", None, ["an hour whose day is named elsewhere (当日)"])
            for m in SAME_DAY.finditer(text) if not any(f.start <= m.start() < f.end for f in taken)]


def _month_end(text: str, issued: date | None, zone: ZoneInfo) -> list[Found]:
    """"截至当年4月底": the end of the month's last day (the first instant of the next month), flagged: no day or hour."""
    out = []
    for m in MONTH_END.finditer(text):
        year = int(m["y"]) if m["y"] else issued.year if issued else None
        month = int(m["m"])
        if not 1 <= month <= 12:
            continue
        ends = [datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)] if year else []
        out.append(Found(m.start(), m.end(), m.group(0), "point", None, ["the end of a month, with no day or hour"], ends))
    return out


def _issue_day(text: str, issued: date | None, zone: ZoneInfo, found: list[Found]) -> list[Found]:
    """"自即日起": the window opens on the day the notice is issued, at an hour the notice does not say; an instant
    right after it ("自即日起至5月20日24时") is that window's close."""
    first = [datetime(issued.year, issued.month, issued.day, tzinfo=zone)] if issued else []
    out = []
    for m in ISSUE_DAY.finditer(text):
        sep = RANGE_SEP.match(text, m.end())
        for f in found:
            if sep is not None and f.start == sep.end() and f.part == "point":
                f.part = "to"
        out.append(Found(m.start(), m.end(), m.group(0), "from", None, ["opens the day the notice is issued, with no hour"],
                         first))
    return out


def find_defective(text: str, issued: date | None, zone: ZoneInfo, taken: list[Found]) -> list[Found]:
    """Digit runs where a stored page dropped 年/月/日/至 ("10176时", "20197129:0081217:00", "48日", "2016 12 31"):
    flagged, with the instants of every reading that makes real months, days and hours in order."""
    out = _days_lost(text, issued, zone, taken)
    for m in DEFECTIVE.finditer(text):
        if any(f.start <= m.start() < f.end for f in taken) or (":" not in m["run"] and not m["hour"]):
            continue
        readings = _readings(m["run"], bool(m["hour"]), issued.year if issued else None, zone)
        candidates = list(dict.fromkeys(t for reading in readings[:4] for t in reading))
        out.append(Found(m.start(), m.end(), m.group(0), "point", None,
                         [f"defective digits {m.group(0)!r}: 年/月/日 lost in the copy"], candidates))
    return out


def _days_lost(text: str, issued: date | None, zone: ZoneInfo, taken: list[Found]) -> list[Found]:
    """Days whose 年/月 the copy lost ("截止日为48日", "2016229日") or left as spaces ("2016 12 31"): the end of each
    day that a reading makes real, flagged."""
    out: list[Found] = []
    for m in (*DAY_LOST.finditer(text), *SPACED_DAY.finditer(text)):
        if any(f.start <= m.start() < f.end for f in taken) or (m.re is DAY_LOST and len(m["run"]) == 2 and (
                int(m["run"]) <= 31 or not m["lead"])):
            continue
        run = m["run"] if m.re is DAY_LOST else "".join(m.group("y", "m", "d"))
        year, rest = (int(run[:4]), run[4:]) if re.match(r"20\d\d\d", run) and len(run) >= 6 else (
            issued.year if issued else None, run)
        days = set()
        for i in (1, 2):
            try:
                days.add(date(year or 0, int(rest[:i]), int(rest[i:])) if 1 <= len(rest) - i <= 2 else None)
            except ValueError:
                continue
        ends = sorted(datetime(d.year, d.month, d.day, tzinfo=zone) + timedelta(days=1) for d in days if d)
        start = m.start("run") if m.re is DAY_LOST else m.start()
        if ends:
            out.append(Found(start, m.end(), text[start:m.end()], "point", None,
                             [f"defective digits {text[start:m.end()]!r}: 年/月 lost in the copy"], ends))
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
