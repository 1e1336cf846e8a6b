"""`audit report`: one self-contained HTML page about a call for readers who are not engineers.

The call's timeline (planned against actual), applications per final state, the exceptions (extensions,
overrides, early closes, refusals) with who and why, and the result of `audit verify`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from audit.findings import Result
from audit.gantt import gantt_svg
from audit.life import ApplicationLife, CallLife
from audit.source import Bundle
from models.lifecycle import build_lifecycle
from models.timetable import PhaseTime

OVERRIDES = {"reinstate": "formal review verdict reversed", "disqualify": "formal review verdict reversed",
             "uphold_objection": "objection upheld", "dismiss_objection": "objection dismissed"}
STYLE = """
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:2rem auto;max-width:72rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border:1px solid #ddd;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f4f4f4}.ok{color:#176f2c;font-weight:bold}
.bad{color:#a4161a;font-weight:bold}.lane{position:relative;height:.8rem;background:#f7f7f7}
.bar{position:absolute;top:0;height:.8rem;border-radius:2px}.planned{background:#9ec5fe}
.actual{background:#1d4ed8}.note{color:#555;font-size:.85rem}.n{text-align:right}
"""


@dataclass
class ExceptionRow:
    at: datetime
    where: str
    kind: str
    actor: str
    reason: str
    detail: str


def _when(t: datetime | None, zone: ZoneInfo) -> str:
    return t.astimezone(zone).strftime("%Y-%m-%d %H:%M") if t is not None else "—"


def _planned(p: PhaseTime) -> tuple[str, str]:
    opens = {"previous": "when the previous phase closes", "manual": "when the programme office opens it"}
    closes = {"manual": "when the programme office closes it",
              "working_days": f"{p.closes_after} working days after opening",
              "days": f"{p.closes_after} days after opening"}
    return opens.get(p.opens_rule, ""), closes.get(p.closes_rule, "")


def _timeline(call: CallLife) -> str:
    zone = call.call.zone
    actual: dict[str, dict[str, datetime]] = {}
    for c in call.changes:
        if c.event.kind in ("opened", "closed") and c.event.new is not None:
            actual.setdefault(c.event.phase, {})[c.event.kind] = c.event.new
    instants = [t for p in call.planned.phases for t in (p.opens, p.closes) if t is not None]
    instants += [t for a in actual.values() for t in a.values()]
    lo = min(instants, default=datetime.now(UTC))
    span = max((max(instants, default=lo) - lo).total_seconds(), 1.0)

    def bar(css: str, start: datetime | None, end: datetime | None) -> str:
        if start is None or end is None:
            return ""
        left = (start - lo).total_seconds() / span * 100
        width = max((end - start).total_seconds() / span * 100, 0.4)
        return f'<div class="bar {css}" style="left:{left:.2f}%;width:{width:.2f}%"></div>'

    rows = []
    for p in call.planned.phases:
        a = actual.get(p.id, {})
        rule_opens, rule_closes = _planned(p)
        rows.append(
            f"<tr><td>{escape(p.name)}<br><span class=note>{escape(p.id)}</span></td>"
            f"<td>{_when(p.opens, zone) if p.opens else escape(rule_opens)}</td><td>{_when(a.get('opened'), zone)}</td>"
            f"<td>{_when(p.closes, zone) if p.closes else escape(rule_closes)}</td>"
            f"<td>{_when(a.get('closed'), zone)}</td>"
            f"<td style='width:30%'><div class=lane>{bar('planned', p.opens, p.closes)}</div>"
            f"<div class=lane>{bar('actual', a.get('opened'), a.get('closed'))}</div></td></tr>")
    return ("<table><tr><th>phase</th><th>planned opening</th><th>actual opening</th><th>planned close</th>"
            "<th>actual close</th><th>planned <span style='color:#9ec5fe'>■</span> / actual "
            "<span style='color:#1d4ed8'>■</span></th></tr>" + "".join(rows) + "</table>")


def _states(apps: list[ApplicationLife]) -> str:
    counts = Counter(a.state for a in apps)
    if not apps:
        return "<p>No application histories.</p>"
    labels = {s.name: s.label for s in build_lifecycle(apps[0].call).states}
    top = max(counts.values())
    rows = "".join(
        f"<tr><td>{escape(labels.get(state, state))}</td><td class=n>{n}</td><td style='width:50%'><div class=lane>"
        f"<div class='bar actual' style='left:0;width:{n / top * 100:.1f}%'></div></div></td></tr>"
        for state, n in counts.most_common())
    return f"<table><tr><th>final state</th><th>applications</th><th></th></tr>{rows}</table>"


def exceptions(call: CallLife | None, apps: list[ApplicationLife]) -> list[ExceptionRow]:
    """Extensions, overrides, early closes and refusals that the histories show, oldest first."""
    out: list[ExceptionRow] = []
    if call is not None:
        planned = {p.id: p for p in call.planned.phases}
        for c in call.changes:
            e = c.event
            who = f"{e.role} {e.actor_id}"
            if e.kind == "extended":
                moved = f"{e.phase}: {_when(e.previous, call.call.zone)} → {_when(e.new, call.call.zone)}"
                out.append(ExceptionRow(e.at, "whole call", "deadline extended", who, e.reason, moved))
            if e.kind == "extended_for":
                out.append(ExceptionRow(e.at, "some applications", "deadlines extended", who, e.reason, e.detail))
            closes = planned[e.phase].closes if e.phase in planned else None
            if e.kind == "closed" and e.role == "manager" and closes is not None and e.at < closes:
                out.append(ExceptionRow(e.at, "whole call", "closed early", who, e.reason,
                                      f"{e.phase} planned to close {_when(closes, call.call.zone)}"))
        out += [ExceptionRow(h.at, "whole call", "refused after acceptance", f"{h.role} {h.actor_id}", h.reason, h.what)
                for h in call.happenings if h.kind == "refused"]
    for a in apps:
        zone = a.call.zone
        for p in a.transitions:
            t = p.record
            if t.trigger == "extend_deadline":
                out.append(ExceptionRow(t.at, a.application_id, "deadline extended", f"{t.role} {t.actor_id}", t.reason,
                                      f"{t.data.get('window')}: {t.data.get('previous')} → {t.data.get('new')}"))
            elif t.trigger in OVERRIDES:
                out.append(ExceptionRow(t.at, a.application_id, OVERRIDES[t.trigger], f"{t.role} {t.actor_id}",
                                      t.reason, f"{t.source} → {t.dest} at {_when(t.at, zone)}"))
        out += [ExceptionRow(h.at, a.application_id, "refused after acceptance", f"{h.role} {h.actor_id}", h.reason,
                           h.what) for h in a.happenings if h.kind == "refused"]
    return sorted(out, key=lambda x: x.at)


def _refusals(extras: dict[str, Any]) -> str:
    simulated = extras.get("simulation.json")
    note = ("<p class=note>Requests that grantflow refuses when they arrive (for example after a deadline) are "
            "rejected before they enter the workflow history, so the history cannot list them. That no change was "
            "<em>accepted</em> at or after its deadline is checked for every change below (rule "
            "<code>deadline</code>).</p>")
    if not simulated:
        return note
    rows = "".join(f"<tr><td>{escape(why)}</td><td class=n>{n}</td></tr>"
                   for why, n in sorted(simulated.get("refused", {}).items(), key=lambda kv: -kv[1]))
    return (note + f"<p>This call was simulated; the simulation's own log counts {simulated.get('late_attempts', 0)} "
            f"late submissions, of which {simulated.get('late_accepted', 0)} were accepted, and these refusals:</p>"
            f"<table><tr><th>refused because</th><th>requests</th></tr>{rows}</table>")


def _verify(result: Result) -> str:
    if not result.findings:
        return (f"<p class=ok>All checks passed</p><p>{result.workflows} workflow histories with {result.events} "
                f"events: no change after its deadline, every change by a role allowed to make it, no notice sent "
                f"twice, the records database agrees with the histories and its hash chain is intact.</p>")
    rows = "".join(f"<tr><td>{escape(f.rule)}</td><td>{escape(f.workflow_id)}</td><td>{f.event_id or ''}</td>"
                   f"<td>{escape(f.message)}</td></tr>" for f in result.findings)
    return (f"<p class=bad>{len(result.findings)} findings</p><table><tr><th>rule</th><th>workflow</th>"
            f"<th>event</th><th>finding</th></tr>{rows}</table>")


def render_report(bundle: Bundle, result: Result, call: CallLife | None, apps: list[ApplicationLife]) -> str:
    zone = call.call.zone if call else ZoneInfo("Asia/Shanghai")
    title = f"{call.call.title} ({bundle.call_id})" if call else bundle.call_id
    listed = exceptions(call, apps)
    rows = "".join(f"<tr><td>{_when(x.at, zone)}</td><td>{escape(x.where)}</td><td>{escape(x.kind)}</td>"
                   f"<td>{escape(x.actor)}</td><td>{escape(x.reason)}</td><td>{escape(x.detail)}</td></tr>"
                   for x in listed)
    source = (f"export {escape(str(bundle.directory))}, code version {escape(str(bundle.manifest.get('code_version')))}"
              if bundle.manifest else "the Temporal server and the records database")
    shifted = bundle.extras.get("simulation.json", {}).get("shift_days")
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Audit report: {escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>Audit report: {escape(title)}</h1>
<p class=note>{escape(call.call.issuer) if call else ''} · times in {escape(str(zone))} · generated
{datetime.now(zone).strftime('%Y-%m-%d %H:%M')} from {source}{
    f' · a simulation, run {shifted} days later than the notice states' if shifted else ''}</p>
<h2>Result of the checks</h2>{_verify(result)}
<h2>Timeline: planned and actual</h2>{_timeline(call) if call else '<p>No call history.</p>'}
<h2>Timeline per category, as planned</h2>{gantt_svg(call.call, call.planned, call.inp.calendar) if call else ''}
<h2>Applications by final state ({len(apps)})</h2>{_states(apps)}
<h2>Exceptions ({len(listed)})</h2>
{('<table><tr><th>when</th><th>application</th><th>what</th><th>who</th><th>why</th><th>detail</th></tr>'
  + rows + '</table>') if listed else '<p>None: no extension, override or early close.</p>'}
<h3>Late actions refused</h3>{_refusals(bundle.extras)}
</body></html>
"""
