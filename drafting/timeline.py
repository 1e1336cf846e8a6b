"""From the instants a notice states, with the role each binds, to the phases of a call file: the application
window, the recommenders' and units' deadlines, the paper window, and the later stages the notice states."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from drafting.emit import Tree, Value
from drafting.instants import INSTANT, Found, Relative
from drafting.roles import CLOSING, GENERIC, OPENING, Role, role_of
from drafting.source import Notice
from drafting.stages import Stage

_HOURS = re.compile(r"(?:工作日|工作时间)[^\d\n]{0,8}(?P<a>\d{1,2}:\d{2})\s*[-~至]\s*(?P<b>\d{1,2}:\d{2})")
_COPIES = re.compile(r"一式\s*(?P<n>\d+)\s*份|(?P<n2>\d+)\s*份(?:纸质|装订)")
_PUBLICITY = re.compile(r"公示(?:期|时间)?(?:为|不少于)?\s*(?P<n>\d+)\s*(?P<unit>个工作日|工作日|天|日)")


@dataclass
class Placed:
    """An instant with the role and the edge (opens or closes) it was read as."""

    found: Found
    role: Role | None
    edge: str  # opens | closes
    sentence: str
    rivals: list[datetime] = field(default_factory=list)  # other instants read for the same role and edge


@dataclass
class Timeline:
    phases: list[Tree] = field(default_factory=list)
    placed: list[Placed] = field(default_factory=list)
    unplaced: list[Placed] = field(default_factory=list)  # instants of roles no phase takes (defence, review)


_CLAUSE_END = re.compile(r"[,，;；。!?\n]")
_FROM_HERE = re.compile(r"\s*(?:\(含\))?\s*(?:起|开始|以后|之后|后(?!果))")
_CONSEQUENCE = re.compile(r"\s*(?:逾期|否则|过期|超过)")  # "逾期不予审核推荐" says what follows, not who acts
_STOPS = re.compile(r"停止|关闭|不再|不能|不予|截止")


def clause(notice: Notice, found: Found) -> tuple[str, str, list[str], list[str]]:
    """The words of the clause before and after an instant (between commas, within its sentence): the words that
    say who acts by it, where one sentence names two ("申报单位…9月15日17:00,主管部门…9月17日17:00"); then the
    sentence's other clauses without an instant of their own before it (nearest first) and after it."""
    s = notice.sentence_at(found.start)
    head = notice.text[s.start:found.start]
    tail = notice.text[found.end:s.end]
    before = _CLAUSE_END.split(head)
    after = _CLAUSE_END.split(tail)
    return before[-1], after[0], [c for c in reversed(before[:-1]) if not INSTANT.search(c)], [
        c for c in after[1:] if not INSTANT.search(c) and not _CONSEQUENCE.match(c)]


def _edge(found: Found, sentence: str, before: str, after: str) -> str:
    if found.part != "point":
        return "opens" if found.part == "from" else "closes"
    if _FROM_HERE.match(after):
        return "closes" if _STOPS.search(after) else "opens"
    if CLOSING.search(after[:8]) or CLOSING.search(before[-12:]):
        return "closes"
    if OPENING.search(before[-12:]):
        return "opens"
    return "opens" if OPENING.search(sentence) and not CLOSING.search(sentence) else "closes"


def _value(p: Placed) -> Value:
    f = p.found
    hours = _HOURS.search(p.sentence)
    if f.when is None and f.flags == ["a date with no hour"] and hours and f.candidates:
        day = f.candidates[0] - timedelta(days=1 if p.edge == "closes" else 0)
        hm = hours["b" if p.edge == "closes" else "a"].split(":")
        at = day.replace(hour=int(hm[0]), minute=int(hm[1]))
        return Value(at.isoformat(), p.sentence)  # the window's stated daily hours give the hour
    if p.rivals:
        return Value(None, p.sentence, f"the notice states {len(p.rivals)} different instants at which the {p.role} "
                     f"{p.edge.removesuffix('s')}s: which binds this call?", [w.isoformat() for w in p.rivals])
    if f.when is not None and not f.flags:
        return Value(f.when.isoformat(), p.sentence)
    reason = "; ".join(f.flags) or "no reading"
    return Value(None, p.sentence, reason, [c.isoformat() for c in f.candidates])


_HEADING = re.compile(r"时间|截止|期限")


def _role(notice: Notice, found: Found, sentence: str, own: str, before: list[str], after: list[str]) -> Role | None:
    """The role its own clause's words give; else the clauses before it in its sentence, where the one who acts is
    named ("各县科技管理部门…汇总…,于4月27日17:30之前,将推荐函…"), a specific role first; else the clauses after it;
    else its context's; for a table cell with none, the nearest heading above that names a time."""
    k = next(i for i, s in enumerate(notice.sentences) if s.start <= found.start < s.end)
    earlier = [r for r in map(role_of, before) if r is not None]
    role = (role_of(own) or next((r for r in earlier if r != GENERIC), None) or next(iter(earlier), None)
            or next((r for r in map(role_of, after) if r is not None), None))
    if role in (None, "applicant") and sentence != notice.sentences[k].text:
        # a line that says little ("提交时间:…") under its heading ("3.依托单位提交"): the nearest heading names who
        nearer = (role_of(s.text) for s in reversed(notice.sentences[max(0, k - 2):k]) if s.text in sentence)
        role = next((r for r in nearer if r is not None), role)
    role = role or role_of(sentence)
    if role is not None:
        return role
    heading = next((s.text for s in reversed(notice.sentences[max(0, k - 80):k]) if _HEADING.search(s.text)
                    and role_of(s.text)), None)
    return role_of(heading) if heading else None


def place(notice: Notice, found: list[Found]) -> list[Placed]:
    out = []
    for f in found:
        sentence = notice.context(f.start, f.end)
        before, after, earlier, later = clause(notice, f)
        role = _role(notice, f, sentence, before + after, earlier, later)
        out.append(Placed(f, role, _edge(f, sentence, before, after), sentence))
    return out


def _when(p: Placed) -> datetime | None:
    return p.found.when or (p.found.candidates[0] if p.found.candidates else None)


def _pick(placed: list[Placed], role: Role, edge: str, latest: bool) -> Placed | None:
    """The latest close (earliest opening) read for a role; when the notice reads several different ones for it
    (the province's close and the city's own, a unit's review and its submission), a person chooses."""
    chosen = [p for p in placed if p.role == role and p.edge == edge and _when(p) is not None]
    read = [p for p in chosen if p.found.when is not None and not p.found.flags]
    if not chosen:
        return None
    pick = (max if latest else min)(read or chosen, key=lambda p: _when(p) or datetime.min)
    distinct = sorted({p.found.when for p in read if p.found.when is not None}, reverse=latest)
    pick.rivals = distinct if len(distinct) > 1 else []
    return pick


def _phase(ident: str, kind: str, name: str, opens: Value, closes: Value, **extra: Value) -> Tree:
    tree: Tree = {"id": Value(ident), "kind": Value(kind), "name": Value(name), "opens": opens, "closes": closes}
    tree.update(extra)
    return tree


def _manual(stated: dict[str, Stage], kind: str) -> Value:
    return Value("manual", stated[kind].sentence if kind in stated else "")


def _assumed(stated: dict[str, Stage], kind: str) -> dict[str, Value]:
    """The note of a stage the notice does not name: the funder's usual stage, kept for a person to confirm."""
    if kind in stated:
        return {}
    return {"note": Value(f"assumption - the notice does not state a {kind.replace('_', ' ')} stage; the funder's usual "
                          "stage is kept (remove it if the call has none)")}


def build(notice: Notice, found: list[Found], relative: list[Relative], stated: dict[str, Stage],
          forwarded: bool) -> Timeline:
    """The phases of the instants read, then the funder's later stages, each with the sentence that states it or
    noted as an assumption; none for a notice whose issuer forwards the applications to a higher level."""
    placed = place(notice, found)
    t = Timeline(placed=placed)
    app_open = _pick(placed, "applicant", "opens", latest=False)
    app_close = _pick(placed, "applicant", "closes", latest=True)
    t.phases.append(_phase(
        "application", "application", "网上申报",
        _value(app_open) if app_open else Value("manual", "", None),
        _value(app_close) if app_close else Value(None, "", "no application close found in the notice")))
    unit_close = _pick(placed, "unit", "closes", latest=True)
    rec_close = _pick(placed, "recommender", "closes", latest=True)
    rec_relative = next((r for r in relative if role_of(notice.sentence_at(r.start).text) == "recommender"), None)
    for ident, name, close in (("unit_review", "申报单位审核", unit_close), ("recommendation", "推荐单位审核推荐", rec_close)):
        if close is not None and (app_close is None or (_when(close) or datetime.min) > (_when(app_close) or datetime.min)):
            t.phases.append(_phase(ident, "recommendation", name, Value("previous"), _value(close)))
    if rec_close is None and rec_relative is not None:
        sentence = notice.sentence_at(rec_relative.start).text
        closes = (Value({rec_relative.unit: rec_relative.days}, sentence) if rec_relative.unit else
                  Value(None, sentence, "the notice does not say calendar or working days",
                        [f"{{days: {rec_relative.days}}}", f"{{working_days: {rec_relative.days}}}"]))
        t.phases.append(_phase("recommendation", "recommendation", "推荐单位审核推荐", Value("previous"), closes))
    paper_open = _pick(placed, "paper", "opens", latest=False)
    paper_close = _pick(placed, "paper", "closes", latest=True)
    if paper_close is not None:
        extra: dict[str, Value] = {}
        hours = _HOURS.search(paper_close.sentence) or (_HOURS.search(paper_open.sentence) if paper_open else None)
        if hours:
            extra["hours"] = Value({"start": f"{hours['a']:0>5}", "end": f"{hours['b']:0>5}", "working_days_only": True},
                                   hours.group(0))
        copies = _COPIES.search(notice.text)
        if copies:
            extra["note"] = Value(f"纸质材料一式{copies['n'] or copies['n2']}份", copies.group(0))
        t.phases.append(_phase("paper", "paper", "纸质材料报送",
                               _value(paper_open) if paper_open else Value("previous"), _value(paper_close), **extra))
    if forwarded:
        t.unplaced = [p for p in placed if p.role in ("defence", "review", "publicity", "contract", None)]
        return t
    for kind, name in (("formal_review", "形式审查"), ("expert_review", "专家评审")):
        extra = {"role": Value("expert")} if kind == "expert_review" else {}
        t.phases.append(_phase(kind, kind, name, _manual(stated, kind), Value("manual"), **extra, **_assumed(stated, kind)))
    pub = _PUBLICITY.search(notice.text)
    if pub and "工作日" in pub["unit"]:
        pub_close = Value({"working_days": int(pub["n"])}, pub.group(0))
    elif pub:
        pub_close = Value(None, pub.group(0), "calendar or working days?",
                          [f"{{days: {pub['n']}}}", f"{{working_days: {pub['n']}}}"])
    else:
        pub_close = Value(None, "", "the notice does not say how long publicity lasts", ["{working_days: 5}"])
    t.phases.append(_phase("publicity", "publicity", "立项公示", _manual(stated, "publicity"), pub_close,
                           **_assumed(stated, "publicity")))
    c_open, c_close = _pick(placed, "contract", "opens", False), _pick(placed, "contract", "closes", True)
    t.phases.append(_phase("contract", "contract", "签订任务书", _value(c_open) if c_open else _manual(stated, "contract"),
                           _value(c_close) if c_close else Value("manual"),
                           **({} if c_open or c_close else _assumed(stated, "contract"))))
    t.unplaced = [p for p in placed if p.role in ("defence", "review", "publicity", None)]
    return t
