"""`grantflow calls draft`: a notice's text becomes a draft call file, every value with its sentence, every
undecided one a TODO, and the counts a person checks it by."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from drafting.content import Content, read_content
from drafting.emit import Tree, Value, emit, todos
from drafting.header import Header, read_header
from drafting.instants import find_instants, find_relative
from drafting.source import Notice
from drafting.stages import forwarded_to, stated_stages
from drafting.timeline import Timeline, build

ZONE = ZoneInfo("Asia/Shanghai")
# What describes the page, not the call: the stored copy's leading 来源/标题/注 lines, the page's date line, links.
_SOURCE_NOTE = re.compile(r"\A(?:\s*(?:来源|标题|注)\s*:[^\n]*\n)+")
_URL = re.compile(r"(?:https?://|www\.)[\w./?=&%#:~+-]+")  # ".../art/2021/5/7/..." is not a date of the call
_PAGE_LINE = re.compile(r"^\s*(?:[•·]\s*)?(?:(?:发布|发表|印发|成文)?(?:日期|时间)|发布者)\s*:[^\n]*$"
                        r"|^[^\n]*(?:发布|发表|印发|成文)(?:日期|时间)\s*:[^\n]*$", re.M)


def _about_the_page(text: str) -> list[tuple[int, int]]:
    note = _SOURCE_NOTE.match(text)
    return ([(m.start(), m.end()) for m in _PAGE_LINE.finditer(text, 0, 3000)] + ([(0, note.end())] if note else [])
            + [(m.start(), m.end()) for m in _URL.finditer(text)])


@dataclass
class Draft:
    notice: Notice
    header: Header
    timeline: Timeline
    content: Content
    tree: Tree
    spans: list[tuple[int, int, str, bool]] = field(default_factory=list)  # (start, end, field, flagged)

    def text(self) -> str:
        head = [f"# Draft written by `grantflow calls draft` from {self.notice.origin}.",
                "# Every value is preceded by the sentence it came from; check each TODO, then `grantflow calls validate`."]
        tail = ["", "# Not checked by grantflow (rule sentences no rule kind expresses; a person reads them):"]
        tail += [f"#   - {sentence[:200]}  ({why})" for sentence, why in self.content.unchecked]
        return "\n".join(head + emit(self.tree) + tail) + "\n"

    def todo_fields(self) -> list[str]:
        return todos(self.tree)

    def summary(self) -> str:
        found = self.timeline.placed
        flagged = sum(1 for p in found if p.found.when is None or p.found.flags)
        mapped = len({s for s, _, _, _ in self.spans})
        return (f"{self.notice.origin}: {len(found)} instants found, {flagged} flagged, {mapped} sentences mapped, "
                f"{len(self.content.unchecked)} left to a person, {len(self.todo_fields())} TODO fields")


def _call_id(header: Header) -> str:
    year = re.search(r"20\d{2}", header.title.value or "") or re.search(r"20\d{2}", header.issued.value or "")
    region = (header.province.value or "cn").removeprefix("CN-").lower()
    number = re.search(r"〔\d{4}〕(\d+)", header.document.value or "")
    return "-".join(x for x in (region, year.group(0) if year else "", "draft", number.group(1) if number else "") if x)


def _chain(notice: Notice, timeline: Timeline) -> list[Tree]:
    steps: list[Tree] = []
    if "单位" in notice.text:
        steps.append({"id": Value("unit_review"), "name": Value("申报单位审核"), "role": Value("unit_admin")})
    rec_phase = next((p for p in timeline.phases if isinstance(p["id"], Value) and p["id"].value == "recommendation"),
                     None)
    step: Tree = {"id": Value("recommender_review"), "name": Value("推荐单位审核推荐"), "role": Value("recommender")}
    if rec_phase is not None:
        step["deadline"] = Value({"phase": "recommendation"})
    steps.append(step)
    return steps


def draft_notice(notice: Notice) -> Draft:
    header = read_header(notice.text)
    page = _about_the_page(notice.text)
    found = [f for f in find_instants(notice.text, header.issued_date(), ZONE)
             if not (header.issued.source and notice.sentence_at(f.start).text.strip() == header.issued.source)
             and not any(a <= f.start < b for a, b in page) and f.start != header.issued.at]
    forwarding = forwarded_to(notice, header.title.value)
    timeline = build(notice, found, find_relative(notice.text), stated_stages(notice), forwarding is not None)
    content = read_content(notice, header.province.value)
    fact = {"title": header.title, "issuer": header.issuer, "issued": header.issued}
    tree: Tree = {"id": Value(_call_id(header))}
    for key, f in fact.items():
        tree[key] = Value(f.value, f.source) if f.value else Value(None, "", f"the notice's {key} was not found")
    tree["source"] = Value(notice.origin)
    tree["programme"] = Value(header.title.value, header.title.source) if header.title.value else Value(
        None, "", "name the programme")
    tree["province"] = (Value(header.province.value, header.province.source) if header.province.value
                        else Value(None, "", "no province named; CN for a national call", ["CN"]))
    tree["timezone"] = Value("Asia/Shanghai")
    tree["categories"] = content.categories
    tree["phases"] = timeline.phases
    tree["chain"] = _chain(notice, timeline)
    if forwarding is not None:
        tree["forwarded_to"] = forwarding
    if content.attachments:
        tree["attachments"] = content.attachments
    if content.rules:  # a forwarded call has no formal review of its own: its organiser checks them (不予推荐)
        tree["rules"] = content.rules if forwarding is None else [r | {"at": Value("recommendation")}
                                                                  for r in content.rules]
    if content.quotas:
        tree["quotas"] = content.quotas[:1]
    d = Draft(notice, header, timeline, content, tree)
    d.spans = [(p.found.start, p.found.end, f"{p.role or 'unknown role'} {p.edge}",
                p.found.when is None or bool(p.found.flags)) for p in timeline.placed]
    d.spans += [(s, e, name, False) for s, e, name in content.mapped]
    return d
