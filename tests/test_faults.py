"""The fault harness at a small scale: one deadline of 40 applications while the worker and the dev server are each
killed twice (during intake and at the closure) and restarted. Behaviour only: nothing late accepted, every
application closed once, every notice delivered once, the audit clean. `python bench/faults.py` runs 20 of each."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_kills_during_intake_and_closure_lose_and_repeat_nothing() -> None:
    done = subprocess.run([sys.executable, "bench/faults.py", "--rounds", "1", "--applications", "40", "--kills", "2",
                           "--seed", "7", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert out["worker_kills"] == 2 and out["server_kills"] == 2
    assert out["restarts"] >= 4
    assert out["late_attempts"] > 0 and out["late_changes_accepted"] == 0
    assert out["closed_once"] == 40 and out["closed_twice"] == 0 and out["open_left"] == 0
    assert out["notices_expected"] >= 40
    assert (out["notices_lost"], out["notices_duplicated"]) == (0, 0)
    assert out["notices_delivered"] == out["notices_expected"]
    assert (out["replay_findings"], out["verify_findings"]) == (0, 0), out["findings"]
