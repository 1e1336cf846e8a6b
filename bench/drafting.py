"""The notice importer measured on every notice in calls/: each draft against the hand-written call file.

    python bench/drafting.py [--json]

Instants: a stated instant of the hand-written file (phase opens/closes, category closes) is recovered exactly when
the draft reads the same minute for the same role; flagged when the draft holds it as a TODO whose first candidate
is among its candidate readings; missed otherwise. Wrong: an instant the draft reads without a flag that the hand-written file does not
state (the goal: none). Categories, caps and rules recovered are counted by funding amount and rule kind.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drafting.draft import draft_notice  # noqa: E402
from drafting.source import read_notice  # noqa: E402
from models.call import CallDefinition, load_call  # noqa: E402

ROLE_OF_KIND = {"application": {"applicant"}, "recommendation": {"recommender", "unit"}, "paper": {"paper"},
                "contract": {"contract"}, "publicity": {"publicity"}}
TIMELINE_ROLES = {"applicant", "recommender", "unit", "paper", "contract"}


def stated(call: CallDefinition) -> list[tuple[datetime, set[str]]]:
    out = []
    for p in call.phases:
        for v in (p.opens, p.closes):
            if isinstance(v, datetime):
                out.append((v, ROLE_OF_KIND.get(p.kind, set())))
    for c in call.categories:
        out += [(v, {"applicant"}) for v in c.closes.values()]
    return out


def measure(call_file: Path, source: Path) -> dict[str, object]:
    call = load_call(call_file)
    started = time.perf_counter()
    draft = draft_notice(read_notice(source))
    seconds = time.perf_counter() - started
    written = {(datetime.fromisoformat(str(p[k].value)), str(p["kind"].value)) for p in draft.timeline.phases
               for k in ("opens", "closes") if p[k].todo is None and str(p[k].value)[:2] == "20"}
    exact = flagged = missed = 0
    misses: list[str] = []
    for when, roles in dict(stated(call)).items():
        hits = [p for p in draft.timeline.placed if p.role in roles or not roles]
        if any(p.found.when == when and not p.found.flags for p in hits) or any(
                w == when and ROLE_OF_KIND.get(kind, set()) & roles for w, kind in written):
            exact += 1
        elif any(when in p.found.candidates or p.found.when == when for p in draft.timeline.placed):
            flagged += 1
        else:
            missed += 1
            misses.append(when.isoformat())
    hand = {w for w, _ in stated(call)}
    wrong = [p.found.text for p in draft.timeline.placed if p.found.when is not None and not p.found.flags
             and p.role in TIMELINE_ROLES and p.found.when not in hand]
    caps = {c.funding_cny for c in call.categories if c.funding_cny}
    drafted_caps = {c["funding_cny"].value for c in draft.content.categories if "funding_cny" in c}
    kinds = {r.kind for r in call.rules}
    drafted_kinds = {r["kind"].value for r in draft.content.rules}
    return {"call": call_file.stem, "stated": len(hand), "exact": exact, "flagged": flagged, "missed": missed,
            "wrong_unflagged": len(wrong), "wrong": wrong[:5], "misses": misses[:5], "caps": f"{len(caps & drafted_caps)}/{len(caps)}",
            "rule_kinds": f"{len(kinds & drafted_kinds)}/{len(kinds)}", "todo": len(draft.todo_fields()),
            "seconds": round(seconds, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for source in sorted((ROOT / "calls" / "sources").glob("*.txt")):
        call_file = ROOT / "calls" / f"{source.stem}.yaml"
        if call_file.exists():
            rows.append(measure(call_file, source))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    print("| call | stated instants | exact | flagged | missed | wrong, unflagged | caps | rule kinds | TODO | s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['call']} | {r['stated']} | {r['exact']} | {r['flagged']} | {r['missed']} | {r['wrong_unflagged']} "
              f"| {r['caps']} | {r['rule_kinds']} | {r['todo']} | {r['seconds']} |")
    total = {k: sum(int(r[k]) for r in rows) for k in ("stated", "exact", "flagged", "missed", "wrong_unflagged")}
    print(f"| all {len(rows)} | {total['stated']} | {total['exact']} | {total['flagged']} | {total['missed']} "
          f"| {total['wrong_unflagged']} | | | | |")


if __name__ == "__main__":
    main()
