"""`grantflow calendar import` and `show`, and calls computing working days in a year only an imported notice covers;
a year with nothing still fails with one clear line."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from cli import app
from models.calendar import CalendarNotCovered, YearSource
from models.call import CallDefinition, parse_call
from models.holidays import build_calendar
from tests.test_calendar import CALENDAR_2027, seed_text, shanghai
from tests.test_holiday_notice import NOTICES

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A made-up notice in the official form, for a year chinese-calendar 1.11.0 lacks (the real 2027 notice is published
# in November 2026 and was not to be found): it is not the official 2027 arrangement.
NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
国办发明电〔2026〕99号
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（农历除夕、周五）至11日（周四）放假调休，共7天。2月20日（周六）上班。
节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作。
国务院办公厅
2026年11月10日
"""


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    """A calendar directory holding the 2027 test notice, imported through the command line."""
    notice = tmp_path / "notice-2027.txt"
    notice.write_text(NOTICE_2027, encoding="utf-8")
    done = CliRunner().invoke(app, ["calendar", "import", str(notice), "--calendars", str(tmp_path / "calendars")])
    assert done.exit_code == 0, done.output
    assert f"{tmp_path / 'calendars' / '2027.yaml'}: 《国务院办公厅关于2027年部分节假日安排的通知》" in done.output
    assert "(国办发明电〔2026〕99号, 2026-11-10)" in done.output
    assert "2027: 2 festivals, 6 weekday holidays, 1 make-up workdays" in done.output
    assert "calls now compute working days in 2027 from it" in done.output
    return tmp_path / "calendars"


def in_2026() -> CallDefinition:
    """Call 000 a year later: its calendar covers 2026 and the year after, which only the import has."""
    return parse_call(seed_text("000").replace("2025-", "2026-"), "000 in 2026")


def test_a_call_reaching_the_imported_year_computes_working_days(imported: Path) -> None:
    calendar = build_calendar(in_2026(), imported=imported)
    assert (calendar.first, calendar.last) == (date(2026, 1, 1), date(2027, 12, 31))
    # Tue 29, Wed 30, Thu 31, (Fri 1 January to Sun 3 off), Mon 4, Tue 5
    assert calendar.end_after_working_days(shanghai(2026, 12, 28, 10, 0), 5, SHANGHAI) == shanghai(2027, 1, 6)
    # Fri 19, Sat 20 (make-up workday), Mon 22
    assert calendar.end_after_working_days(shanghai(2027, 2, 18, 10, 0), 3, SHANGHAI) == shanghai(2027, 2, 23)
    assert not any(calendar.is_workday(date(2027, 2, d)) for d in range(5, 12))
    with pytest.raises(CalendarNotCovered, match="2028"):
        calendar.is_workday(date(2028, 1, 3))


def test_the_calendar_records_where_each_year_came_from(imported: Path) -> None:
    calendar = build_calendar(in_2026(), imported=imported)
    assert [(y.year, y.kind) for y in calendar.years] == [(2026, "package"), (2027, "notice")]
    assert calendar.years[0] == YearSource(2026, "package", "chinese-calendar 1.11.0")
    assert calendar.years[1].detail.startswith("calendars/2027.yaml: 《国务院办公厅关于2027年部分节假日安排的通知》")
    assert calendar.source.startswith("chinese-calendar 1.11.0; imported 2027: calendars/2027.yaml")
    assert calendar.shifted(7).years == calendar.years


def test_a_call_dated_in_the_imported_year_is_computable(imported: Path) -> None:
    call = parse_call(seed_text("000").replace("2025-", "2027-"), "000 in 2027")
    calendar = build_calendar(call, imported=imported)
    assert (calendar.first, calendar.last) == (date(2027, 1, 1), date(2027, 12, 31))
    assert calendar.is_workday(date(2027, 2, 20)) and not calendar.is_workday(date(2027, 2, 8))


def test_the_call_files_own_list_wins_over_an_imported_notice(imported: Path) -> None:
    calendar = build_calendar(parse_call(seed_text("000") + CALENDAR_2027, "000 with 2027"), imported=imported)
    assert calendar.years[2] == YearSource(2027, "call file", "test list, not the official 2027 arrangement")
    assert calendar.is_workday(date(2027, 1, 9)) and calendar.is_workday(date(2027, 1, 4))
    assert not calendar.is_workday(date(2027, 2, 20))  # the list has no make-up Saturday there; the notice had


def test_a_year_with_neither_package_data_nor_an_import_still_fails_with_one_line(tmp_path: Path) -> None:
    call = parse_call(seed_text("000").replace("2025-", "2027-"), "000 in 2027")
    with pytest.raises(CalendarNotCovered, match="no official working-day data for 2027") as raised:
        build_calendar(call, imported=tmp_path)
    message = str(raised.value)
    assert "\n" not in message and "grantflow calendar import NOTICE" in message and "year: 2027" in message
    covered = build_calendar(in_2026(), imported=tmp_path)  # coverage stops before 2027
    with pytest.raises(CalendarNotCovered, match="2027") as late:
        covered.is_workday(date(2027, 1, 4))
    assert "\n" not in str(late.value)
    shown = CliRunner().invoke(app, ["calendar", "show", "2027", "--calendars", str(tmp_path)])
    assert shown.exit_code == 1
    assert shown.output.count("\n") == 1 and "error: no official working-day data for 2027" in shown.output


def test_show_prints_an_imported_year_beside_its_grid(imported: Path) -> None:
    shown = CliRunner().invoke(app, ["calendar", "show", "2027", "--calendars", str(imported)],
                               env={"COLUMNS": "160"})
    assert shown.exit_code == 0, shown.output
    assert "2027: calendars/2027.yaml: 《国务院办公厅关于2027年部分节假日安排的通知》" in shown.output
    assert "2月5日(五)至2月11日(四)" in shown.output and "2月20日(六)" in shown.output
    assert "一 二 三 四 五 六 日" in shown.output and "12月" in shown.output
    grid_and_table = [line for line in shown.output.splitlines() if "春节" in line]
    assert grid_and_table and "一 二 三 四 五 六 日" in "".join(shown.output.splitlines()[1:6])


def test_show_prints_a_package_year_with_its_festivals() -> None:
    shown = CliRunner().invoke(app, ["calendar", "show", "2025"], env={"COLUMNS": "160"})
    assert shown.exit_code == 0, shown.output
    assert "2025: chinese-calendar 1.11.0" in shown.output
    assert "1月28日(二)至2月4日(二)" in shown.output and "1月26日(日)、2月8日(六)" in shown.output


def test_importing_a_covered_year_says_whether_the_notice_agrees_with_the_package(tmp_path: Path) -> None:
    runner = CliRunner()
    agreed = runner.invoke(app, ["calendar", "import", str(NOTICES / "2025.txt"), "--calendars", str(tmp_path)])
    assert agreed.exit_code == 0
    assert "chinese-calendar 1.11.0 covers 2025 and is used for it; the notice agrees with it on every day" in (
        agreed.output)
    base = runner.invoke(app, ["calendar", "import", str(NOTICES / "2019.txt"), "--calendars", str(tmp_path)])
    assert "differs on 2019-04-28, 2019-05-02, 2019-05-03, 2019-05-05" in base.output
    amended = runner.invoke(app, ["calendar", "import", str(NOTICES / "2019-amendment.txt"),
                                  "--calendars", str(tmp_path)])
    assert "as amended by 《国务院办公厅关于调整2019年劳动节假期安排的通知》" in amended.output
    assert "agrees with it on every day" in amended.output


def test_import_refuses_what_it_cannot_read_in_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "bad.txt"
    bad.write_text("国务院办公厅关于2027年部分节假日安排的通知\n一、元旦：1月1日（周四）放假。\n", encoding="utf-8")
    refused = runner.invoke(app, ["calendar", "import", str(bad), "--calendars", str(tmp_path)])
    assert refused.exit_code == 1 and refused.output.count("\n") == 1
    assert "2027-01-01 is a 周五, the notice says 周四" in refused.output
    bad.write_bytes("国务院办公厅".encode("gb18030"))
    assert runner.invoke(app, ["calendar", "import", str(bad)]).exit_code == 1
    assert not (tmp_path / "2027.yaml").exists()
