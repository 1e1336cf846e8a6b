"""`bench/run.py` at 60 applications on the deadline as a correctness check only: every figure present and
positive, no late change accepted, every application closed. Timing is not asserted here; `make bench` measures.
Intake, replay and the simulated lifecycle run at smaller scales and memory is left to `make bench` (at a few dozen
workflows it is noise), to keep `make test` short."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

N = 60
INTAKE = 30
LIFECYCLE = 12
POSITIVE = (
    "intake_per_s", "baseline_updates_per_s", "intake_ratio", "deadline_closed_s", "deadline_workflows_closed_s",
    "deadline_closure_report_s", "baseline_deadline_closed_s", "deadline_ratio", "replay_histories_per_s",
    "replay_events_per_s", "baseline_replay_events_per_s", "replay_ratio", "lifecycle_s", "lifecycle_peak_rss_mb",
)


def test_bench_figures_at_60_applications() -> None:
    done = subprocess.run([sys.executable, "bench/run.py", "--applications", str(N), "--intake", str(INTAKE),
                           "--replay", str(INTAKE), "--lifecycle", str(LIFECYCLE),
                           "--only", "intake,deadline,replay,lifecycle", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    missing = [k for k in POSITIVE if not isinstance(figures.get(k), (int, float)) or figures[k] <= 0]
    assert missing == []
    assert figures["late_attempts"] > 0
    assert figures["late_changes_accepted"] == 0
    assert figures["late_refused"] + figures["late_failed"] == figures["late_attempts"]
    assert figures["intake_accepted"] == INTAKE
    assert figures["deadline_open_left"] == 0
    assert figures["deadline_notices_delivered"] >= N
    assert figures["replay_failures"] == 0
    assert figures["lifecycle_violations"] == 0
    assert figures["lifecycle_terminal"] == LIFECYCLE
