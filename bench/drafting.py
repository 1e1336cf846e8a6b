"""The notice importer measured on every notice in calls/ (against its hand-written call file) and on the held-out
notices of tests/data/notices/ (against their hand-checked instants), reported separately.

    python bench/drafting.py [--json]

A stated instant is *exact* when the draft reads the same minute for the same role without a flag. It is *flagged*
when the draft holds it as a TODO that covers it: a date with no hour or with defective digits whose day is the
instant's day (the notice does not state the minute, so any minute a hand-written file chose is covered), a reading
flagged for a year the notice does not give, or a flagged reading among whose candidates it is. *Issue day*: an opening the hand-written file took from the notice's
issue date where the notice states no opening (not stated, so outside the goal). *Missed*: none of these.
The goal counts exact / (exact + missed + flagged for another reason than a missing hour or defective digits).
*Wrong, unflagged*: for calls/, an instant the draft writes into a phase without a TODO that the hand-written file
does not state; for the held-out notices (whose files list every instant), an instant the draft reads without a flag
for a timeline role that the file does not list for that role.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drafting.draft import Draft, draft_notice  # noqa: E402
from drafting.emit import Value  # noqa: E402
from drafting.source import read_notice  # noqa: E402
from drafting.timeline import Placed  # noqa: E402
from models.call import STEP_PREFIX, CallDefinition, load_call  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
ROLE_OF_KIND = {"application": {"applicant"}, "recommendation": {"recommender", "unit"}, "paper": {"paper"},
                "contract": {"contract"}, "publicity": {"publicity"}}
GROUP = {"applicant": {"applicant"}, "unit": {"recommender", "unit"}, "recommender": {"recommender", "unit"},
         "paper": {"paper"}, "contract": {"contract"}, "publicity": {"publicity"}, "defence": {"defence"},
         "review": {"review"}}
TIMELINE_ROLES = {"applicant", "recommender", "unit", "paper", "contract"}
NO_YEAR = "year "  # "year 2012 taken from the programme's 2012年度…", "year 2026 assumed: …"
DAY_ONLY = ("a date with no hour", "opens the day the notice is issued", "defective digits", "the end of a month")
LATER = {"formal_review", "expert_review", "publicity", "contract"}
HELD_OUT = ROOT / "tests" / "data" / "notices"


@dataclass
class Row:
    name: str
    stated: int = 0
    exact: int = 0
    flagged_day: int = 0  # the notice gives no hour, no year, or defective digits: a TODO is the goal
    flagged_other: int = 0
    flagged_role: int = 0  # flagged instants whose covering reading names the right role
    missed: int = 0
    issue_day: int = 0
    wrong: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    seconds: float = 0.0
    todo: int = 0
    extra: dict[str, str] = field(default_factory=dict)


def _window_roles(call: CallDefinition, key: str) -> set[str]:
    """The roles bound by a close keyed by a phase id or `step:<id>` (a category's or an override's close)."""
    if key.startswith(STEP_PREFIX):
        step = next((s for s in call.chain if s.id == key.removeprefix(STEP_PREFIX)), None)
        return {"unit"} if step is not None and step.role == "unit_admin" else {"recommender", "unit"}
    phase = next((p for p in call.phases if p.id == key), None)
    return ROLE_OF_KIND.get(phase.kind, set()) if phase is not None else set()


def stated(call: CallDefinition) -> list[tuple[datetime, set[str]]]:
    """Every absolute instant of the hand-written file with the roles it binds (relative closes are not instants)."""
    out = []
    for p in call.phases:
        for v in (p.opens, p.closes):
            if isinstance(v, datetime):
                out.append((v, ROLE_OF_KIND.get(p.kind, set())))
    for closes in [*(c.closes for c in call.categories), *(o.closes for o in call.overrides)]:
        out += [(v, _window_roles(call, k)) for k, v in closes.items() if isinstance(v, datetime)]
    return out


def _covers(p: Placed, when: datetime) -> str | None:
    """How a flagged reading covers `when`: "day" (the notice states its day only), "other" (among the candidates
    of another flag), None."""
    f = p.found
    if f.when is not None and not f.flags:
        return None
    day_only = any(flag.startswith(DAY_ONLY) for flag in f.flags)
    # the day each candidate reads: a midnight candidate is the start of a window's first day, else the end of a day
    days = {(c - timedelta(days=0 if c.hour or c.minute or f.part == "from" else 1)).date() for c in f.candidates}
    if day_only and (when.date() in days or (not when.hour and not when.minute and
                                              (when - timedelta(days=1)).date() in days)):
        return "day"
    if f.when == when and any(flag.startswith(NO_YEAR) for flag in f.flags):
        return "day"  # the notice gives no year: its minute is read, the year is a person's
    return "other" if when in f.candidates or f.when == when else None


def _score(row: Row, draft: Draft, instants: list[tuple[datetime, set[str]]], issued: date | None) -> None:
    placed = draft.timeline.placed
    written = {(datetime.fromisoformat(str(p[k].value)), str(p["kind"].value)) for p in draft.timeline.phases
               for k in ("opens", "closes") if p[k].todo is None and str(p[k].value)[:2] == "20"}
    for when, roles in dict(instants).items():
        row.stated += 1
        hits = [p for p in placed if p.role in roles or not roles]
        if any(p.found.when == when and not p.found.flags for p in hits) or any(
                w == when and ROLE_OF_KIND.get(kind, set()) & roles for w, kind in written):
            row.exact += 1
            continue
        cover = {_covers(p, when) for p in placed}
        row.flagged_role += any(_covers(p, when) and (p.role in roles or not roles) for p in placed)
        if "day" in cover:
            row.flagged_day += 1
        elif "other" in cover:
            row.flagged_other += 1
        elif issued is not None and when == datetime(issued.year, issued.month, issued.day, tzinfo=ZONE):
            row.issue_day += 1
        else:
            row.missed += 1
            row.misses.append(when.isoformat())


def _stages(call: CallDefinition) -> set[str]:
    """The stages after intake a call runs itself, or `forwarded` when another body reviews its applications."""
    return {p.kind for p in call.phases if p.kind in LATER} | ({"forwarded"} if call.forwarded_to else set())


def _drafted_stages(draft: Draft) -> set[str]:
    kinds = {str(p["kind"].value) for p in draft.tree["phases"]} & LATER  # type: ignore[index,union-attr]
    forwarded = draft.tree.get("forwarded_to")
    return kinds | ({"forwarded"} if isinstance(forwarded, Value) and forwarded.todo is None else set())


def measure_call(call_file: Path, source: Path) -> Row:
    call = load_call(call_file)
    started = time.perf_counter()
    draft = draft_notice(read_notice(source))
    row = Row(call_file.stem, seconds=time.perf_counter() - started, todo=len(draft.todo_fields()))
    _score(row, draft, stated(call), call.issued)
    hand = {w for w, _ in stated(call)}
    row.wrong = [f"{p['kind'].value} {k} {p[k].value}" for p in draft.timeline.phases for k in ("opens", "closes")
                 if p[k].todo is None and str(p[k].value)[:2] == "20" and datetime.fromisoformat(str(p[k].value))
                 not in hand]
    caps = {c.funding_cny for c in call.categories if c.funding_cny}
    drafted_caps = {c["funding_cny"].value for c in draft.content.categories if "funding_cny" in c}
    kinds = {r.kind for r in call.rules}
    drafted_kinds = {r["kind"].value for r in draft.content.rules}
    row.extra = {"caps": f"{len(caps & drafted_caps)}/{len(caps)}",
                 "rule kinds": f"{len(kinds & drafted_kinds)}/{len(kinds)}",
                 "stages": "same" if _stages(call) == _drafted_stages(draft) else
                 f"{'+'.join(sorted(_stages(call)))} ≠ {'+'.join(sorted(_drafted_stages(draft)))}"}
    return row


def measure_held_out(expected_file: Path) -> Row:
    """A held-out notice against its hand-checked instants: `instants: [{at, role, stated: minute|day|defective}]`."""
    spec = yaml.safe_load(expected_file.read_text(encoding="utf-8"))
    started = time.perf_counter()
    draft = draft_notice(read_notice(expected_file.with_suffix(".txt")))
    row = Row(expected_file.stem, seconds=time.perf_counter() - started, todo=len(draft.todo_fields()))
    listed = [(datetime.fromisoformat(str(i["at"])).astimezone(ZONE), GROUP[i["role"]]) for i in spec["instants"]]
    _score(row, draft, listed, None)
    row.wrong = [f"{p.role} {p.found.text} {p.found.when}" for p in draft.timeline.placed
                 if p.found.when is not None and not p.found.flags and p.role in TIMELINE_ROLES
                 and not any(p.found.when == w and p.role in roles for w, roles in listed)]
    return row


def _table(rows: list[Row], extra: list[str]) -> list[str]:
    head = ["notice", "stated", "exact", "flagged: no hour, no year or defective", "flagged: other",
            "flagged with the right role", "missed", "issue day, not stated", "wrong, unflagged", *extra, "TODO", "s"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r.name, r.stated, r.exact, r.flagged_day, r.flagged_other, r.flagged_role, r.missed, r.issue_day,
                 len(r.wrong), *(r.extra.get(k, "") for k in extra), r.todo, f"{r.seconds:.3f}"]
        out.append("| " + " | ".join(map(str, cells)) + " |")
    keys = ("stated", "exact", "flagged_day", "flagged_other", "flagged_role", "missed", "issue_day")
    total = {k: sum(getattr(r, k) for r in rows) for k in keys}
    goal = total["exact"] + total["missed"] + total["flagged_other"]
    share = f"{100 * total['exact'] / goal:.0f} %" if goal else "–"
    out.append(f"| all {len(rows)} | " + " | ".join(str(total[k]) for k in keys)
               + f" | {sum(len(r.wrong) for r in rows)} |" + " |" * len(extra)
               + f" | max {max(r.seconds for r in rows):.3f} |")
    out.append(f"\nExact among instants stated to the minute: {total['exact']}/{goal} = {share}.")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    calls = [measure_call(ROOT / "calls" / f"{s.stem}.yaml", s)
             for s in sorted((ROOT / "calls" / "sources").glob("*.txt")) if (ROOT / "calls" / f"{s.stem}.yaml").exists()]
    held = [measure_held_out(f) for f in sorted(HELD_OUT.glob("*.yaml"))]
    if args.json:
        print(json.dumps({"calls": [vars(r) for r in calls], "held_out": [vars(r) for r in held]},
                         ensure_ascii=False, indent=1, default=str))
        return
    print("Notices in calls/ (the grammar was tuned on these):\n")
    print("\n".join(_table(calls, ["caps", "rule kinds", "stages"])))
    same = sum(r.extra["stages"] == "same" for r in calls)
    print(f"\nStages after intake (or forwarded) as in the hand-written file: {same}/{len(calls)}.")
    print("\nHeld-out notices in tests/data/notices/ (provinces not in calls/):\n")
    print("\n".join(_table(held, [])))


if __name__ == "__main__":
    main()
