"""Duplicate detection on the labelled Chinese pairs of tests/data/duplicates.json, and its reasons."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from cli import app as cli_app
from models.call import load_call
from models.duplicate_index import DuplicateIndex, index_for
from models.duplicates import THRESHOLD, PriorWork
from records.tables import ApplicationRow, CallRow
from tests.conftest import CALLS

LABELLED = Path(__file__).parent / "data" / "duplicates.json"


def test_recall_and_precision_on_the_labelled_pairs_at_the_threshold() -> None:
    """Checking each later text against every text of the set: true duplicates found (reworded titles, swapped
    PIs, one abstract re-submitted) and projects of the same field left alone."""
    pairs = [(PriorWork(**p["a"]), PriorWork(**p["b"]), p["duplicate"]) for p in json.loads(LABELLED.read_text("utf-8"))]
    assert sum(d for _, _, d in pairs) >= 150 and sum(not d for _, _, d in pairs) >= 200
    index = DuplicateIndex([w for a, b, _ in pairs for w in (a, b)])
    found = [(any(m.work.ref == a.ref for m in index.check(b, THRESHOLD)), dup) for a, b, dup in pairs]
    tp = sum(hit and dup for hit, dup in found)
    fp = sum(hit and not dup for hit, dup in found)
    fn = sum(dup and not hit for hit, dup in found)
    assert tp / (tp + fn) >= 0.95 and tp / (tp + fp) >= 0.9, (tp, fp, fn)


def test_a_match_gives_its_reasons_and_the_same_pi_raises_a_related_title() -> None:
    old = PriorWork("old", "call-2023", 2023, "pi-1", "u1", "深部煤储层可改造性与裂缝扩展特征研究",
                    "以榆社-武乡地区煤层气区块深部煤储层为例，开展煤岩力学性质和储层可改造性评价研究。", 300_000)
    other = PriorWork("x", "call-2023", 2023, "pi-9", "u9", "太原盆地层状地热资源赋存特征研究", "", None)
    index = DuplicateIndex([old, other])
    same_abstract = replace(old, ref="new", title="煤层气储层评价", pi_id="pi-2", unit_id="u2", budget_cny=None)
    [match] = index.check(same_abstract)
    assert match.work.ref == "old" and match.reasons[0] == "abstract 100%"
    related = PriorWork("new2", None, None, "pi-1", "u1", "深部煤储层可改造性与裂隙扩展规律研究", "", 300_000)
    assert [m.work.ref for m in index.check(related)] == ["old"]
    assert "same PI" in index.check(related)[0].describe() and "same unit" not in index.check(related)[0].describe()
    assert index.check(replace(related, pi_id="pi-3", unit_id="u3", budget_cny=None)) == []


def test_the_index_is_built_once_per_corpus() -> None:
    corpus = (PriorWork("a", None, None, "p", None, "深部找矿"),)
    assert index_for(corpus) is index_for(corpus)
    assert index_for(tuple(corpus)) is index_for(corpus)  # the same tuple object
    assert index_for((*corpus,)) is not index_for((PriorWork("b", None, None, "p", None, "深部找矿"),))


def test_a_manager_runs_the_check_on_a_call_at_any_time(db: Engine, tmp_path: Path) -> None:
    now = datetime(2025, 3, 1, tzinfo=UTC)
    call = load_call(next(CALLS.glob("000-*.yaml"))).model_copy(update={"id": "c2025"})
    with Session(db) as s:
        s.add(CallRow(id="c2025", title=call.title, version="v", definition_json=call.model_dump_json(),
                      timetable_json="{}", updated_at=now))
        for app_id, call_id, who, title in (("a1", "c2025", "pi-1", "黄土高原滑坡隐患智能识别与预警研究"),
                                            ("a0", "c2024", "pi-1", "黄土高原滑坡隐患智能识别与预警研究。"),
                                            ("a2", "c2025", "pi-2", "稀土永磁材料制备工艺优化")):
            s.add(ApplicationRow(id=app_id, call_id=call_id, workflow_id=app_id, category="c", title=title,
                                 applicant=who, unit="u1", version="v", state="draft", updated_at=now))
        s.commit()
    env = {"GRANTFLOW_DATABASE_URL": str(db.url), "COLUMNS": "300", "GRANTFLOW_VAR_DIR": str(tmp_path / "var"),
           "GRANTFLOW_TEMPORAL_ADDRESS": "127.0.0.1:9", "GRANTFLOW_CONFIG_DIR": str(tmp_path / "config")}
    assert CliRunner().invoke(cli_app, ["users", "add", "pm-x", "--grant", "manager@call:c2024", "--password-stdin"],
                              env=env, input="a long enough password\n").exit_code == 0
    assert CliRunner().invoke(cli_app, ["login", "pm-x", "--password-stdin"], env=env,
                              input="a long enough password\n").exit_code == 0
    other = CliRunner().invoke(cli_app, ["review", "duplicates", "c2025"], env=env)
    assert other.exit_code == 1 and "pm-x may not check duplicates in call c2025" in other.output
    result = CliRunner().invoke(cli_app, ["--operator", "review", "duplicates", "c2025"], env=env)
    assert result.exit_code == 0, result.output
    assert "a0 (c2024)" in result.output and "same PI" in result.output
    assert "1 suspected pairs for 2 applications" in result.output
