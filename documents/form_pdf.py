"""The printable application form and its paper checklist as one PDF: Chinese text in the CID font STSong-Light
(no font file needed), and a QR code (segno) carrying the receipt number and content hash of the submitted version."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from models.call import AttachmentDef
from models.instants import written
from models.messages import OnlineVersion
from models.paper import PaperCode
from models.timetable import PhaseTime

FONT = "STSong-Light"
MEDIA_TYPE = "application/pdf"
TITLE = "项目申报书（纸质版）"
CHECKLIST = "纸质材料清单"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
BODY = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=15, wordWrap="CJK")
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8.5, leading=11)
HEAD = ParagraphStyle("head", parent=BODY, fontSize=18, leading=26, alignment=1, spaceAfter=4 * mm)
DATE = ParagraphStyle("date", parent=BODY, alignment=2)
SUB = ParagraphStyle("sub", parent=BODY, fontSize=12, leading=18, alignment=1)
GRID = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                   ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke)])


@dataclass(frozen=True)
class Printed:
    """What one printout shows: the submitted version, its code, when it was submitted, and the paper phase."""

    version: OnlineVersion
    code: PaperCode
    submitted: datetime
    paper: PhaseTime | None
    names: dict[str, str] = field(default_factory=dict)  # the registry's names of people and units, by id

    def who(self, ident: str | None) -> str:
        """A person or unit as the form prints it: its name and id, or the id the registry does not name."""
        if not ident:
            return ""
        return f"{self.names[ident]}（{ident}）" if ident in self.names else ident


def qr_png(code: PaperCode) -> bytes:
    """The QR code of `code` as a PNG (error correction M, 4 pixels a module, a quiet zone of 4 modules)."""
    out = io.BytesIO()
    segno.make(code.text(), error="m").save(out, kind="png", scale=4, border=4)
    return out.getvalue()


def form_pdf(p: Printed) -> bytes:
    """The form (page 1) and the paper checklist (page 2); the same input gives the same bytes."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, invariant=True, title=f"{TITLE} {p.code.receipt}",
                            author=p.version.call.issuer, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=16 * mm)
    doc.build([*_form(p), PageBreak(), *_checklist(p)])
    return out.getvalue()


def _t(text: object) -> str:
    return escape(str(text))


def _rows(rows: list[tuple[str, str]]) -> Table:
    table = Table([[Paragraph(_t(k), BODY), Paragraph(_t(v) or "—", BODY)] for k, v in rows],
                  colWidths=[36 * mm, 138 * mm])
    table.setStyle(GRID)
    return table


def _header(p: Printed, heading: str) -> list[Flowable]:
    call = p.version.call
    code = Table([[[Paragraph(_t(line), SMALL) for line in (
        f"回执号：{p.code.receipt}", f"在线版本：第{p.code.version}版，提交于{written(call.zone, p.submitted)}",
        f"内容摘要（SHA-256）：{p.code.content_sha256[:32]}", p.code.content_sha256[32:],
        "纸质材料受理时扫描右侧二维码，与在线版本核对。")],
        Image(io.BytesIO(qr_png(p.code)), width=32 * mm, height=32 * mm)]], colWidths=[140 * mm, 34 * mm])
    return [Paragraph(_t(call.title), SUB), Paragraph(_t(heading), HEAD), code, Spacer(1, 4 * mm)]


def _form(p: Printed) -> list[Flowable]:
    v, form = p.version, p.version.form
    call = v.call
    category = next((c.name for c in call.categories if c.id == v.category), v.category)
    flags = "、".join(f.name for f in call.flags if v.flags.get(f.id)) or "无"
    names = {a.kind: a.name for a in call.attachments}
    uploaded = [f"{names.get(a.kind, a.kind)}：{a.filename}" for a in form.attachments] if form else \
        [names.get(k, k) for k in v.attachments]
    rows = [("申请编号", v.application_id), ("项目名称", v.title), ("申报类别", category),
            ("项目负责人", p.who(form.pi_id if form else v.people.get("applicant"))),
            ("申请单位", p.who(form.unit_id if form else v.people.get("unit_admin"))),
            ("推荐单位", p.who((form.recommender_id if form else None) or v.people.get("recommender"))),
            ("声明事项", flags)]
    if form is not None:
        rows += [("申请经费（元）", f"{form.requested_cny:,}"), ("配套经费（元）", f"{form.matching_cny:,}"),
                 ("执行期", f"{form.starts_on or '—'} 至 {form.ends_on or '—'}"), ("项目摘要", form.abstract),
                 ("项目成员", "、".join(f"{p.who(m.person_id)}，{p.who(m.unit_id)}" for m in form.team) or "无"),
                 ("合作单位", "、".join(f"{p.who(u.unit_id)}，{u.staff}人" for u in form.partners) or "无")]
    rows.append(("已上传附件", "；".join(uploaded) or "无"))
    return [*_header(p, TITLE), _rows(rows), Spacer(1, 6 * mm), _signatures()]


def _signatures() -> Table:
    """Room to sign and seal, each with its date written by hand."""
    when = Paragraph("年" + "&nbsp;" * 8 + "月" + "&nbsp;" * 8 + "日", DATE)
    table = Table([[Paragraph(who, BODY), when] for who in ("项目负责人（签字）", "申请单位（盖章）")],
                  colWidths=[36 * mm, 138 * mm], rowHeights=[18 * mm] * 2)
    table.setStyle(TableStyle([*GRID.getCommands(), ("VALIGN", (1, 0), (1, -1), "BOTTOM")]))
    return table


def needed(a: AttachmentDef, flags: dict[str, bool]) -> str | None:
    """How the checklist marks an attachment for these flags: 必须, 如适用 or 可选; None when it does not apply."""
    if a.when is not None and not flags.get(a.when):
        return None
    if not a.required:
        return "可选"
    return "如适用" if a.condition is not None else "必须"


def _checklist(p: Printed) -> list[Flowable]:
    v, paper = p.version, p.paper
    zone = v.call.zone
    if paper is None:
        where = [Paragraph("本批次不要求报送纸质材料；如需报送，以主管部门通知为准。", BODY)]
    else:
        hours = f"，每日{paper.hours.start:%H:%M}至{paper.hours.end:%H:%M}" if paper.hours else ""
        working = "（工作日）" if paper.hours and paper.hours.working_days_only else ""
        where = [Paragraph(_t(f"{paper.name}：{written(zone, paper.opens)}起至{written(zone, paper.closes)}止"
                              f"{hours}{working}。"), BODY)]
    items = [("本申报书（签字、盖章，与在线第" + str(p.code.version) + "版一致）", "必须")]
    items += [(a.name, mark) for a in v.call.attachments if (mark := needed(a, v.flags)) is not None]
    table = Table([[Paragraph("□", BODY), Paragraph(_t(name), BODY), Paragraph(_t(mark), BODY)]
                   for name, mark in items], colWidths=[10 * mm, 134 * mm, 30 * mm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
    note = Paragraph(_t(f"核对：受理人员扫描二维码（回执号 {p.code.receipt}），系统答复“与在线版本一致”方可登记。"), SMALL)
    return [*_header(p, CHECKLIST), *where, Spacer(1, 4 * mm), table, Spacer(1, 4 * mm), note]
