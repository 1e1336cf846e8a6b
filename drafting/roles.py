"""Who must act by an instant, read from the sentence around it: the applicant, the unit, the recommender, the paper
copy, a defence, the contract, publicity, or the opening of a window."""

from __future__ import annotations

import re
from typing import Literal

Role = Literal["applicant", "unit", "recommender", "paper", "defence", "contract", "publicity", "review"]

# Most specific first: a sentence about the recommender's online review names the applicants too.
_ROLES: tuple[tuple[Role, re.Pattern[str]], ...] = (
    ("paper", re.compile(r"纸质|书面材料|一式\s*\d+\s*份|装订|报送.{0,10}(?:材料|申报书)|寄送|邮寄|窗口|受理点")),
    ("defence", re.compile(r"答辩")),
    ("contract", re.compile(r"任务书|合同书|签订合同")),
    ("publicity", re.compile(r"公示")),
    ("recommender", re.compile(r"推荐单位|主管部门|归口|组织单位|科技局|推荐(?:工作|意见|函)?.{0,6}(?:截止|前)|审核推荐|进行推荐")),
    ("unit", re.compile(r"依托单位|申报单位.{0,8}(?:审核|确认|提交)|单位审核|单位管理员|单位.{0,4}确认")),
    ("review", re.compile(r"评审|评议|形式审查")),
    ("applicant", re.compile(r"申报|填报|提交|申请|注册|在线|网上|系统")),
)
OPENING = re.compile(r"开始|起(?!止)|开放|受理时间为|申报时间为|填报时间为")
CLOSING = re.compile(r"截止|截至|止|前|之前|以前|关闭|逾期")


def role_of(sentence: str) -> Role | None:
    """The role a sentence's instants bind, or None when no word says (a person decides)."""
    return next((role for role, pattern in _ROLES if pattern.search(sentence)), None)
