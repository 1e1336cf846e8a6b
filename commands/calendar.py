"""`grantflow calendar ...`: import the State Council's holiday notice of a year; show a year's holidays and make-up
workdays beside its weekday grid."""

from __future__ import annotations

import calendar as months
from datetime import date
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from commands.common import fail, out
from models.calendar_files import CALENDARS, import_notice
from models.holiday_notice import NoticeError
from models.holidays import PACKAGE, Break, OfficialYear, official_year, year_data

calendar_app = typer.Typer(no_args_is_help=True, help="Working-day calendars: import a holiday notice, show a year.")
WEEKDAYS = "一二三四五六日"
DIRECTORY = typer.Option(CALENDARS, "--calendars", help="the project calendar directory (default: calendars/)")


@calendar_app.command("import")
def calendar_import(notice: Path, directory: Path = DIRECTORY) -> None:
    """Read a notice (UTF-8 text or HTML) and write its year's holidays and make-up workdays to calendars/YYYY.yaml;
    an amending notice (调整…, 延长…) changes the year already imported."""
    try:
        data, path = import_notice(directory, notice.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{notice}: cannot read it as UTF-8 text ({exc})") from None
    except NoticeError as exc:
        raise fail(f"{notice}: {exc}") from None
    out.print(f"{path}: {data.label()}", highlight=False, soft_wrap=True)
    out.print(f"{data.year}: {len(data.festivals)} festivals, {len(data.holidays())} weekday holidays, "
              f"{len(data.workdays())} make-up workdays", highlight=False, soft_wrap=True)
    package = official_year(data.year)
    if package is None:
        out.print(f"calls now compute working days in {data.year} from it (grantflow calendar show {data.year})",
                  soft_wrap=True)
        return
    # chinese-calendar covers the year and takes precedence: say whether the notice agrees with it.
    differ = sorted((set(data.holidays()) ^ {d for d in package[0] if d.weekday() < 5})
                    | (set(data.workdays()) ^ set(package[1])))
    agreement = "agrees with it on every day" if not differ else "differs on " + ", ".join(map(str, differ))
    out.print(f"{PACKAGE} covers {data.year} and is used for it; the notice {agreement}", highlight=False,
              soft_wrap=True)


@calendar_app.command("show")
def calendar_show(year: int, directory: Path = DIRECTORY) -> None:
    """A year's holidays and make-up workdays (from chinese-calendar or an imported notice) beside its weekday grid."""
    official = year_data(year, directory)
    if official is None:
        raise fail(f"no official working-day data for {year} ({PACKAGE}, nothing imported under {directory}/): import "
             f"the State Council's notice for {year} (grantflow calendar import NOTICE)")
    out.print(Text(f"{year}: {official.source.detail}", style="bold"), soft_wrap=True)
    layout = Table.grid(padding=(0, 3))
    layout.add_row(breaks_table(official.breaks), year_grid(year, official))
    out.print(layout)
    out.print(Text.assemble(("休", "bold red"), " day off   ", ("班", "bold black on yellow"),
                            " make-up workday   ", ("weekend", "dim")))


def day_label(day: date) -> str:
    return f"{day.month}月{day.day}日({WEEKDAYS[day.weekday()]})"


def spans(days: list[date]) -> str:
    """Consecutive days joined into ranges: 1月28日(二)至2月4日(二)."""
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return "、".join(day_label(r[0]) + (f"至{day_label(r[-1])}" if len(r) > 1 else "") for r in runs)


def breaks_table(breaks: list[Break]) -> Table:
    table = Table(title="放假 and 调休上班", title_justify="left")
    table.add_column("节日")
    table.add_column("放假 (days off)")
    table.add_column("天", justify="right")
    table.add_column("上班 (make-up workdays)")
    for b in breaks:
        table.add_row(b.name, spans(b.days_off), str(len(b.days_off)), "、".join(map(day_label, b.workdays)))
    return table


def year_grid(year: int, official: OfficialYear) -> Table:
    """Twelve months, three abreast, each a Monday-first weekday grid with days off and make-up workdays marked."""
    off = {d for b in official.breaks for d in b.days_off} | set(official.holidays)
    work = set(official.workdays)
    grid = Table.grid(padding=(0, 2))
    row: list[Table] = []
    for month in range(1, 13):
        table = Table(title=f"{month}月", box=None, padding=(0, 0), show_edge=False)
        for name in WEEKDAYS:
            table.add_column(name, justify="right", width=3)
        for week in months.Calendar().monthdatescalendar(year, month):
            table.add_row(*(cell(day, month, off, work) for day in week))
        row.append(table)
        if len(row) == 3:
            grid.add_row(*row)
            row = []
    return grid


def cell(day: date, month: int, off: set[date], work: set[date]) -> Text:
    if day.month != month:
        return Text("")
    style = "bold black on yellow" if day in work else "bold red" if day in off else "dim" if day.weekday() >= 5 else ""
    return Text(str(day.day), style=style)
