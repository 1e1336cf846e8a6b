"""The README's tour runs as written: its shell block, word for word, against a fresh `grantflow up` (only the Temporal
address is the test's own), every command exiting 0 and saying what the tour says it does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CALLS, ROOT
from tests.test_stack import environment, free_port, session, start, wait_for

TOUR_START = "export GRANTFLOW_TEMPORAL_ADDRESS=127.0.0.1:7233 "


def tour_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    begin = readme.index(TOUR_START)
    return readme[begin:readme.index("```", begin)]


@pytest.fixture
def stack(tmp_path: Path) -> tuple[dict[str, str], int]:
    calls = tmp_path / "calls"
    calls.mkdir()
    (calls / "000.yaml").write_bytes((CALLS / "000-sx-2025-basic-research-geology.yaml").read_bytes())
    port = free_port()
    env = environment(tmp_path, GRANTFLOW_CONFIG_DIR=str(tmp_path / "config"), COLUMNS="200")
    log = tmp_path / "up.log"
    up = start(["up", "--calls", str(calls), "--port", str(port), "--ui-port", str(free_port())], env, log)
    try:
        wait_for(log, "call loaded", up)
        yield env, port
    finally:
        for p in session(up.pid):
            p.kill()


def test_the_readme_tour_runs_word_for_word(stack: tuple[dict[str, str], int], tmp_path: Path) -> None:
    env, port = stack
    script = tour_block().replace("127.0.0.1:7233", f"127.0.0.1:{port}")
    grantflow = Path(sys.executable).parent / "grantflow"
    if grantflow != ROOT / ".venv/bin/grantflow":  # the suite run from another environment than the README's
        script = script.replace(".venv/bin/grantflow", str(grantflow))
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    said = done.stdout + done.stderr
    assert done.returncode == 0, said[-3000:]
    assert "Traceback" not in said
    assert "imported 1 units, 1 people" in said
    assert "31 of 31 checks pass" in said
    assert "(as loaded)" in said
    assert "tour-1: draft -> awaiting_unit_review (submit by applicant:pi-1)" in said
    assert "awaiting_organiser_review -> accepted (approve by recommender:org-1)" in said
    assert "application extended: now closes" in said and "+00:00" not in said
    assert "binds: an extension granted to this application" in said
    assert "application closed (was to close" in said
    assert "pi-1 may not" in said  # the applicant's attempt to close the window, refused and listed for the auditor
