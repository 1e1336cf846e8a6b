"""Keep every recorded run in bench/results.json and show the newest beside the previous one in BENCHMARKS.md."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

START, END = "<!-- results:start (bench/run.py --record rewrites this part) -->", "<!-- results:end -->"
ROWS = (
    ("intake_per_s", "intake: applications through the chain per s", "{:.1f}"),
    ("baseline_updates_per_s", "baseline: updates per s", "{:.1f}"),
    ("intake_ratio", "intake ratio (grantflow / baseline, time per step)", "{:.2f}"),
    ("deadline_closed_s", "deadline: closed in records + notified, s", "{:.1f}"),
    ("deadline_workflows_closed_s", "deadline: every workflow closed, s", "{:.1f}"),
    ("deadline_closure_report_s", "deadline: closure report stored, s", "{:.1f}"),
    ("baseline_deadline_closed_s", "baseline: every no-op workflow closed, s", "{:.1f}"),
    ("deadline_ratio", "deadline ratio (records + notices / baseline)", "{:.2f}"),
    ("deadline_workflows_ratio", "deadline ratio (workflows / baseline)", "{:.2f}"),
    ("late_attempts", "late attempts fired at/after the instant", "{}"),
    ("late_changes_accepted", "late changes accepted (must be 0)", "{}"),
    ("replay_histories_per_s", "audit: histories replayed per s", "{:.1f}"),
    ("replay_events_per_s", "audit: events replayed per s", "{:.0f}"),
    ("baseline_replay_events_per_s", "baseline: events replayed per s", "{:.0f}"),
    ("replay_ratio", "replay ratio (time per history)", "{:.2f}"),
    ("rss_mb_per_1000_workflows", "memory: worker MB per 1,000 open applications", "{:.1f}"),
    ("baseline_rss_mb_per_1000_workflows", "baseline: MB per 1,000 open no-op workflows", "{:.1f}"),
    ("lifecycle_s", "lifecycle: simulated call end to end, s", "{:.0f}"),
    ("lifecycle_peak_rss_mb", "lifecycle: peak RSS, MB", "{:.0f}"),
)
SCALES = ("intake_applications", "deadline_applications", "replay_histories", "memory_workflows",
          "lifecycle_applications")


SHARED = ("applications", "machine", "retried_requests")  # present in every run; not figures of their own


def record(values: dict[str, Any], history: Path, markdown: Path, amend: bool = False) -> None:
    """Add the run to `history` and rewrite the results part of `markdown`. With `amend`, its figures join the newest
    recorded run instead (figures of one code version measured by separate commands, e.g. the long lifecycle)."""
    runs: list[dict[str, Any]] = json.loads(history.read_text()) if history.exists() else []
    command = shlex.join(["python", "bench/run.py", *sys.argv[1:]])
    if amend:
        amend_newest(runs, values, command)
    else:
        runs.append({"command": command, "figures": values})
    history.write_text(json.dumps(runs, indent=1, ensure_ascii=False) + "\n")
    text = markdown.read_text() if markdown.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1) if START in text else (text + "\n", END)
    markdown.write_text(head + START + "\n" + render(runs[-2:]) + END + rest.split(END, 1)[1])


def amend_newest(runs: list[dict[str, Any]], values: dict[str, Any], command: str) -> None:
    if not runs:
        raise SystemExit("--amend: no recorded run to add these figures to")
    newest = runs[-1]
    if clash := sorted(k for k in values if k not in SHARED and k in newest["figures"]):
        raise SystemExit(f"--amend: the newest recorded run already has {', '.join(clash)}")
    if values["machine"]["cores"] != newest["figures"]["machine"]["cores"]:
        raise SystemExit("--amend: the newest recorded run was measured on another machine")
    newest["figures"] |= {k: v for k, v in values.items() if k not in SHARED}
    newest["figures"]["machine"]["amended"] = values["machine"]["date"]
    newest["command"] += " && " + command


def when(machine: dict[str, Any]) -> str:
    return str(machine["date"]) + (f", amended {machine['amended']}" if "amended" in machine else "")


def cell(run: dict[str, Any], key: str, fmt: str) -> str:
    value = run["figures"].get(key)
    return "–" if value is None else fmt.format(value)


def render(runs: list[dict[str, Any]]) -> str:
    """The newest run first, the previous one beside it: machine, scales, figures, and the commands."""
    newest = runs[::-1]
    names = ["this run", "previous run"][: len(newest)]
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---|" * len(newest)]
    lines.append("| date | " + " | ".join(when(r["figures"]["machine"]) for r in newest) + " |")
    lines.append("| machine | " + " | ".join(
        f"{r['figures']['machine']['cores']} cores, {r['figures']['machine']['memory_gb']} GB" for r in newest) + " |")
    for key in SCALES:
        lines.append(f"| N {key.removesuffix('_applications').removesuffix('_histories').removesuffix('_workflows')}"
                     f" | " + " | ".join(cell(r, key, "{}") for r in newest) + " |")
    lines += [f"| {label} | " + " | ".join(cell(r, key, fmt) for r in newest) + " |" for key, label, fmt in ROWS]
    commands = "\n".join(f"- {name}: `{r['command']}`" for name, r in zip(names, newest))
    return "\n".join(lines) + "\n\n" + commands + "\n"
