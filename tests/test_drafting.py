"""`grantflow calls draft`: the grammar of instants, drafts of every notice in calls/sources, the review page."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from cli import app
from drafting.draft import draft_notice
from drafting.emit import Value
from drafting.instants import find_instants, find_relative
from drafting.review import render_review
from drafting.source import from_text, normalise, read_notice
from models.call import CallFileError, parse_call

Z = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "calls" / "sources").glob("*.txt"))


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=Z)  # type: ignore[misc]


def read(text: str, issued: date = date(2025, 2, 28)) -> list[tuple[datetime | None, str, list[str]]]:
    return [(f.when, f.part, f.flags) for f in find_instants(normalise(text), issued, Z)]


@pytest.mark.parametrize(("text", "expected"), [
    ("截止时间为2025年4月7日17:00", at(2025, 4, 7, 17)),
    ("请于4月7日17时前提交", at(2025, 4, 7, 17)),
    ("10月16日上午6时关闭", at(2025, 10, 16, 6)),
    ("12月22日中午12时前", at(2025, 12, 22, 12)),
    ("12月22日(星期一)下午5:00前", at(2025, 12, 22, 17)),
    ("2025年4月7日18:00前", at(2025, 4, 7, 18)),
    ("二〇二五年四月七日十七时", at(2025, 4, 7, 17)),
    ("2025年4月7日17:30:00", at(2025, 4, 7, 17, 30)),
])
def test_a_point_in_time_is_read_to_the_minute(text: str, expected: datetime) -> None:
    assert read(text)[0] == (expected, "point", [])


@pytest.mark.parametrize("separator", ["至", "—", "~", "-"])
def test_a_range_gives_its_opening_and_its_close_and_the_end_inherits_year_and_month(separator: str) -> None:
    found = read(f"网上申报时间为2025年3月5日9:30{separator}4月7日17:00")
    assert found == [(at(2025, 3, 5, 9, 30), "from", []), (at(2025, 4, 7, 17), "to", [])]
    days = read(f"受理期2025年4月14日{separator}16日")
    assert [f[1] for f in days] == ["from", "to"] and all("a date with no hour" in f[2] for f in days)


def test_a_date_with_no_hour_is_never_read_silently() -> None:
    (when, _, flags), = read("申报截止时间为2025年12月22日。")
    found = find_instants(normalise("申报截止时间为2025年12月22日。"), None, Z)[0]
    assert when is None and flags == ["a date with no hour"]
    assert found.candidates[0] == at(2025, 12, 23)  # the end of the day, as call files write it


def test_a_date_without_a_year_takes_the_notices_year_and_the_next_when_it_would_fall_long_before() -> None:
    assert read("4月7日17时前", date(2025, 2, 28))[0][0] == at(2025, 4, 7, 17)
    when, _, flags = read("1月15日17时前", date(2025, 11, 25))[0]
    assert when == at(2026, 1, 15, 17) and flags and "2026" in flags[0]


@pytest.mark.parametrize(("text", "readings"), [
    ("于10176时恢复项目提交", [at(2025, 10, 17, 6)]),
    ("申报时间为20197129:0081217:00", [at(2019, 7, 12, 9), at(2019, 8, 12, 17)]),
    ("审核推荐截止时间为201982017:00", [at(2019, 8, 20, 17)]),
])
def test_defective_digits_are_flagged_with_their_readings(text: str, readings: list[datetime]) -> None:
    found = find_instants(normalise(text), date(2025, 10, 16), Z)
    assert len(found) == 1 and found[0].when is None and "defective digits" in found[0].flags[0]
    assert found[0].candidates[:len(readings)] == readings


def test_a_date_that_a_rule_reads_is_not_a_deadline() -> None:
    assert read("项目负责人须为1967年1月1日(含)以后出生") == []
    assert read("在山西省内2023年1月1日前注册的单位") == []


def test_relative_deadlines_say_calendar_or_working_days_or_are_left_to_a_person() -> None:
    rel = find_relative(normalise("请在申报截止后五天内进行推荐;形式审查在截止后3个工作日内完成"))
    assert [(r.days, r.unit) for r in rel] == [(5, None), (3, "working_days")]
    notice = from_text("关于组织申报2025年度项目的通知\n网上申报截止时间为2025年12月22日17:00。\n"
                       "请各推荐单位在申报截止后五天内进行推荐。\n")
    draft = draft_notice(notice)
    assert "phases.recommendation.closes" in draft.todo_fields()
    assert "closes: TODO  # the notice does not say calendar or working days" in draft.text()


def _kinds(text: str) -> dict[str, dict[str, object]]:
    draft = draft_notice(from_text(text))
    return {str(p["kind"].value): p for p in draft.tree["phases"]}  # type: ignore[index,union-attr]


def test_a_city_bureau_forwarding_a_provincial_programme_drafts_no_review_stage_of_its_own() -> None:
    text = ("某市科学技术局关于组织申报2025年度省级科技计划项目的通知\n根据《广东省科学技术厅关于组织申报2025年度省级"
            "科技计划项目的通知》要求,现将有关事项通知如下。\n网上申报截止时间为2025年6月20日17:00。\n"
            "项目负责人年龄不超过50周岁,无失信记录。\n省科技厅将组织专家评审,评审结果在省科技厅网站公示。\n")
    draft = draft_notice(from_text(text))
    assert set(_kinds(text)) == {"application"}
    rules = draft.tree["rules"]
    assert isinstance(rules, list) and rules  # checked where the bureau recommends: the call has no formal review
    assert all(isinstance(r["at"], Value) and r["at"].value == "recommendation" for r in rules)
    forwarded = draft.tree["forwarded_to"]
    assert isinstance(forwarded, Value) and forwarded.todo is None and "广东省科学技术厅" in forwarded.value
    assert "省级科技计划" in forwarded.source
    with pytest.raises(CallFileError) as left:  # what is left is a person's to decide, not the stages
        parse_call(draft.text(), "forwarded.yaml")
    assert all("TODO left for a person" in p for p in left.value.problems), left.value.problems


def test_a_province_level_bureau_forwarding_a_national_programme_drafts_the_ministry_as_where_it_goes() -> None:
    draft = draft_notice(read_notice(ROOT / "calls" / "sources" / "020-cq-2024-most-intergovernmental-b2.txt"))
    forwarded = draft.tree["forwarded_to"]
    assert isinstance(forwarded, Value) and forwarded.todo is None and forwarded.value.startswith("科学技术部")
    kinds = [p["kind"].value for p in draft.tree["phases"]]  # type: ignore[index,union-attr]
    assert not {"formal_review", "expert_review", "publicity", "contract"} & set(kinds)


def test_a_funders_notice_keeps_its_stages_each_stated_or_noted_as_an_assumption() -> None:
    text = ("广东省科学技术厅关于组织申报2025年度省基础研究项目的通知\n网上申报截止时间为2025年6月20日17:00。\n"
            "我厅将组织形式审查和专家评审,评审结果择优立项。\n")
    kinds = _kinds(text)
    assert list(kinds) == ["application", "formal_review", "expert_review", "publicity", "contract"]
    formal = kinds["formal_review"]["opens"]
    assert isinstance(formal, Value) and "形式审查" in formal.source and "note" not in kinds["formal_review"]
    note = kinds["publicity"]["note"]
    assert isinstance(note, Value) and note.value.startswith("assumption - the notice does not state a publicity")
    assert "forwarded_to" not in draft_notice(from_text(text)).tree


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem[:3] for s in SOURCES])
def test_every_notice_drafts_a_file_that_validates_but_for_its_todos(source: Path) -> None:
    draft = draft_notice(read_notice(source))
    todo = draft.todo_fields()
    try:
        parse_call(draft.text(), str(source))
    except CallFileError as exc:
        assert todo and all(any(f": {field}:" in p for field in todo) for p in exc.problems), (exc.problems, todo)
    assert "instants found" in draft.summary()


def test_the_command_writes_the_draft_and_one_summary_line(tmp_path: Path) -> None:
    out = tmp_path / "draft.yaml"
    done = CliRunner().invoke(app, ["calls", "draft", str(SOURCES[0]), "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert out.read_text(encoding="utf-8").count("# 原文:") > 5
    assert done.output.count("\n") == 1 and "instants found" in done.output
    missing = CliRunner().invoke(app, ["calls", "draft", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 1 and "cannot read" in missing.output


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is installed by .ci/run")
def test_the_review_page_shows_each_span_linked_to_its_field(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "review.html"
    page_file.write_text(render_review(draft_notice(read_notice(SOURCES[0]))), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(page_file.as_uri())
        marks = page.locator("#notice mark")
        assert marks.count() >= 5
        assert page.locator("#notice mark.flagged").count() >= 1
        first = marks.first
        target = first.evaluate("m => m.parentElement.getAttribute('href')")
        first.click()
        assert page.evaluate("location.hash") == target
        assert page.locator(f"{target}").is_visible()
        assert page.locator("#unmapped li").count() >= 1
        browser.close()
