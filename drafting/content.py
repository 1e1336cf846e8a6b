"""What a notice says besides its timeline: categories with caps and planned counts, recommendation quotas,
attachments, eligibility sentences mapped to the rule kinds grantflow has, and the rule sentences left to a person."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drafting.emit import Tree, Value
from drafting.source import Notice

_CATEGORY = re.compile(r"(?P<name>[\u4e00-\u9fff（）()“”\"]{2,24}?(?:项目|专项|计划|类))[^。；\n]{0,30}?"
                       r"(?:(?:资助|支持)(?:强度|金额|经费)?|经费|每项|不超过|最高|约|为)\s*(?P<amount>\d+(?:\.\d+)?)\s*万元")
_PLANNED = re.compile(r"(?:拟?支持|拟立项|资助)\s*(?P<n>\d+)\s*项")
_QUOTA = re.compile(r"(?:限额|名额|限报|限推|最多推荐|推荐(?:数量|项目数)?不超过|不超过)\s*(?P<n>\d+)\s*(?:项|个|名)")
_RATIO = re.compile(r"(?P<p>\d+(?:\.\d+)?)\s*%")
_ATTACHMENT = re.compile(r"^\s*附件\s*(?P<n>\d+)\s*[:：.、]?\s*(?P<name>[^\n。]{2,60})$", re.M)
RULE_WORDS = re.compile(r"须|应当|应|不得|不予|必须|仅限|限于|不超过|以上|以下|以后出生|周岁|职称|学位|失信|黑名单|在研")

TITLES = {"正高级": "full_senior", "高级": "associate_senior", "副高级": "associate_senior", "中级": "intermediate"}
DEGREES = {"博士": "phd", "硕士": "master", "学士": "bachelor", "本科": "bachelor"}


@dataclass
class Content:
    categories: list[Tree] = field(default_factory=list)
    quotas: list[Tree] = field(default_factory=list)
    attachments: list[Tree] = field(default_factory=list)
    rules: list[Tree] = field(default_factory=list)
    unchecked: list[tuple[str, str]] = field(default_factory=list)  # (sentence, why grantflow does not check it)
    mapped: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, field) spans for the review page


def _born(m: re.Match[str]) -> dict[str, Any]:
    return {"cutoff": f"{m['y']}-{int(m['m']):02d}-{int(m['d']):02d}"}


def _title(m: re.Match[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if m["t"]:
        params["min_title"] = TITLES[m["t"]]
    if m["g"]:
        params["min_degree"] = DEGREES[m["g"]]
    return params


# (rule kind, the sentence shape, its parameters) - shapes many notices share, not one notice's wording.
SHAPES: tuple[tuple[str, re.Pattern[str], Callable[[re.Match[str]], dict[str, Any]]], ...] = (
    ("born_on_or_after", re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*(?:\(含\))?"
                                    r"\s*(?:以后|之后|后)\s*出生"), _born),
    ("max_age", re.compile(r"(?:年龄|年龄不超过|不超过)\s*(?P<n>\d{2})\s*周岁"), lambda m: {"max_years": int(m["n"])}),
    ("title_or_degree", re.compile(r"(?:(?P<t>正高级|副高级|高级|中级)(?:及以上|以上)?(?:专业技术)?职称)?"
                                   r"(?:[^。；\n]{0,12}?(?P<g>博士|硕士|学士)(?:及以上)?学位)?(?<=职称|学位)"), _title),
    ("max_ongoing_plus_applied", re.compile(r"(?:在研|主持|负责)[^。；\n]{0,20}?不(?:得)?超过\s*(?P<n>\d+)\s*项"),
     lambda m: {"max": int(m["n"])}),
    ("applications_per_year", re.compile(r"(?:每人|同一(?:项目)?负责人)[^。；\n]{0,10}?(?:限|只能|仅能|最多)?\s*"
                                         r"(?:申报|申请)\s*(?P<n>\d+)\s*项"), lambda m: {"max": int(m["n"])}),
    ("not_blacklisted", re.compile(r"失信|黑名单|不良信用"), lambda m: {"who": ["pi", "unit"]}),
)


def read_content(notice: Notice, province: str | None) -> Content:
    c = Content()
    text = notice.text
    for m in _CATEGORY.finditer(text):
        ident = f"category_{len(c.categories) + 1}"
        if any(x["name"].value == m["name"] for x in c.categories if isinstance(x["name"], Value)):
            continue
        planned = _PLANNED.search(notice.sentence_at(m.start()).text)
        tree: Tree = {"id": Value(ident), "name": Value(m["name"], m.group(0)),
                      "funding_cny": Value(round(float(m["amount"]) * 10_000), m.group(0))}
        if planned:
            tree["planned"] = Value(int(planned["n"]), planned.group(0))
        c.categories.append(tree)
        c.mapped.append((m.start(), m.end(), f"categories.{ident}"))
    if not c.categories:
        c.categories.append({"id": Value("general"), "name": Value(None, "", "the notice names no category with a "
                                                                     "cap; name the call's category", ["项目"])})
    for m in _QUOTA.finditer(text):
        sentence = notice.sentence_at(m.start()).text
        if "推荐" in sentence or "限额" in sentence or "名额" in sentence:
            c.quotas.append({"step": Value("recommender_review"), "max": Value(int(m["n"]), sentence)})
            c.mapped.append((m.start(), m.end(), "quotas"))
    for m in _ATTACHMENT.finditer(text):
        kind = f"attachment_{m['n']}"
        if any(a["kind"].value == kind for a in c.attachments if isinstance(a["kind"], Value)):
            continue
        c.attachments.append({"kind": Value(kind), "name": Value(m["name"].strip(), m.group(0))})
        c.mapped.append((m.start(), m.end(), f"attachments.{kind}"))
    _rules(notice, province, c)
    return c


def _rules(notice: Notice, province: str | None, c: Content) -> None:
    for s in notice.sentences:
        hits = [(kind, m, make) for kind, pattern, make in SHAPES if (m := pattern.search(s.text)) and m.group(0)]
        for kind, m, make in hits:
            ident = f"{kind}_{sum(1 for r in c.rules if isinstance(r['kind'], Value) and r['kind'].value == kind) + 1}"
            params = make(m)
            if not params:
                continue
            c.rules.append({"id": Value(ident), "kind": Value(kind), "params": Value(params),
                            "seed": Value(" ".join(s.text.split()), s.text)})
            c.mapped.append((s.start + m.start(), s.start + m.end(), f"rules.{ident}"))
        if not hits and RULE_WORDS.search(s.text) and len(s.text.strip()) > 6:
            c.unchecked.append((" ".join(s.text.split()), "no rule kind of grantflow expresses this sentence"))
    if province and any(k in notice.text for k in ("注册", "法人")):
        sentence = next((s.text for s in notice.sentences if "注册" in s.text or "法人" in s.text), "")
        c.rules.append({"id": Value("unit_registration_1"), "kind": Value("unit_registration"),
                        "params": Value({"province": province, "legal_entity": "法人" in sentence}),
                        "seed": Value(" ".join(sentence.split()), sentence)})
