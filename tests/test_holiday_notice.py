"""The State Council's real holiday notices, parsed and compared day by day with chinese-calendar; the grammar's shapes
and failures; calendars/YYYY.yaml written and read back."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from models.calendar_files import NoticeSource, import_notice, read_year, with_notice, write_year
from models.holiday_notice import HolidayNotice, NoticeError, amend, parse_notice

NOTICES = Path(__file__).resolve().parent / "data" / "holiday_notices"
YEARS = [2017, 2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026]
TO_ASCII = str.maketrans({"（": "(", "）": ")", "：": ":", "，": ",", "；": ";"})


def notice_text(name: str) -> str:
    return (NOTICES / f"{name}.txt").read_text(encoding="utf-8")


def year_as_published(year: int) -> HolidayNotice:
    """The year's notice, with the amending notice applied where one was published (2019 劳动节, 2020 春节)."""
    notice = parse_notice(notice_text(str(year)))
    amendment = NOTICES / f"{year}-amendment.txt"
    if amendment.exists():
        amending = parse_notice(amendment.read_text(encoding="utf-8"))
        notice = HolidayNotice(**{**notice.__dict__, "festivals": amend(notice.festivals, amending)})
    return notice


def differences(notice: HolidayNotice) -> list[date]:
    """Days on which the notice and chinese-calendar disagree: weekday holidays and weekend make-up workdays, over the
    notice's year and any day of the year before that it names (a 元旦 break starting in December)."""
    first = min([date(notice.year, 1, 1), *notice.days_off, *notice.workdays])
    last = date(notice.year, 12, 31)
    window = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    package_off = {d for d in chinese_calendar.get_holidays(first, last, include_weekends=False) if d.weekday() < 5}
    package_work = {d for d in chinese_calendar.get_workdays(first, last, include_weekends=True) if d.weekday() >= 5}
    off = {d for d in notice.days_off if d.weekday() < 5}
    work = {d for d in notice.workdays if d.weekday() >= 5}
    return [d for d in window if (d in off) != (d in package_off) or (d in work) != (d in package_work)]


@pytest.mark.parametrize("year", YEARS)
def test_each_real_notice_agrees_with_chinese_calendar_day_by_day(year: int) -> None:
    notice = year_as_published(year)
    assert notice.year == year
    assert differences(notice) == []


@pytest.mark.parametrize(
    ("year", "changed"),
    [
        (2019, [date(2019, 4, 28), date(2019, 5, 2), date(2019, 5, 3), date(2019, 5, 5)]),
        (2020, [date(2020, 1, 31), date(2020, 2, 1)]),
    ],
)
def test_without_its_amendment_a_year_differs_exactly_where_the_amendment_changed_it(
    year: int, changed: list[date]
) -> None:
    assert differences(parse_notice(notice_text(str(year)))) == changed


def test_title_number_and_date_are_read() -> None:
    notice = parse_notice(notice_text("2023"))  # its title is split over two lines
    assert notice.title == "国务院办公厅关于2023年部分节假日安排的通知"
    assert (notice.number, notice.issued, notice.amends) == ("国办发明电〔2022〕16号", date(2022, 12, 8), False)
    assert [f.name for f in notice.festivals] == ["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节、国庆节"]
    assert parse_notice(notice_text("2025")).number is None  # the press copy leaves it out


def test_a_range_across_the_new_year_and_across_months() -> None:
    notice = parse_notice(notice_text("2019"))
    assert notice.festivals[0].days_off == (date(2018, 12, 30), date(2018, 12, 31), date(2019, 1, 1))
    assert notice.festivals[0].workdays == (date(2018, 12, 29),)
    may = parse_notice(notice_text("2022")).festivals[3]
    assert (may.days_off[0], may.days_off[-1], len(may.days_off)) == (date(2022, 4, 30), date(2022, 5, 4), 5)


def test_make_up_rest_and_breaks_joined_to_the_weekend() -> None:
    notice = parse_notice(notice_text("2017"))  # 1月1日放假，1月2日（星期一）补休 / 5月1日放假，与周末连休
    assert notice.festivals[0].days_off == (date(2017, 1, 1), date(2017, 1, 2))
    assert notice.festivals[3].days_off == (date(2017, 5, 1),)


def test_full_width_and_ascii_punctuation_read_alike() -> None:
    full = notice_text("2025")
    assert "（" in full and "(" not in full
    assert parse_notice(full.translate(TO_ASCII)) == parse_notice(full)
    assert "，" not in notice_text("2021")  # stored as the page printed it, ASCII punctuation


def test_html_reads_like_the_text() -> None:
    text = notice_text("2026")
    html = "<html><body>" + "".join(f"<p>{line}</p>" for line in text.splitlines()) + "</body></html>"
    assert parse_notice(html) == parse_notice(text)


def test_chinese_numerals_in_dates_counts_and_the_year() -> None:
    notice = parse_notice(
        "国务院办公厅关于二〇二六年部分节假日安排的通知\n"
        "一、元旦：一月一日（周四）至三日（周六）放假调休，共三天。一月四日（周日）上班。\n"
        "国务院办公厅\n二〇二五年十一月四日\n"
    )
    assert notice.year == 2026 and notice.issued == date(2025, 11, 4)
    assert notice.festivals[0].days_off == (date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3))
    assert notice.festivals[0].workdays == (date(2026, 1, 4),)


def test_an_encouragement_to_rest_is_not_a_holiday() -> None:
    spring = parse_notice(notice_text("2024")).festivals[1]  # 鼓励…安排职工在除夕（2月9日）休息
    assert date(2024, 2, 9) not in spring.days_off


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("一、元旦：1月1日（周四）放假1天。", "2025-01-01 is a 周三, the notice says 周四"),
        ("一、元旦：1月1日至3日放假，共4天。", "says 4 days, its dates give 3"),
        ("一、元旦：1月1日放假，1月4日值班。", "unrecognised arrangement '1月4日值班'"),
        ("二、元旦：1月1日放假。", "item 二、 where item 1 was expected"),
        ("一、元旦：2月30日放假。", "not a date"),
        ("一、元旦：1月3日至1日放假。", "ends before it starts"),
        ("一、各部门要妥善安排好值班。", "no holiday arrangement found"),
    ],
)
def test_what_the_grammar_refuses(line: str, says: str) -> None:
    with pytest.raises(NoticeError, match=says):
        parse_notice(f"国务院办公厅关于2025年部分节假日安排的通知\n{line}\n")


def test_a_text_that_is_no_notice() -> None:
    with pytest.raises(NoticeError, match="no title"):
        parse_notice("关于召开年度工作会议的通知\n一、时间：3月1日。\n")


def test_importing_writes_the_year_file_and_reads_it_back(tmp_path: Path) -> None:
    data, path = import_notice(tmp_path, notice_text("2025"))
    assert path == tmp_path / "2025.yaml"
    assert read_year(tmp_path, 2025) == data
    assert read_year(tmp_path, 2031) is None
    assert data.sources == [NoticeSource(title="国务院办公厅关于2025年部分节假日安排的通知", issued=date(2025 - 1, 11, 12))]
    assert date(2025, 10, 8) in data.holidays() and date(2025, 10, 11) in data.workdays()
    assert "2025-10-08" in path.read_text(encoding="utf-8")


def test_an_amendment_changes_the_imported_year_and_is_named_as_its_source(tmp_path: Path) -> None:
    import_notice(tmp_path, notice_text("2020"))
    data, _ = import_notice(tmp_path, notice_text("2020-amendment"))
    again, _ = import_notice(tmp_path, notice_text("2020-amendment"))
    assert again == data  # importing it twice changes nothing
    assert [s.title for s in data.sources] == [
        "国务院办公厅关于2020年部分节假日安排的通知", "国务院办公厅关于延长2020年春节假期的通知",
    ]
    assert date(2020, 1, 31) in data.holidays() and date(2020, 2, 1) not in data.workdays()
    assert "as amended by" in data.label()


def test_an_amendment_needs_its_year_and_its_festival(tmp_path: Path) -> None:
    with pytest.raises(NoticeError, match="import that notice first"):
        import_notice(tmp_path, notice_text("2019-amendment"))
    base = with_notice(parse_notice(notice_text("2019")), None)
    write_year(tmp_path, base.model_copy(update={"festivals": base.festivals[:2]}))
    with pytest.raises(NoticeError, match="does not have"):
        import_notice(tmp_path, notice_text("2019-amendment"))


def test_a_year_file_holds_the_year_it_is_named_for(tmp_path: Path) -> None:
    _, path = import_notice(tmp_path, notice_text("2026"))
    path.rename(tmp_path / "2027.yaml")
    with pytest.raises(ValueError, match="holds the arrangement of 2026, not 2027"):
        read_year(tmp_path, 2027)
