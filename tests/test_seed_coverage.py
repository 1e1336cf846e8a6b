"""Every rule sentence of a seed notice is a rule or attachment of its call file, or listed under `unchecked` with
the reason grantflow does not check it; the heuristic that finds rule sentences (models/call/coverage.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from models.call import load_call, parse_call
from models.call.coverage import covered, is_rule_sentence, rule_sentences, sentences, uncovered
from tests.conftest import CALLS

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
CALL_FILES = sorted(CALLS.glob("00[0-4]-*.yaml"))  # the five seeds; calls/sources/ notices are issue 19's


def notice(source: str) -> str:
    path = SEEDS / Path(source).name
    if not path.exists():
        pytest.skip(f"seed notices not found at {SEEDS}")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", CALL_FILES, ids=lambda p: p.name[:3])
def test_every_rule_sentence_is_checked_or_listed_unchecked(path: Path) -> None:
    call = load_call(path)
    text = notice(call.source)
    assert uncovered(text, call.quotes()) == []
    flat = re.sub(r"\s+", "", text)
    for u in call.unchecked:
        assert re.sub(r"\s+", "", u.sentence) in flat, f"not in {call.source}: {u.sentence}"
        assert is_rule_sentence(u.sentence), f"not a rule sentence, so no need to list it: {u.sentence}"


def test_a_rule_sentence_left_out_of_the_file_is_reported() -> None:
    path = CALLS / "000-sx-2025-basic-research-geology.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    dropped = data["unchecked"].pop(0)["sentence"]
    data["rules"] = [r for r in data["rules"] if r["id"] != "no_full_time_phd_student"]
    call = parse_call(yaml.safe_dump(data, allow_unicode=True), "x.yaml")
    assert uncovered(notice(call.source), call.quotes()) == [dropped, "全日制在读博士研究生不得申报"]


def test_unchecked_entries_need_a_reason_and_leave_the_version_alone() -> None:
    path = CALLS / "001-sx-2024-cooperation-exchange.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    with_reasons = parse_call(yaml.safe_dump(data, allow_unicode=True), "x.yaml")
    data["unchecked"][0]["why"] = ""
    with pytest.raises(Exception, match=r"x.yaml: unchecked.0.why: String should have at least 1 character"):
        parse_call(yaml.safe_dump(data, allow_unicode=True), "x.yaml")
    del data["unchecked"]
    assert parse_call(yaml.safe_dump(data, allow_unicode=True), "x.yaml").version() == with_reasons.version()
    assert "unchecked" not in with_reasons.model_dump()


def test_sentences_join_hard_wrapped_lines_and_split_items() -> None:
    text = "（二）限项规定\n1.项目申请人应遵守国家法律法规及省科技计划管理相关\n规定，具有良好的科学道德。\n\n2.全日制在读博士研究生不得申报。"
    assert sentences(text) == ["限项规定", "项目申请人应遵守国家法律法规及省科技计划管理相关规定，具有良好的科学道德",
                               "全日制在读博士研究生不得申报"]


@pytest.mark.parametrize(("sentence", "expected"), [
    ("全日制在读博士研究生不得申报", True), ("项目负责人须为1967年1月1日（含）以后出生", True),
    ("推动技术转化应用", False), ("网络申报技术支持：山西省信息产业技术研究院有限公司", False),
    ("项目执行期2—3年", False), ("项目申请单位只能通过一个组织单位进行申报", True),
])
def test_rule_sentence_markers_and_their_false_friends(sentence: str, expected: bool) -> None:
    assert is_rule_sentence(sentence) is expected


def test_a_sentence_is_covered_clause_by_clause() -> None:
    sentence = "代表性论文不超过5篇，代表性论著不超过3篇"
    assert not covered(sentence, ["代表性论文不超过5篇"])
    assert covered(sentence, ["代表性论文不超过5篇", "代表性论著不超过3篇"])
    assert covered(sentence, ["前文。代表性论文不超过5篇，代表性论著不超过3篇。"])
    assert rule_sentences("一、项目定位\n\n推动技术转化应用。代表性论文不超过5篇。") == ["代表性论文不超过5篇"]
