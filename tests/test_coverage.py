"""`grantflow coverage`: the machine's states and transitions counted over visits, from the suite and from exports."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from audit.coverage import Visit, coverage, export_visits, label
from cli import app
from models.call import load_call
from models.lifecycle import build_lifecycle

ROOT = Path(__file__).resolve().parent.parent
CALL_000 = next((ROOT / "calls").glob("000-*.yaml"))
GOLDEN_000 = ROOT / "tests" / "golden" / "sx-2025-basic-geology"


def test_counts_declared_transitions_and_names_what_was_never_visited() -> None:
    call = load_call(CALL_000)
    visits = [Visit(call.id, "draft", "submit", "awaiting_unit_review"),
              Visit(call.id, "draft", "submit", "awaiting_unit_review"),
              Visit(call.id, "draft", "extend_deadline", "draft"),  # beside the machine: not counted
              Visit("another-call", "draft", "withdraw", "withdrawn"),
              Visit(call.id, "draft", "teleport", "contract_signed")]
    result = coverage(call, visits)
    declared = {label(t.source, t.trigger, t.dest) for t in build_lifecycle(call).transitions}
    assert set(result.transitions) == declared
    assert result.transitions[label("draft", "submit", "awaiting_unit_review")] == 2
    assert result.transitions[label("draft", "withdraw", "withdrawn")] == 0
    assert result.undeclared == [label("draft", "teleport", "contract_signed")]
    states, transitions = result.never()
    assert "withdrawn" in states and "draft" not in states and "awaiting_unit_review" not in states
    assert len(transitions) == len(declared) - 1


def test_an_export_proves_its_transitions_and_the_command_reports_them(tmp_path: Path) -> None:
    visits = export_visits(GOLDEN_000)
    assert visits and {v.call_id for v in visits} == {"sx-2025-basic-geology"}
    suite = tmp_path / "suite.jsonl"
    suite.write_text(json.dumps({"call_id": "sx-2025-basic-geology", "source": "draft", "trigger": "withdraw",
                                 "dest": "withdrawn"}) + "\n", encoding="utf-8")
    done = CliRunner().invoke(app, ["coverage", str(CALL_000), "--visits", str(suite), "--histories",
                                    str(GOLDEN_000), "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)[0]
    assert report["transitions"][label("draft", "withdraw", "withdrawn")] == 1
    assert report["transitions"][label("draft", "submit", "awaiting_unit_review")] >= 1
    strict = CliRunner().invoke(app, ["coverage", str(CALL_000), "--histories", str(GOLDEN_000), "--strict"])
    assert strict.exit_code == 1 and "never:" in strict.output
