"""Notice texts: a Chinese template for every kind the code produces, with the call's names and local instants."""

from __future__ import annotations

import re

import pytest

from activities.notices import FAILED_KIND, CallNames, render
from activities.notices.render import ENV
from models.call import load_call
from tests.conftest import CALLS

CALL = load_call(CALLS / "000-sx-2025-basic-research-geology.yaml")
NAMES = CallNames.of(CALL.id, CALL.model_dump_json())
UTC_CLOSE = "2025-04-07T09:00:00+00:00"  # 17:00 in Shanghai
TRANSITION = {"trigger": "approve", "source": "awaiting_unit_review", "dest": "awaiting_organiser_review",
              "dest_label": "awaiting organiser review", "actor_id": "unit-1", "role": "unit_admin", "reason": "同意推荐"}
EVENT = {"phase_name": "网上填报受理期", "at": "2025-03-05T09:30:00+08:00", "closes": UTC_CLOSE,
         "previous": "2025-04-01T17:00:00+08:00", "reason": "系统故障", "detail": "version a -> b"}
KINDS = {  # every kind: the application workflow's, the call workflow's (phase_<event>, call_revised, call_extended_for), the postman's
    "transition": TRANSITION,
    "reminder": {"action": "approve", "deadline": UTC_CLOSE},
    "assigned": {"action": "review", "deadline": UTC_CLOSE},
    "defence_slot": {"phase_name": "线上视频答辩", "starts": UTC_CLOSE, "ends": "2025-04-07T09:20:00+00:00",
                     "materials_due": "2025-04-03T16:00:00+00:00"},
    "vacancy": {"application_id": "a1", "promoted": "a9", "reason": "经核查异议成立"},
    "seat_empty": {"starts": UTC_CLOSE, "ends": "2025-04-07T09:20:00+00:00", "remaining": "4",
                   "reason": "declined by x-1: 出差"},
    "publicity_result": {"objections": "2", "upheld": "1", "dismissed": "0", "pending": "1", "count": "1",
                         "promoted": "重点项目：a9《深部找矿》（u1）", "funded": "重点项目：a9《深部找矿》（u1）"},
    "overdue": {"action": "approve", "deadline": UTC_CLOSE},
    "escalation": {"action": "approve", "deadline": UTC_CLOSE},
    "phase_opened": EVENT, "phase_closed": EVENT, "phase_extended": EVENT, "call_revised": EVENT,
    "call_quota_set": {**EVENT, "phase_name": "", "detail": "quota planned_by_area: unset -> 12"},
    "call_extended_for": EVENT,
    FAILED_KIND: {"recipient": "applicant:pi-1", "address": "pi1@sxu.example.edu.cn", "subject": "申报项目",
                  "reply": "550 5.1.1 no such mailbox"},
}
HAN = re.compile(r"[\u4e00-\u9fff]")


def test_every_kind_has_its_template_and_no_template_is_left_over() -> None:
    assert {name.removesuffix(".txt.j2") for name in ENV.list_templates() if not name.startswith("_")} == set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_notice_is_chinese_with_the_calls_own_names_and_local_instants(kind: str) -> None:
    subject, body = render(kind, KINDS[kind], NAMES, "a1", "applicant:pi-1")
    assert subject.startswith(f"【{CALL.title}】") and HAN.search(body)
    assert not re.search(r"\d{4}-\d\d-\d\dT|not set|UTC", subject + body)
    if "deadline" in KINDS[kind] or kind in ("phase_extended", "defence_slot", "seat_empty"):
        assert "2025年4月7日17:00" in subject + body


def test_a_transition_names_the_step_and_the_actor_in_chinese() -> None:
    subject, body = render("transition", TRANSITION, NAMES, "a1", "recommender:org-1")
    assert subject.endswith("申报项目a1：待组织单位（主管部门）网上审核")
    assert body.startswith("推荐单位（主管部门）：您好！")
    assert "申请单位管理员（unit-1）已审核通过。" in body and "理由：同意推荐" in body


def test_an_extension_names_the_window_and_its_new_close() -> None:
    data = {**TRANSITION, "trigger": "extend_deadline", "role": "manager", "actor_id": "pm-1",
            "dest_label": f"deadline step:unit_review extended to {UTC_CLOSE}"}
    _, body = render("transition", data, NAMES, "a1", "applicant:pi-1")
    assert "项目主管（pm-1）已将“申请单位审核”的截止时间延长至2025年4月7日17:00。" in body


def test_a_call_not_stored_is_named_by_its_id_in_shanghai_time() -> None:
    names = CallNames.of("c-1", None)
    assert names.when(UTC_CLOSE) == "2025年4月7日17:00" and names.when("not set") == "未定"
    assert render("reminder", KINDS["reminder"], names, "a1", "applicant:pi-1")[0].startswith("【c-1】")
