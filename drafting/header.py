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
_TITLE = re.compile(r"^(?:标题[:：]\s*)?(?P<t>.{0,80}?(?:关于|申报指南|通知|公告).{0,120})$", re.M)


@dataclass(frozen=True)
class Fact:
    value: str | None
    source: str  # the sentence (line) it came from; "" when not found


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


def read_header(text: str) -> Header:
    """Title: the first line that is a notice's title; issuer: the first department named in it or in the text;
    issue date: the last full date standing alone on a line near the end (the signature block)."""
    head = text[:3000]
    t = _TITLE.search(head)
    title = Fact(t.group("t").strip(), t.group(0).strip()) if t else Fact(None, "")
    i = _ISSUER.search(title.value or "") or _ISSUER.search(text)
    issuer = Fact(i.group(0), title.source if i and title.value and i.group(0) in title.value else
                  (_line_of(text, i.start()) if i else "")) if i else Fact(None, "")
    d = _DOC_NUMBER.search(text)
    document = Fact(re.sub(r"\s+", "", d.group(0)), _line_of(text, d.start())) if d else Fact(None, "")
    issued = Fact(None, "")
    lines = text.rstrip().splitlines()
    for k in range(len(lines) - 1, max(-1, len(lines) - 15), -1):
        m = _FULL_DATE.fullmatch(lines[k].strip())
        if m:
            issued = Fact(date(int(m["y"]), int(m["m"]), int(m["d"])).isoformat(), lines[k].strip())
            break
    code = province_of(issuer.value or "") or province_of(title.value or "")
    province = Fact(code, issuer.source or title.source) if code else Fact(None, "")
    return Header(title, issuer, document, issued, province)
