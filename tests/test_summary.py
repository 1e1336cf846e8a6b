"""A recommender's spreadsheet from the records: summary table, letter and the paper checklist, in Chinese."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from cli import app as cli_app
from client.errors import Forbidden
from client.service import Service
from client.tokens import TokenConfig
from models.call import load_call
from models.identity import Grant, Identity
from records.tables import ApplicationRow, CallRow, TransitionRow
from tests.conftest import CALLS

CALL_001 = next(CALLS.glob("001-*.yaml"))


def _env(db: Engine, tmp_path: Path) -> dict[str, str]:
    return {"GRANTFLOW_DATABASE_URL": str(db.url), "COLUMNS": "200", "GRANTFLOW_VAR_DIR": str(tmp_path / "var"),
            "GRANTFLOW_TEMPORAL_ADDRESS": "127.0.0.1:9"}  # the summary reads the records DB alone


def _calls(db: Engine) -> None:
    call = load_call(CALL_001)
    with Session(db) as s:
        s.add(CallRow(id=call.id, title=call.title, version=call.version(), definition_json=call.model_dump_json(),
                      timetable_json="{}", updated_at=datetime(2024, 12, 1, tzinfo=UTC)))
        s.commit()


def test_the_summary_lists_what_the_recommender_endorsed_with_the_copy_counts(db: Engine, tmp_path: Path) -> None:
    call = load_call(CALL_001)
    at = datetime(2024, 12, 5, 2, 30, tzinfo=UTC)
    _calls(db)
    with Session(db) as s:
        for app_id, title in (("a1", "黄河流域生态保护国际合作研究"), ("a2", "晋台农业技术交流"), ("a3", "未推荐项目")):
            s.add(ApplicationRow(id=app_id, call_id=call.id, workflow_id=app_id, category=call.categories[0].id,
                                 title=title, applicant="张三", unit="山西大学", version="v", state="accepted",
                                 updated_at=at))
        for seq, (app_id, trigger, dest, actor, role) in enumerate([
                ("a1", "approve", "accepted", "org-1", "recommender"),
                ("a2", "approve", "accepted", "org-1", "recommender"),
                ("a2", "return", "returned", "pm-1", "agency"),
                ("a3", "approve", "accepted", "org-2", "recommender")]):
            s.add(TransitionRow(call_id=call.id, application_id=app_id, seq=seq, trigger=trigger, source="x", dest=dest,
                                actor_id=actor, role=role, reason="同意推荐", at=at))
        s.commit()
    out = tmp_path / "汇总表.xlsx"
    result = CliRunner().invoke(cli_app, ["--operator", "review", "summary", str(CALL_001), "--recommender", "org-1",
                                          "--out", str(out)], env=_env(db, tmp_path))
    assert result.exit_code == 0, result.output
    book = load_workbook(out)
    table = book["汇总表"]
    assert table["A1"].value == f"{call.title}项目申报汇总表"
    assert table["A2"].value == "推荐单位：org-1"
    assert [c.value for c in table[3]] == ["序号", "申报编号", "项目名称", "申报类别", "项目负责人", "申报单位", "推荐时间",
                                           "当前状态"]
    assert [c.value for c in table[4]][:7] == [1, "a1", "黄河流域生态保护国际合作研究", call.categories[0].name, "张三",
                                               "山西大学", "2024-12-05 10:30"]
    assert table["A5"].value == "共1项"  # a2 was returned after its recommendation, a3 is org-2's
    letter = [row[0] for row in book["推荐函"].iter_rows(values_only=True)]
    assert letter[0] == f"{call.issuer}：" and "同意推荐以下1项项目申报" in str(letter[2])
    checklist = list(book["纸质材料清单"].iter_rows(values_only=True))
    assert checklist[0][:4] == ("材料", "提交方", "份数", "份数（通知原文）")
    assert checklist[1][:4] == ("书面申报材料（A4双面打印，装订成册）", "申报单位（项目负责人）", 5, "一式五份")


def test_a_recommender_with_nothing_endorsed_gets_one_line(db: Engine, tmp_path: Path) -> None:
    _calls(db)
    result = CliRunner().invoke(cli_app, ["--operator", "review", "summary", str(CALL_001), "--recommender", "org-9",
                                          "--out", str(tmp_path / "x.xlsx")], env=_env(db, tmp_path))
    assert result.exit_code == 1 and "org-9 has endorsed no application of call" in result.output


def test_a_recommender_reads_its_own_endorsements_only(db: Engine, tmp_path: Path) -> None:
    call = load_call(CALL_001)
    _calls(db)
    with Session(db) as s:
        s.add(ApplicationRow(id="a1", call_id=call.id, workflow_id="a1", category=call.categories[0].id, title="t",
                             applicant="张三", unit="u1", version="v", state="accepted", updated_at=datetime.now(UTC)))
        s.add(TransitionRow(call_id=call.id, application_id="a1", seq=0, trigger="approve", source="x",
                            dest="accepted", actor_id="org-1", role="recommender", reason="同意", at=datetime.now(UTC)))
        s.commit()
    service = Service(None, db, "q", TokenConfig.from_env(tmp_path), tmp_path)
    own = Identity("org-1", [Grant("recommender", f"call:{call.id},unit:u1")])
    assert [e.application_id for e in service.endorsed(own, call.id, "org-1")] == ["a1"]
    other = Identity("org-2", [Grant("recommender", f"call:{call.id},unit:u2")])
    with pytest.raises(Forbidden, match="org-2 may not read what org-1 recommended in call"):
        service.endorsed(other, call.id, "org-1")
    manager = Identity("pm-1", [Grant("manager", f"call:{call.id}")])
    assert len(service.endorsed(manager, call.id, "org-1")) == 1
