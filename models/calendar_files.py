"""Imported holiday notices as data: one calendars/YYYY.yaml a year at the repository root, naming the notices
(title, document number, date) its days off and make-up workdays came from."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from models.holiday_notice import Festival, HolidayNotice, NoticeError, amend, parse_notice

CALENDARS = Path(__file__).resolve().parent.parent / "calendars"
HEADER = "# Written by `grantflow calendar import NOTICE` from the notices under sources; import again, do not edit.\n"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoticeSource(Strict):
    title: str
    number: str | None = None
    issued: date | None = None

    def __str__(self) -> str:
        details = ", ".join(x for x in (self.number, self.issued and self.issued.isoformat()) if x)
        return f"《{self.title}》" + (f" ({details})" if details else "")


class FestivalDays(Strict):
    name: str
    days_off: list[date]  # every day off of the break, weekends included
    workdays: list[date] = []  # make-up workdays (调休上班)


class YearFile(Strict):
    """A year's arrangement as the notices give it; days a notice names in the year before (元旦 breaks) are kept."""

    year: int
    sources: list[NoticeSource]
    festivals: list[FestivalDays]

    def holidays(self) -> list[date]:
        """Monday-to-Friday days off in the year (what a WorkingCalendar lists as holidays)."""
        return sorted({d for f in self.festivals for d in f.days_off if d.year == self.year and d.weekday() < 5})

    def workdays(self) -> list[date]:
        """Saturday/Sunday make-up workdays in the year."""
        return sorted({d for f in self.festivals for d in f.workdays if d.year == self.year and d.weekday() >= 5})

    def label(self) -> str:
        return " as amended by ".join(str(s) for s in self.sources)

    def as_festivals(self) -> tuple[Festival, ...]:
        return tuple(Festival(f.name, tuple(f.days_off), tuple(f.workdays)) for f in self.festivals)


class Dumper(yaml.SafeDumper):
    """Block style, except that a list of dates is written on one line."""


def represent_list(dumper: yaml.SafeDumper, data: list[object]) -> yaml.Node:
    flow = all(isinstance(x, date) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


Dumper.add_representer(list, represent_list)


def source_of(notice: HolidayNotice) -> NoticeSource:
    return NoticeSource(title=notice.title, number=notice.number, issued=notice.issued)


def with_notice(notice: HolidayNotice, current: YearFile | None) -> YearFile:
    """The year after importing `notice`: an arrangement starts the year afresh, an amendment changes the current one."""
    if not notice.amends:
        festivals, sources = notice.festivals, [source_of(notice)]
    elif current is None:
        raise NoticeError(f"{notice.title} amends the {notice.year} arrangement: import that notice first")
    else:
        festivals = amend(current.as_festivals(), notice)
        sources = [s for s in current.sources if s != source_of(notice)] + [source_of(notice)]
    return YearFile(
        year=notice.year,
        sources=sources,
        festivals=[FestivalDays(name=f.name, days_off=sorted(f.days_off), workdays=sorted(f.workdays)) for f in festivals],
    )


def year_path(directory: Path, year: int) -> Path:
    return directory / f"{year}.yaml"


def read_year(directory: Path, year: int) -> YearFile | None:
    """The imported arrangement of `year`, or None when none was imported."""
    path = year_path(directory, year)
    if not path.is_file():
        return None
    data = YearFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    if data.year != year:
        raise ValueError(f"{path} holds the arrangement of {data.year}, not {year}")
    return data


def write_year(directory: Path, data: YearFile) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = year_path(directory, data.year)
    body = yaml.dump(data.model_dump(mode="python"), Dumper=Dumper, allow_unicode=True, sort_keys=False, width=1000)
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def import_notice(directory: Path, text: str) -> tuple[YearFile, Path]:
    """Parse a notice and write (or amend) its year's file under `directory`."""
    notice = parse_notice(text)
    data = with_notice(notice, read_year(directory, notice.year))
    return data, write_year(directory, data)
