"""The publicity result (公示结果) of a call: objections filed and how they ended, who was promoted, the final funded
list; published once when publicity closes, as a notice and a public page. It never names an objector or an expert."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import TypeAdapter


@dataclass
class Listed:
    """An application as the result lists it: id, category, title and unit (no person)."""

    application_id: str
    category: str
    title: str
    unit: str


@dataclass
class PublicityResult:
    call_id: str
    phase: str
    published_at: datetime
    objections: int  # filed during publicity
    upheld: int
    dismissed: int
    pending: int  # still being investigated when publicity closed
    promoted: list[Listed] = field(default_factory=list)
    funded: list[Listed] = field(default_factory=list)  # the final funded list, by category then rank


@dataclass
class PublishResultInput:
    """What the deciding stage knows when publicity closes: the final funded list per category (in rank order), the
    reserves it promoted, and the applications it put into publicity."""

    call_id: str
    phase: str
    published_at: datetime
    funded: dict[str, list[str]]
    promoted: list[str]
    publicised: list[str]


@dataclass
class Published:
    """The result as stored (the first one published, whatever a retry brings) and who is told: the call's
    managers and the applicant of every application that reached publicity."""

    result: PublicityResult
    recipients: list[str]


RESULT = TypeAdapter(PublicityResult)


def _line(x: Listed, categories: dict[str, str]) -> str:
    return f"{categories.get(x.category, x.category)}：{x.application_id}《{x.title}》（{x.unit or '—'}）"


def notice_data(result: PublicityResult, categories: dict[str, str]) -> dict[str, str]:
    """The notice's fields (strings, as every notice's data): counts, and one line per promoted or funded project."""
    return {"objections": str(result.objections), "upheld": str(result.upheld), "dismissed": str(result.dismissed),
            "pending": str(result.pending), "count": str(len(result.funded)),
            "promoted": "\n".join(_line(x, categories) for x in result.promoted),
            "funded": "\n".join(_line(x, categories) for x in result.funded)}
