"""Which stages after intake a notice states (formal review, expert review, publicity, contract), each with the
sentence that states it, and where its applications go when its issuer only recommends them to a higher level."""

from __future__ import annotations

import re
from dataclasses import dataclass

from drafting.emit import Value
from drafting.source import Notice

# Words that state a stage of the issuer's own review; a draft lists a stage only when its notice says one of them.
STATED: dict[str, re.Pattern[str]] = {
    "formal_review": re.compile(r"形式审查|形式审核|资格审查|初审|受理审查|合规性审查"),
    "expert_review": re.compile(r"专家评审|专家论证|会议评审|网络评审|函评|会评|答辩|现场考察|评审"),
    "publicity": re.compile(r"公示"),
    "contract": re.compile(r"任务书|合同书|签订[^,，。;；]{0,8}合同|立项"),
}
# A city's or county's science bureau organising a provincial programme: it recommends, the province reviews.
_LOCAL_BODY = re.compile(r"(?:市|州|县|区|盟)(?:科学技术局|科技局|科技和信息化局|科学技术委员会|科技创新委员会"
                         r"|科技和工业信息化局|科技工业信息化局)")
_PROVINCIAL = re.compile(r"省级|省科技|[\u4e00-\u9fff]{2,3}省|自治区")
_FORWARDING = re.compile(r"转发")
# A national programme a province's or city's department only recommends to: the ministry or foundation reviews it.
_NATIONAL = re.compile(r"国家重点研发计划|国家自然科学基金|国家科技重大专项|国家科技计划|科技部")
_MINISTRY = re.compile(r"科学技术部|科技部|国家自然科学基金委员会")
_FULL_NAME = {"科技部": "科学技术部"}
_PROVINCE_BODY = re.compile(r"[\u4e00-\u9fff]{2,3}省(?:科学技术厅|科技厅)|[\u4e00-\u9fff]{2,8}自治区(?:科学技术厅|科技厅)")


@dataclass(frozen=True)
class Stage:
    kind: str
    sentence: str


def stated_stages(notice: Notice) -> dict[str, Stage]:
    """Each later stage the notice names, with the first sentence that names it."""
    found: dict[str, Stage] = {}
    for kind, words in STATED.items():
        m = words.search(notice.text)
        if m is not None:
            found[kind] = Stage(kind, notice.sentence_at(m.start()).text)
    return found


def forwarded_to(notice: Notice, title: str | None) -> Value | None:
    """Where a notice sends its applications when its issuer only recommends them (the higher department, with the
    sentence naming it), or None when the issuer runs its own review. Read from the title: a province's or city's
    department organising a national programme, a city's or county's bureau organising a provincial one, or a
    notice forwarding (转发) either."""
    if not title:
        return None
    if _NATIONAL.search(title) and (_LOCAL_BODY.search(title) or _PROVINCE_BODY.search(title)
                                    or _FORWARDING.search(title)):
        return _higher(notice, title, _MINISTRY.search(title) or _MINISTRY.search(notice.text),
                       "（评审、立项在国家层面进行）", "a national programme: name the body that reviews it", "科学技术部")
    if not _PROVINCIAL.search(title) or not (_LOCAL_BODY.search(title) or _FORWARDING.search(title)):
        return None
    return _higher(notice, title, _PROVINCE_BODY.search(title) or _PROVINCE_BODY.search(notice.text),
                   "（评审、立项和任务书在省里进行）", "a provincial programme: name the department that reviews it",
                   "省科学技术厅")


def _higher(notice: Notice, title: str, body: re.Match[str] | None, where: str, missing: str,
            candidate: str) -> Value:
    """The higher body found in the title or the text, with the sentence naming it, or a TODO naming the candidate."""
    if body is None:
        return Value(None, title, f"the notice forwards {missing}", [candidate])
    sentence = title if body.string is title else notice.sentence_at(body.start()).text
    return Value(f"{_FULL_NAME.get(body.group(0), body.group(0))}{where}", sentence)
