"""The spreadsheets a recommending unit sends with its paper: the summary table (汇总表), its recommendation letter
(推荐函) and the paper checklist with the copy counts the notice asks for, as one openpyxl workbook."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import cn2an
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from client.service.review import Endorsed
from models.call import CallDefinition

HEADER = ["序号", "申报编号", "项目名称", "申报类别", "项目负责人", "申报单位", "推荐时间", "当前状态"]
BY = {"applicant": "申报单位（项目负责人）", "unit_admin": "申报单位", "recommender": "推荐单位"}


def copies(n: int) -> str:
    return f"一式{cn2an.an2cn(n)}份" if n > 1 else "1份"


def summary_workbook(call: CallDefinition, recommender: str, rows: list[Endorsed], made_at: datetime) -> Workbook:
    names = {c.id: c.name for c in call.categories}
    book = Workbook()
    table = book.active
    assert table is not None
    table.title = "汇总表"
    table.append([f"{call.title}项目申报汇总表"])
    table.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    table["A1"].font, table["A1"].alignment = Font(bold=True, size=14), Alignment(horizontal="center")
    table.append([f"推荐单位：{recommender}", "", "", f"生成时间：{made_at.astimezone(call.zone):%Y-%m-%d %H:%M}"])
    table.append(HEADER)
    for cell in table[3]:
        cell.font = Font(bold=True)
    for i, r in enumerate(rows, 1):
        table.append([i, r.application_id, r.title, names.get(r.category, r.category), r.applicant, r.unit,
                      f"{r.at.astimezone(call.zone):%Y-%m-%d %H:%M}", r.state])
    table.append([f"共{len(rows)}项"])
    table.append(["推荐单位（盖章）：", "", "", "日期：    年  月  日"])
    for column, width in zip("ABCDEFGH", (6, 24, 40, 14, 14, 14, 18, 22)):
        table.column_dimensions[column].width = width

    letter = book.create_sheet("推荐函")
    for line in [f"{call.issuer}：", "",
                 f"    根据《{call.title}》的要求，我单位对所属申报项目进行了审核，同意推荐以下{len(rows)}项项目申报，"
                 "并对申报材料的真实性负责。", ""]:
        letter.append([line])
    for i, r in enumerate(rows, 1):
        letter.append([f"    {i}. {r.title}（{r.application_id}，项目负责人：{r.applicant}）"])
    letter.append([""])
    letter.append([f"推荐单位（盖章）：{recommender}"])
    letter.append([f"{made_at.astimezone(call.zone):%Y年%m月%d日}"])
    letter.column_dimensions["A"].width = 100

    checklist = book.create_sheet("纸质材料清单")
    checklist.append(["材料", "提交方", "份数", "份数（通知原文）", "依据", "说明"])
    for d in call.documents:
        checklist.append([d.name, BY[d.by], d.copies, copies(d.copies), d.seed, d.note or ""])
    if not call.documents:
        checklist.append(["通知未列纸质材料", "", "", "", "", ""])
    for column, width in zip("ABCDEF", (40, 22, 8, 16, 80, 40)):
        checklist.column_dimensions[column].width = width
    return book


def write(book: Workbook, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
