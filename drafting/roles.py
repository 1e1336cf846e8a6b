"""Who must act by an instant, read from the sentence around it: the applicant, the unit, the recommender, the paper
copy, a defence, the contract, publicity, or the opening of a window."""

from __future__ import annotations

import re
from typing import Literal

Role = Literal["applicant", "unit", "recommender", "paper", "defence", "contract", "publicity", "review"]

# Most specific first: a sentence about the recommender's online review names the applicants too.
_ROLES: tuple[tuple[Role, re.Pattern[str]], ...] = (
    ("paper", re.compile(r"纸质|纸件|纸本|书面材料|(?:集中|现场)接收|一式\s*\d+\s*份|装订|报送.{0,10}(?:材料|申报书)|寄送|邮寄|窗口|受理点")),
    ("defence", re.compile(r"答辩")),
    ("contract", re.compile(r"任务书|合同书|签订合同")),
    ("publicity", re.compile(r"公示|异议")),
    ("review", re.compile(r"技术审查|形式审查(?!表)")),  # the agency's own review, even where a bureau is named
    ("recommender", re.compile(r"推荐单位|主管部门|主管单位|归口|组织单位|科技局|推荐(?:工作|意见|函)?.{0,6}(?:截止|前)|审核推荐|进行推荐|确认推荐|推荐函|科技管理部门"
                                   r"|(?:我局|我厅|本局|本厅|市科技局|省科技厅)[^,，。]{0,8}(?:审核|审查)")),
    ("unit", re.compile(r"依托单位|申报单位.{0,8}(?:审核|确认|提交)|单位审核|单位管理员|单位.{0,4}确认")),
    ("review", re.compile(r"评审|评议")),
    ("applicant", re.compile(r"申报|填报|提交|申请|注册|在线|网上|系统|受理")),
)
OPENING = re.compile(r"开始|起(?!止)|开放|受理时间为|申报时间为|填报时间为")
CLOSING = re.compile(r"截止|截至|止|前|之前|以前|关闭|逾期")


# Whom a thing is sent to is not who must act: "提交依托单位审核", "报送所在县区科技主管部门".
_RECIPIENT = re.compile(r"(?:提交|报送|送交|递交|上报|报至|报给|发送)(?:至|到|给)?\s*(?:所在|所属)?[\u4e00-\u9fff]{0,8}?"
                        r"(?:单位|部门|科技局|科技厅)(?:审核|审查|推荐)?")


GENERIC: Role = "applicant"  # its words (申报, 提交, 系统) appear in every role's sentences


def role_of(sentence: str) -> Role | None:
    """The role a sentence's instants bind, or None when no word says (a person decides)."""
    acting = _RECIPIENT.sub("", sentence)
    return next((role for role, pattern in _ROLES if pattern.search(acting)), None)
