"""A notice's header facts: title, issuer, document number, issue date and province, each with its sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from models.provinces import province_of

_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,8}\s*[〔\[(【]\s*(?P<year>\d{4})\s*[〕\])】]\s*\d{1,4}\s*号")
_ISSUER = re.compile(r"[\u4e00-\u9fff]{2,12}(?:科学技术厅|科技厅|科学技术局|科技局|科学技术委员会|科委|自然科学基金委员会|"
                     r"人民政府办公厅|财政厅|发展和改革委员会)")
_FULL_DATE = re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")
# A web page's own line: "发布日期:2025-10-16 12:37:02", "时间:2019-07-15 09:06", "发布机构:… 成文日期:2018-04-19".
_PAGE_DATE = re.compile(r"(?:^\s*(?:[•·]\s*)?(?:发布|发表|印发|成文)?|(?:发布|发表|印发|成文))(?:日期|时间)\s*:\s*(?P<y>20\d\d)[-./年]\s*(?P<m>\d{1,2})[-./月]\s*"
                        r"(?P<d>\d{1,2})", re.M)
# The date at the end of the title line's parenthesis, as the stored sources note it: "(四川省科学技术厅,2025-10-16)".
_TITLE_DATE = re.compile(r"[(（][^()（）\n]*?(?P<y>20\d\d)(?:-|年)(?P<m>\d{1,2})(?:-|月)(?P<d>\d{1,2})日?[^()（）\n]*[)）]")
# A signature date whose 年/月/日 the copy lost ("20251016"): read when only one split makes a real day.
_BARE_DATE = re.compile(r"(?P<y>20\d\d)(?P<rest>\d{2,4})")
# A signature run into the last line: "…咨询电话:0311-85885556河北省科学技术厅2022年5月19日。"
_SIGNED = re.compile(r"(?:厅|局|委员会|办公室|政府|委)\s*(?P<date>(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日)"
                     r"\s*。?\s*\Z")
_EDITOR_NOTE = re.compile(r"^\s*[(（]存储页面[^)）]*[)）]")  # the stored copy's "(存储页面无标题行)" before a title
_TITLE = re.compile(r"^(?:标题[:：]\s*)?(?P<t>.{0,80}?(?:关于|申报指南|通知|公告).{0,120})$", re.M)


@dataclass(frozen=True)
class Fact:
    value: str | None
    source: str  # the sentence (line) it came from; "" when not found
    at: int = -1  # where the value stands in the text, when it is one of the text's dates


@dataclass(frozen=True)
class Header:
    title: Fact
    issuer: Fact
    document: Fact
    issued: Fact
    province: Fact

    def issued_date(self) -> date | None:
        return date.fromisoformat(self.issued.value) if self.issued.value else None


def _line_of(text: str, position: int) -> str:
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    return text[start:end if end >= 0 else len(text)].strip()


def _day(m: re.Match[str]) -> date | None:
    try:
        return date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return None


def _bare(line: str) -> date | None:
    m = _BARE_DATE.fullmatch(line)
    if m is None:
        return None
    days = set()
    for i in (1, 2):
        month, day = m["rest"][:i], m["rest"][i:]
        if 1 <= len(day) <= 2 and not month.startswith("0") and not day.startswith("0"):
            try:
                days.add(date(int(m["y"]), int(month), int(day)))
            except ValueError:
                continue
    return days.pop() if len(days) == 1 else None


def _issued(text: str, title_line: str) -> Fact:
    """The signature's date (the last full date alone on a line near the end, or its digits alone), else the page's
    own publication line, else the date the title line's parenthesis notes."""
    lines = text.rstrip().splitlines()
    for k in range(len(lines) - 1, max(-1, len(lines) - 15), -1):
        line = lines[k].strip()
        m = _FULL_DATE.fullmatch(line)
        day = _day(m) if m else _bare(line)
        if day is not None:
            return Fact(day.isoformat(), line)
    signed = _SIGNED.search(text)
    if signed is not None and (day := _day(signed)) is not None:
        return Fact(day.isoformat(), signed.group(0), signed.start("date"))
    for m in (*_PAGE_DATE.finditer(text[:3000]), *_TITLE_DATE.finditer(title_line)):
        day = _day(m)
        if day is not None:
            return Fact(day.isoformat(), _line_of(text, m.start()) if m.re is _PAGE_DATE else title_line)
    return Fact(None, "")


def read_header(text: str) -> Header:
    """Title: the first line that is a notice's title; issuer: the first department named in it or in the text;
    issue date: the last full date standing alone on a line near the end (the signature block)."""
    head = text[:3000]
    t = _TITLE.search(head)
    title = Fact(_EDITOR_NOTE.sub("", t.group("t")).strip(), t.group(0).strip()) if t else Fact(None, "")
    i = _ISSUER.search(title.value or "") or _ISSUER.search(text)
    issuer = Fact(i.group(0), title.source if i and title.value and i.group(0) in title.value else
                  (_line_of(text, i.start()) if i else "")) if i else Fact(None, "")
    d = _DOC_NUMBER.search(text)
    document = Fact(re.sub(r"\s+", "", d.group(0)), _line_of(text, d.start())) if d else Fact(None, "")
    issued = _issued(text, title.source)
    code = province_of(issuer.value or "") or province_of(title.value or "")
    province = Fact(code, issuer.source or title.source) if code else Fact(None, "")
    return Header(title, issuer, document, issued, province)
