"""Reads the State Council's holiday notice (国务院办公厅关于YYYY年部分节假日安排的通知, or a notice amending one)
into days off and make-up workdays, by a small grammar of the notice's clauses rather than per-year patterns."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, timedelta

NUMBER = r"[0-9〇零一二三四五六七八九十两]+"
DATE = re.compile(rf"(?:(?P<y>{NUMBER})年)?(?:(?P<m>{NUMBER})月)?(?P<d>{NUMBER})日(?:\[(?P<w>\d)\])?")
WEEKDAY_NOTE = re.compile(r"(?:周|星期)([一二三四五六日天])")
WEEKDAYS = "一二三四五六日"
TITLE = re.compile(rf"国务院办公厅关于(?P<verb>调整|延长)?(?P<year>{NUMBER})年(?P<what>\S*?)的通知")
AMENDED = re.compile(r"年(?P<name>[^年]+?)(?:假期|放假)")
DOCUMENT_NUMBER = re.compile(r"(国办发\S{0,3}?)[〔\[](\d{4})[〕\]](\d+)号")
ISSUED = re.compile(rf"^\s*({NUMBER})年({NUMBER})月({NUMBER})日\s*$", re.MULTILINE)
ITEM = re.compile(r"^\s*([一二三四五六七八九十]+)、(.*)$", re.MULTILINE)
HEADING = re.compile(r"^(?P<names>[^:,。]{1,24}?):(?P<body>.*)$")
CLAUSE_SPLIT = re.compile(r"[,。;]")
# Clause shapes, matched against the clause with each date replaced by "D".
DAYS_OFF = re.compile(rf"D(?:至D)?放假(?:调休)?(?:({NUMBER})天)?")
MAKE_UP_REST = re.compile(r"D(?:、D)*补休")
WORKDAYS = re.compile(r"D(?:、D)*上班")
BACK_TO_WORK = re.compile(r"D起(?:正常)?上班")
EXTENDED = re.compile(rf"延长(?:{NUMBER}年)?(?P<name>\S+?)假期至D")
TOTAL = re.compile(rf"共({NUMBER})天")


class NoticeError(ValueError):
    """The text is not a holiday notice this grammar can read; the message says where it stopped."""


@dataclass(frozen=True)
class Festival:
    """One item of a notice: its days off (weekends included) and the weekend days worked to make up for them."""

    name: str
    days_off: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()
    extended_to: date | None = None  # an amending "延长…假期至D": the festival's days off now run to D


@dataclass(frozen=True)
class HolidayNotice:
    year: int
    title: str
    number: str | None  # 国办发明电〔2024〕12号; press copies often leave it out
    issued: date | None  # the date under the signature
    amends: bool  # a notice adjusting or extending one festival of the year's arrangement
    festivals: tuple[Festival, ...]

    @property
    def days_off(self) -> list[date]:
        return sorted({d for f in self.festivals for d in f.days_off})

    @property
    def workdays(self) -> list[date]:
        return sorted({d for f in self.festivals for d in f.workdays})


def number(text: str) -> int:
    """An Arabic or Chinese numeral (八, 十二, 二〇二七) as an int."""
    import cn2an  # with the HTML parser below, imported only when a notice is read (the calendar import)

    return int(cn2an.cn2an(text, "smart"))


def plain_text(raw: str) -> str:
    """The notice as plain lines: HTML reduced to its text, full-width punctuation and digits made ASCII (NFKC)."""
    if re.search(r"<(?:html|body|p|div|br|span)\b", raw, re.IGNORECASE):
        from bs4 import BeautifulSoup

        raw = BeautifulSoup(raw, "html.parser").get_text("\n")
    return unicodedata.normalize("NFKC", raw)


def parse_notice(raw: str) -> HolidayNotice:
    """The notice's year (from its title), document number, date and festivals; NoticeError when it is not one."""
    text = plain_text(raw)
    compact = re.sub(r"\s+", "", text)
    title = TITLE.search(compact)
    if title is None:
        raise NoticeError("no title of the form 国务院办公厅关于YYYY年部分节假日安排的通知 found")
    year = number(title["year"])
    amends = "部分节假日安排" not in title["what"]
    amended = AMENDED.search(title.group(0)) if amends else None
    default_name = amended["name"] if amended else None
    festivals: list[Festival] = []
    for expected, item in enumerate(ITEM.finditer(text), start=1):
        if number(item[1]) != expected:
            raise NoticeError(f"item {item[1]}、 where item {expected} was expected: is a line missing?")
        festival = parse_item(item[2].strip(), year, default_name)
        if festival is not None:
            festivals.append(festival)
    if not festivals:
        raise NoticeError(f"{title.group(0)}: no holiday arrangement found in its items")
    doc = DOCUMENT_NUMBER.search(compact)
    signed = ISSUED.findall(text)
    return HolidayNotice(
        year=year,
        title=title.group(0),
        number=f"{doc[1]}〔{doc[2]}〕{doc[3]}号" if doc else None,
        issued=date(*(number(x) for x in signed[-1])) if signed else None,
        amends=amends,
        festivals=tuple(festivals),
    )


def weekday_marks(body: str) -> str:
    """Parenthetical notes removed; a weekday in one (周三, 星期日) kept as "[2]", "[6]" for the date before it."""

    def mark(note: re.Match[str]) -> str:
        day = WEEKDAY_NOTE.search(note[1])
        return f"[{WEEKDAYS.index(day[1].replace('天', '日'))}]" if day else ""

    return re.sub(r"\(([^()]*)\)", mark, body)


def parse_item(line: str, year: int, default_name: str | None) -> Festival | None:
    """One numbered item: None for prose (duty rosters, encouragement), else the festival it arranges."""
    heading = HEADING.match(line)
    name = heading["names"].strip() if heading else default_name
    body = weekday_marks(heading["body"] if heading else line)
    days_off: list[date] = []
    workdays: list[date] = []
    extended_to: date | None = None
    last_range = 0
    for clause in (c.strip() for c in CLAUSE_SPLIT.split(body)):
        dates = clause_dates(clause, year)
        shape = DATE.sub("D", clause)
        if (total := TOTAL.fullmatch(shape)) is not None:
            check_total(last_range, number(total[1]), line)
        elif not dates:
            continue  # 与周末连休, 不调休, prose
        elif (off := DAYS_OFF.fullmatch(shape)) is not None:
            span = spell(dates[0], dates[-1], line)
            if off[1] is not None:
                check_total(len(span), number(off[1]), line)
            days_off += span
            last_range = len(span)
        elif MAKE_UP_REST.fullmatch(shape):
            days_off += dates
        elif WORKDAYS.fullmatch(shape):
            workdays += dates
        elif BACK_TO_WORK.fullmatch(shape):
            continue  # "2月3日起正常上班": the first ordinary workday, said for clarity
        elif (ext := EXTENDED.fullmatch(shape)) is not None:
            name, extended_to = name or ext["name"], dates[0]
        else:
            raise NoticeError(f"unrecognised arrangement {clause!r} in: {line}")
    if not (days_off or workdays or extended_to):
        return None
    if name is None:
        raise NoticeError(f"an arrangement that names no festival: {line}")
    return Festival(name=name, days_off=tuple(days_off), workdays=tuple(workdays), extended_to=extended_to)


def clause_dates(clause: str, year: int) -> list[date]:
    """The clause's dates in order. A date without a year takes the one before it in the clause (else the notice's
    year), one without a month likewise ("4月4日至6日"); a later month that is smaller is in the next year."""
    found: list[date] = []
    for m in DATE.finditer(clause):
        previous = found[-1] if found else None
        if m["m"] is None and previous is None:
            raise NoticeError(f"a day without a month: {clause!r}")
        y = number(m["y"]) if m["y"] else previous.year if previous else year
        month = number(m["m"]) if m["m"] else previous.month if previous else 0
        try:
            day = date(y, month, number(m["d"]))
            if previous is not None and not m["y"] and m["m"] and day.month < previous.month:
                day = day.replace(year=y + 1)
        except ValueError:
            raise NoticeError(f"not a date: {m.group(0)!r} in {clause!r}") from None
        if m["w"] is not None and day.weekday() != int(m["w"]):
            raise NoticeError(f"{day} is a 周{WEEKDAYS[day.weekday()]}, the notice says 周{WEEKDAYS[int(m['w'])]}")
        found.append(day)
    return found


def spell(first: date, last: date, line: str) -> list[date]:
    if last < first:
        raise NoticeError(f"a range that ends before it starts: {line}")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def check_total(counted: int, stated: int, line: str) -> None:
    if counted != stated:
        raise NoticeError(f"the notice says {stated} days, its dates give {counted}: {line}")


def amend(arrangement: tuple[Festival, ...], amendment: HolidayNotice) -> tuple[Festival, ...]:
    """The year's festivals with an amending notice applied: an adjusted festival's days are replaced; an extended
    one's days off run on to the new last day, and make-up workdays inside the longer break are dropped."""
    result = list(arrangement)
    for change in amendment.festivals:
        index = next((i for i, f in enumerate(result) if change.name in f.name.split("、")), None)
        if index is None:
            raise NoticeError(f"{amendment.title} changes {change.name}, which the year's arrangement does not have")
        old = result[index]
        if change.extended_to is None:
            result[index] = replace(old, days_off=change.days_off, workdays=change.workdays)
            continue
        days_off = spell(min(old.days_off), change.extended_to, amendment.title)
        workdays = tuple(d for d in old.workdays if d not in days_off)
        result[index] = replace(old, days_off=tuple(days_off), workdays=workdays)
    return tuple(result)
