"""The shapes of notice sentences the importer reads: who acts by an instant (per clause), hours and ranges, openings
on the issue day, moved and rival closes, defective copies, the issue date; and the held-out notices of
tests/data/notices read as their hand-checked files say."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from drafting.draft import draft_notice
from drafting.header import read_header
from drafting.instants import Found, find_instants
from drafting.source import from_text, normalise, read_notice
from drafting.timeline import Placed
from models.call import CallFileError, parse_call

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.drafting import Row, _covers, measure_held_out  # noqa: E402

Z = ZoneInfo("Asia/Shanghai")
HELD_OUT = sorted((ROOT / "tests" / "data" / "notices").glob("*.yaml"))


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=Z)  # type: ignore[misc]


def placed(text: str) -> list[tuple[str, datetime | None, str | None, str, list[str]]]:
    """(text, reading, role, edge, flags) of every instant the draft of `text` reads."""
    draft = draft_notice(from_text(text))
    return [(p.found.text, p.found.when, p.role, p.edge, p.found.flags) for p in draft.timeline.placed]


def roles(text: str) -> list[str | None]:
    return [r for _, _, r, _, _ in placed(text)]


@pytest.mark.parametrize(("text", "expected"), [
    # two roles in one sentence: each clause names its own
    ("申报单位网上申报截止时间为9月15日17:00,各区科技主管部门网上审核推荐截止时间为9月17日17:00。",
     ["applicant", "recommender"]),
    # the one a thing is sent to does not act by it
    ("请于2022年6月14日16:00前通过系统将电子申请书提交依托单位审核。", ["applicant"]),
    # a line that says only "提交时间" takes the role of its heading
    ("3.依托单位提交\n依托单位通过系统统一提交电子申请书。\n提交时间:2022年6月15日9:00至6月21日16:00\n", ["unit", "unit"]),
    # the subject named at the start of the sentence, before a clause of generic words
    ("各县科技管理部门参照归口管理权限,汇总符合申报要求的项目,于2023年4月27日17:30之前,将推荐函发送到市科技局邮箱。",
     ["recommender"]),
    # a consequence clause ("逾期…不予审核推荐") does not say who acts
    ("请各单位积极开展申报工作,于2024年6月3日16:00前,将申报书通过系统提交至我局,逾期未提交将不予审核推荐。",
     ["applicant"]),
    ("我局将对申报项目进行审核,于2024年6月10日16:00前通过系统完成项目审核推荐工作。", ["recommender"]),
    ("局级主管单位审查时间为2020年1月2日9:00至2020年2月12日17:00。", ["recommender", "recommender"]),
    ("市科技局技术审查时间为2020年2月13日9:00至2020年2月24日17:00。", ["review", "review"]),
    ("申报单位审核截止时间:2023年4月27日17:00。", ["unit"]),
    ("于2022年6月23日16:00前通过国科管系统逐项确认推荐项目。", ["recommender"]),
    ("北京市自然科学基金委员会办公室于2022年6月27日至7月1日15:00前集中接收纸质申请书。", ["paper", "paper"]),
    ("推荐项目汇总表(电子版、盖章纸件)截止时间为2024年8月2日17:00。", ["paper"]),
    ("异议受理截止时间为2014年11月7日16时(北京时间),逾期不予受理。", ["publicity"]),
])
def test_the_role_is_read_from_the_clause_that_names_who_acts(text: str, expected: list[str]) -> None:
    assert roles(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("網上申報截止時間為2020年5月20日24時。", at(2020, 5, 21)),  # traditional characters, 24时 is the day's end
    ("截止日期为2020年5月20日当日24时。", at(2020, 5, 21)),
    ("请于2025年12月22日下午5:30前提交。", at(2025, 12, 22, 17, 30)),
    ("请于二〇二五年十二月二十二日下午五时三十分前提交。", at(2025, 12, 22, 17, 30)),
    ("请于2025年12月22日晚上12时前提交。", at(2025, 12, 23)),
])
def test_hours_of_the_day_in_their_written_forms(text: str, expected: datetime) -> None:
    (_, when, _, _, flags), = placed(text)
    assert when == expected and flags == []


def test_a_range_whose_end_gives_the_hour_alone_ends_the_same_day() -> None:
    found = find_instants(normalise("答辩时间为2025年3月5日9:00至17:00。"), date(2025, 2, 1), Z)
    assert [(f.part, f.when) for f in found] == [("from", at(2025, 3, 5, 9)), ("to", at(2025, 3, 5, 17))]


def test_an_hour_whose_day_is_named_elsewhere_is_flagged() -> None:
    (_, when, _, _, flags), = placed("请各单位于当日17:00前完成提交。")
    assert when is None and "当日" in flags[0]


def test_from_the_issue_day_opens_a_window_flagged_with_that_day_and_the_instant_after_it_closes_it() -> None:
    text = "关于组织申报的通知\n网上申报时间:自即日起至2020年5月20日24时。\n湖北省科学技术厅\n2020年4月30日\n"
    found = placed(text)
    assert [(w, r, e) for _, w, r, e, _ in found] == [(None, "applicant", "opens"), (at(2020, 5, 21), "applicant", "closes")]
    draft = draft_notice(from_text(text))
    opening = next(p for p in draft.timeline.placed if p.edge == "opens")
    assert opening.found.candidates == [at(2020, 4, 30)] and "issued" in opening.found.flags[0]


def test_a_close_the_notice_moves_is_flagged_and_the_later_one_read() -> None:
    found = placed("申报截止时间由2022年7月4日18:00,延长至2022年7月11日18:00。")
    assert [(w, bool(f)) for _, w, _, _, f in found] == [(at(2022, 7, 4, 18), True), (at(2022, 7, 11, 18), False)]


def test_after_a_day_opens_unless_something_stops() -> None:
    found = placed("申请人于2022年5月13日后登录系统撰写申请书。2022年6月14日16:00后申请人提交申请书功能停止服务。")
    assert [e for _, _, _, e, _ in found] == ["opens", "closes"]


@pytest.mark.parametrize("text", [
    "注册时间为2023年1月1日(含)前,有稳定的研究团队。",
    "申请人(1970年1月1日及以后出生)须具有高级职称。",
    "申请人当年1月1日未满55周岁。",
])
def test_dates_that_rules_read_are_not_deadlines(text: str) -> None:
    assert placed(text) == []


@pytest.mark.parametrize(("text", "issued", "ends"), [
    ("第一批项目申报受理截止日为48日。", date(2016, 5, 9), [at(2016, 4, 9)]),
    ("常年网上申报,申报受理截止日为 2016 12 31\n", date(2016, 5, 9), [at(2017, 1, 1)]),
    ("省财政厅2016229日印发的通知", date(2016, 5, 9), [at(2016, 3, 1)]),
])
def test_days_whose_month_or_year_the_copy_lost_are_flagged_with_their_readings(text: str, issued: date,
                                                                               ends: list[datetime]) -> None:
    found, = find_instants(normalise(text), issued, Z)
    assert found.when is None and "defective digits" in found.flags[0] and found.candidates == ends


def test_the_end_of_a_month_is_flagged_as_the_first_instant_of_the_next() -> None:
    found = find_instants(normalise("第一批受理时间截至当年4月底,第二批截至当年12月末。"), date(2018, 4, 19), Z)
    assert [(f.when, f.candidates, f.flags[0]) for f in found] == [
        (None, [at(2018, 5, 1)], "the end of a month, with no day or hour"),
        (None, [at(2019, 1, 1)], "the end of a month, with no day or hour")]


def test_a_day_written_alone_before_a_close_word_takes_the_month_before_it() -> None:
    found = find_instants(normalise("请于6月11日17:00前登录系统进行申报(申报系统15日关闭)。"), date(2012, 5, 1), Z)
    assert [(f.when, f.candidates[:1]) for f in found] == [(at(2012, 6, 11, 17), []), (None, [at(2012, 6, 16)])]
    assert find_instants(normalise("截止后5日内完成,公示15日"), date(2012, 5, 1), Z) == []


def test_with_no_date_of_its_own_a_notice_takes_the_programmes_year_flagged_at_every_date() -> None:
    found = find_instants(normalise("2012年度省杰出青年基金。请于6月11日17:00前申报,6月18日17:00前报送纸质材料。"), None, Z)
    assert [f.when for f in found] == [at(2012, 6, 11, 17), at(2012, 6, 18, 17)]
    assert all("2012年度" in f.flags[0] for f in found)


def test_a_number_of_days_is_not_a_defective_date() -> None:
    assert find_instants(normalise("公示期为7日,截止后30日内完成"), date(2016, 5, 9), Z) == []


@pytest.mark.parametrize(("text", "issued"), [
    ("标题: 关于延长提交时间的通知(四川省科学技术厅,2025-10-16)\n\n正文。\n", "2025-10-16"),
    ("关于组织申报的通知\n  • 发布日期:2025-10-16 12:37:02\n正文。\n", "2025-10-16"),
    ("关于组织申报的通知\n正文。\n四川省科学技术厅\n\n20251016\n", "2025-10-16"),
    ("关于组织申报的通知\n正文,咨询电话:0311-85885556河北省科学技术厅2022年5月19日。\n", "2022-05-19"),
    ("关于常态化申报的通知\n发布机构:银川市科学技术局 成文日期:2018-04-19\n正文。\n", "2018-04-19"),
])
def test_the_issue_date_from_the_signature_the_pages_own_line_or_the_titles_note(text: str, issued: str) -> None:
    assert read_header(normalise(text)).issued.value == issued


def test_dates_that_describe_the_page_are_not_instants_of_the_call() -> None:
    text = ("来源: http://kjt.shandong.gov.cn/art/2021/5/7/art_1.html\n标题: 关于组织申报的通知(2021年5月6日)\n\n"
            "关于组织申报的通知\n时间:2019-07-15 09:06 来源:本网原创稿\n申报填报时间截止到2021年5月27日17:00。\n")
    assert [w for _, w, _, _, _ in placed(text)] == [at(2021, 5, 27, 17)]


def test_several_closes_for_one_role_leave_the_choice_to_a_person() -> None:
    draft = draft_notice(from_text("2025年度项目网上申报截止时间为2025年9月30日18时,"
                                   "我市首次提交截止时间为2025年9月28日18时。\n"))
    assert "phases.application.closes" in draft.todo_fields()
    assert "2025-09-28T18:00:00+08:00" in draft.text() and "2025-09-30T18:00:00+08:00" in draft.text()


def _flagged(flags: list[str], candidates: list[datetime]) -> Placed:
    return Placed(Found(0, 1, "x", "point", None, flags, candidates), "applicant", "closes", "")


def test_the_bench_counts_a_minute_the_notice_does_not_state_as_flagged_when_the_draft_flags_its_day() -> None:
    day_only = _flagged(["a date with no hour"], [at(2025, 12, 23), at(2025, 12, 22, 17)])
    for chosen in (at(2025, 12, 22, 23, 59), at(2025, 12, 22, 18), at(2025, 12, 23)):
        assert _covers(day_only, chosen) == "day"
    assert _covers(day_only, at(2025, 12, 24)) is None
    moved = _flagged(["the notice moves this instant"], [at(2025, 12, 22, 17)])
    assert _covers(moved, at(2025, 12, 22, 17)) == "other" and _covers(moved, at(2025, 12, 22, 18)) is None


@pytest.mark.parametrize("expected", HELD_OUT, ids=[f.stem for f in HELD_OUT])
def test_each_held_out_notice_reads_as_its_hand_checked_file_says(expected: Path) -> None:
    """Every instant stated to the minute read exactly, every one given with no hour, no year or in defective digits
    flagged, nothing else."""
    row: Row = measure_held_out(expected)
    minute = sum(1 for i in yaml.safe_load(expected.read_text(encoding="utf-8"))["instants"] if i["stated"] == "minute")
    assert (row.missed, row.flagged_other, row.wrong) == (0, 0, []), (row.misses, row.wrong)
    assert (row.exact, row.flagged_day) == (minute, row.stated - minute)


@pytest.mark.parametrize("expected", HELD_OUT, ids=[f.stem for f in HELD_OUT])
def test_each_held_out_notice_drafts_a_file_that_validates_but_for_its_todos(expected: Path) -> None:
    source = expected.with_suffix(".txt")
    draft = draft_notice(read_notice(source))
    todo = draft.todo_fields()
    try:
        parse_call(draft.text(), str(source))
    except CallFileError as exc:
        assert todo and all(any(f": {field}:" in p for field in todo) for p in exc.problems), (exc.problems, todo)
